"""`tracelight digest`: what's new since a time, as Markdown or JSON Lines, for a team
channel (written to stdout or --out FILE; sent nowhere)."""

from __future__ import annotations

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import dumps


@cli.command("digest")
@click.option("--since", default="24h", show_default=True, metavar="SPAN|DATE",
              help="How far back: 90m, 24h, 7d, 2w, or an ISO date/time (UTC).")
@format_option("md", "jsonl", default="md")
@click.option("--out", "out_path", default=None, type=click.Path(dir_okay=False),
              metavar="FILE", help="Write here instead of stdout (never overwrites).")
@click.option("--as", "actor", default=None, metavar="USER",
              help="Who is asking, for the audit log. [default: the OS user]")
@db_option
def digest_cmd(since: str, fmt: str, out_path: str | None, actor: str | None,
               db_url: str) -> None:
    """New ads in watched networks, networks that grew, and watchlist hits since a time."""
    from pathlib import Path

    from tracelight.errors import UsageError
    from tracelight.services.cases import actor_name
    from tracelight.services.digest import digest, parse_since

    when = parse_since(since)
    if out_path and Path(out_path).exists():
        raise UsageError(f"{out_path} already exists", hint="choose a new file name")
    with store_from(db_url) as store:
        found = digest(store, when, actor_name(actor))
    text = (found.markdown() if fmt == "md"
            else "".join(dumps(r) + "\n" for r in found.records()))
    if out_path:
        Path(out_path).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_path}", err=True)
    else:
        click.echo(text, nl=False)
