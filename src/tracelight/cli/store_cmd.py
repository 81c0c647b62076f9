"""Commands over stored ads: ingest, ads, show, search, runs."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from tracelight import kinds, settings
from tracelight.bench.measure import process_tree_peak_rss_mb
from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import parse_when, progress_bar, store_from
from tracelight.cli.output import (
    Col,
    Columns,
    columns_option,
    day_text,
    dumps,
    emit,
    minute_text,
    risk_text,
    row_ref,
    stderr,
)
from tracelight.errors import InputError, UsageError
from tracelight.kinds import normalize_lookup
from tracelight.pipeline import PipelineOptions
from tracelight.services.adref import ref_of, resolve_ad
from tracelight.services.ingest import default_after_batch, ingest
from tracelight.services.search import text_search
from tracelight.store import AdFilter, StoredAd

CSV_AD_COLUMNS = ["ref", "id", "source", "posted_at", "location", "risk", "title"]
ADS = Columns(
    Col("ref", "ad", value=row_ref),
    Col("id"),
    Col("source"),
    Col("posted_at", "posted", show=day_text),
    Col("location", flex=True, min=13, drop=True),
    Col("risk", right=True, show=risk_text),
    Col("title", flex=True, min=16),
    Col("url", flex=True, min=16),
    Col("category"),
    table=["ref", "risk", "posted_at", "location", "title"],
    csv=CSV_AD_COLUMNS,
)
RUNS = [Col("run", right=True), Col("started_at", "started", show=minute_text), Col("status"),
        *(Col(k, right=True) for k in ("read", "new", "updated")),
        Col("unchanged", "same", right=True), Col("rejected", right=True),
        Col("paths", flex=True, min=12)]
ENTITIES = [Col("kind"), Col("value", flex=True, min=14), Col("as written", flex=True, min=14),
            Col("field"), Col("span"), Col("obfuscated")]
IMAGES = [Col("position", "#", right=True), Col("original", flex=True, min=12),
          Col("sha256", max=16), Col("pdq", max=16), Col("quality", right=True),
          Col("error", flex=True)]


def _summary_row(ad: StoredAd) -> dict[str, Any]:
    row = {"ref": ref_of(ad), **ad.to_dict(body=False)}
    return row


@cli.command("ingest")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--source", help="Source name for records that do not carry one.")
@db_option
@click.option("--rejects", "rejects_path", default="tracelight-rejects.txt", show_default=True,
              help="File that malformed records are appended to, as `file:line: reason`.")
@click.option("--batch-size", type=click.IntRange(1, 100_000),
              default=lambda: settings.get_int("batch_size"), show_default="500",
              help="Ads per database transaction.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes for the analysis stages (default: up to 2 cores).")
@click.option("--region", default=lambda: settings.get("region"), show_default="US",
              help=settings.SETTINGS["region"].help)
@click.option("--extract/--no-extract", default=True, show_default=True,
              help="Run entity extraction and store entities with their spans.")
@click.option("--images/--no-images", default=True, show_default=True,
              help="Hash the images each ad references.")
@click.option("--ocr/--no-ocr", default=lambda: settings.get("ocr") == "1",
              show_default="off; TRACELIGHT_OCR=1 turns it on",
              help="Read text inside images (phones written into pictures) and extract from it.")
@click.option("--score/--no-score", default=True, show_default=True,
              help="Score each ad's risk with the default weights or the trained model.")
@format_option("table", "jsonl")
def ingest_cmd(paths: tuple[str, ...], source: str | None, db_url: str, rejects_path: str,
               batch_size: int, workers: int | None, region: str, extract: bool, images: bool,
               ocr: bool, score: bool, fmt: str) -> None:
    """Read ads from PATH... (JSON Lines, CSV, WARC, HTML pages or folders, '-' for stdin)
    into the store.

    Idempotent: ingesting the same file again adds nothing; an ad whose text changed becomes a
    new revision. Safe to interrupt and re-run. Malformed records are written to the rejects
    file and do not stop the run.
    """
    opts = PipelineOptions(region=region, extract=extract, images=images, score=score,
                           ocr=ocr and images, image_dir=settings.get("image_dir"))
    sizes = sum(os.path.getsize(p) for p in paths if p != "-" and os.path.isfile(p))
    with store_from(db_url, create=True) as store, \
            progress_bar(total=sizes or None, unit="bytes") as bar:
        task = bar.add_task("ingest", total=sizes or None, info="")
        done_before: dict[str, int] = {}
        current: dict[str, Any] = {"path": None, "base": 0}

        def on_progress(position: int, path: str) -> None:
            if current["path"] != path:
                current["base"] = sum(done_before.values())
                current["path"] = path
            done_before[path] = position
            bar.update(task, completed=current["base"] + position, info=Path(path).name)

        summary = ingest(store, list(paths), default_source=source, options=opts,
                         rejects_path=rejects_path, batch_size=batch_size, workers=workers,
                         progress=on_progress, after_batch=default_after_batch())
    row = summary.to_dict()
    row["peak_rss_mib"] = round(process_tree_peak_rss_mb(), 1)
    if fmt == "jsonl":
        click.echo(dumps(row))
    else:
        click.echo(f"read {summary.read:,}  new {summary.new:,}  updated {summary.updated:,}  "
                   f"unchanged {summary.unchanged:,}  rejected {summary.rejected:,}  "
                   f"in {summary.seconds:.1f} s ({summary.ads_per_second:,.0f} ads/s)")
        if summary.rejected:
            click.echo(f"rejected records and why: {rejects_path}")
    if summary.problems:
        # the ads read before each break are stored and counted above; the run is still short
        hint = "the ads read before the break are stored; ingest the repaired file again " \
            "to add the rest" if summary.read else None
        raise InputError("; ".join(summary.problems), hint=hint)


@cli.command("ads")
@db_option
@click.option("--source", help="Only ads from this source.")
@click.option("--since", help="Only ads posted on or after this date (ISO 8601).")
@click.option("--until", help="Only ads posted before this date (ISO 8601).")
@click.option("--location", help="Only ads whose posted location contains this text.")
@click.option("--sort", type=click.Choice(["posted", "risk", "id", "ingested"]), default="posted",
              show_default=True, help="Order of the list.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most this many ads (table default: 50; jsonl/csv: all).")
@columns_option(ADS)
@format_option()
def ads_cmd(db_url: str, source: str | None, since: str | None, until: str | None,
            location: str | None, sort: str, limit: int | None, columns: str | None,
            fmt: str) -> None:
    """List stored ads, newest first (or by risk with --sort risk)."""
    flt = AdFilter(source=source, since=parse_when(since, "--since"),
                   until=parse_when(until, "--until"), location=location)
    if fmt == "table" and limit is None:
        limit = 50
    with store_from(db_url) as store:
        if fmt == "jsonl":
            rows: Iterator[dict[str, Any]] = ({"ref": ref_of(ad), **ad.to_dict()} for ad in
                                              store.iter_ads(flt, sort=sort, limit=limit))
        else:
            rows = (_summary_row(ad) for ad in store.iter_ads(flt, sort=sort, limit=limit))
        cols = ADS.choose(columns, fmt)
        filtered = any((source, since, until, location))
        count = emit(rows, fmt, cols, empty="no ad matches these filters" if filtered else
                     "no ads stored yet", hint="fewer filters (tracelight ads)" if filtered
                     else "tracelight ingest FILE")
        if fmt == "table" and count:
            total = store.count_ads(flt)
            stderr.print(f"{count} of {total:,} ads shown" +
                         ("" if count == total else " (use --limit, or --format jsonl for all)"))


@cli.command("show")
@click.argument("ad_ref", metavar="AD")
@click.option("--source", help="Read AD as an id of this source only.")
@db_option
@format_option("table", "jsonl")
def show_cmd(ad_ref: str, source: str | None, db_url: str, fmt: str) -> None:
    """Show one ad with the entities found in it (and where), its images and revisions.

    Its risk is explained in words: the formula, each reason's part in the number, and what
    is context only (the same words as the workspace's ad page).

    AD is the ad's reference as tables print it, SOURCE/ID, or its bare id when only one
    source has it.
    """
    from tracelight.score.explain import explain_ad

    with store_from(db_url) as store:
        ad = resolve_ad(store, ad_ref, source)
        found = store.mentions_for([ad.pk])[ad.pk]
        imgs = store.images_for(ad.pk)
        revs = store.revisions(ad.pk)
    explanation = explain_ad(ad.risk, ad.reasons)
    data = {"ref": ref_of(ad), **ad.to_dict()}
    data["explanation"] = explanation.to_dict()
    data["mentions"] = [m.to_dict() for m in found]
    data["image_hashes"] = [i.to_dict() for i in imgs]
    data["revisions"] = [{"revision": r["revision"], "seen_at": r["seen_at"],
                          "content_hash": r["content_hash"]} for r in revs]
    if fmt == "jsonl":
        click.echo(dumps(data))
        return
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    head = f"{ref_of(ad)}  posted {ad.posted_at or '?'}  {ad.location or ''}"
    risk = f"risk {ad.risk:.2f} (a lead for review, not a finding)" if ad.risk is not None else \
        "not scored"
    body = Text(ad.body)
    for m in found:
        if m.field == "body" and 0 <= m.start < m.end <= len(ad.body):
            body.stylize("bold yellow", m.start, m.end)
    console.print(Panel(body, title=ad.title or "(no title)", subtitle=head))
    console.print(risk)
    for line in explanation.lines():  # wrapped at words to the terminal, indent kept
        indent = " " * (len(line) - len(line.lstrip()))
        console.print(textwrap.fill(line, width=max(20, console.width),
                                    subsequent_indent=indent + "  ") or line,
                      markup=False, highlight=False, soft_wrap=True)
    if found:
        emit(({"kind": m.kind, "value": m.value, "as written": m.raw, "field": m.field,
               "span": f"{m.start}-{m.end}", "obfuscated": m.obfuscated} for m in found),
             "table", ENTITIES, title="entities")
    if imgs:
        emit(data["image_hashes"], "table", IMAGES, title="images (hashes only)")
    console.print(f"revision {ad.revision}; first seen {ad.first_seen:%Y-%m-%d %H:%M}, "
                  f"last seen {ad.last_seen:%Y-%m-%d %H:%M}")


LOOKUP_KINDS = kinds.LOOKUPS  # option word -> entity kind ("handle" -> "social")


@cli.command("search")
@click.argument("words", required=False)
@click.option("--phone", help="Ads mentioning this phone (E.164 or as written).")
@click.option("--email", help="Ads mentioning this email address.")
@click.option("--handle", help="Ads mentioning this social handle (platform:handle or handle).")
@click.option("--payment", help="Ads mentioning this payment handle ($cashtag, venmo:name...).")
@click.option("--crypto", help="Ads mentioning this cryptocurrency address.")
@click.option("--region", default=lambda: settings.get("region"), show_default="US",
              help="Country for phones written without a country code.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@db_option
@columns_option(ADS)
@format_option()
def search_cmd(words: str | None, phone: str | None, email: str | None, handle: str | None,
               payment: str | None, crypto: str | None, region: str, limit: int, offset: int,
               db_url: str, columns: str | None, fmt: str) -> None:
    """Find ads by words in their text, or by an identifier (--phone, --email, ...)."""
    lookups = {k: v for k, v in {"phone": phone, "email": email, "handle": handle,
                                 "payment": payment, "crypto": crypto}.items() if v}
    if bool(words) + len(lookups) != 1:
        raise UsageError("give either words to search for or exactly one of --phone, --email, "
                         "--handle, --payment, --crypto")
    cols = ADS.choose(columns, fmt)
    with store_from(db_url) as store:
        if words:
            total, found = text_search(store, words, limit=limit, offset=offset)
            asked = f"no ad contains {words!r}"
            hint = "fewer or other words, or an identifier: --phone, --email, --handle"
        else:
            (option, value), = lookups.items()
            kind = LOOKUP_KINDS[option]
            normal = normalize_lookup(kind, value, region)
            total, found = store.find_by_entity(kind, normal, limit=limit, offset=offset)
            shown = " or ".join(normal)
            asked = f"no ad mentions the {option} {shown}" + (
                f" (typed as {value!r})" if shown != value else "")
            hint = (f"the phone as written in an ad, with its country code if not in {region} "
                    "(--region); or words: tracelight search \"WORDS\"" if option == "phone"
                    else "the value as written in an ad; or words: tracelight search \"WORDS\"")
        if not found and offset and total:
            asked, hint = f"only {total:,} matching ads, and --offset is {offset}", \
                "a smaller --offset"
        elif not found and not store.count_ads():
            hint = "the store holds no ads yet: tracelight ingest FILE"
    emit((_summary_row(ad) for ad in found), fmt, cols, empty=asked, hint=hint)
    if fmt == "table" and found:
        stderr.print(f"{len(found)} of {total:,} matching ads shown")


@cli.command("runs")
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option()
def runs_cmd(db_url: str, limit: int, fmt: str) -> None:
    """List past ingest runs with their counts, newest first."""
    with store_from(db_url) as store:
        rows = store.runs(limit)
    for r in rows:
        r["run"] = r.pop("pk")
    emit(rows, fmt, RUNS, empty="no ingest run yet", hint="tracelight ingest FILE")
