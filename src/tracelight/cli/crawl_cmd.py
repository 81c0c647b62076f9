"""`tracelight crawl PROFILE` and `tracelight crawl check PROFILE URL` (docs/crawl.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from tracelight.cli.app import cli, db_option


class _DefaultRun(click.Group):
    """`crawl PROFILE` means `crawl run PROFILE`; `crawl check ...` stays a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_DefaultRun)
def crawl() -> None:
    """Crawl a site profile into WARC evidence, politely, and ingest only new and changed
    ads (`tracelight crawl PROFILE`); `crawl check PROFILE URL` shows what a profile reads
    from one page."""


@crawl.command("run")
@click.argument("profile", type=click.Path(path_type=Path))
@click.option("--warc-dir", type=click.Path(path_type=Path), default=None,
              help="Where WARC files go. [default: TRACELIGHT_WARC_DIR]")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True,
              help="table: a live line on stderr and a summary; jsonl: one event per line.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=200, show_default=True,
              help="Ads ingested (and crawl state saved) per batch.")
@click.option("--fresh", is_flag=True,
              help="Start from the start URLs even if an interrupted crawl left a saved "
                   "frontier (it is discarded).")
@db_option
def crawl_run(profile: Path, warc_dir: Path | None, fmt: str, batch_size: int, fresh: bool,
              db_url: str) -> None:
    """Crawl PROFILE (a site profile YAML): listing pages, then new or changed ad pages and
    their images (each fetched once); every response into WARC; changed ads ingested with a
    pointer to their WARC record. A crawl that was killed resumes where it stopped."""
    from tracelight import settings
    from tracelight.cli.common import store_from
    from tracelight.cli.output import dumps
    from tracelight.collect.profile import load_profile
    from tracelight.services.crawl import crawl as run_crawl

    prof = load_profile(profile)
    out_dir = warc_dir or Path(settings.get("warc_dir"))
    last = [0.0]

    def progress(event: dict[str, Any]) -> None:
        if fmt == "jsonl":
            if event["event"] != "progress" or time.monotonic() - last[0] >= 1.0:
                last[0] = time.monotonic()
                click.echo(dumps(event))
            return
        kind = event["event"]
        if kind == "progress":
            if time.monotonic() - last[0] >= 0.5:
                last[0] = time.monotonic()
                kinds = sorted(event["errors_by_kind"].items(), key=lambda kv: -kv[1])[:2]
                errs = f"errors {event['errors']:,}" + (
                    " (" + ", ".join(f"{k} {v}" for k, v in kinds) + ")" if kinds else "")
                line = (f"{event['pages']:,} pages {event['pages_per_second']:.0f}/s  ads "
                        f"{event['ads_found']:,} new {event['ads_new']:,} changed "
                        f"{event['ads_changed']:,}  img {event['images']:,}  {errs}")
                click.echo(f"\r{line[:79]:<79}", err=True, nl=False)
        elif kind in ("stall", "blocked", "robots", "resume"):
            click.echo(f"\n{kind}: " + ", ".join(f"{k}={v}" for k, v in event.items()
                                                  if k != "event"), err=True)

    with store_from(db_url, create=True) as store:
        summary = run_crawl(store, prof, warc_dir=out_dir, progress=progress,
                            batch_size=batch_size, fresh=fresh)
    if fmt == "jsonl":
        return
    s = summary
    click.echo("", err=True)
    click.echo(f"{s.profile}: {s.pages:,} pages in {s.seconds:.1f} s "
               f"({s.pages_per_second:.1f}/s); ads found {s.ads_found:,}: new {s.ads_new:,}, "
               f"changed {s.ads_changed:,}, unchanged {s.ads_unchanged:,} "
               f"({s.not_modified:,} not modified)")
    click.echo(f"images: {s.images_fetched:,} fetched, {s.images_known:,} already kept, "
               f"{s.images_failed:,} not kept")
    if s.resumed:
        click.echo(f"resumed: {s.resumed:,} pages finished before the interruption, not "
                   "fetched again")
    click.echo(f"stopped: {s.stop_reason}")
    click.echo(f"WARC: {out_dir / s.warc_file} (ads), {out_dir / s.other_warc_file} (other)")
    if s.robots_override:
        click.echo(f"robots.txt overridden: {s.robots_override}")
    if s.skipped:
        click.echo("skipped: " + ", ".join(f"{k} {v:,}" for k, v in sorted(s.skipped.items())))
    for warning in s.warnings:
        click.echo(f"warning: {warning}")
    if s.ingest is not None:
        click.echo(f"ingested: {s.ingest.new:,} new, {s.ingest.updated:,} updated, "
                   f"{s.ingest.rejected:,} rejected (run {s.ingest.run_pk})")


@crawl.command("check")
@click.argument("profile", type=click.Path(path_type=Path))
@click.argument("url")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True, help="table for people; jsonl for pipelines.")
def crawl_check(profile: Path, url: str, fmt: str) -> None:
    """Fetch URL once and show what PROFILE extracts from it (fields, links to follow), for
    writing and fixing profiles. Nothing is stored."""
    from tracelight.cli.output import dumps
    from tracelight.collect.profile import load_profile
    from tracelight.services.crawl import check_page

    prof = load_profile(profile)
    res = check_page(prof, url)
    if fmt == "jsonl":
        click.echo(dumps({"url": res.url, "status": res.status, "kind": res.kind,
                          "record": res.record, "ad_links": res.ad_links,
                          "listing_links": res.listing_links, "off_site_links": res.off_site,
                          "error": res.error}))
        return
    click.echo(f"{res.url}: HTTP {res.status}, page kind {res.kind or 'not matched'}"
               + (f", error {res.error}" if res.error else ""))
    for key in ("title", "body", "posted_at", "location", "images"):
        value = res.record.get(key)
        shown = ", ".join(value) if isinstance(value, list) else value
        text = " ".join(str(shown).split()) if shown else "(selector matched nothing)"
        click.echo(f"  {key:<10} {text[:200]}")
    extra = res.record.get("extra") or {}
    if extra.get("contacts"):
        click.echo(f"  {'contacts':<10} {', '.join(extra['contacts'])[:200]}")
    click.echo(f"  links: {len(res.ad_links):,} ad pages, {len(res.listing_links):,} listing "
               f"pages, {res.off_site:,} to other hosts (never followed)")
    for link in res.ad_links[:5]:
        click.echo(f"    ad      {link}")
    for link in res.listing_links[:5]:
        click.echo(f"    listing {link}")
