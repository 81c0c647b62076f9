"""`tracelight digest`: what's new since a time, as Markdown or JSON Lines, for a team
channel (written to stdout or --out FILE; sent nowhere)."""

from __future__ import annotations

import click

from tracelight.cli.app import actor_option, cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import dumps


@cli.command("digest")
@click.option("--since", default="24h", show_default=True, metavar="SPAN|DATE",
              help="How far back: 90m, 24h, 7d, 2w, an ISO date/time (UTC), or `last`: "
                   "since your last visit (--as USER; your watchlist hits only).")
@click.option("--mark-seen", is_flag=True,
              help="With --since last: count what this digest lists as seen.")
@format_option("md", "jsonl", default="md")
@click.option("--out", "out_path", default=None, type=click.Path(dir_okay=False),
              metavar="FILE", help="Write here instead of stdout (never overwrites).")
@actor_option("Who is asking, for the audit log. [default: the OS user]")
@db_option
def digest_cmd(since: str, mark_seen: bool, fmt: str, out_path: str | None,
               actor: str | None, db_url: str) -> None:
    """New ads in watched networks, networks that grew, and watchlist hits since a time."""
    from pathlib import Path

    from tracelight.errors import UsageError
    from tracelight.services import digest as digest_service
    from tracelight.services.cases import actor_name

    last = since.strip().lower() in ("last", "last-visit")
    if mark_seen and not last:
        raise UsageError("--mark-seen goes with --since last")
    when = None if last else digest_service.parse_since(since)
    if out_path and Path(out_path).exists():
        raise UsageError(f"{out_path} already exists", hint="choose a new file name")
    who = actor_name(actor)
    with store_from(db_url) as store:
        if when is None:
            found = digest_service.since_last_visit(store, who, via_cli=True)
            if mark_seen:
                digest_service.mark_seen(store, who, found.until, how="cli", via_cli=True)
        else:
            found = digest_service.digest(store, when, who)
    text = (found.markdown() if fmt == "md"
            else "".join(dumps(r) + "\n" for r in found.records()))
    if out_path:
        Path(out_path).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_path}", err=True)
    else:
        click.echo(text, nl=False)
