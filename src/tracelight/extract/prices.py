"""Prices with their durations: "$150/hr", "hh 100", "qv 80 roses", "200 donation 1 hour".

Each price is an amount, a currency and, when a duration is written next to it, the minutes
it buys (qk/qv = 15, hh = 30, hr = 60, overnight = 720). "roses", "donation(s)", "candies"
are the local currency, the way ads use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
_DUR = re.compile(
    r"(?<![A-Za-z0-9])(?:(\d{1,3}(?:\.5)?)\s?)?(half\s?hour|overnight|minutes?|mins?|hours?|hrs?|"
    r"hhr|hh|qk|qv|quick|fh|ov|night|h)(?![A-Za-z])", _I)
_MONEY = re.compile(
    r"(?:([$€£])\s?(\d{1,3}[.,]\d{3}|\d{2,5})(?!\d)|(?<![\d.,])(\d{2,5})(?![\d])\s?"
    r"(\$|€|£|usd|dollars?|bucks|roses?|rs|donations?|candies|eur|euros?|gbp|cad|mxn|pesos)"
    r"(?![A-Za-z]))", _I)
_BARE = re.compile(r"(?<![\d.,$])(\d{2,4})(?![\d:'%]|[.,]\d)")
_JOIN_AFTER = re.compile(r"\s{0,2}(?:/|per|an?|for|x|each|:|-|=|@)?\s{0,2}", _I)
_JOIN_BEFORE = re.compile(r"\s{0,2}(?:[:=\-@]|for)?\s{0,2}", _I)


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
    unit = re.sub(r"\s", "", m.group(2).lower())
    per = _DUR_UNITS.get(unit) or _DUR_UNITS.get(m.group(2).lower(), 60)
    n = float(m.group(1)) if m.group(1) else 1.0
    if unit in ("min", "mins", "minute", "minutes") and not m.group(1):
        return 0
    return int(n * per)


def find_prices(folded: str, region: str = "US") -> list[PriceHit]:
    local = _REGION_CURRENCY.get(region.upper(), "USD")
    durs: dict[int, tuple[int, int]] = {}  # start -> (end, minutes)
    dur_by_end: dict[int, tuple[int, int]] = {}
    for m in _DUR.finditer(folded):
        minutes = _dur_minutes(m)
        if 0 < minutes <= 24 * 60:
            durs[m.start()] = (m.end(), minutes)
            dur_by_end[m.end()] = (m.start(), minutes)
    hits: list[PriceHit] = []
    used_durs: set[int] = set()
    for m in _MONEY.finditer(folded):
        if m.group(1):
            amount_s, cur = m.group(2), _SYMBOL[m.group(1)] or local
        else:
            amount_s, word = m.group(3), m.group(4).lower()
            cur = _SYMBOL.get(word, "") or (local if word not in ("$",) else local)
            if word in ("€", "£"):
                cur = _SYMBOL[word]
        amount = int(re.sub(r"[.,]", "", amount_s))
        if not 10 <= amount <= 100_000:
            continue
        start, end, minutes = m.start(), m.end(), None
        j = _JOIN_AFTER.match(folded, end)
        after = j.end() if j else end
        if after in durs and after not in used_durs:
            end, minutes = durs[after][0], durs[after][1]
            used_durs.add(after)
        else:
            k = start
            while k > 0 and folded[k - 1] in " :=-@":
                k -= 1
            if k in dur_by_end and dur_by_end[k][0] not in used_durs and start - k <= 3:
                start, minutes = dur_by_end[k][0], dur_by_end[k][1]
                used_durs.add(start)
        hits.append(PriceHit(amount, cur, minutes, start, end))
    # bare numbers tied to a duration: "hh 100", "150/hr"
    taken = [(h.start, h.end) for h in hits]
    for m in _BARE.finditer(folded):
        s, e = m.span()
        if any(a < e and s < b for a, b in taken):
            continue
        amount = int(m.group(1))
        if not 20 <= amount <= 5000:
            continue
        j = re.compile(r"\s{0,1}(?:/|per)\s{0,1}", _I).match(folded, e)
        if j and j.end() > e and j.end() in durs and j.end() not in used_durs:
            d_end, minutes = durs[j.end()]
            used_durs.add(j.end())
            hits.append(PriceHit(amount, local, minutes, s, d_end))
            continue
        k = s
        while k > 0 and folded[k - 1] in " :=-":
            k -= 1
        if s - k <= 2 and k in dur_by_end and dur_by_end[k][0] not in used_durs:
            d_start, minutes = dur_by_end[k]
            if folded[d_start:k].strip().isdigit():
                continue
            used_durs.add(d_start)
            hits.append(PriceHit(amount, local, minutes, d_start, e))
    hits.sort(key=lambda h: h.start)
    return hits
