"""`tracelight evidence bundle|verify`: court-ready evidence bundles and their check."""

from __future__ import annotations

from pathlib import Path

import click

from tracelight.cli.app import cli, db_option


@cli.group()
def evidence() -> None:
    """Evidence bundles for prosecutors: captures, entities, networks, custody, hashes."""


@evidence.command("bundle")
@click.argument("case_id", type=int)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The zip to write.")
@click.option("--as", "actor", default=None, metavar="USER",
              help="Who is acting, for the audit log. [default: the OS user]")
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
    """Re-check every hash in BUNDLE, its zip structure and its chain of custody; name
    anything changed (exit 8 when something was)."""
    from tracelight.errors import TamperError
    from tracelight.services.evidence import verify

    res = verify(bundle)
    if not res.ok:
        for p in res.problems:
            click.echo(f"CHANGED: {p}")
        raise TamperError(f"{bundle}: {len(res.problems)} problem(s); the bundle is not as "
                          "it was made")
    click.echo(f"ok: {bundle}: case {res.case}, {res.files} files match their SHA-256, "
               f"{res.custody_entries} custody entries chain, audit head {res.audit_head[0]} "
               f"{res.audit_head[1][:16]}…")
