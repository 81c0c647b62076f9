"""Strict JSON, the one way tracelight writes it (store columns, CLI output, exports).

Python's `json` writes `NaN` and `Infinity` by default: not JSON, and SQLite's JSON functions
fail on them. Everything tracelight writes goes through `dumps` here, which refuses them
(`allow_nan=False`); records carrying them are refused at parse time (see `problem`), so a
refusal here means a bug, not an attacker's success.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

# Nesting allowed inside a record's extra fields. Feeds nest a few levels; 100,000 levels is an
# attack on every recursive step after parsing (hashing, storing, rendering).
MAX_DEPTH = 32


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def dumps(obj: Any, *, indent: int | None = None, ascii_only: bool = False,
          sort_keys: bool = False, separators: tuple[str, str] | None = None) -> str:
    """JSON text of `obj`; dates as ISO 8601, other unknown objects as their text.

    Raises ValueError for NaN or Infinity anywhere in `obj`.
    """
    return json.dumps(obj, ensure_ascii=ascii_only, allow_nan=False, default=_default,
                      indent=indent, sort_keys=sort_keys, separators=separators)


def store_dumps(obj: Any) -> str:
    """The serializer of the store's JSON columns (ASCII escapes, as before; strict)."""
    return dumps(obj, ascii_only=True)


def surrogate_at(text: str) -> int | None:
    """Index of the first lone surrogate in `text` (not valid Unicode), or None."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def problem(value: Any, *, max_depth: int = MAX_DEPTH) -> str | None:
    """Why `value` (parsed JSON) cannot be stored as strict JSON, or None when it can.

    Checks, without recursion: nesting deeper than `max_depth`, NaN/Infinity, and strings
    (keys included) holding lone surrogates.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            at = surrogate_at(item)
            if at is not None:
                return (f"a lone surrogate U+{ord(item[at]):04X} at character {at} "
                        "(not valid Unicode)")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{item!r} is not a JSON number (NaN and Infinity are refused)"
        elif isinstance(item, Mapping):
            if depth >= max_depth:
                return f"nested deeper than {max_depth} levels"
            for k, v in item.items():
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        elif isinstance(item, (list, tuple)):
            if depth >= max_depth:
                return f"nested deeper than {max_depth} levels"
            stack.extend((v, depth + 1) for v in item)
    return None
