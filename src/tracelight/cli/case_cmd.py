"""`tracelight case create|list|show|add`: cases from the command line, audited as the web
audits them (the actor is the OS user, or --as USER)."""

from __future__ import annotations

import click

from tracelight.cli.app import actor_option, cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import emit


@cli.group()
def case() -> None:
    """Cases: gather ads, networks and identifiers for one investigation.

    Every command is written to the audit log (who, what, when), as in the workspace.
    """


@case.command("create")
@click.argument("title")
@click.option("--ad", "ads", multiple=True, metavar="SOURCE/ID",
              help="An ad to put in the case (repeatable).")
@click.option("--network", "networks", multiple=True, metavar="ID",
              help="A network to put in the case (repeatable).")
@click.option("--description", default="", help="What the case is about.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@actor_option()
@db_option
def case_create(title: str, ads: tuple[str, ...], networks: tuple[str, ...], description: str,
                tags: tuple[str, ...], actor: str | None, db_url: str) -> None:
    """Create a case called TITLE and print its id (nothing else on stdout)."""
    from tracelight.services.cases import actor_name, create_case

    with store_from(db_url) as store:
        made = create_case(store, title, actor_name(actor), ads=ads, networks=networks,
                           description=description, tags=tags)
    click.echo(made.pk)
    click.echo(f"case {made.pk} {made.title!r}: {len(made.items)} item(s)", err=True)


@case.command("list")
@click.option("--status", default=None, help="Only cases with this status.")
@actor_option()
@format_option()
@db_option
def case_list(status: str | None, actor: str | None, fmt: str, db_url: str) -> None:
    """List cases, most recently changed first."""
    from tracelight.services.cases import actor_name, list_cases

    with store_from(db_url) as store:
        rows = list_cases(store, actor_name(actor), status=status)
    emit(rows, fmt, ["id", "title", "status", "assignee", "n_items", "created_by",
                     "updated_at"], widths={"title": 50})


@case.command("show")
@click.argument("case_id", type=int)
@actor_option()
@format_option("table", "jsonl")
@db_option
def case_show(case_id: int, actor: str | None, fmt: str, db_url: str) -> None:
    """Show case CASE_ID with its items and notes."""
    from tracelight.cli.output import dumps
    from tracelight.services.cases import actor_name, show_case

    with store_from(db_url) as store:
        found = show_case(store, case_id, actor_name(actor))
    if fmt == "jsonl":
        click.echo(dumps(found.to_dict()))
        return
    click.echo(f"case {found.pk}: {found.title}  [{found.status}]  created by "
               f"{found.created_by} {found.created_at:%Y-%m-%d %H:%M}Z")
    if found.description:
        click.echo(found.description)
    emit(found.items, "table", ["id", "kind", "ref", "label", "added_by", "added_at"],
         title="items")
    for note in found.notes:
        click.echo(f"note by {note['author']} {note['at']:%Y-%m-%d %H:%M}Z: {note['text']}")


@case.command("add")
@click.argument("case_id", type=int)
@click.option("--ad", "ads", multiple=True, metavar="SOURCE/ID", help="An ad (repeatable).")
@click.option("--network", "networks", multiple=True, metavar="ID",
              help="A network (repeatable).")
@click.option("--identifier", "identifiers", multiple=True, metavar="KIND:VALUE",
              help="An identifier such as phone:+12065550143 (repeatable).")
@actor_option()
@db_option
def case_add(case_id: int, ads: tuple[str, ...], networks: tuple[str, ...],
             identifiers: tuple[str, ...], actor: str | None, db_url: str) -> None:
    """Add ads, networks or identifiers to case CASE_ID."""
    from tracelight.errors import UsageError
    from tracelight.services.cases import actor_name, add_to_case

    if not (ads or networks or identifiers):
        raise UsageError("nothing to add", hint="--ad, --network or --identifier")
    who = actor_name(actor)
    with store_from(db_url) as store:
        for kind, refs in (("ad", ads), ("network", networks), ("identifier", identifiers)):
            for ref in refs:
                if kind == "identifier" and ":" not in ref:
                    raise UsageError(f"identifier {ref!r} needs KIND:VALUE")
                res = add_to_case(store, case_id, kind, ref, who)
                click.echo(f"{'added' if res.added else 'already in the case'}: {kind} {ref}")
