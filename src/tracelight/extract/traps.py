"""Numbers that look like phone digits but are not: prices, dates, times, sizes, IDs.

`trap_spans(folded)` returns the spans the phone reader must not use. Precision matters more
than recall for phones: one false phone links strangers into one network.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_I = re.IGNORECASE

# Each pattern is linear: bounded quantifiers, no nested repetition.
_SIMPLE = [
    # prices: $150, 150$, 150 roses, € 80
    re.compile(r"[$€£¥]\s?\d[\d,.]{0,9}"),
    re.compile(r"(?<!\d)\d{2,5}(?:[.,]\d{1,2})?\s?(?:\$|€|£|usd|dollars?|bucks|roses?|rs|"
               r"donations?|candies|eur|euros?|gbp|pesos?|mxn)\b", _I),
    # durations: 30 min, 1 hr, 2hrs, 15qv
    re.compile(r"(?<!\d)\d{1,3}\s?(?:min(?:ute)?s?|hrs?|hours?|hh|hhr|qv|qk|h)\b", _I),
    # per-unit rates: 150/hr, 80/qv, 200 per hour
    re.compile(r"(?<!\d)\d{1,5}\s?(?:/|per)\s?(?:hr|hour|h|hh|hhr|qv|qk|min|night|ov)\b", _I),
    # times: 10:30, 10:30pm, 10am, 4 pm, 10am-4pm
    re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?", _I),
    re.compile(r"(?<!\d)\d{1,2}\s?[ap]\.?m\b\.?", _I),
    # heights: 5'4, 5' 4", 5ft4, 5 ft 4 in, 165cm
    re.compile(r"(?<!\d)[3-7]\s?(?:'|ft|foot|feet)\s?\d{1,2}(?!\d)(?:\s?(?:\"|''|in\b|inches))?",
               _I),
    re.compile(r"(?<!\d)\d{2,3}\s?cm\b", _I),
    # weights: 120lbs, 120 lb, 55kg
    re.compile(r"(?<!\d)\d{2,3}\s?(?:lbs?|pounds|kgs?|kilos?)\b", _I),
    # ISO dates: 2024-11-23
    re.compile(r"(?<!\d)(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)"),
    # reference numbers after a label: Post ID: 4829173650, Ref# 12345, order no. 555
    re.compile(r"\b(?:(?:post|ad|listing|ref|reference|order|invoice|ticket|case|tracking|"
               r"confirmation|receipt|transaction|account|acct)\s?(?:id|no\.?|num(?:ber)?|#)|"
               r"id|ref|reference|order|invoice|ticket|tracking|confirmation|receipt)"
               r"\s?[:#=.]?\s?#?\s?\d[\d-]{3,20}", _I),
    re.compile(r"#\s?\d{4,}"),
    # zip codes after a state or the word zip: WA 98101, zip 98101-1234
    re.compile(r"\b(?:zip(?:\s?code)?:?|[A-Z]{2},?)\s\d{5}(?:-\d{4})?(?!\d)"),
    # ordinals and years in prose: 2nd, 21st, in 2024
    re.compile(r"(?<!\d)\d{1,4}(?:st|nd|rd|th)\b", _I),
]

_ZIP = _SIMPLE.pop(-2)  # case-sensitive: a state code is upper-case
# one scan instead of a dozen; branch order puts labelled IDs before bare numbers
_SIMPLE_ALL = re.compile("|".join(f"(?:{rx.pattern})" for rx in
                                  sorted(_SIMPLE, key=lambda r: "post" not in r.pattern)), _I)

# Checked in code: a measurement 34-24-36 only if the three numbers are body-plausible,
# a date 11/23 or 11/23/24 only if it is a real day and month.
# A trap never starts or ends inside a longer chain of separated digits ("2-0-6-2-0-0...").
_MEASURE = re.compile(r"(?<!\d)(?<!\d[-/.])(\d{2})[a-zA-Z]{0,3}\s?[-/]\s?(\d{2})\s?[-/]\s?"
                      r"(\d{2})(?!\d|[-/.]\d)")
_DATE = re.compile(r"(?<!\d)(?<!\d[-/.])(?:(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?|"
                   r"(\d{1,2})[.-](\d{1,2})[.-](\d{4}|\d{2}))(?!\d|[-/.]\d)")


def _is_measure(m: re.Match[str]) -> bool:
    a, b, c = (int(x) for x in m.groups())
    return 28 <= a <= 50 and 18 <= b <= 45 and 28 <= c <= 56


def _is_date(m: re.Match[str]) -> bool:
    a, b = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)),
                                                                   int(m.group(5)))
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)


class TrapIndex:
    """Sorted, merged spans; `hits(start, end)` tells if [start, end) touches one."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        merged: list[tuple[int, int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                if e > merged[-1][1]:
                    merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]

    def hits(self, start: int, end: int) -> bool:
        i = bisect_right(self._starts, end - 1) - 1
        return i >= 0 and self._ends[i] > start

    def __len__(self) -> int:
        return len(self._starts)


def trap_spans(folded: str, start: int = 0, end: int | None = None) -> TrapIndex:
    """Trap spans in folded[start:end] (lookbehinds still see the text before `start`)."""
    end = len(folded) if end is None else end
    spans: list[tuple[int, int]] = []
    spans.extend(m.span() for m in _SIMPLE_ALL.finditer(folded, start, end))
    spans.extend(m.span() for m in _ZIP.finditer(folded, start, end))
    spans.extend(m.span() for m in _MEASURE.finditer(folded, start, end) if _is_measure(m))
    spans.extend(m.span() for m in _DATE.finditer(folded, start, end) if _is_date(m))
    return TrapIndex(spans)
