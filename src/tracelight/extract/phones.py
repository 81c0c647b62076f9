"""Phone numbers, including the ways advertisers hide them from scrapers.

Reading happens in three steps over the folded text (see normalize.py):

1. Tokens: runs of ASCII letters/digits. A token counts as digits when it is digits, a number
   word ("two", "dos", "f0ur"), or a mix of digits, number words and look-alike letters
   ("2oh6", "five5five", "SIX2TWO", "O1four3"). Ordinary words that are also number words
   ("to", "for", "oh", "I") are *weak*: they only count between other digits.
2. Runs: tokens joined by short gaps of separators, punctuation, spaces or emoji. Numbers that
   sit in a trap (price, date, time, height, weight, measurement, zip code, reference ID) or
   digit strings longer than any phone break a run.
3. Numbers: within a run, consecutive groups whose digits make a number that
   `phonenumbers` validates for the region (or for any country after a "+"). A run of three
   digits and a following run of seven, a few words apart ("206 ... call me ... 555 0143"),
   is tried as one number last.

Every phone is normalised to E.164 and says whether it was obfuscated: written with anything
but ASCII digits and the usual separators.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from tracelight.extract.lexicon import lexicon
from tracelight.extract.normalize import lower
from tracelight.extract.traps import trap_spans

_LEX = lexicon()
_STRONG = _LEX.strong_digit_words
_WEAK = _LEX.weak_digit_words
_ATOMS: dict[str, tuple[str, bool]] = {}  # atom -> (digits, strong)
for _w, _d in _WEAK.items():
    _ATOMS[_w] = (str(_d), False)
for _w, _d in _STRONG.items():
    _ATOMS[_w] = (str(_d), True)
for _d in range(10):
    _ATOMS[str(_d)] = (str(_d), True)
_MAX_ATOM = max(len(a) for a in _ATOMS)
# A C-speed filter before the Python segmenter; tokens are capped in length, so the
# ambiguity between atoms ("too" = "to"+"o") cannot blow up.
_ATOMS_FULL = re.compile(
    "(?:" + "|".join(re.escape(a) for a in sorted(_ATOMS, key=len, reverse=True)) + ")+")
_MAX_MIXED = 30

_DIGITS_IN = re.compile(r"[0-9]{10,15}")
_NORMAL_GAP = frozenset(" -.()\u00a0")
_BAD_GAP = frozenset("$%@&=<>[]{}\n\r\t")
_MAX_GAP = 6
_KEYCAP = frozenset("\ufe0f\u20e3")
_MAX_DIGITS = 15  # E.164 maximum; a longer plain digit string is an ID, not a phone
_SPLIT_GAP = 40


@dataclass(slots=True)
class _Tok:
    start: int
    end: int
    digits: str
    kind: int  # 0 plain ASCII digits, 1 obfuscated digits/words, 2 weak word


@dataclass(frozen=True, slots=True)
class PhoneHit:
    e164: str
    start: int
    end: int
    obfuscated: bool


def _segment(low: str) -> tuple[str, bool] | None:
    """Split a mixed token into digit atoms, fewest atoms first; (digits, has_strong_atom)."""
    n = len(low)
    best: list[tuple[int, int] | None] = [None] * (n + 1)  # (atoms, next index) from i
    best[n] = (0, n)
    for i in range(n - 1, -1, -1):
        choice: tuple[int, int] | None = None
        for k in range(1, min(_MAX_ATOM, n - i) + 1):
            nxt = best[i + k]
            if nxt is None or low[i:i + k] not in _ATOMS:
                continue
            if choice is None or nxt[0] + 1 < choice[0]:
                choice = (nxt[0] + 1, i + k)
        best[i] = choice
    if best[0] is None:
        return None
    digits, strong, i = [], False, 0
    while i < n:
        step = best[i]
        assert step is not None
        d, s = _ATOMS[low[i:step[1]]]
        digits.append(d)
        strong = strong or s
        i = step[1]
    return "".join(digits), strong


_WEAK_ALTS = "|".join(re.escape(w) for w in sorted(_WEAK, key=len, reverse=True))
_STRONG_WORDS = sorted((w for w in _STRONG if w.isalpha()), key=len, reverse=True)
_GLUE_PREFIX = frozenset(w[:2] for w in [*_STRONG_WORDS, "oh", "to", "too", "for", "ate"])
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]*")
_DIGIT_RUN = re.compile(r"[0-9]+")
_SEP = r"[^A-Za-z0-9$%@&=<>\[\]{}\n\r\t]{0,4}"
_WEAK_GAP = re.compile(r"(?:" + _SEP + r"(?<![A-Za-z])(?:" + _WEAK_ALTS + r")(?![A-Za-z]))"
                       r"{1,3}" + _SEP, re.IGNORECASE)
_WEAK_TAIL = re.compile(r"(?:(?<![A-Za-z])(?:" + _WEAK_ALTS + r")(?![A-Za-z])" + _SEP + r"){1,2}$",
                        re.IGNORECASE)
_WEAK_WORD = re.compile(r"(?<![A-Za-z])(?:" + _WEAK_ALTS + r")(?![A-Za-z])", re.IGNORECASE)
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _token_at(folded: str, pos: int) -> tuple[int, int]:
    """The [A-Za-z0-9]+ token around position `pos`."""
    s = pos
    while s > 0 and folded[s - 1] in _ALNUM:
        s -= 1
    m = _ALNUM_RUN.match(folded, pos)
    return s, m.end() if m else pos


def _candidate_spans(folded: str, low: str,
                     words: frozenset[str] | None) -> list[tuple[int, int]]:
    """Tokens holding a digit or a strong number word. Scans with fast literal prefixes
    instead of a per-position lookbehind: on a 500-character ad this is most of the cost."""
    spans: dict[int, int] = {}
    pos = 0
    for m in _DIGIT_RUN.finditer(folded):
        if m.start() < pos:
            continue
        s, e = _token_at(folded, m.start())
        spans[s] = e
        pos = e
    # Number words written as words; glued to digits ("five5five") they were found above,
    # glued to each other ("nineateseven", "EIGHTFOREIGHTNINE") they are words of their own.
    if words is None:
        todo = _STRONG_WORDS
    else:
        todo = [w for w in _STRONG_WORDS if w in words]
        for w in words:
            if len(w) >= 5 and w[:2] in _GLUE_PREFIX and w not in _STRONG \
                    and _ATOMS_FULL.fullmatch(w):
                todo.append(w)
    for w in todo:  # str.find is C-fast; a regex alternation scan is not
        i = low.find(w)
        while i >= 0:
            s, e = _token_at(folded, i)
            spans.setdefault(s, e)
            i = low.find(w, e)
    return sorted(spans.items())


def _tokens(text: str, folded: str, low: str, words: frozenset[str] | None) -> list[_Tok]:
    out: list[_Tok] = []
    for s, e in _candidate_spans(folded, low, words):
        t = folded[s:e]
        if t.isdigit():
            if len(t) <= _MAX_DIGITS:
                out.append(_Tok(s, e, t, 0 if text[s:e] == t else 1))
            continue
        lt = low[s:e]
        if lt in _STRONG:
            out.append(_Tok(s, e, str(_STRONG[lt]), 1))
        elif lt in _WEAK:
            continue
        elif len(t) <= _MAX_MIXED and _ATOMS_FULL.fullmatch(lt):
            seg = _segment(lt)
            if seg is not None:
                # glued weak words ("tooforoh") count like weak words: only between digits
                out.append(_Tok(s, e, seg[0], 1 if seg[1] else 2))
        elif len(t) < 25:
            # a phone glued into a URL slug or handle: escorts2065550143
            for d in _DIGITS_IN.finditer(t):
                ds, de = s + d.start(), s + d.end()
                out.append(_Tok(ds, de, d.group(), 0 if text[ds:de] == d.group() else 1))
    return out


def _gap_ok(gap: str) -> bool:
    if len(gap) > _MAX_GAP:
        return False
    return all(not (ch.isalnum() or ch in _BAD_GAP) for ch in gap)


def _lead_weak(folded: str, t: _Tok) -> list[_Tok]:
    """Weak words just before a run's first token ("too zero six ..."), as tokens."""
    w0 = max(0, t.start - 14)
    m = _WEAK_TAIL.search(folded, w0, t.start)
    if m is None:
        return []
    return [_Tok(w.start(), w.end(), str(_WEAK[w.group().lower()]), 2)
            for w in _WEAK_WORD.finditer(folded, m.start(), m.end())]


def _runs(folded: str, toks: list[_Tok]) -> list[list[_Tok]]:
    runs: list[list[_Tok]] = []
    cur: list[_Tok] = []
    for t in toks:
        if cur:
            gap = folded[cur[-1].end:t.start]
            if _gap_ok(gap):
                cur.append(t)
                continue
            if len(gap) <= 16 and _WEAK_GAP.fullmatch(gap):
                base = cur[-1].end
                for w in _WEAK_WORD.finditer(gap):
                    cur.append(_Tok(base + w.start(), base + w.end(),
                                    str(_WEAK[w.group().lower()]), 2))
                cur.append(t)
                continue
            runs.append(cur)
        cur = [*_lead_weak(folded, t), t]
    if cur:
        runs.append(cur)
    return runs


def _drop_traps(folded: str, run: list[_Tok]) -> list[list[_Tok]]:
    """Split a run at tokens that sit in a trap (price, date, size, ID), read around the run."""
    w0 = max(0, run[0].start - 24)
    w1 = min(len(folded), run[-1].end + 12)
    traps = trap_spans(folded, w0, w1)
    if not len(traps):
        return [run]
    out: list[list[_Tok]] = []
    cur: list[_Tok] = []
    for t in run:
        if traps.hits(t.start, t.end):
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        out.append(cur)
    return out


@lru_cache(maxsize=1 << 16)
def validate(digits: str, plus: bool, region: str) -> str | None:
    """E.164 form of a digit string if phonenumbers says it is a valid number, else None."""
    if (plus and len(digits) == 11 and digits[0] == "1") or (
            not plus and _lengths(region)[0] == 10 and len(digits) in (10, 11)):
        # North American numbers: skip phonenumbers' parser (a third of the cost) and ask
        # the metadata directly; area code and exchange never start with 0 or 1.
        national = digits[-10:]
        if len(digits) == 11 and digits[0] != "1":
            return None
        if national[0] in "01" or national[3] in "01":
            return None
        num = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
        # Checking the ad's own region first is ~10x cheaper than is_valid_number, which
        # walks every NANP country's metadata (US, CA and two dozen Caribbean ones).
        home = region if _lengths(region)[0] == 10 else "US"
        if phonenumbers.is_valid_number_for_region(num, home) or \
                phonenumbers.is_valid_number(num):
            return "+1" + national
        return None
    try:
        num = phonenumbers.parse(("+" + digits) if plus else digits, None if plus else region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, PhoneNumberFormat.E164)


@lru_cache(maxsize=64)
def _lengths(region: str) -> tuple[int, int]:
    """Shortest and longest digit count worth trying without a '+' for this region."""
    if phonenumbers.country_code_for_region(region) == 1:
        return 10, 11  # NANP: area code + 7, optionally a leading 1
    return 6, 13


def _has_plus(folded: str, tok: _Tok) -> int:
    """Index of a '+' written just before the token, or -1."""
    lo = max(0, tok.start - 3)
    k = folded.rfind("+", lo, tok.start)
    if k >= 0 and all(not c.isalnum() for c in folded[k + 1:tok.start]):
        return k
    return -1


def _obfuscated(folded: str, run: list[_Tok], i: int, j: int, plus: bool) -> bool:
    if j - i + 1 > (5 if plus else 4):
        return True  # "2 0 6 5 5 5 0 1 4 3": no usual format has more than four groups
    for k in range(i, j + 1):
        if run[k].kind != 0:
            return True
        if k > i:
            for ch in folded[run[k - 1].end:run[k].start]:
                if ch not in _NORMAL_GAP:
                    return True
    return False


def _from_run(folded: str, run: list[_Tok], region: str, used: set[int],
              hits: list[PhoneHit]) -> None:
    before = len(hits)
    _scan_run(folded, run, region, used, hits, weak_edges=False)
    if len(hits) == before and any(t.kind == 2 for t in run):
        # "too zero six ...": a weak word may open or close a number, but only when the
        # number cannot be read without it
        _scan_run(folded, run, region, used, hits, weak_edges=True)


def _scan_run(folded: str, run: list[_Tok], region: str, used: set[int],
              hits: list[PhoneHit], *, weak_edges: bool) -> None:
    lo_len, hi_len = _lengths(region)
    i, n = 0, len(run)
    while i < n:
        if run[i].kind == 2 and not weak_edges:
            i += 1
            continue
        plus_at = _has_plus(folded, run[i])
        plus = plus_at >= 0
        # ".../p/447592123525-real-pics": a URL slug carries the country code without '+'
        in_slug = (not plus and run[i].kind == 0 and run[i].start > 0
                   and folded[run[i].start - 1] == "/" and 11 <= len(run[i].digits) <= 13)
        acc = ""
        best: tuple[int, str] | None = None
        for j in range(i, n):
            acc += run[j].digits
            if len(acc) > _MAX_DIGITS:
                break
            if run[j].kind == 2 and not weak_edges:
                continue  # a number never ends on a weak word
            if plus:
                if len(acc) >= 7:
                    e164 = validate(acc, True, region)
                    if e164:
                        best = (j, e164)
            elif lo_len <= len(acc) <= hi_len:
                e164 = validate(acc, False, region)
                if e164:
                    best = (j, e164)
            if in_slug and best is None and j == i:
                e164 = validate(acc, True, region)
                if e164:
                    best = (j, e164)
        if best is None:
            i += 1
            continue
        j, e164 = best
        start = plus_at if plus else run[i].start
        if start > 0 and folded[start - 1] == "(":
            start -= 1  # "(206) 555-0143": the span covers what a reader sees as the number
        end = run[j].end
        while end < len(folded) and folded[end] in _KEYCAP:
            end += 1  # the keycap marks after the last digit of 2️⃣0️⃣6️⃣
        hits.append(PhoneHit(e164, start, end, _obfuscated(folded, run, i, j, plus)))
        used.update(id(t) for t in run[i:j + 1])
        i = j + 1


def _split_groups(folded: str, runs: list[list[_Tok]], region: str, used: set[int],
                  hits: list[PhoneHit]) -> None:
    """'206 ... call me ... 555 0143': an area code and a local number a few words apart."""
    if _lengths(region)[0] != 10:
        return  # NANP only: elsewhere numbers are not written as 3 + 7 digits
    free = [t for t in (_trim(r) for r in runs if not any(id(t) in used for t in r)) if t]
    for a, b in itertools.pairwise(free):
        da = "".join(t.digits for t in a)
        db = "".join(t.digits for t in b)
        if len(da) != 3 or len(db) != 7 or a[-1].kind == 2 or b[0].kind == 2:
            continue
        gap = folded[a[-1].end:b[0].start]
        if len(gap) > _SPLIT_GAP or any(c.isdigit() for c in gap) or gap.count(" ") > 6:
            continue
        e164 = validate(da + db, False, region)
        if e164 and not any(id(t) in used for t in a + b):
            hits.append(PhoneHit(e164, a[0].start, b[-1].end, True))
            used.update(id(t) for t in a + b)


def _trim(run: list[_Tok]) -> list[_Tok]:
    """Weak words ("to", "for", "I") only count between digits, never at a run's edges."""
    i, j = 0, len(run)
    while i < j and run[i].kind == 2:
        i += 1
    while j > i and run[j - 1].kind == 2:
        j -= 1
    return run[i:j]


def find_phones(text: str, folded: str, region: str = "US",
                low: str | None = None, words: frozenset[str] | None = None) -> list[PhoneHit]:
    """Phones in `text` (`folded` = normalize.fold(text), `low` = normalize.lower(folded))."""
    low = lower(folded) if low is None else low
    toks = _tokens(text, folded, low, words)
    if not toks:
        return []
    used: set[int] = set()
    hits: list[PhoneHit] = []
    runs: list[list[_Tok]] = []
    least = min(7, _lengths(region)[0])
    for whole in _runs(folded, toks):
        if sum(len(t.digits) for t in whole) < least:
            runs.append(whole)
            continue
        # Traps are read only around runs that hold a phone-shaped number: a full scan of
        # every ad for prices, dates and sizes would cost more than all the rest.
        probe: list[PhoneHit] = []
        _from_run(folded, whole, region, set(), probe)
        pieces = _drop_traps(folded, whole) if probe else [whole]
        for run in pieces:
            runs.append(run)
            if run and sum(len(t.digits) for t in run) >= least:
                _from_run(folded, run, region, used, hits)
    _split_groups(folded, [r for r in runs if r], region, used, hits)
    hits.sort(key=lambda h: h.start)
    return hits


