"""`tracelight tx ...`: follow the money (bank transactions, red flags, alerts, SAR drafts).

A thin shell over tracelight.services.finance; see docs/finance.md.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import dumps, emit, stderr
from tracelight.errors import InputError

ALERT_COLUMNS = ["alert_id", "account", "typologies", "indicators", "score", "first_seen",
                 "last_seen", "linked_ads"]


def _audit(store: Any, action: str, target: str, detail: dict[str, Any]) -> None:
    """Alerts and SAR drafts name bank customers: every read of them is on the record."""
    import getpass

    from tracelight.store.accounts import Accounts
    try:
        os_user = getpass.getuser()
    except Exception:  # no name for this uid (containers): still audit, without it
        os_user = "?"
    Accounts(store).audit("cli", action, target, detail={**detail, "os_user": os_user})


def _open(path: str, stack: ExitStack) -> tuple[str, IO[bytes]]:
    if path == "-":
        return "<stdin>", sys.stdin.buffer
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    try:
        return p.name, stack.enter_context(p.open("rb"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


@cli.group()
def tx() -> None:
    """Follow the money: FinCEN red flags over bank transactions, accounts linked to ads, and
    draft SARs.

    Alerts need a combination of red flags (FinCEN FIN-2014-A008, FIN-2020-A008, FINTRAC
    Project PROTECT); every alert is a lead for an analyst, never a finding, and a SAR draft is
    text to edit, never filed by tracelight.
    """


@tx.command("generate")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--accounts", "n_accounts", type=click.IntRange(50, 5_000_000), default=2000,
              show_default=True, help="How many bank accounts (people and businesses).")
@click.option("--seed", type=int, default=7, show_default=True)
def tx_generate(out_dir: Path, n_accounts: int, seed: int) -> None:
    """Write a synthetic bank into OUT_DIR: accounts.csv, transactions.csv, truth.json and a
    few non-explicit ads (ads.jsonl) carrying planted accounts' contacts."""
    from tracelight.finance.generator import generate

    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError(f"{out_dir} is not empty", hint="give a new or empty folder")
    counts = generate(out_dir, accounts=n_accounts, seed=seed)
    click.echo(f"wrote {counts['accounts']:,} accounts, {counts['transactions']:,} "
               f"transactions ({counts['planted']} planted typologies) and {counts['ads']} ads "
               f"to {out_dir}")


@tx.command("accounts")
@click.argument("file")
@click.option("--rejects", "rejects_path", default="tracelight-tx-rejects.txt",
              show_default=True, help="File that malformed rows are appended to.")
@db_option
def tx_accounts(file: str, rejects_path: str, db_url: str) -> None:
    """Read bank accounts from FILE (CSV or JSON Lines; '-' for stdin) into the store."""
    from tracelight.services.finance import ingest_accounts

    with ExitStack() as stack, store_from(db_url, create=True) as store:
        name, stream = _open(file, stack)
        r = ingest_accounts(store, name, stream, rejects_path=rejects_path)
    click.echo(f"accounts read {r.read:,}  new {r.new:,}  updated {r.updated:,}  "
               f"rejected {r.rejected:,}")
    if r.rejected:
        click.echo(f"rejected rows and why: {rejects_path}")


@tx.command("ingest")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--rejects", "rejects_path", default="tracelight-tx-rejects.txt",
              show_default=True, help="File that malformed rows are appended to, as "
              "`file:line: reason`.")
@click.option("--score/--no-score", default=True, show_default=True,
              help="Score every stored transaction afterwards (alerts, links to ads).")
@db_option
def tx_ingest(files: tuple[str, ...], rejects_path: str, score: bool, db_url: str) -> None:
    """Read transactions from FILE... (native CSV/JSON Lines or the AMLworld CSV; '-' for
    stdin) into the store, then score them.

    Idempotent: a transaction already stored (same tx_id) is not added again. One database
    transaction per batch: an interrupted run loses at most one batch; run it again.
    """
    from tracelight.services.finance import ingest_transactions
    from tracelight.services.finance import score as score_all

    with ExitStack() as stack, store_from(db_url, create=True) as store:
        sources = [_open(f, stack) for f in files]
        r = ingest_transactions(store, sources, rejects_path=rejects_path)
        click.echo(f"transactions read {r.read:,}  new {r.new:,}  rejected {r.rejected:,}")
        if r.rejected:
            click.echo(f"rejected rows and why: {rejects_path}")
        if score:
            with stderr.status("scoring"):
                s = score_all(store)
            click.echo(f"scored {s.transactions:,} transactions over {s.accounts:,} accounts: "
                       f"{len(s.alerts):,} alerts")


@tx.command("score")
@click.argument("source", metavar="-")
@db_option
def tx_score(source: str, db_url: str) -> None:
    """Score a live stream: read transactions from stdin (JSON Lines or CSV), write each alert
    as one JSON line the moment it fires. Accounts known to the store give kinds and hours."""
    from tracelight.services.finance import load_accounts, stream_score

    if source != "-":
        raise click.UsageError("tx score reads a stream: give '-' and pipe transactions in")
    with store_from(db_url) as store:
        accounts = load_accounts(store)
    rejected = 0

    def on_reject(rej: Any) -> None:
        nonlocal rejected
        rejected += 1
        click.echo(f"{rej.origin}: {rej.reason}", err=True)

    out = sys.stdout
    for alert in stream_score(sys.stdin.buffer, accounts, on_reject=on_reject):
        out.write(dumps(alert.to_dict()) + "\n")
        out.flush()


@tx.command("alerts")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--typology", default=None, help="Only alerts of this typology.")
@format_option("table", "jsonl", "csv")
@db_option
def tx_alerts(limit: int, typology: str | None, fmt: str, db_url: str) -> None:
    """Alerts, highest score first: account, typologies, the red flags behind each (with
    citation and every transaction id), score, first/last seen, linked ads."""
    from tracelight.services.finance import alert_rows, alerts

    with store_from(db_url) as store:
        items = alerts(store, limit=limit, typology=typology)
        _audit(store, "tx.alerts", typology or "", {"format": fmt, "rows": len(items)})
    rows: Iterator[dict[str, Any]] | list[dict[str, Any]] = alert_rows(items)
    if fmt == "table":
        rows = [{**r, "indicators": [i["code"] for i in r["indicators"]]} for r in rows]
    if fmt == "csv":
        rows = [{**r, "indicators": dumps(r["indicators"])} for r in rows]
    emit(rows, fmt, ALERT_COLUMNS, title="alerts")


@tx.command("sar")
@click.argument("alert_id")
@db_option
def tx_sar(alert_id: str, db_url: str) -> None:
    """Print a draft SAR narrative for ALERT_ID, as text for an analyst to edit (never filed)."""
    from tracelight.services.finance import sar_text

    with store_from(db_url) as store:
        text = sar_text(store, alert_id)
        _audit(store, "tx.sar", alert_id, {})
    click.echo(text)


@tx.command("evaluate")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="truth.json written by `tracelight tx generate`.")
@format_option("table", "jsonl")
@db_option
def tx_evaluate(truth_path: Path, fmt: str, db_url: str) -> None:
    """Precision and recall per typology of the stored alerts against the generator's truth,
    and alerts per 10,000 customers."""
    from tracelight.services.finance import evaluate_store

    with store_from(db_url) as store:
        scores = evaluate_store(store, truth_path)
        customers = store.count_fin_accounts()
        total = store.count_fin_alerts()
    emit([s.to_dict() for s in scores], fmt,
         ["typology", "planted", "alerted", "true_positives", "precision", "recall"],
         title="precision / recall per typology")
    per_10k = total / customers * 10_000 if customers else 0.0
    click.echo(f"alerts {total:,} over {customers:,} customers: {per_10k:.1f} per 10,000",
               err=fmt == "jsonl")
