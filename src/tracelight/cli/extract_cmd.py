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


@cli.command("extract")
@click.argument("path", default="-", metavar="[PATH|-]")
@click.option("--region", default=lambda: settings.get("region"), show_default="US",
              help="Country (ISO 3166 alpha-2) for phone numbers written without a country code.")
@format_option("jsonl", "table", "csv", default="jsonl")
@click.option("--source", help="Source name for records that do not carry one.")
def extract_cmd(path: str, region: str, fmt: str, source: str | None) -> None:
    """Read ad records (JSON Lines, CSV, HTML, WARC; - for JSON Lines on stdin) and print the
    entities found in each: phones (E.164, de-obfuscated), emails, URLs, social and payment
    handles, crypto addresses, ages, prices, places and names, with spans, in input order.

    Records that cannot be read are reported on stderr as `file:line: reason` and skipped.
    """
    from tracelight.extract import extract_record
    from tracelight.ingest.readers import iter_records

    region = region.upper()
    rejected = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal rejected
        with progress_bar(total=None) as bar:
            task = bar.add_task("extract", total=None, info="")
            for origin, rec in iter_records(path, source):
                if isinstance(rec, RecordError):
                    rejected += 1
                    click.echo(f"{origin}: {rec}", err=True)
                    continue
                row = extract_record(rec, region).to_dict(rec.id)
                bar.advance(task)
                yield row if fmt == "jsonl" else _short(row)

    emit(rows(), fmt, TABLE_COLUMNS, title="Entities", widths={"id": 24})
    if rejected:
        click.echo(f"{rejected} record(s) could not be read (see above)", err=True)
