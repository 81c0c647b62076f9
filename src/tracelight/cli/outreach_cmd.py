"""`tracelight outreach ...`: outreach to possible victims and buyer deterrence, for advocates
only (every command needs --as USER with the advocate role), every step audited."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracelight.cli.app import F, cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import dumps, emit

AS_HELP = "The advocate acting (a workspace user with the advocate role)."
MAX_REPLY_FILE = 20_000_000  # bytes of one replies file


def as_option(func: F) -> F:
    return click.option("--as", "actor", required=True, metavar="USER", help=AS_HELP)(func)


@cli.group()
def outreach() -> None:
    """Outreach to possible victims (offers of help, never enforcement) and buyer deterrence.

    For advocates only. Nothing is sent by itself: a batch is planned, previewed, approved by
    an advocate, then sent through a provider named explicitly (a dry run by default).
    Outreach data is kept apart from queues, search, cases and exports. See docs/outreach.md.
    """


@outreach.command("plan")
@click.option("--ad", "ads", multiple=True, metavar="SOURCE/ID", help="An ad (repeatable).")
@click.option("--network", "networks", multiple=True, metavar="ID",
              help="A network: all its ads (repeatable).")
@click.option("--phone", "phones", multiple=True, metavar="E164",
              help="A phone, e.g. +12065550143 (repeatable).")
@click.option("--queue", "queue_top", type=int, default=0, metavar="N",
              help="The top N ads of the review queue.")
@click.option("--search", default=None, metavar="WORDS", help="The ads a text search finds.")
@click.option("--template", default="first_contact", show_default=True,
              help="An outreach template from templates.yaml.")
@click.option("--org", default="a local support service", show_default=True,
              help="The organisation's name, as messages say it.")
@click.option("--cooloff-days", type=int, default=30, show_default=True,
              help="Skip phones contacted within this many days.")
@as_option
@format_option("table", "jsonl")
@db_option
def outreach_plan(ads: tuple[str, ...], networks: tuple[str, ...], phones: tuple[str, ...],
                  queue_top: int, search: str | None, template: str, org: str,
                  cooloff_days: int, actor: str, fmt: str, db_url: str) -> None:
    """Build a batch: one message per distinct phone (never one per ad), with a preview."""
    from tracelight.services.outreach import plan

    with store_from(db_url) as store:
        made = plan(store, actor, template=template, ads=ads, networks=networks,
                    phones=phones, queue_top=queue_top, search=search, org=org,
                    cooloff_days=cooloff_days)
    rows = [{"phone": m.phone, "region": m.region, "status": m.status, "reason": m.reason,
             "ads": len(m.ads), "services": "; ".join(m.services), "text": m.text}
            for m in made.messages]
    if fmt == "jsonl":
        for row in rows:
            click.echo(dumps({"batch": made.batch.pk, "template": made.template, **row}))
    else:
        emit(rows, "table", ["phone", "region", "status", "reason", "ads", "services", "text"],
             title=f"batch {made.batch.pk} (template {made.template})", widths={"text": 60})
    click.echo(f"batch {made.batch.pk}: {made.planned} to message, {made.skipped} skipped; "
               f"approve with: tracelight outreach approve {made.batch.pk} --as USER", err=True)


@outreach.command("preview")
@click.argument("batch", type=int)
@as_option
@format_option("table", "jsonl")
@db_option
def outreach_preview(batch: int, actor: str, fmt: str, db_url: str) -> None:
    """Show BATCH's messages as they will be sent, and the phones skipped with why."""
    from tracelight.services.outreach import preview

    with store_from(db_url) as store:
        found, msgs = preview(store, actor, batch)
    rows = [{"phone": m.phone, "region": m.region, "status": m.status, "reason": m.reason,
             "text": m.text} for m in msgs]
    emit(rows, fmt, ["phone", "region", "status", "reason", "text"],
         title=f"batch {found.pk}: {found.status}", widths={"text": 70})


@outreach.command("approve")
@click.argument("batch", type=int)
@as_option
@db_option
def outreach_approve(batch: int, actor: str, db_url: str) -> None:
    """Approve BATCH for sending (an advocate's decision, audited)."""
    from tracelight.services.outreach import approve

    with store_from(db_url) as store:
        done = approve(store, actor, batch)
    click.echo(f"batch {done.pk} approved by {done.approved_by}", err=True)


@outreach.command("send")
@click.argument("batch", type=int)
@click.option("--provider", type=click.Choice(["dry-run", "file", "http"]), default="dry-run",
              show_default=True, help="dry-run sends nothing; file writes an outbox; http "
              "posts to the gateway named by --provider-url.")
@click.option("--outbox", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The outbox file (JSON Lines) of the file provider.")
@click.option("--provider-url", default=None, metavar="URL",
              help="The SMS gateway's address (http provider only; nothing else is used).")
@click.option("--per-hour", type=int, default=60, show_default=True,
              help="Most messages sent in any hour.")
@click.option("--per-day", type=int, default=300, show_default=True,
              help="Most messages sent in any day.")
@click.option("--quiet-hours", default="21-9", show_default=True, metavar="START-END",
              help="Local hours (recipient's time zone) when nothing is sent; 0-0 for none.")
@as_option
@db_option
def outreach_send(batch: int, provider: str, outbox: Path | None, provider_url: str | None,
                  per_hour: int, per_day: int, quiet_hours: str, actor: str,
                  db_url: str) -> None:
    """Send approved BATCH (quiet hours and limits defer messages to a later send)."""
    import os

    from tracelight.errors import UsageError
    from tracelight.services.outreach import send
    from tracelight.services.outreach_providers import make_provider

    try:
        start, end = (int(x) for x in quiet_hours.split("-"))
    except ValueError:
        raise UsageError(f"--quiet-hours {quiet_hours!r}: use START-END, e.g. 21-9") from None
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise UsageError("--quiet-hours: hours are 0 to 23")
    adapter = make_provider(provider, url=provider_url, outbox=outbox,
                            token=os.environ.get("TRACELIGHT_OUTREACH_TOKEN"))
    with store_from(db_url) as store:
        res = send(store, actor, batch, adapter, per_hour=per_hour, per_day=per_day,
                   quiet=(start, end))
    for phone, text in res.would_send:
        click.echo(dumps({"to": phone, "body": text, "dry_run": True}))
    verb = "would send" if res.dry_run else "sent"
    count = len(res.would_send) if res.dry_run else res.sent
    click.echo(f"batch {batch} via {res.provider}: {verb} {count}, failed {res.failed}, "
               f"deferred {res.deferred}, skipped {res.skipped}", err=True)
    for note in res.notes:
        click.echo(note, err=True)


@outreach.command("replies")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--provider-url", default=None, metavar="URL",
              help="Fetch replies from this gateway instead of FILE.")
@as_option
@db_option
def outreach_replies(file: Path | None, provider_url: str | None, actor: str,
                     db_url: str) -> None:
    """Store replies (JSON Lines of {"from", "body"} in FILE, or from the gateway); opt-out
    words (STOP, ALTO, ...) opt the phone out at once."""
    from tracelight.errors import InputError, UsageError
    from tracelight.services.outreach import ingest_replies
    from tracelight.services.outreach_providers import HttpProvider

    if (file is None) == (provider_url is None):
        raise UsageError("give FILE or --provider-url (one of them)")
    items: list[object] = []
    if file is not None:
        try:
            if file.stat().st_size > MAX_REPLY_FILE:
                raise InputError(f"{file}: larger than {MAX_REPLY_FILE} bytes")
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{file}: cannot be read ({exc.__class__.__name__})") from None
        for line in lines:
            if line.strip():
                try:
                    items.append(json.loads(line))
                except ValueError:
                    items.append(None)  # counted as rejected
    else:
        items.extend(HttpProvider(str(provider_url)).fetch_replies())
    with store_from(db_url) as store:
        res = ingest_replies(store, actor, items)
    click.echo(f"replies: {res.stored} stored, {res.opted_out} opted out, {res.rejected} "
               "rejected", err=True)


@outreach.command("inbox")
@click.option("--mine", is_flag=True, help="Only threads routed to me.")
@as_option
@format_option()
@db_option
def outreach_inbox(mine: bool, actor: str, fmt: str, db_url: str) -> None:
    """Phones that replied, newest first, with the advocate each is routed to."""
    from tracelight.services.outreach import inbox

    with store_from(db_url) as store:
        rows = inbox(store, actor, mine=mine)
    emit(rows, fmt, ["phone", "last_reply", "replies", "advocate"])


@outreach.command("thread")
@click.argument("phone")
@as_option
@format_option("table", "jsonl")
@db_option
def outreach_thread(phone: str, actor: str, fmt: str, db_url: str) -> None:
    """The conversation with PHONE, oldest first."""
    from tracelight.services.outreach import thread

    with store_from(db_url) as store:
        rows = thread(store, actor, phone)
    emit(rows, fmt, ["at", "direction", "advocate", "text"], widths={"text": 80})


@outreach.command("refer")
@click.argument("phone")
@click.argument("service")
@as_option
@db_option
def outreach_refer(phone: str, service: str, actor: str, db_url: str) -> None:
    """Record that the person at PHONE was connected to SERVICE (counted in the report)."""
    from tracelight.services.outreach import refer

    with store_from(db_url) as store:
        refer(store, actor, phone, service)
    click.echo("referral recorded", err=True)


@outreach.command("dnc")
@click.argument("phone")
@click.option("--reason", required=True, help="Why (e.g. in an open case, per supervisor).")
@as_option
@db_option
def outreach_dnc(phone: str, reason: str, actor: str, db_url: str) -> None:
    """Put PHONE on the do-not-contact list: every later batch skips it with the reason."""
    from tracelight.services.outreach import do_not_contact

    with store_from(db_url) as store:
        do_not_contact(store, actor, phone, reason)
    click.echo("on the do-not-contact list", err=True)


@outreach.command("deter")
@click.option("--decoy", required=True, help="The decoy ad the buyer answered.")
@click.option("--from", "buyer", required=True, metavar="E164", help="The buyer's number.")
@click.option("--text", required=True, help="The buyer's message (logged, never shown back).")
@click.option("--org", default="this service", show_default=True,
              help="Who placed the decoy, as the warning says it.")
@as_option
@db_option
def outreach_deter(decoy: str, buyer: str, text: str, org: str, actor: str,
                   db_url: str) -> None:
    """Answer a would-be buyer with the legal-warning template (dry run: logged, not sent)."""
    from tracelight.services.outreach import deter

    with store_from(db_url) as store:
        answer = deter(store, actor, decoy, buyer, text, org=org)
    click.echo(dumps({"to": buyer, "body": answer, "dry_run": True}))


@outreach.command("report")
@as_option
@format_option("table", "jsonl")
@db_option
def outreach_report(actor: str, fmt: str, db_url: str) -> None:
    """Counts only: sent, delivered, replies, opt-outs, referrals, buyers reached."""
    from tracelight.services.outreach import report

    with store_from(db_url) as store:
        counts = report(store, actor)
    emit([{"measure": k, "count": v} for k, v in counts.items()], fmt, ["measure", "count"])


@outreach.command("purge")
@click.option("--older-than", "days", type=int, required=True, metavar="DAYS",
              help="Delete outreach records older than this many days.")
@as_option
@db_option
def outreach_purge(days: int, actor: str, db_url: str) -> None:
    """Delete conversations, batches, referrals and deterrence entries older than DAYS
    (opt-outs and the do-not-contact list are kept)."""
    from tracelight.services.outreach import purge

    with store_from(db_url) as store:
        counts = purge(store, actor, days)
    click.echo("purged: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()),
               err=True)
