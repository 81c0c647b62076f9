"""Helpers the command modules share: opening the store, parsing dates, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from tracelight.store import Store


@contextmanager
def store_from(db_url: str, *, create: bool = False) -> Iterator[Store]:
    """The store at `db_url`, closed afterwards. Only commands that write new data pass
    `create=True`: for every other one a missing SQLite file is an error, never a new
    empty database."""
    from tracelight.store import open_store

    store = open_store(db_url, must_exist=not create)
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


def bar_progress(unit: str = "ads") -> Callable[
        [str, int | None], AbstractContextManager[Callable[[int], None]]]:
    """A progress factory for tracelight.bench: one bar per phase, advanced n items at a time."""

    @contextmanager
    def factory(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
        with progress_bar(total=total, unit=unit) as prog:
            task = prog.add_task(label, total=total, info="")
            yield lambda n: prog.advance(task, n)

    return factory


def echo_err(message: str) -> None:
    click.echo(message, err=True)
