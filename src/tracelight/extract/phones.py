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

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from tracelight.extract.lexicon import lexicon
from tracelight.extract.traps import TrapIndex, trap_spans

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

_TOKEN = re.compile(r"[A-Za-z0-9]+")
_DIGITS_IN = re.compile(r"[0-9]{10,15}")
_NORMAL_GAP = frozenset(" -.()\u00a0")
_BAD_GAP = frozenset("$%@&=<>[]{}\n\r\t")
_MAX_GAP = 6
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


def _tokens(text: str, folded: str, traps: TrapIndex) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN.finditer(folded):
        s, e = m.span()
        t = m.group()
        if t.isdigit():
            if len(t) > _MAX_DIGITS or traps.hits(s, e):
                continue
            out.append(_Tok(s, e, t, 0 if text[s:e] == t else 1))
            continue
        low = t.lower()
        if low in _STRONG:
            out.append(_Tok(s, e, str(_STRONG[low]), 1))
        elif low in _WEAK:
            out.append(_Tok(s, e, str(_WEAK[low]), 2))
        elif len(t) <= _MAX_MIXED and _ATOMS_FULL.fullmatch(low):
            seg = _segment(low)
            if seg is not None and not traps.hits(s, e):
                out.append(_Tok(s, e, seg[0], 1 if seg[1] else 2))
        elif len(t) < 25:
            # a phone glued into a URL slug or handle: escorts2065550143
            for d in _DIGITS_IN.finditer(t):
                ds, de = s + d.start(), s + d.end()
                if not traps.hits(ds, de):
                    out.append(_Tok(ds, de, d.group(), 0 if text[ds:de] == d.group() else 1))
    return out


def _gap_ok(gap: str) -> bool:
    if len(gap) > _MAX_GAP:
        return False
    for ch in gap:
        if ch.isalnum() or ch in _BAD_GAP:
            return False
    return True


def _runs(folded: str, toks: list[_Tok]) -> list[list[_Tok]]:
    runs: list[list[_Tok]] = []
    cur: list[_Tok] = []
    for t in toks:
        if cur and _gap_ok(folded[cur[-1].end:t.start]):
            cur.append(t)
        else:
            if cur:
                runs.append(cur)
            cur = [t]
    if cur:
        runs.append(cur)
    out = []
    for run in runs:
        # weak words ("to", "for", "I") only count between digits
        i, j = 0, len(run)
        while i < j and run[i].kind == 2:
            i += 1
        while j > i and run[j - 1].kind == 2:
            j -= 1
        if i < j:
            out.append(run[i:j])
    return out


@lru_cache(maxsize=1 << 16)
def validate(digits: str, plus: bool, region: str) -> str | None:
    """E.164 form of a digit string if phonenumbers says it is a valid number, else None."""
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
    lo_len, hi_len = _lengths(region)
    i, n = 0, len(run)
    while i < n:
        if run[i].kind == 2:
            i += 1
            continue
        plus_at = _has_plus(folded, run[i])
        plus = plus_at >= 0
        acc = ""
        best: tuple[int, str] | None = None
        for j in range(i, n):
            acc += run[j].digits
            if len(acc) > _MAX_DIGITS:
                break
            if run[j].kind == 2:
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
        if best is None:
            i += 1
            continue
        j, e164 = best
        start = plus_at if plus else run[i].start
        if start > 0 and folded[start - 1] == "(":
            start -= 1  # "(206) 555-0143": the span covers what a reader sees as the number
        hits.append(PhoneHit(e164, start, run[j].end, _obfuscated(folded, run, i, j, plus)))
        used.update(id(t) for t in run[i:j + 1])
        i = j + 1


def _split_groups(folded: str, runs: list[list[_Tok]], region: str, used: set[int],
                  hits: list[PhoneHit]) -> None:
    """'206 ... call me ... 555 0143': an area code and a local number a few words apart."""
    if phonenumbers.country_code_for_region(region) != 1:
        return
    free = [r for r in runs if not any(id(t) in used for t in r)]
    for a, b in zip(free, free[1:], strict=False):
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


def find_phones(text: str, folded: str, region: str = "US") -> list[PhoneHit]:
    """Phones in `text` (with `folded` = normalize.fold(text)), in text order."""
    if not any(c.isdigit() for c in folded) and not _maybe_words(folded):
        return []
    traps = trap_spans(folded)
    toks = _tokens(text, folded, traps)
    if len(toks) < 1:
        return []
    runs = _runs(folded, toks)
    used: set[int] = set()
    hits: list[PhoneHit] = []
    for run in runs:
        if sum(len(t.digits) for t in run) >= 6:
            _from_run(folded, run, region, used, hits)
    _split_groups(folded, runs, region, used, hits)
    hits.sort(key=lambda h: h.start)
    return hits


_WORD_HINT = re.compile(r"(?:zero|one|two|three|four|five|six|seven|eight|nine|cero|uno|dos|"
                        r"tres|cuatro|cinco|seis|siete|ocho|nueve)", re.IGNORECASE)


def _maybe_words(folded: str) -> bool:
    return _WORD_HINT.search(folded) is not None
