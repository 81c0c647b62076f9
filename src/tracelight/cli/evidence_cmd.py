"""`tracelight evidence bundle|ad|verify`: court-ready evidence bundles, one crawled ad's
original capture (`tracelight evidence AD_ID --out DIR` is `evidence ad AD_ID --out DIR`), and
their check."""

from __future__ import annotations

from pathlib import Path

import click

from tracelight.cli.app import actor_option, cli, db_option


class _DefaultAd(click.Group):
    """`evidence AD_ID ...` means `evidence ad AD_ID ...`; the subcommands stay as they are."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["ad", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_DefaultAd)
def evidence() -> None:
    """Evidence bundles for prosecutors: captures, entities, networks, custody, hashes.
    `tracelight evidence AD_ID --out DIR` exports one crawled ad's original capture."""


@evidence.command("ad")
@click.argument("ad_id")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="The folder to write (created; must not hold an earlier export).")
@click.option("--source", default=None, help="The ad's source, when ids repeat across sources.")
@click.option("--warc-dir", type=click.Path(path_type=Path), default=None,
              help="Where the crawl's WARC files are. [default: TRACELIGHT_WARC_DIR]")
@actor_option()
@db_option
def evidence_ad(ad_id: str, out: Path, source: str | None, warc_dir: Path | None,
                actor: str | None, db_url: str) -> None:
    """Export crawled ad AD_ID's original capture: the WARC records of its page and images
    (copied byte for byte), ad.json, manifest.json and SHA256SUMS; `evidence verify DIR`
    checks it."""
    from tracelight.cli.common import store_from
    from tracelight.services.ad_evidence import export_capture
    from tracelight.services.cases import actor_name

    with store_from(db_url) as store:
        res = export_capture(store, ad_id, out, source=source, warc_dir=warc_dir,
                             actor=actor_name(actor))
    for name, digest in res.files.items():
        click.echo(f"{digest}  {out / name}")
    pages = sum(1 for r in res.records if r.type == "response")
    click.echo(f"{res.ad_id}: {len(res.records)} WARC records ({pages} captures: the page and "
               f"{pages - 1} image(s))", err=True)
    for why in res.missing:
        click.echo(f"warning: {why}", err=True)


@evidence.command("bundle")
@click.argument("case_id", type=int)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The zip to write.")
@actor_option()
@db_option
def evidence_bundle(case_id: int, out: Path, actor: str | None, db_url: str) -> None:
    """Write case CASE_ID's evidence bundle (a zip with a SHA-256 manifest, the chain of
    custody and a certification page) and print its SHA-256."""
    from tracelight.cli.common import store_from
    from tracelight.services.cases import actor_name
    from tracelight.services.evidence import make_bundle

    with store_from(db_url) as store:
        res = make_bundle(store, case_id, actor_name(actor), out)
    click.echo(f"{res.file.sha256}  {res.file.path}")
    click.echo(f"{res.ads} ad(s) ({res.with_warc} with their WARC capture), "
               f"{res.custody_entries} custody entries, audit head {res.audit_head[0]} "
               f"{res.audit_head[1][:16]}…, {res.file.size:,} bytes", err=True)


@evidence.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
def evidence_verify(bundle: Path) -> None:
    """Re-check every hash in BUNDLE (a bundle zip, or a folder from `evidence AD_ID`): its
    structure, payloads and chain of custody; name anything changed (exit 8 when something
    was)."""
    from tracelight.errors import TamperError
    from tracelight.services.evidence import verify

    if bundle.is_dir():
        from tracelight.services.ad_evidence import verify_capture

        check = verify_capture(bundle)
        if not check.ok:
            for p in check.problems:
                click.echo(f"CHANGED: {p}")
            raise TamperError(f"{bundle}: {len(check.problems)} problem(s); the capture is "
                              "not as it was exported")
        click.echo(f"ok: {bundle}: {check.files} files match SHA256SUMS, {check.records} WARC "
                   "records read, every payload matches the SHA-256 recorded at fetch time")
        return

    res = verify(bundle)
    if not res.ok:
        for p in res.problems:
            click.echo(f"CHANGED: {p}")
        raise TamperError(f"{bundle}: {len(res.problems)} problem(s); the bundle is not as "
                          "it was made")
    click.echo(f"ok: {bundle}: case {res.case}, {res.files} files match their SHA-256, "
               f"{res.custody_entries} custody entries chain, audit head {res.audit_head[0]} "
               f"{res.audit_head[1][:16]}…")
