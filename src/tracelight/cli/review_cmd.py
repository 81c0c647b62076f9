"""`tracelight review mark|list|assign`: review state shared by the team, every change written
to the audit log (the actor is the OS user, or --as USER)."""

from __future__ import annotations

import click

from tracelight.cli.app import actor_option, cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import emit

STATE_CHOICES = ["new", "in-review", "no-concern", "escalated", "needs-follow-up"]


@cli.group()
def review() -> None:
    """Review state of ads and networks: mark, assign, list (shared, audited).

    REF is an ad as SOURCE/ID (or a bare ID when unique) or a network as network:ID; marking
    a network marks every ad in it. `escalated` and `no concern` are kept as labels that
    `tracelight risk train --from-reviews` can learn from.
    """


@review.command("mark")
@click.argument("refs", nargs=-1, required=True, metavar="REF...")
@click.option("--state", required=True, type=click.Choice(STATE_CHOICES),
              help="The new state.")
@click.option("--reason", default=None,
              help="Why (required for no-concern: a short reason or free text).")
@click.option("--case", "case_pk", type=int, default=None,
              help="The case an escalation goes to (the targets are added to it).")
@click.option("--follow-up", "follow_up", default=None, metavar="YYYY-MM-DD",
              help="When to look again (required for needs-follow-up).")
@actor_option()
@db_option
def review_mark(refs: tuple[str, ...], state: str, reason: str | None, case_pk: int | None,
                follow_up: str | None, actor: str | None, db_url: str) -> None:
    """Give REF... a review state and say how many ads it touched."""
    from tracelight.services.cases import actor_name
    from tracelight.services.review import mark, parse_follow_up

    when = parse_follow_up(follow_up) if follow_up else None
    with store_from(db_url) as store:
        res = mark(store, list(refs), state, actor_name(actor), reason=reason,
                   case_pk=case_pk, follow_up=when)
    click.echo(res.summary())


@review.command("assign")
@click.argument("refs", nargs=-1, required=True, metavar="REF...")
@click.option("--to", "to", required=True, metavar="USER", help="The analyst to assign to.")
@actor_option()
@db_option
def review_assign(refs: tuple[str, ...], to: str, actor: str | None, db_url: str) -> None:
    """Put REF... in review by USER (`tracelight queue --mine --as USER` lists them)."""
    from tracelight.services.cases import actor_name
    from tracelight.services.review import assign

    with store_from(db_url) as store:
        res = assign(store, list(refs), to, actor_name(actor))
    click.echo(f"assigned to {to}: {res.ads} ad(s)"
               + (f" in {res.networks} network(s)" if res.networks else "") + " touched")


@review.command("list")
@click.option("--state", default=None, type=click.Choice(STATE_CHOICES),
              help="Only this state.")
@click.option("--assignee", default=None, metavar="USER", help="Only assigned to USER.")
@click.option("--kind", default=None, type=click.Choice(["ad", "network"]),
              help="Only ads or only networks.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="How many rows.")
@actor_option()
@format_option()
@db_option
def review_list(state: str | None, assignee: str | None, kind: str | None, limit: int,
                actor: str | None, fmt: str, db_url: str) -> None:
    """List review states, most recently changed first."""
    from tracelight.services.cases import actor_name
    from tracelight.services.review import list_reviews

    with store_from(db_url) as store:
        rows = list_reviews(store, actor_name(actor), state=state, assignee=assignee,
                            kind=kind, limit=limit)
    emit(rows, fmt, ["ref", "state", "assignee", "reason", "case", "follow_up", "changed_by",
                     "changed_at"], widths={"reason": 40})
