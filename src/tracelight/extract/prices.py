"""Prices with their durations: "$150/hr", "hh 100", "qv 80 roses", "200 donation 1 hour",
and whole menus: "120 hh 200 hr", "Qv-60 Hhr-100 Hr-140 roses", "Half hr $70 Full hr $100",
"1 hour - 250 roses ⏎ 2 hours - 400 roses".

Each price is an amount, a currency and, when a duration is written next to it, the minutes
it buys (qk/qv = 15, hh = 30, hr = 60, overnight = 720). "roses", "donation(s)", "candies"
are the local currency, the way ads use them.

The reader is layout-aware (issue 13): the text is cut into tokens, amounts (a number with
its currency before or after it) and durations (a unit with its count, "2 hours", or a bare
unit, "hh"), in text order. Tokens separated only by punctuation, spaces, line breaks and the
joiners "per", "for", "an", "a" form a run (a menu line or a menu over several lines); in a
run each token takes its right-hand neighbour of the other type, left to right, so a menu's
units bind by position ("120 hh 200 hr": 120/30, 200/60; "hh 120 hr 200": the same) and a list
never shifts by one. A number glued to a count unit ("220hr", "100hh") is an amount and a
unit unless the number is a plausible count ("2hr", "30 min"). Numbers that are part of a
phone-shaped digit run (9+ digits with separators), a measurement, a height or weight, a
time, a room or a stated age are never amounts. An amount without a currency needs a
duration; one with a currency stands alone (minutes None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracelight.extract.normalize import word_starts

_I = re.IGNORECASE

_REGION_CURRENCY = {"US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "MX": "MXN",
                    "GB": "GBP", "UK": "GBP", "IE": "EUR", "ES": "EUR", "FR": "EUR",
                    "DE": "EUR", "IT": "EUR", "NL": "EUR", "AT": "EUR", "PT": "EUR",
                    "CO": "COP", "AR": "ARS", "IN": "INR", "JP": "JPY"}
# currency marks -> ISO code ("" = the region's currency)
_SYMBOL = {"$": "", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "usd": "USD",
           "eur": "EUR", "euro": "EUR", "euros": "EUR", "gbp": "GBP", "cad": "CAD",
           "aud": "AUD", "mxn": "MXN", "pesos": "MXN", "peso": "MXN", "jpy": "JPY",
           "yen": "JPY", "inr": "INR", "rupees": "INR", "rs": "INR", "rs.": "INR", "dollar": "",
           "dollars": "", "bucks": "", "rose": "", "roses": "", "r": "", "donation": "",
           "donations": "", "candies": ""}
_CODES = r"usd|cad|aud|gbp|eur|mxn|jpy|inr"
# the currency written before a number ("$", "Rs.", "AUD $") and after it ("roses", "120r")
_PRE_BACK = re.compile(r"(?:([$€£¥₹])|(?<![A-Za-z0-9])(rs\.?|" + _CODES + r")\s?\$?)\s?$", _I)
_POST = re.compile(r"\s?([$€£¥₹])(?!\s?\d)|\s?(" + _CODES + r"|euros?|pesos?|yen|rupees|dollars?|"
                   r"bucks|roses?|rs|donations?|candies)(?![A-Za-z])|(r)(?![A-Za-z0-9])", _I)
_NUMBER = re.compile(r"\d\d[\d,]*|\d,\d{3}[\d,]*")  # one digit alone is never an amount
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")

# unit word -> minutes; `count` units take a number before them ("2 hours", "30 min")
_UNITS = {"qk": 15, "qv": 15, "quick": 15, "hh": 30, "hhr": 30, "half hour": 30,
          "half hr": 30, "half an hour": 30, "half-hour": 30, "half-hr": 30, "1/2 hr": 30,
          "1/2 hour": 30, "media hora": 30, "h": 60, "hr": 60, "hrs": 60, "hour": 60,
          "hours": 60, "fh": 60, "full hr": 60, "full hour": 60, "one hour": 60,
          "hourly": 60, "hora": 60, "horas": 60, "stunde": 60, "stunden": 60, "min": 1,
          "mins": 1, "minute": 1, "minutes": 1, "分": 1, "ov": 720, "overnight": 720,
          "night": 720}
_COUNT_UNITS = frozenset({"h", "hr", "hrs", "hour", "hours", "hora", "horas", "stunde",
                          "stunden", "min", "mins", "minute", "minutes", "分"})
# a unit word (the lookahead lets the engine skip to its first letters at C speed)
_UNIT_RX = re.compile(
    r"(?=[hqfomns1分])(half[\s-]?(?:an?\s?)?h(?:ou)?r|1/2\s?h(?:ou)?r|"
    r"media\s?hora|full\s?h(?:ou)?r|one\s?hour|hourly|overnight|minutes?|mins?|hours?|hrs?|hhr|"
    r"hh|qk|qv|quick|fh|ov|night|horas?|stunden?|h|分)(?![A-Za-z])", _I)
_COUNT_BACK = re.compile(r"(?<![\d.,$€£¥₹:A-Za-z])(\d{1,3}(?:\.5)?)\s?$")
_UNIT_HINTS = ("h", "qk", "qv", "quick", "fh", "ov", "min", "night", "hora", "stunde", "分")
_MONEY_HINTS = ("$", "€", "£", "¥", "₹", "usd", "dollar", "buck", "rose", "rs", "donation",
                "candies", "eur", "gbp", "cad", "aud", "mxn", "jpy", "inr", "peso", "yen", "rupee")
# phone-shaped digit runs: their digits are never amounts
_PHONE_PRE = re.compile(r"[\d(+][\d\s.\-()]{8,22}")  # cheap first pass over the text
_PHONEISH = re.compile(r"\(?\d{3}\)?[\s.\-]{0,2}\d{3}[\s.\-]{0,2}\d{4}(?!\d)|"
                       r"(?:\+|00|(?<!\d)0)\d[\d\s.\-()]{6,16}\d")
# a gap inside a run: no letters but one joiner word
_GAP = re.compile(r"[^A-Za-z0-9\x00]{0,8}(?:(?:per|for|an?|each|x|la|por|the|rates?)"
                  r"(?![A-Za-z])[^A-Za-z0-9\x00]{0,6})?", _I)
_NOT_AMOUNT_AFTER = re.compile(
    r"\s?(?:%|'|\"|lbs?\b|kg\b|cm\b|km\b|miles?\b|am\b|pm\b|k\b|yrs?\b|y/?o\b|years?\b|"
    r"[:.,x-]\d|/\d(?!\d?\s?(?:h|hh|hrs?|hours?|mins?)(?![A-Za-z])))", _I)
_NOT_AMOUNT_BEFORE = re.compile(
    r"(?:room|suite|apt|unit|exit|ste|no\.?|id:?|#|since|over|age:?|aged|i'?m|edad|"
    r"ref:?|top|from|\d[-/:]|\d)\s{0,2}$", _I)
_WORDCH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


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


@dataclass(slots=True)
class _Tok:
    start: int
    end: int
    minutes: int = 0  # a duration when > 0
    amount: int = 0
    currency: str | None = None  # an amount's explicit currency ("" = the region's)


def _unit_minutes(unit: str) -> int:
    key = " ".join(unit.lower().replace("-", " ").split())
    if key in _UNITS:
        return _UNITS[key]
    key = key.replace(" ", "")
    for k, v in _UNITS.items():
        if k.replace(" ", "").replace("-", "") == key:
            return v
    return 0


# where a unit can start: a word of its own (found with str.find, gated on the word set),
# glued to a number ("2hrs", "100hh", "60分"), or "1/2 hr"
_UNIT_WORDS = ("half", "media", "full", "one hour", "hourly", "overnight", "minute",
               "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "hhr", "hh", "qk", "qv",
               "quick", "fh", "ov", "night", "hora", "horas", "stunde", "stunden", "h")
_GLUED = re.compile(r"\d\s?(?=[hHqQmMfFoO分])")


def _unit_starts(folded: str, low: str, words: frozenset[str] | None) -> list[int]:
    found = set(word_starts(low, _UNIT_WORDS, words))
    found.update(m.end() for m in _GLUED.finditer(folded))
    if "1/2" in low:
        i = low.find("1/2")
        while i >= 0:
            found.add(i)
            i = low.find("1/2", i + 1)
    return sorted(found)


def _durations(folded: str, low: str, words: frozenset[str] | None) -> list[_Tok]:
    out: list[_Tok] = []
    last_end = 0
    for pos in _unit_starts(folded, low, words):
        if pos < last_end:
            continue
        m = _UNIT_RX.match(folded, pos)
        if m is None:
            continue
        start = m.start()
        if start > 0 and folded[start - 1].isalpha() and folded[start - 1].isascii():
            continue  # "watch", "oh"
        unit = m.group(1)
        per = _unit_minutes(unit)
        if per == 0:
            continue
        last_end = m.end()
        c = _COUNT_BACK.search(folded, max(0, start - 6), start)
        if c is not None:
            n = float(c.group(1))
            ok = unit.lower().rstrip("s") in _COUNT_UNITS or unit.lower() in _COUNT_UNITS
            if ok and 0 < n * per <= 24 * 60:
                out.append(_Tok(c.start(1), m.end(), minutes=int(n * per)))
                continue
            # "220hr", "100hh": an amount, then the unit
        if per == 1:
            continue  # "min" alone buys nothing
        out.append(_Tok(start, m.end(), minutes=per))
    return out


_PRE_LAST = frozenset("$€£¥₹.dDpPrRnNyYsS")  # what a currency written before may end with
_DROP_DIGITS = str.maketrans("", "", "0123456789")


def _amounts(folded: str, taken: bytearray) -> list[_Tok]:
    """Numbers with the currency around them. A number with no currency is checked
    (`_bare_ok`) only when it is about to be paired with a duration: most numbers in an ad
    (phone groups, stats, ids) never are."""
    out: list[_Tok] = []
    any_taken = taken.find(1) >= 0
    for m in _NUMBER.finditer(folded):
        ns, run = m.start(), m.group()
        if "," in run:
            t = _THOUSANDS.match(run)
            run = t.group() if t is not None else run.split(",", 1)[0]
        ne = ns + len(run)
        digits = run.replace(",", "")
        if not 2 <= len(digits) <= 6 or digits[0] == "0" or (
                any_taken and taken.find(1, ns, ne) >= 0):
            continue
        k = ns - 1 if ns > 0 and folded[ns - 1] != " " else ns - 2
        pre = _PRE_BACK.search(folded, max(0, ns - 6), ns) \
            if k >= 0 and folded[k] in _PRE_LAST else None
        start = pre.start() if pre is not None else ns
        post = _POST.match(folded, ne)
        end = post.end() if post is not None else ne
        if any_taken and (pre is not None or post is not None) and \
                taken.find(1, start, end) >= 0:
            continue
        marks = [g for g in ((post.group(2), post.group(1), post.group(3)) if post else ())
                 if g]
        if pre is not None:
            marks[1:1] = [g for g in (pre.group(2), pre.group(1)) if g]
        # the most specific mark wins: "$1500 MXN" is pesos, "$300 AUD" Australian dollars
        cur = None if not marks else next(
            (c for c in (_SYMBOL.get(g.lower(), "") for g in marks) if c), "")
        out.append(_Tok(start, end, amount=int(digits), currency=cur))
    return out


def _bare_ok(folded: str, t: _Tok) -> bool:
    """Whether a number without a currency may be a price: not "x22", "1.50", "room 204",
    "since 2015", "age 23", "34-24-36", "120lbs", "10am", "100%", "24/7"."""
    ns, ne = t.start, t.end
    if ns > 0 and (folded[ns - 1] in _WORDCH or folded[ns - 1] in ".,"):
        return False
    if _NOT_AMOUNT_BEFORE.search(folded, max(0, ns - 8), ns):
        return False
    return _NOT_AMOUNT_AFTER.match(folded, ne) is None


def find_prices(folded: str, region: str = "US", low: str | None = None,
                words: frozenset[str] | None = None) -> list[PriceHit]:
    low = folded.lower() if low is None else low
    money = any(h in low for h in _MONEY_HINTS)
    if not money and not any(h in low for h in _UNIT_HINTS):
        return []
    local = _REGION_CURRENCY.get(region.upper(), "USD")
    durs = _durations(folded, low, words)
    if not durs and not money:
        return []
    taken = bytearray(len(folded))
    for pm in _PHONE_PRE.finditer(folded) if durs else ():
        # only bare numbers (paired with a duration) need this; a price bound by a currency
        # that overlaps a phone is left to the arbitration step (extract.core)
        for m in _PHONEISH.finditer(folded, pm.start(), pm.end()):
            if len(m.group()) - len(m.group().translate(_DROP_DIGITS)) >= 9:
                taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    for d in durs:
        taken[d.start:d.end] = b"\x01" * (d.end - d.start)
    toks = sorted(durs + _amounts(folded, taken), key=lambda t: t.start)
    big = local in ("JPY", "INR", "MXN", "COP", "ARS")
    hits: list[PriceHit] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < n else None
        joined = nxt is not None and t.end <= nxt.start and (
            nxt.start - t.end <= 14 and _GAP.fullmatch(folded, t.end, nxt.start) is not None)
        if joined and nxt is not None and (t.minutes > 0) != (nxt.minutes > 0):
            a, d = (nxt, t) if t.minutes else (t, nxt)
            hit = _hit(folded, a, d.minutes, local, big, min(t.start, nxt.start), nxt.end)
            if hit is not None:
                hits.append(hit)
                i += 2
                continue
        if not t.minutes and t.currency is not None:
            hit = _hit(folded, t, None, local, big, t.start, t.end)
            if hit is not None:
                hits.append(hit)
        i += 1
    return hits


def _hit(folded: str, a: _Tok, minutes: int | None, local: str, big: bool, start: int,
         end: int) -> PriceHit | None:
    cur = a.currency or local
    if a.currency is None:  # a bare number: only next to a duration, in a plausible range
        if not 20 <= a.amount <= (100_000 if big else 5_000) or not _bare_ok(folded, a):
            return None
    elif not 10 <= a.amount <= 1_000_000:
        return None
    return PriceHit(a.amount, cur, minutes, start, end)
