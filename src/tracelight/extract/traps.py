"""Numbers that look like phone digits but are not: prices, dates, times, sizes, IDs.

`trap_spans(folded, start, end)` returns the spans in folded[start:end] the phone reader must
not use. Precision matters more than recall for phones: one false phone links strangers into
one network. Every trap begins at the start of a digit run, or just before one (`$150`,
`Post ID: 4829173650`, `WA 98101`), so the patterns are tried only there (`match` at a
position), never scanned across the text.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_I = re.IGNORECASE

# Traps that start with their first digit. Each alternative is linear: bounded quantifiers,
# no nested repetition.
_DIGIT_FIRST = re.compile("|".join(f"(?:{p})" for p in (
    # prices with a unit after: 150 roses, 200 donation, 80$
    # ("80$", but not the last group of "913-555-0143 $150": a '$' before digits is theirs)
    r"\d{2,5}(?:[.,]\d{1,2})?\s?(?:[$€£](?!\s?\$?\d)|(?:usd|dollars?|bucks|roses?|rs|"
    r"donations?|candies|eur|euros?|gbp|pesos?|mxn)\b)",
    # per-unit rates and durations: 150/hr, 200 per hour, 30 min, 1 hr, 2hrs, 15qv
    r"\d{1,5}\s?(?:/|per)\s?(?:hr|hour|h|hh|hhr|qv|qk|min|night|ov)\b",
    r"\d{1,3}\s?(?:min(?:ute)?s?|hrs?|hours?|hh|hhr|qv|qk|h)\b",
    # times: 10:30, 10:30pm, 10am, 4 pm
    r"\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?",
    r"\d{1,2}\s?[ap]\.?m\b\.?",
    # heights and weights: 5'4, 5' 4", 5ft4, 5 ft 4 in, 165cm, 120lbs, 55kg
    # (not a link of a chain of quoted digits: "TWO'0'6'FIVE'5'5'0'1'4'3")
    r"(?<!')[3-7]\s?(?:'|ft|foot|feet)\s?\d{1,2}(?!\d|'\w)(?:\s?(?:\"|''|in\b|inches))?",
    r"\d{2,3}\s?cm\b",
    r"\d{2,3}\s?(?:lbs?|pounds|kgs?|kilos?)\b",
    # ISO dates: 2024-11-23, and with spaces in titles: 2016 06 17
    r"(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)",
    r"(?:19|20)\d{2}\s(?:0[1-9]|1[0-2])\s(?:0[1-9]|[12]\d|3[01])(?!\d)",
    # percentages: 75%, 20 %
    r"\d{1,3}(?:[.,]\d{1,2})?\s?%",
    # ordinals: 2nd, 21st
    r"\d{1,4}(?:st|nd|rd|th)\b",
    # street addresses: 8480 Main St, 12 N Oak Avenue
    r"\d{1,6}\s(?:[a-z]+\.?\s){1,3}(?:st|street|ave|avenue|rd|road|blvd|dr|drive|ln|lane|"
    r"way|hwy|pkwy|ct|court|pl|place)\b",
)), _I)

# Checked in code: a measurement 34-24-36 only if the three numbers are body-plausible,
# a date 11/23 or 11/23/24 only if it is a real day and month. A trap never starts or ends
# inside a longer chain of separated digits ("2-0-6-2-0-0...").
_MEASURE = re.compile(r"(?<!\d[-/.])(\d{2})[a-zA-Z]{0,3}\s?[-/]\s?(\d{2})\s?[-/]\s?"
                      r"(\d{2})(?!\d|[-/.]\d)")
_DATE = re.compile(r"(?<!\d[-/.])(?:(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?|"
                   r"(\d{1,2})[.-](\d{1,2})[.-](\d{4}|\d{2}))(?!\d|[-/.]\d)")

# Traps announced just before the digits: a currency symbol, a reference label, a '#',
# a state code or the word zip before a zip code.
_LABEL_BEFORE = re.compile(
    r"(?:\b(?:(?:post|ad|listing|ref|reference|order|invoice|ticket|case|tracking|"
    r"confirmation|receipt|transaction|account|acct)\s?(?:id|no\.?|num(?:ber)?|#)|"
    r"id|ref|reference|order|invoice|ticket|tracking|confirmation|receipt|room|suite|ste|"
    r"apt|unit|exit|lot|box|floor|bldg|building|since|year|born|est)"
    r"\s?[:#=.]?\s?#?\s?|#\s?)$", _I)
_MONEY_BEFORE = re.compile(r"[$€£¥]\s?$")
_ZIP_BEFORE = re.compile(r"\b(?:(?i:zip(?:\s?code)?:?)|[A-Z]{2},?)\s$")
_ID_DIGITS = re.compile(r"\d[\d-]{3,20}")
_MONEY_DIGITS = re.compile(r"\d[\d,.]{0,9}")
_ZIP_DIGITS = re.compile(r"\d{5}(?:-\d{4})?(?!\d)")
_DIGIT_RUN = re.compile(r"[0-9]+")
_MONEY_CH = frozenset("$€£¥")
_LAST_WORD = re.compile(r"(?i:id|ref|reference|order|invoice|ticket|tracking|confirmation|"
                        r"receipt|no|num|number|room|suite|ste|apt|unit|exit|lot|box|floor|"
                        r"bldg|building|since|year|born|est)$")
_HASH_DIGITS = re.compile(r"\d[\d-]{0,20}")


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
    """Trap spans starting in folded[start:end] (context before `start` is still read)."""
    end = len(folded) if end is None else end
    starts = [m.start() for m in _DIGIT_RUN.finditer(folded, start, end)
              if not (m.start() > 0 and folded[m.start() - 1].isdigit())]
    return trap_spans_at(folded, starts, starts)


def trap_spans_at(folded: str, digit_starts: list[int], prefix_starts: list[int]) -> TrapIndex:
    """Traps beginning at the given digit-run starts; labels, currency symbols and zip cues
    are looked for only before `prefix_starts` (where a number begins)."""
    spans: list[tuple[int, int]] = []
    for p in digit_starts:
        for rx, check in ((_DIGIT_FIRST, None), (_MEASURE, _is_measure), (_DATE, _is_date)):
            m = rx.match(folded, p)
            if m is not None and (check is None or check(m)):
                spans.append(m.span())
    for p in prefix_starts:
        if not folded[p:p + 1].isdigit():
            continue
        lo = max(0, p - 32)
        before = folded[max(0, p - 2):p]
        if (before and before[-1] in _MONEY_CH) or before[:1] in _MONEY_CH:
            m = _MONEY_DIGITS.match(folded, p)
            if m is not None:
                spans.append(m.span())
        # a label ends in a word, '#', ':', '=' or '.' just before the digits
        tail = folded[lo:p].rstrip(" \t")[-16:]
        if tail and (tail[-1] in "#:=." or _LAST_WORD.search(tail) is not None) \
                and _LABEL_BEFORE.search(folded, lo, p):
            # "#702", "room 815": a numbered thing; a labelled ID needs 4+ digits
            short = tail[-1] == "#" or _LAST_WORD.search(tail) is not None
            m = (_HASH_DIGITS if short else _ID_DIGITS).match(folded, p)
            if m is not None:
                spans.append(m.span())
        m = _ZIP_DIGITS.match(folded, p)
        if m is not None and _ZIP_BEFORE.search(folded, max(0, p - 12), p):
            spans.append(m.span())
    return TrapIndex(spans)
