"""Prices with their durations: "$150/hr", "hh 100", "qv 80 roses", "200 donation 1 hour".

Each price is an amount, a currency and, when a duration is written next to it, the minutes
it buys (qk/qv = 15, hh = 30, hr = 60, overnight = 720). "roses", "donation(s)", "candies"
are the local currency, the way ads use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracelight.extract.normalize import word_starts

_I = re.IGNORECASE

_REGION_CURRENCY = {"US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "MX": "MXN",
                    "GB": "GBP", "UK": "GBP", "IE": "EUR", "ES": "EUR", "FR": "EUR",
                    "DE": "EUR", "IT": "EUR", "NL": "EUR", "CO": "COP", "AR": "ARS"}
_SYMBOL = {"$": "", "€": "EUR", "£": "GBP", "usd": "USD", "eur": "EUR", "euro": "EUR",
           "euros": "EUR", "gbp": "GBP", "cad": "CAD", "mxn": "MXN", "pesos": "MXN"}

# duration words -> minutes per unit
_DUR_UNITS = {"qk": 15, "qv": 15, "quick": 15, "hh": 30, "hhr": 30, "halfhour": 30,
              "half hour": 30, "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
              "fh": 60, "min": 1, "mins": 1, "minute": 1, "minutes": 1, "ov": 720,
              "overnight": 720, "night": 720}
_UNIT = (r"(half\s?hour|overnight|minutes?|mins?|hours?|hrs?|hhr|hh|qk|qv|quick|fh|ov|night|h)"
         r"(?![A-Za-z0-9])")
_DUR_NUM = re.compile(r"(\d{1,3}(?:\.5)?)\s?" + _UNIT, _I)  # "1hr", "30 min", "2 hours"
_DUR_WORD = re.compile(r"()" + _UNIT, _I)  # "hh", "qv", "overnight"
_DUR_WORDS = ("half", "overnight", "hour", "hr", "hhr", "hh", "qk", "qv", "quick", "fh", "ov",
              "night")
_MONEY_SYM = re.compile(r"([$€£])\s?(\d{1,3}[.,]\d{3}|\d{2,5})(?!\d)")
_MONEY_WORD = re.compile(
    r"(\d{2,5})\s?(\$|€|£|usd|dollars?|bucks|roses?|rs|donations?|candies|eur|euros?|gbp|cad|"
    r"mxn|pesos)(?![A-Za-z])", _I)
_MONEY_HINTS = ("$", "€", "£", "usd", "dollar", "buck", "rose", "rs", "donation", "candies",
                "eur", "gbp", "cad", "mxn", "peso")
_NUM_AFTER = re.compile(r"\s{0,2}[:=\-]?\s{0,2}(\d{2,4})(?![\dA-Za-z:'%]|[.,]\d)")
_NUM_BEFORE = re.compile(r"(?<![\d.,$])(\d{2,4})\s?(?:/|per)\s?$", _I)
_JOIN_AFTER = re.compile(r"\s{0,2}(?:/|per|an?|for|x|each|:|-|=|@)?\s{0,2}", _I)
_DIGITS = frozenset("0123456789")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@dataclass(frozen=True, slots=True)
class PriceHit:
    amount: int
    currency: str
    minutes: int | None
    start: int
    end: int

    @property
    def value(self) -> str:
        base = f"{self.amount} {self.currency}"
        return f"{base}/{self.minutes}" if self.minutes else base


def _dur_minutes(m: re.Match[str]) -> int:
    unit = "".join(m.group(2).lower().split())
    per = _DUR_UNITS.get(unit) or _DUR_UNITS.get(m.group(2).lower(), 60)
    n = float(m.group(1)) if m.group(1) else 1.0
    if unit in ("min", "mins", "minute", "minutes") and not m.group(1):
        return 0
    return int(n * per)


def _durations(folded: str, low: str,
               words: frozenset[str] | None) -> list[tuple[int, int, int]]:
    """(start, end, minutes) of every written duration."""
    out: dict[int, tuple[int, int]] = {}
    for m in _DUR_NUM.finditer(folded):
        if m.start() > 0 and folded[m.start() - 1] in _ALNUM:
            continue
        out[m.start()] = (m.end(), _dur_minutes(m))
    for pos in word_starts(low, _DUR_WORDS, words):
        if pos in out or (pos > 0 and folded[pos - 1] in _DIGITS):
            continue
        mw = _DUR_WORD.match(folded, pos)
        if mw:
            out[pos] = (mw.end(), _dur_minutes(mw))
    return sorted((s, e, mins) for s, (e, mins) in out.items() if 0 < mins <= 24 * 60)


def find_prices(folded: str, region: str = "US", low: str | None = None,
                words: frozenset[str] | None = None) -> list[PriceHit]:
    low = folded.lower() if low is None else low
    local = _REGION_CURRENCY.get(region.upper(), "USD")
    money: list[tuple[int, int, int, str]] = []  # start, end, amount, currency
    if any(h in low for h in _MONEY_HINTS):
        if "$" in folded or "€" in folded or "£" in folded:
            for m in _MONEY_SYM.finditer(folded):
                money.append((m.start(), m.end(), int(m.group(2).replace(",", "").replace(".", "")),
                              _SYMBOL[m.group(1)] or local))
        for m in _MONEY_WORD.finditer(folded):
            if m.start() > 0 and folded[m.start() - 1] in "0123456789.,$":
                continue
            word = m.group(2).lower()
            cur = _SYMBOL.get(word, "") or local
            money.append((m.start(), m.end(), int(m.group(1)), cur))
    durs = _durations(folded, low, words)
    if not money and not durs:
        return []
    by_start = {d[0]: d for d in durs}
    by_end = {d[1]: d for d in durs}
    used: set[int] = set()
    hits: list[PriceHit] = []
    money.sort()
    last_end = -1
    for start, end, amount, cur in money:
        if start < last_end or not 10 <= amount <= 100_000:
            continue
        minutes = None
        j = _JOIN_AFTER.match(folded, end)
        after = j.end() if j else end
        if after in by_start and after not in used:
            _, end, minutes = by_start[after]
            used.add(after)
        else:
            k = start
            while k > 0 and folded[k - 1] in " :=-@":
                k -= 1
            if k in by_end and by_end[k][0] not in used and start - k <= 3:
                start, _, minutes = by_end[k]
                used.add(start)
        hits.append(PriceHit(amount, cur, minutes, start, end))
        last_end = end
    # bare numbers tied to a duration: "hh 100", "150/hr"
    # what the hits so far cover, one byte per character (a span check costs its length,
    # not one comparison per hit: quadratic on a body of ten thousand "hh 100")
    taken = bytearray(len(folded))
    for h in hits:
        taken[h.start:h.end] = b"\x01" * (h.end - h.start)
    for d_start, d_end, minutes in durs:
        if d_start in used:
            continue
        ma = _NUM_AFTER.match(folded, d_end)
        if ma:
            s, e = d_start, ma.end(1)
            amount = int(ma.group(1))
        else:
            mb = _NUM_BEFORE.search(folded, max(0, d_start - 12), d_start)
            if not mb:
                continue
            s, e, amount = mb.start(1), d_end, int(mb.group(1))
        if not 20 <= amount <= 5000 or taken.find(1, s, e) >= 0:
            continue
        used.add(d_start)
        hits.append(PriceHit(amount, local, minutes, s, e))
        taken[s:e] = b"\x01" * (e - s)
    hits.sort(key=lambda h: h.start)
    return hits
