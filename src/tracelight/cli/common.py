"""Helpers the command modules share: opening the store, parsing dates, progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tracelight.cli.output import stderr
from tracelight.errors import UsageError
from tracelight.store import Store, open_store


@contextmanager
def store_from(db_url: str) -> Iterator[Store]:
    store = open_store(db_url)
    try:
        yield store
    finally:
        store.close()


def parse_when(value: str | None, name: str) -> datetime | None:
    """A date or date-time given on the command line (ISO 8601; UTC when no offset)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{name} {value!r} is not a date (use YYYY-MM-DD or ISO 8601)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def progress_bar(*, total: int | None, unit: str = "ads") -> Progress:
    """A progress bar on stderr (data stays on stdout); hidden when stderr is not a terminal."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn()]
    columns.append(MofNCompleteColumn() if unit != "bytes" else
                   TextColumn("{task.percentage:>3.0f}%"))
    columns += [TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()]
    return Progress(*columns, console=stderr, transient=False,
                    disable=not stderr.is_terminal)


def echo_err(message: str) -> None:
    click.echo(message, err=True)
