"""`tracelight extract`: the entities of each ad as JSON Lines or a table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from tracelight import settings
from tracelight.cli.app import cli, format_option
from tracelight.cli.common import progress_bar
from tracelight.cli.output import Col, emit
from tracelight.errors import RecordError

TABLE_COLUMNS = [Col("id"), Col("phones", flex=True, min=12), Col("ages", flex=True, min=4),
                 Col("names", flex=True, min=8), Col("locations", flex=True, min=10),
                 Col("emails", flex=True, min=12, drop=True),
                 Col("social", flex=True, min=12, drop=True),
                 Col("payment_handles", "payment", flex=True, min=12, drop=True),
                 Col("crypto", flex=True, min=12, drop=True),
                 Col("prices", flex=True, min=10, drop=True)]


def _short(row: dict[str, Any]) -> dict[str, Any]:
    """Table cells: one short text per entity instead of nested JSON."""
    out = dict(row)
    out["social"] = [f"{s['platform']}:{s['handle']}" for s in row["social"]]
    out["payment_handles"] = [f"{p['service']}:{p['handle']}" for p in row["payment_handles"]]
    out["crypto"] = [f"{c['currency']}:{c['address']}" for c in row["crypto"]]
    out["prices"] = [f"{p['amount']} {p['currency']}" + (f"/{p['minutes']}m" if p["minutes"]
                                                         else "") for p in row["prices"]]
    out["locations"] = [", ".join(x for x in (loc["city"], loc["region"], loc["country"]) if x)
                        for loc in row["locations"]]
    return out


def _empty_row(error: str) -> dict[str, Any]:
    """The row of a record that could not be read: same keys, no entities, the reason."""
    row: dict[str, Any] = {"id": None}
    for k in ("phones", "emails", "urls", "social", "payment_handles", "crypto", "ages",
              "prices", "locations", "names"):
        row[k] = []
    row.update({"obfuscated_phone": False, "phone_regions": [], "mentions": [],
                "error": error})
    return row


@cli.command("extract")
@click.argument("path", default="-", metavar="[PATH|-]")
@click.option("--region", default=lambda: settings.get("region"), show_default="US",
              help="Country (ISO 3166 alpha-2) of the site, for phone numbers written without "
                   "a country code when the ad's location, URL and text do not name one.")
@format_option("jsonl", "table", "csv", default="jsonl")
@click.option("--source", default="-", show_default=True,
              help="Source name for records that do not carry one (nothing is stored).")
def extract_cmd(path: str, region: str, fmt: str, source: str) -> None:
    """Read ad records (JSON Lines, CSV, HTML, WARC; - for JSON Lines on stdin) and print the
    entities found in each: phones (E.164, de-obfuscated), emails, URLs, social and payment
    handles, crypto addresses, ages, prices, places and names, with spans, in input order.

    One output row per input record, empty results included. A record that cannot be read
    is reported on stderr as `file:line: reason` and gets a row with no entities (and, in
    JSON Lines, its "error"), so outputs line up with inputs. Exits with status 3 when no
    record could be read at all.
    """
    from tracelight.extract import extract_record
    from tracelight.ingest.readers import iter_records

    region = (region or "US").upper()
    rejected = 0
    read = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal rejected, read
        with progress_bar(total=None) as bar:
            task = bar.add_task("extract", total=None, info="")
            for origin, rec in iter_records(path, source or "-"):
                if isinstance(rec, RecordError):
                    rejected += 1
                    click.echo(f"{origin}: {rec}", err=True)
                    row = _empty_row(str(rec))
                else:
                    read += 1
                    row = extract_record(rec, region).to_dict(rec.id)
                bar.advance(task)
                yield row if fmt == "jsonl" else _short(row)

    emit(rows(), fmt, TABLE_COLUMNS, title="Entities", widths={"id": 24})
    if rejected:
        click.echo(f"{rejected} record(s) could not be read (see above)", err=True)
    if not read:
        click.echo("error: no record could be read", err=True)
        raise SystemExit(RecordError.exit_code)
