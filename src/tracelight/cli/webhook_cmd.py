"""`tracelight webhook add|list|remove|deliver|dead`: signed alerts to a platform's systems."""

from __future__ import annotations

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import emit, stderr

EVENT_NAMES = ("watchlist.hit", "bank.match", "network.high_risk",
               "money.alert")  # services.webhooks.EVENTS


def _audit(store: object, action: str, target: str, detail: dict[str, object]) -> None:
    from tracelight.store.accounts import Accounts
    Accounts(store).audit("cli", action, target, detail=detail)


@cli.group()
def webhook() -> None:
    """Webhooks: HMAC-signed alerts (watchlist hits, bank matches, high-risk networks) sent to
    a platform's URL, with retries and a dead-letter list. Money-flow alerts too (money.alert,
    from `tracelight tx score`). Nothing is sent unless one is added."""


@webhook.command("add")
@click.argument("url")
@click.option("--events", required=True,
              help="Comma-separated events: " + ", ".join(EVENT_NAMES) + ".")
@db_option
def webhook_add(url: str, events: str, db_url: str) -> None:
    """Subscribe URL (http or https; private addresses only with
    TRACELIGHT_WEBHOOK_ALLOW_PRIVATE=1) and print its signing secret once."""
    from tracelight.services.webhooks import add_webhook
    names = [e.strip() for e in events.split(",") if e.strip()]
    with store_from(db_url, create=True) as store:
        hook = add_webhook(store, url, names, "cli")
        _audit(store, "webhook.add", str(hook.id), {"url": hook.url, "events": names})
    stderr.print(f"webhook {hook.id} added; its signing secret (shown once):", highlight=False)
    click.echo(hook.secret)


@webhook.command("list")
@format_option("table", "jsonl", "csv")
@db_option
def webhook_list(fmt: str, db_url: str) -> None:
    """List webhooks: id, URL, events (never their secrets)."""
    from tracelight.store.webhooks import Webhooks
    with store_from(db_url) as store:
        rows = [h.to_dict() for h in Webhooks(store).all()]
    emit(rows, fmt, ["id", "url", "events", "created_by", "created_at"])


@webhook.command("remove")
@click.argument("webhook_id", type=int)
@db_option
def webhook_remove(webhook_id: int, db_url: str) -> None:
    """Remove webhook WEBHOOK_ID and its queued deliveries."""
    from tracelight.store.webhooks import Webhooks
    with store_from(db_url) as store:
        hook = Webhooks(store).remove(webhook_id)
        _audit(store, "webhook.remove", str(webhook_id), {"url": hook.url})
    click.echo(f"removed webhook {webhook_id}")


@webhook.command("deliver")
@db_option
def webhook_deliver(db_url: str) -> None:
    """Send every delivery that is due now (retries included). A running `tracelight serve`
    does this itself every few seconds; run it from cron where no server runs."""
    from tracelight.services.webhooks import deliver_due
    with store_from(db_url) as store:
        run = deliver_due(store)
    click.echo(f"sent {run.sent}, retrying {run.retrying}, dead {run.dead}")


@webhook.command("dead")
@format_option("table", "jsonl", "csv")
@db_option
def webhook_dead(fmt: str, db_url: str) -> None:
    """The dead-letter list: deliveries that failed every attempt, with the last error."""
    from tracelight.store.webhooks import Webhooks
    with store_from(db_url) as store:
        rows = [d.to_dict() for d in Webhooks(store).deliveries("dead")]
    emit(rows, fmt, ["id", "webhook", "event", "attempts", "last_error", "created_at"])
