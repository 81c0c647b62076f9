"""Printing records as human tables, JSON Lines or CSV. Data goes to stdout, logs to stderr.

One renderer for every command. A table fits the terminal: each row is one line, a cell too
long for its column is cut at a word or list boundary and ends with an ellipsis (a phone
number, an id or a word is never split over two lines), optional columns that cannot fit
even at their narrowest are left out, and a column empty in every row is not drawn. A command
declares its columns once (`Columns`): the compact set a table shows by default, and every
column `--columns` may choose; CSV prints the full record set unless `--columns` says which.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import click
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracelight import jsonutil
from tracelight.errors import UsageError
from tracelight.report.csvsafe import SafeCsvWriter

stderr = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

# control characters, and the invisible ones that reorder or hide text in a terminal
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                     "\u2060-\u2069\ufeff]")
_BOUNDARY = " ,;|/"
GAP = 2  # spaces between table columns


def dumps(obj: Any) -> str:
    return jsonutil.dumps(obj)  # strict: never NaN or Infinity


def _cell(value: Any, width: int | None = None, *, human: bool = False) -> str:
    """A value as one line of text (lists joined by ', ', dates to the minute; for people,
    yes/no for booleans)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        text = ", ".join(_cell(v, human=human) for v in value)
    elif isinstance(value, Mapping):
        text = dumps(value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat(timespec="minutes") if hasattr(value, "hour") else value.isoformat()
    elif isinstance(value, bool) and human:
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:.3f}"
    else:
        text = str(value)
    text = " ".join(text.split())
    if width and len(text) > width:
        text = clip(text, width)
    return text


def safe_text(text: str) -> str:
    """Text with terminal control and bidi-override characters removed (hostile input)."""
    return _UNSAFE.sub("", text)


def clip(text: str, width: int) -> str:
    """`text` in at most `width` terminal cells, ending with '…' when cut.

    The cut falls at a word or list boundary when there is one, so a phone number or a word
    is either shown whole or not at all; only a single token wider than the cell is cut
    inside.
    """
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    room = width - 1
    kept: list[str] = []
    used = 0
    for ch in text:
        w = cell_len(ch)
        if used + w > room:
            break
        kept.append(ch)
        used += w
    cut = "".join(kept)
    nxt = text[len(cut)] if len(cut) < len(text) else " "
    if nxt not in _BOUNDARY and cut and cut[-1] not in _BOUNDARY:
        at = max(cut.rfind(b) for b in _BOUNDARY)
        if at > 0:
            cut = cut[:at]
    return cut.rstrip(_BOUNDARY) + "…"


@dataclass(frozen=True)
class Col:
    """One column: the row key it shows (or `value(row)`), and how it may be sized.

    flex columns (free text: titles, reasons, lists) shrink to fit the terminal, down to
    `min`; the others keep their natural width (ids, dates, numbers), at most `max`.
    `drop` columns are left out first when even the minimum widths do not fit.
    """

    key: str
    header: str = ""
    flex: bool = False
    min: int = 8
    max: int = 60
    right: bool = False
    drop: bool = False
    value: Callable[[Mapping[str, Any]], Any] | None = None  # the cell (table and csv)
    show: Callable[[Any], Any] | None = None  # how a table shows the cell (csv: as it is)

    @property
    def title(self) -> str:
        return self.header or self.key

    def get(self, row: Mapping[str, Any]) -> Any:
        return self.value(row) if self.value is not None else row.get(self.key)

    def shown(self, row: Mapping[str, Any]) -> Any:
        value = self.get(row)
        return self.show(value) if self.show is not None else value


def risk_text(value: Any) -> str:
    """A risk for tables: two decimals."""
    return f"{value:.2f}" if isinstance(value, (int, float)) else ""


def day_text(value: Any) -> str:
    """A date-time for tables: the day."""
    return value.date().isoformat() if hasattr(value, "date") else str(value or "")[:10]


def minute_text(value: Any) -> str:
    """A date-time for tables: day and minute."""
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d %H:%M"))
    return str(value or "")[:16].replace("T", " ")


def row_ref(row: Mapping[str, Any]) -> str:
    """An ad's public reference SOURCE/ID for a table row: its `ref` when the row has one,
    else made by services.adref.format_ref (the one formatter) from `source` and `id`/`ad_id`."""
    from tracelight.services.adref import format_ref

    if row.get("ref"):
        return str(row["ref"])
    ad_id = row.get("id") if row.get("id") is not None else row.get("ad_id")
    return format_ref(str(row["source"]), str(ad_id)) if row.get("source") else str(ad_id or "")


ColumnsArg = Sequence["str | Col"]


def _as_cols(columns: ColumnsArg) -> list[Col]:
    return [c if isinstance(c, Col) else Col(c, flex=True) for c in columns]


class Columns:
    """A command's columns: every one `--columns` may name, and the default sets."""

    def __init__(self, *cols: Col, table: Sequence[str], csv: Sequence[str] | None = None):
        self.cols = {c.key: c for c in cols}
        self.table = list(table)
        self.csv = list(csv) if csv is not None else list(self.cols)
        unknown = [k for k in [*self.table, *self.csv] if k not in self.cols]
        if unknown:
            raise ValueError(f"default columns not declared: {unknown}")

    def names(self) -> list[str]:
        return list(self.cols)

    def choose(self, spec: str | None, fmt: str) -> list[Col]:
        """The columns to print: `spec` (comma-separated names, or 'all'), else the
        format's default. Unknown names are a usage error listing the known ones."""
        if not spec:
            return [self.cols[k] for k in (self.table if fmt == "table" else self.csv)]
        names = [n.strip() for n in spec.split(",") if n.strip()]
        if names == ["all"]:
            return list(self.cols.values())
        unknown = [n for n in names if n not in self.cols]
        if unknown or not names:
            raise UsageError(f"unknown column {', '.join(map(repr, unknown)) or '(none)'}",
                             hint="choose from: " + ", ".join(self.cols) + ", or all")
        # a column asked for by name is squeezed to fit, never left out
        return [replace(self.cols[n], drop=False) for n in names]


def columns_option(cols: Columns) -> Callable[[F], F]:
    """`--columns a,b,c`: which columns a table (or CSV) shows; the help lists them."""

    def deco(func: F) -> F:
        return click.option(
            "--columns", "columns", metavar="LIST", default=None,
            help=f"Columns for table and csv, comma-separated, or 'all'. Table default: "
                 f"{','.join(cols.table)}. Also: "
                 f"{', '.join(k for k in cols.cols if k not in cols.table)}.")(func)

    return deco


def fill_text(text: str) -> str:
    """Prose wrapped at words to the terminal's width (as tables fit it)."""
    import textwrap

    return textwrap.fill(safe_text(text), width=max(20, Console().width))


def no_results(message: str, hint: str | None = None) -> None:
    """Say on stderr, in words, that nothing was found, and what to try instead."""
    stderr.print(f"No results: {message}", markup=False)  # wrapped at words, not mid-token
    if hint:
        stderr.print(f"  try: {hint}", markup=False)


def emit(rows: Iterable[Mapping[str, Any]], fmt: str, columns: ColumnsArg,
         *, title: str | None = None, widths: Mapping[str, int] | None = None,
         empty: str | None = None, hint: str | None = None) -> int:
    """Write rows in the chosen format; return how many were written.

    jsonl and csv stream row by row (memory stays flat for a million ads); the table
    collects rows first, so callers give it a limit. `columns` are `Col`s or plain keys
    (plain keys are free text that may shrink). With no rows, a table is not drawn: `empty`
    (what was asked for) is said on stderr, with `hint`.
    """
    cols = _as_cols(columns)
    count = 0
    if fmt == "jsonl":
        out = sys.stdout
        for row in rows:
            out.write(dumps(row) + "\n")
            count += 1
        out.flush()
    elif fmt == "csv":
        writer = SafeCsvWriter(sys.stdout)  # formula-looking cells get a leading '
        writer.writerow([c.key for c in cols])
        for row in rows:
            writer.writerow([_cell(c.get(row)) for c in cols])
            count += 1
        sys.stdout.flush()
    else:
        collected = list(rows)
        count = len(collected)
        if collected:
            render_table(collected, cols, title=title, widths=widths)
    if not count and empty is not None:
        no_results(empty, hint)
    return count


def _fit_widths(natural: list[int], cols: list[Col], heads: list[int],
                avail: int) -> tuple[list[int], list[int]]:
    """Column widths that fit `avail` cells, and the indexes of the columns kept."""
    keep = list(range(len(cols)))
    while True:
        widths = [natural[i] for i in keep]
        room = avail - GAP * (len(keep) - 1)
        mins = [min(natural[i], max(cols[i].min, 1)) if cols[i].flex else natural[i]
                for i in keep]
        if sum(mins) <= room or len(keep) == 1:
            break
        droppable = [i for i in keep if cols[i].drop]
        victim = droppable[-1] if droppable else None
        if victim is None:  # nothing marked: squeeze what there is rather than lose data
            break
        keep.remove(victim)
    excess = sum(widths) - room
    last = [min(w, max(heads[i], 4)) for w, i in zip(widths, keep, strict=True)]
    # optional free text first, then all free text, down to its minimum; only then (a very
    # narrow terminal) the rest
    for phase, floors in ((0, mins), (1, mins), (2, last)):
        while excess > 0:
            best = -1
            for j, i in enumerate(keep):
                if (phase < 2 and not cols[i].flex) or (phase == 0 and not cols[i].drop):
                    continue
                if widths[j] > floors[j] and (best < 0 or widths[j] > widths[best]):
                    best = j
            if best < 0:
                break
            widths[best] -= 1
            excess -= 1
    return widths, keep


def render_table(rows: Sequence[Mapping[str, Any]], columns: ColumnsArg, *,
                 title: str | None = None, widths: Mapping[str, int] | None = None,
                 console: Console | None = None) -> None:
    """Rows as a table as wide as the terminal at most, one line per row."""
    cols = _as_cols(columns)
    widths = widths or {}
    console = console or Console(highlight=False)
    caps = [widths.get(c.key, c.max) for c in cols]
    cells = [[safe_text(_cell(c.shown(row), cap, human=True))
              for c, cap in zip(cols, caps, strict=True)] for row in rows]
    if cells:  # a column empty in every row says nothing: leave it out
        full = [i for i in range(len(cols)) if any(r[i] for r in cells)] or [0]
        cols, caps = [cols[i] for i in full], [caps[i] for i in full]
        cells = [[r[i] for i in full] for r in cells]
    heads = [cell_len(c.title) for c in cols]
    natural = [max([heads[i], *(cell_len(r[i]) for r in cells)]) for i in range(len(cols))]
    natural = [min(n, max(caps[i], heads[i])) for i, n in enumerate(natural)]
    fitted, keep = _fit_widths(natural, cols, heads, console.width)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, GAP - 1, 0, 0), header_style="bold")
    for j, i in enumerate(keep):
        table.add_column(clip(cols[i].title, fitted[j]), width=fitted[j], no_wrap=True,
                         overflow="ellipsis", justify="right" if cols[i].right else "left")
    for r in cells:
        table.add_row(*[Text(clip(r[i], fitted[j])) for j, i in enumerate(keep)])
    if title:  # its own line: a narrow table would wrap it
        console.print(Text(safe_text(title), style="bold"))
    console.print(table)
