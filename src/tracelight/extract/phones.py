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
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import phonenumbers

from tracelight.extract.lexicon import lexicon
from tracelight.extract.normalize import lower
from tracelight.extract.numbering import lengths as _lengths
from tracelight.extract.numbering import validate
from tracelight.extract.regions import RANK_SITE, RegionPlan
from tracelight.extract.traps import trap_spans_at

_LEX = lexicon()
# "TEN" for the digits 1 and 0, teen words inside a number ("206 555 seventeen 43")
_TWO_DIGIT_WORDS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
                    "nineteen": 19}
_STRONG = {**_LEX.strong_digit_words, **_TWO_DIGIT_WORDS}
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
# a unit glued to a number ("120lbs", "200hr") is a size or a price, never part of a phone
_EDGE_DIGITS = re.compile(r"([0-9]{3,4})(?!(?:lbs?|kgs?|cm|hrs?|hours?|mins?|hh|hhr|qv|qk|"
                          r"roses?|am|pm|st|nd|rd|th|usd|eur|cc|mm|ft|in|sqft|ml)$)"
                          r"[A-Za-z]{2,}$|[A-Za-z]{2,}([0-9]{3,4})$", re.IGNORECASE)
_NORMAL_GAP = frozenset(" -.()\u00a0")
# '#' numbers a thing: "#702". '$' may separate groups ("773$555$0143"): a price that
# starts a number is still a trap (traps.py reads a '$' before the first digits).
_BAD_GAP = frozenset("%@&=<>[]{}#\n\r\t\x00")
_MAX_GAP = 6
_KEYCAP = frozenset("\ufe0f\u20e3")
_MAX_DIGITS = 15  # E.164 maximum; a longer plain digit string is an ID, not a phone
_SPLIT_GAP = 40
_GAP_WORD = re.compile(r"[a-z]+")
_PLAIN_PUNCT = frozenset(",;:'\"!?()/&%$#")


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
    region: str = ""  # the country the number was read for (regions.py)
    why: str = ""  # the evidence for it: "country code", "location: Melbourne", "ambiguous: ..."


# (region, rank, why, trunk prefix) candidates in order of trust, North American ones folded
# into the first
_Cand = tuple[str, int, str, str]


@lru_cache(maxsize=4096)
def _cands(region: str, plan: RegionPlan | None) -> tuple[_Cand, ...]:
    if plan is None or not plan.hints:
        return ((region, RANK_SITE, "site region", _trunk(region)),)
    out: list[_Cand] = []
    nanp = False
    for h in plan.hints:
        if _lengths(h.region)[0] == 10:
            if nanp:
                continue  # every NANP country reads a number the same way: +1 ...
            nanp = True
        out.append((h.region, h.rank, h.why, _trunk(h.region)))
    return tuple(out)


@lru_cache(maxsize=256)
def _trunk(region: str) -> str:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (meta.national_prefix or "") if meta is not None else ""


@lru_cache(maxsize=1 << 12)
def _region_of(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


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
_STRONG_SET = frozenset(_STRONG_WORDS)
_WEAK_OR_GLUED = frozenset(_WEAK)
_NOT_GLUED: set[str] = set()
_GLUE_PREFIX = frozenset(w[:2] for w in [*_STRONG_WORDS, "oh", "to", "too", "for", "ate"])
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]*")
_DIGIT_RUN = re.compile(r"[0-9]+")
_SEP = r"[^A-Za-z0-9%@&=<>\[\]{}#\n\r\t\x00]{0,4}"
_WEAK_GAP = re.compile(r"(?:" + _SEP + r"(?<![A-Za-z])(?:" + _WEAK_ALTS + r")(?![A-Za-z]))"
                       r"{1,3}" + _SEP, re.IGNORECASE | re.ASCII)
_WEAK_TAIL = re.compile(r"(?:(?<![A-Za-z])(?:" + _WEAK_ALTS + r")(?![A-Za-z])" + _SEP + r"){1,2}$",
                        re.IGNORECASE | re.ASCII)
# ASCII-only case folding: with Unicode folding "İ" matched "i" and was then missing from
# the word table (a KeyError that stopped the whole ingest)
_WEAK_WORD = re.compile(r"(?<![A-Za-z])(?:" + _WEAK_ALTS + r")(?![A-Za-z])",
                        re.IGNORECASE | re.ASCII)
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _token_at(folded: str, pos: int) -> tuple[int, int]:
    """The [A-Za-z0-9]+ token around position `pos`."""
    s = pos
    while s > 0 and folded[s - 1] in _ALNUM:
        s -= 1
    m = _ALNUM_RUN.match(folded, pos)
    return s, m.end() if m else pos


_QUOTE_SPLIT = re.compile(r"['_]+")
_FIND_EACH = 64  # up to this many distinct glued number words, one str.find pass per word
_GLUED_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{5,}(?![A-Za-z0-9])")


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
    glued: set[str] = set()
    if words is not None and ("'" in low or "_" in low):
        # the word set keeps ' and _ inside words: "eight'55'5", "two_oh_six"
        quoted = [w for w in words if "'" in w or "_" in w]
        if quoted:
            words = words | {p for w in quoted for p in _QUOTE_SPLIT.split(w)}
    if words is None:
        todo: list[str] | set[str] = _STRONG_WORDS
    else:
        todo = set(_STRONG_SET & words)
        new = words - _NOT_GLUED
        if new:
            for w in new:
                if len(w) >= 5 and w[:2] in _GLUE_PREFIX and w not in _STRONG \
                        and _ATOMS_FULL.fullmatch(w):
                    glued.add(w)
                elif len(_NOT_GLUED) < 500_000:
                    # Words repeat across ads: remember the ones already ruled out, so the
                    # next ad pays a C-level set difference instead of a Python loop.
                    _NOT_GLUED.add(w)
        if len(glued) <= _FIND_EACH:
            todo |= glued
            glued = set()
    for w in todo:  # str.find is C-fast; a regex alternation scan is not
        i = low.find(w)
        while i >= 0:
            s, e = _token_at(folded, i)
            spans.setdefault(s, e)
            i = low.find(w, e)
    if glued:
        # Thousands of different glued words ("onetwo", "fivesixnine", ...): a find pass
        # per word would be quadratic, so look them up token by token instead (a glued
        # word is a whole token where it stands).
        for m in _GLUED_TOKEN.finditer(low):
            if m.group() in glued:
                spans.setdefault(m.start(), m.end())
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
            found = False
            for d in _DIGITS_IN.finditer(t):
                found = True
                ds, de = s + d.start(), s + d.end()
                out.append(_Tok(ds, de, d.group(), 0 if text[ds:de] == d.group() else 1))
            if not found:
                # a group glued to a word at either edge: "0143Please", "Call402"
                m = _EDGE_DIGITS.match(t)
                if m is not None:
                    g = 1 if m.group(1) else 2
                    ds, de = s + m.start(g), s + m.end(g)
                    out.append(_Tok(ds, de, t[m.start(g):m.end(g)],
                                    0 if text[ds:de] == folded[ds:de] else 1))
    return out


def _gap_ok(gap: str) -> bool:
    if len(gap) > _MAX_GAP:
        return False
    if "$" in gap and " " in gap and not (gap[0] == " " and gap[-1] == " "):
        # "773$555$0143", "404 $ 555 $ 0143" separate; "0143 $150", "$8,615 $9" start prices
        return False
    return all(not (ch.isalnum() or ch in _BAD_GAP) for ch in gap)


def _lead_weak(folded: str, t: _Tok) -> list[_Tok]:
    """Weak words just before a run's first token ("too zero six ..."), as tokens."""
    k = t.start
    while k > 0 and t.start - k < 4 and not folded[k - 1].isalnum():
        k -= 1
    j = k
    while j > 0 and k - j < 8 and folded[j - 1].isalpha():
        j -= 1
    if j == k or folded[j:k].lower() not in _WEAK_OR_GLUED:
        return []  # the word before is no weak number word: most runs stop here
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


def _drop_traps(folded: str, run: list[_Tok], probe: list[PhoneHit]) -> list[list[_Tok]]:
    """Split a run at tokens that sit in a trap (price, date, size, ID).

    Only the tokens up to the last number the probe read are tried as trap starts, and
    labels or currency symbols only where a number begins."""
    last = max(h.end for h in probe)
    firsts = {h.start for h in probe}
    digit_starts, prefix_starts = [], [run[0].start]
    for t in run:
        if t.start >= last:
            break
        if folded[t.start].isdigit():
            digit_starts.append(t.start)
            if t.start in firsts or t.start - 1 in firsts:
                prefix_starts.append(t.start)
    traps = trap_spans_at(folded, digit_starts, prefix_starts)
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


def _from_run(folded: str, run: list[_Tok], cands: tuple[_Cand, ...], used: set[int],
              hits: list[PhoneHit]) -> None:
    before = len(hits)
    _scan_run(folded, run, cands, used, hits, weak_edges=False)
    if len(hits) == before and any(t.kind == 2 for t in run):
        # "too zero six ...": a weak word may open or close a number, but only when the
        # number cannot be read without it
        _scan_run(folded, run, cands, used, hits, weak_edges=True)


def _best_end(run: list[_Tok], cum: list[int], i: int, region: str, plus: bool,
              in_slug: bool, weak_edges: bool, drop: int = 0) -> tuple[int, str] | None:
    """The longest number starting at run[i] that is valid for `region` (any after '+');
    `drop` leading digits are an international prefix ("0044 ...")."""
    lo_len, hi_len = _lengths(region)
    n = len(run)
    least, most = (7, _MAX_DIGITS) if plus else (lo_len, max(hi_len, 13 if in_slug else 0))
    least, most = least + drop, most + drop
    best: tuple[int, str] | None = None
    # only the ends j whose digit count falls in [least, most] (prefix sums: a run of
    # 50,000 single digits costs a few steps per start, not fifteen)
    j_lo = max(i, bisect_left(cum, cum[i] + least) - 1)
    j_hi = min(n - 1, bisect_right(cum, cum[i] + most) - 2)
    for j in range(j_lo, j_hi + 1):
        total = cum[j + 1] - cum[i]
        if total < least or (run[j].kind == 2 and not weak_edges):
            continue  # too short yet, or a number ending on a weak word
        # the digit string is only built for lengths worth validating
        acc = run[i].digits if j == i else "".join([t.digits for t in run[i:j + 1]])
        if drop:
            acc = acc[drop:]
        e164 = validate(acc, True, region) if plus else (
            validate(acc, False, region) if total <= hi_len else None)
        if e164 is None and in_slug and j == i:
            e164 = validate(acc, True, region)
        if e164:
            best = (j, e164)
    return best


def _scan_run(folded: str, run: list[_Tok], cands: tuple[_Cand, ...], used: set[int],
              hits: list[PhoneHit], *, weak_edges: bool) -> None:
    n = len(run)
    lens = [len(t.digits) for t in run]
    cum = [0, *accumulate(lens)]  # cum[k]: digits in run[:k]
    i = 0
    while i < n:
        if run[i].kind == 2 and not weak_edges:
            i += 1
            continue
        plus_at = _has_plus(folded, run[i])
        plus = plus_at >= 0
        # ".../p/447592123525-real-pics": a URL slug carries the country code without '+'
        in_slug = (not plus and run[i].kind == 0 and run[i].start > 0
                   and folded[run[i].start - 1] == "/" and 11 <= lens[i] <= 13)
        best: tuple[int, str] | None = None
        won = 0
        if not plus and run[i].kind == 0 and 4 <= lens[i] <= 5 and run[i].digits[:2] == "00" \
                and run[i].digits[2] != "0":
            # "0044 7123 456789": the international prefix most of the world dials
            best = _best_end(run, cum, i, cands[0][0], True, False, weak_edges, drop=2)
            plus = best is not None
            plus_at = run[i].start
        for k, cand in enumerate(() if best else cands[:1] if plus else cands):
            if k and cand[1] > RANK_SITE and cand[3] and not run[i].digits.startswith(cand[3]):
                # a city named in the text is weak evidence: only a number written with that
                # country's trunk prefix ("0491 ...", "03-...") is read for it
                continue
            best = _best_end(run, cum, i, cand[0], plus, in_slug, weak_edges)
            if best is not None:
                won = k
                break
        if best is None and i + 2 < n and lens[i] == 3 and lens[i + 1] == 3 and \
                lens[i + 2] == 4 and all(_lengths(c[0])[0] != 10 for c in cands) and \
                all(t.kind == 0 for t in run[i:i + 3]):
            # "206-555-0143" in an ad of a site outside North America: a visitor's number
            e164 = validate(run[i].digits + run[i + 1].digits + run[i + 2].digits, False, "US")
            if e164:
                best, won = (i + 2, e164), -1
        if best is None:
            i += 1
            continue
        j, e164 = best
        if won < 0:
            region, why = _region_of(e164), "north american format"
        elif plus or (in_slug and j == i and validate(run[i].digits, False, cands[won][0]) != e164):
            region, why = _region_of(e164), "country code"
        else:
            region, why = cands[won][0], cands[won][2]
            rank = cands[won][1]
            acc = "".join([t.digits for t in run[i:j + 1]])
            others = [c[0] for c in cands[won + 1:] if c[1] == rank and
                      (validate(acc, False, c[0]) or e164) != e164]
            if others:
                why = f"ambiguous: {' or '.join([region, *others])} ({why})"
        start = plus_at if plus else run[i].start
        if start > 0 and folded[start - 1] == "(":
            start -= 1  # "(206) 555-0143": the span covers what a reader sees as the number
        end = run[j].end
        while end < len(folded) and folded[end] in _KEYCAP:
            end += 1  # the keycap marks after the last digit of 2️⃣0️⃣6️⃣
        hits.append(PhoneHit(e164, start, end, _obfuscated(folded, run, i, j, plus),
                             region, why))
        for k in range(i, j + 1):
            used.add(id(run[k]))
        i = j + 1


def _split_groups(folded: str, runs: list[list[_Tok]], cand: _Cand, used: set[int],
                  hits: list[PhoneHit]) -> None:
    """'206 ... call me ... 555 0143': an area code and a local number a few words apart.

    Strict, because two unrelated numbers a few words apart are common ("room 203 ... 815
    5834 Main St"): the area code is one 3-digit group, the local number one 7-digit group
    or 3 + 4, the gap holds words and a visible break ("...", "-", "|", an emoji), and no
    part sits in a trap."""
    region = cand[0]
    if _lengths(region)[0] != 10:
        return  # NANP only: elsewhere numbers are not written as 3 + 7 digits
    free = [t for t in (_trim(r) for r in runs if not any(id(t) in used for t in r)) if t]
    for a, b in itertools.pairwise(free):
        if len(a) != 1 or len(a[0].digits) != 3 or a[0].kind == 2:
            continue
        if [len(t.digits) for t in b] not in ([7], [3, 4]) or any(t.kind == 2 for t in b):
            continue
        gap = folded[a[-1].end:b[0].start]
        if len(gap) > _SPLIT_GAP or any(c.isdigit() for c in gap) or gap.count(" ") > 6 \
                or "\x00" in gap or "\n" in gap:
            continue
        if not any(not (c.isalnum() or c.isspace() or c in _PLAIN_PUNCT) for c in gap) and \
                not all(w in _LEX.split_connectives for w in _GAP_WORD.findall(gap.lower())):
            continue  # other words between: "203 room 815 5834" is two numbers
        e164 = validate(a[0].digits + "".join(t.digits for t in b), False, region)
        if not e164 or any(id(t) in used for t in a + b):
            continue
        starts = [t.start for t in a + b if folded[t.start].isdigit()]
        if len(trap_spans_at(folded, starts, starts)):
            continue
        hits.append(PhoneHit(e164, a[0].start, b[-1].end, True, region, cand[2]))
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
                low: str | None = None, words: frozenset[str] | None = None,
                plan: RegionPlan | None = None) -> list[PhoneHit]:
    """Phones in `text` (`folded` = normalize.fold(text), `low` = normalize.lower(folded)).

    National numbers are read for the countries of `plan` in its order of trust (regions.py),
    or for `region` alone without one."""
    low = lower(folded) if low is None else low
    cands = _cands(region, plan)
    toks = _tokens(text, folded, low, words)
    if not toks:
        return []
    used: set[int] = set()
    hits: list[PhoneHit] = []
    runs: list[list[_Tok]] = []
    least = min(7, *(_lengths(c[0])[0] for c in cands))
    for whole in _runs(folded, toks):
        if sum(len(t.digits) for t in whole) < least:
            runs.append(whole)
            continue
        # Traps are read only around runs that hold a phone-shaped number: a full scan of
        # every ad for prices, dates and sizes would cost more than all the rest.
        probe: list[PhoneHit] = []
        probe_used: set[int] = set()
        _from_run(folded, whole, cands, probe_used, probe)
        if not probe:
            runs.append(whole)
            continue
        pieces = _drop_traps(folded, whole, probe)
        if len(pieces) == 1 and pieces[0] is whole:
            hits += probe  # no trap in it: the probe's reading stands
            used |= probe_used
            runs.append(whole)
            continue
        for run in pieces:
            runs.append(run)
            if run and sum(len(t.digits) for t in run) >= least:
                _from_run(folded, run, cands, used, hits)
    nanp = next((c for c in cands if _lengths(c[0])[0] == 10), None)
    if nanp is not None:
        _split_groups(folded, [r for r in runs if r], nanp, used, hits)
    hits.sort(key=lambda h: h.start)
    return hits


