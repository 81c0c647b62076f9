"""`tracelight bank import|list|matches|delete`: known-image hash banks and their alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import emit, stderr
from tracelight.images.banks import KINDS, parse_bank_file
from tracelight.store import Store


def _audit(store: Store, action: str, bank_name: str, detail: dict[str, Any]) -> None:
    """Bank changes decide which images are withheld from analysts: on the record, always."""
    import getpass

    from tracelight.store.accounts import Accounts
    try:
        os_user = getpass.getuser()
    except Exception:  # no name for this uid (containers): still audit, without it
        os_user = "?"
    Accounts(store).audit("cli", action, bank_name, detail={**detail, "os_user": os_user})


@cli.group()
def bank() -> None:
    """Known-image hash banks (PDQ, MD5, SHA-1, SHA-256 lists) and the alerts they raise.

    Every ingested image is matched against all banks; a match is an alert for human review,
    and the matched image is never displayed, only its hashes.
    """


@bank.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["auto", *KINDS]), default="auto", show_default=True,
              help="Hash kind of plain lines. auto: 64 hex = PDQ, 32 = MD5, 40 = SHA-1 "
                   "(a SHA-256 list needs --kind sha256).")
@click.option("--threshold", type=click.IntRange(0, 256), default=None,
              help="PDQ distance counted as a match when matching stored images. "
                   "[default: TRACELIGHT_PDQ_THRESHOLD or 31]")
@db_option
def bank_import(name: str, file: Path, kind: str, threshold: int | None, db_url: str) -> None:
    """Import the hashes in FILE into bank NAME (created if new) and match stored images.

    FILE holds one hash per line (an optional label after a comma), or is a CSV whose header
    names a hash column (pdq, md5, sha1, sha256, hash) and optionally a label column. Invalid
    lines are reported with their line numbers and nothing is imported.
    """
    from tracelight.services.banks import import_bank

    entries = parse_bank_file(file, kind=kind)
    with store_from(db_url, create=True) as store, \
            stderr.status(f"importing {len(entries):,} hashes into bank {name!r}"):
        result = import_bank(store, name, entries, source=str(file), threshold=threshold)
        _audit(store, "bank.import", name, {"file": str(file), "added": result.added,
                                            "new_matches": result.new_matches})
    verb = "created" if result.created else "updated"
    click.echo(f"bank {result.bank!r} {verb}: {result.added:,} hashes added, "
               f"{result.already_present:,} already present; "
               f"{result.new_matches:,} new match(es) among stored images")


@bank.command("list")
@db_option
@format_option()
def bank_list(db_url: str, fmt: str) -> None:
    """List banks with their hash counts per kind and how many images matched."""
    with store_from(db_url) as store:
        rows = [b.to_dict() for b in store.list_banks()]
    if not rows and fmt == "table":
        stderr.print("no banks yet: add one with `tracelight bank import NAME FILE`")
        return
    emit(rows, fmt, ("name", "pdq", "md5", "sha1", "sha256", "total", "matches", "source",
                     "updated_at"))


@bank.command("matches")
@click.option("--bank", "bank_name", default=None, help="Only this bank's matches.")
@click.option("--status", type=click.Choice(["new", "reviewed", "dismissed"]), default=None)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@db_option
@format_option()
def bank_matches_cmd(bank_name: str | None, status: str | None, limit: int, db_url: str,
                     fmt: str) -> None:
    """Alerts: stored images matching a bank, with the evidence (hashes, distance, ads).

    The matched images themselves are never shown. A match is a lead for human review.
    """
    with store_from(db_url) as store:
        rows = store.bank_match_rows(bank=bank_name, status=status, limit=limit)
    if not rows and fmt == "table":
        stderr.print("no bank matches")
        return
    emit(rows, fmt, ("matched_at", "bank", "kind", "distance", "label", "bank_hash",
                     "image_sha256", "quality", "ads", "status"),
         widths={"bank_hash": 20, "image_sha256": 20, "ads": 60})


@bank.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@db_option
def bank_delete(name: str, yes: bool, db_url: str) -> None:
    """Delete bank NAME, its hashes and its alerts."""
    if not yes:
        click.confirm(f"delete bank {name!r} and all its alerts?", abort=True, err=True)
    with store_from(db_url) as store:
        store.delete_bank(name)
        _audit(store, "bank.delete", name, {})
    click.echo(f"bank {name!r} deleted")


