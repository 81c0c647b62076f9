"""Stated ages: "22 yrs", "age: 22", "I'm 22", "22yo", "twenty two", "tengo 19 años".

Ages under 18 are always reported: they are the most urgent lead a reviewer can get.
Numbers are only read as ages next to an age cue, never on their own, and "5 years
experience" or "I'm 5'4" are not ages.

Layouts of scraped pages (issue 13): a profile table's label and value apart by padding or
line breaks (`Age: ⏎ 21 ⏎ Location`, `AGE:  19 SERVICES:`), a title's age slot between
separators (`Sexy Face Young - 19 - Click`; only in the title, see `title_end`),
`18 years of age` (not `must be 21 years of age`), and ranges for several people
(`between 18-35`, `ages 19 to 25`, `20-30yo`), kept as ranges: a range's value is
"low-high" (`AgeHit.value`). Past ages told in narrative (`when I was about 16`, `at age 16`)
are not stated ages; under 18 they are `review` hits, for a person to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracelight.extract.lexicon import lexicon
from tracelight.extract.normalize import word_starts

_LEX = lexicon()
MIN_AGE, MAX_AGE = 12, 69
_I = re.IGNORECASE

_SUFFIX = (r"(?:y\.?\s?o\b\.?|y/o|yrs?\.?\s?old|years?\s?old|yr\b|yrs\b\.?|years\b|"
           r"a[ñn]os\b|anitos\b)")
_NUM_THEN_CUE = re.compile(r"(\d{1,2})\s?-?\s?" + _SUFFIX, _I)
_NUM_BEFORE = re.compile(r"(?<![\d'$.,/:#-])\d{1,2}\s?-?\s?$")
# label and value of a profile table: padding, tabs, line breaks, ":" or "|" between them
_CUE_THEN_NUM = re.compile(
    r"(?:age|aged|edad|ages)(?:\s?(?:is|of)\s)?[\s:=|.\-]{0,16}(\d{1,2})"
    r"(?![\d'\"%.,:/]\d|\d)", _I)
_OF_AGE = re.compile(r"\s{1,2}of\s{1,2}age\b", _I)
_RULE_BEFORE = re.compile(r"(?:\bbe|over|under|least|than|minimum|min|ser)\s{1,3}$", _I)
_RANGE_TAIL = r"(?!\d|\s?(?:min|hours?|hrs?|miles?|km|am\b|pm\b|%|lbs|kg|cm|\$|-\s?\d|:\d))"
_RANGE_CUE = re.compile(
    r"(?:between|aged|ages?|entre|edades?)(?:\s?[:=\-])?\s{1,3}(\d{2})\s{0,2}"
    r"(?:-|to|and|y)\s{0,2}(\d{2})" + _RANGE_TAIL, _I)
# before an age suffix: a range ("21-24 yrs") or two people ("23 & 25 yrs")
_BEFORE_SUFFIX = re.compile(r"(?<![\d\-/.:'])(\d{2})\s{0,2}(-|to|&|and|y)\s{0,2}(\d{2})\s?-?\s?$",
                            _I)
_RANGE_HINTS = ("between", "aged", "ages", "age", "entre", "edad", "edades")
_SLOT = re.compile(r"(?:^|(?<=\s))(?:-{1,2}|[|•~*·])\s{1,3}(\d{2})\s{0,3}"
                   r"(?:(?:-{1,2}|[|•~*·])(?=\s)|\s*$)", _I | re.MULTILINE)
_PAST_CUE = (r"(?:i\s{1,2}was|(?:at|since|from)\s{1,2}(?:the\s{1,2})?age(?:\s{1,2}of)?)\s{1,2}"
             r"(?:(?:only|just|about|around|barely|like|maybe|nearly|almost)\s{1,2}){0,2}")
_PAST_NUM = re.compile(_PAST_CUE + r"(\d{1,2})(?![\d'\"%]|\s?(?:ft|feet|foot|in\b|inch|lbs?|"
                       r"cm|kg|\$|min|hr|hour|am\b|pm\b|/|%|-\s?\d|\.\d|,\d|:\d))", _I)
_PAST_HINTS = ("i was", "at age", "at the age", "since age", "since the age", "from age",
               "from the age")
_IM_NUM = re.compile(
    r"(?:i'?m|i\s?am|im|soy|tengo|just\s?turned|turned)\s{1,2}"
    r"(?:a\s|only\s|just\s|barely\s)?(\d{1,2})(?![\d'\"%]|\s?(?:'|ft|feet|foot|in\b|inch|lbs?|"
    r"cm|kg|\$|min|hr|hour|am\b|pm\b|/|%|x|-\s?\d|\.\d|,\d|:\d))", _I)
_NOT_AGE_AFTER = re.compile(r"\s{0,2}(?:of\b|in\b|ago\b|exp|experience|since|on\b|at\b|"
                            r"with\b|as\b|doing|working|in the)", _I)

_units = "|".join(sorted(_LEX.age_units, key=len, reverse=True))
_tens = "|".join(sorted(_LEX.age_tens, key=len, reverse=True))
_teens = "|".join(sorted(_LEX.age_teens, key=len, reverse=True))
_comp = "|".join(sorted(_LEX.age_compound, key=len, reverse=True))
_WORDS = (r"(?:(" + _tens + r")(?:[\s\-]{1,2}y?\s?(" + _units + r"))?|(" + _teens + r")|("
          + _comp + r"))")
_PAST_WORD = re.compile(_PAST_CUE + _WORDS + r"(?![A-Za-z])", _I)
_WORD_THEN_CUE = re.compile(r"(?<![A-Za-z])" + _WORDS + r"\s?-?\s?" + _SUFFIX, _I)
_CUE_THEN_WORD = re.compile(
    r"(?<![A-Za-z])(?:i'?m|i\s?am|im|age|aged|edad|tengo|soy|just\s?turned|turned)"
    r"\s?[:=\-]?\s{1,2}(?:only\s|just\s|barely\s)?" + _WORDS + r"(?![A-Za-z])", _I)
_WORD_HINTS = ("teen", "twenty", "thirty", "forty", "fifty", "veint", "trece", "catorce",
               "quince", "dieci", "treinta", "cuarenta", "cincuenta")
_DIGIT = re.compile(r"[0-9]")
_ACCENTS = str.maketrans("áéíóúÁÉÍÓÚ", "aeiouAEIOU")


@dataclass(frozen=True, slots=True)
class AgeHit:
    age: int
    start: int
    end: int
    high: int | None = None  # a range ("between 18-35"): age is its low end
    review: bool = False  # a past age told in narrative, under 18: not a stated age

    @property
    def value(self) -> str:
        """The mention value: "22", or "18-35" for a range."""
        return f"{self.age}-{self.high}" if self.high is not None else str(self.age)


def _word_value(m: re.Match[str]) -> int:
    tens, unit, teen, comp = m.group(1), m.group(2), m.group(3), m.group(4)
    if tens:
        return _LEX.age_tens[tens.lower()] + (_LEX.age_units[unit.lower()] if unit else 0)
    if teen:
        return _LEX.age_teens[teen.lower()]
    return _LEX.age_compound[comp.lower()]


_SUFFIX_HINTS = ("yo", "y/o", "y.o", "yr", "year", "ano", "año")
_AGE_HINTS = ("age", "aged", "ages", "edad")
_IM_HINTS = ("i'm", "im ", "i am", "iam ", "soy ", "tengo ", "turned ", "just turned ")


def _find_all(low: str, needle: str) -> list[int]:
    out, i = [], low.find(needle)
    while i >= 0:
        out.append(i)
        i = low.find(needle, i + 1)
    return out


def _add(hits: list[AgeHit], age: int, start: int, end: int) -> None:
    if MIN_AGE <= age <= MAX_AGE:
        hits.append(AgeHit(age, start, end))


def _add_range(hits: list[AgeHit], low: int, high: int, start: int, end: int) -> bool:
    if MIN_AGE <= low < high <= MAX_AGE:
        hits.append(AgeHit(low, start, end, high=high))
        return True
    return False


def find_ages(folded: str, low: str | None = None,
              words: frozenset[str] | None = None, title_end: int = 0) -> list[AgeHit]:
    """Stated ages (and ranges, and `review` hits) in `folded`; `title_end` > 0 says that
    folded[:title_end] is an ad's title, where an age slot needs no cue word."""
    low = folded.lower() if low is None else low
    hits: list[AgeHit] = []
    text = folded.translate(_ACCENTS) if not folded.isascii() else folded  # veintidós
    has_digit = _DIGIT.search(folded) is not None
    if has_digit and any(h in low for h in _SUFFIX_HINTS):
        # anchored at each suffix ("yrs", "yo", "años"): find the number just before it
        for pos in sorted({i for h in _SUFFIX_HINTS for i in _find_all(low, h)}):
            k = pos
            while k > 0 and pos - k < 3 and text[k - 1] in " -":
                k -= 1
            if k == 0 or not text[k - 1].isdigit():
                continue  # "you", "your": no number right before the suffix
            two = _BEFORE_SUFFIX.search(text, max(0, pos - 14), pos)
            nb = _NUM_BEFORE.search(text, max(0, pos - 6), pos) if two is None else None
            if two is not None:
                m = _NUM_THEN_CUE.match(text, two.start(3))
            elif nb is not None:
                m = _NUM_THEN_CUE.match(text, nb.start())
            else:
                continue
            if m is None:
                continue
            if "old" not in m.group().lower() and _NOT_AGE_AFTER.match(text, m.end()):
                if not _OF_AGE.match(text, m.end()) or _RULE_BEFORE.search(
                        text, max(0, m.start() - 12), m.start()):
                    continue  # "5 years experience"; "must be 21 years of age"
                m_end = _OF_AGE.match(text, m.end())
                end = m_end.end() if m_end else m.end()
            else:
                end = m.end()
            if two is not None and two.group(2).lower() in ("-", "to"):
                if _add_range(hits, int(two.group(1)), int(m.group(1)), two.start(), end):
                    continue  # "21-24 yrs old", "20-30yo"
            elif two is not None:
                _add(hits, int(two.group(1)), two.start(1), two.end(1))  # "23 & 25 yrs"
            _add(hits, int(m.group(1)), m.start(), end)
    if has_digit:
        for rx, hints in ((_RANGE_CUE, _RANGE_HINTS), (_CUE_THEN_NUM, _AGE_HINTS),
                          (_IM_NUM, _IM_HINTS)):
            for pos in word_starts(low, hints, words):
                m = rx.match(text, pos)
                if m is None:
                    continue
                if rx is _RANGE_CUE:
                    _add_range(hits, int(m.group(1)), int(m.group(2)), m.start(), m.end())
                else:
                    _add(hits, int(m.group(1)), m.start(), m.end())
        if title_end > 0:
            for m in _SLOT.finditer(text, 0, title_end):
                before = text[max(0, m.start() - 2):m.start()].strip()
                after = text[m.end():m.end() + 2].strip()
                if before[-1:].isdigit() or after[:1].isdigit():
                    continue  # "Open 7 - 24 - 7": a list of numbers, not an age slot
                _add(hits, int(m.group(1)), m.start(1), m.end(1))
    past: list[AgeHit] = []  # narrative past ages: they hide any stated age they overlap
    for pos in word_starts(low, _PAST_HINTS, words):
        m = _PAST_NUM.match(text, pos) if has_digit else None
        age = int(m.group(1)) if m is not None else None
        if m is None:
            m = _PAST_WORD.match(text, pos)
            age = _word_value(m) if m is not None else None
        if m is not None and age is not None:
            past.append(AgeHit(age, m.start(), m.end(), review=True))
    if any(h in low for h in _WORD_HINTS):
        for rx in (_WORD_THEN_CUE, _CUE_THEN_WORD):
            for m in rx.finditer(text):
                age = _word_value(m)
                end = m.end()
                if rx is _WORD_THEN_CUE and "old" not in m.group().lower() \
                        and _NOT_AGE_AFTER.match(text, m.end()):
                    of_age = _OF_AGE.match(text, m.end())
                    if of_age is None or _RULE_BEFORE.search(text, max(0, m.start() - 12),
                                                             m.start()):
                        continue
                    end = of_age.end()
                if MIN_AGE <= age <= MAX_AGE:
                    hits.append(AgeHit(age, m.start(), end))
    hits += past
    # past ages first at one start, then the longest: "at age 16" is no stated age, and
    # "aged 21-30" one range, not 21
    hits.sort(key=lambda h: (h.start, not h.review, -h.end))
    out: list[AgeHit] = []
    last_end = -1
    for h in hits:  # overlapping cues ("I'm 22 years old") are one statement
        if h.start < last_end:
            continue
        last_end = h.end
        if h.review and not MIN_AGE <= h.age < 18:
            continue  # "when I was 20": neither a stated age nor one to review
        out.append(h)
    return out
