"""Printing records as human tables, JSON Lines or CSV. Data goes to stdout, logs to stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from tracelight import jsonutil
from tracelight.report.csvsafe import SafeCsvWriter

stderr = Console(stderr=True)


def dumps(obj: Any) -> str:
    return jsonutil.dumps(obj)  # strict: never NaN or Infinity


def _cell(value: Any, width: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        text = ", ".join(_cell(v) for v in value)
    elif isinstance(value, Mapping):
        text = dumps(value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat(timespec="minutes") if hasattr(value, "hour") else value.isoformat()
    elif isinstance(value, float):
        text = f"{value:.3f}"
    else:
        text = str(value)
    text = " ".join(text.split())
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def emit(rows: Iterable[Mapping[str, Any]], fmt: str, columns: Sequence[str],
         *, title: str | None = None, widths: Mapping[str, int] | None = None) -> int:
    """Write rows in the chosen format; return how many were written.

    jsonl and csv stream row by row (memory stays flat for a million ads); the table
    collects rows first, so callers give it a limit.
    """
    widths = widths or {}
    count = 0
    if fmt == "jsonl":
        out = sys.stdout
        for row in rows:
            out.write(dumps(row) + "\n")
            count += 1
        out.flush()
        return count
    if fmt == "csv":
        writer = SafeCsvWriter(sys.stdout)  # formula-looking cells get a leading '
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
            count += 1
        sys.stdout.flush()
        return count
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*[_cell(row.get(c), widths.get(c, 60)) for c in columns])
        count += 1
    Console().print(table)
    return count
