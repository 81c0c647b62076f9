"""Stated ages: "22 yrs", "age: 22", "I'm 22", "22yo", "twenty two", "tengo 19 años".

Ages under 18 are always reported: they are the most urgent lead a reviewer can get.
Numbers are only read as ages next to an age cue, never on their own, and "5 years
experience" or "I'm 5'4" are not ages.
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
_CUE_THEN_NUM = re.compile(
    r"(?:age|aged|edad|ages)\s?(?:is\s|of\s)?[:=\-]?\s?(\d{1,2})(?![\d'\"%.,:/]\d|\d)",
    _I)
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


def find_ages(folded: str, low: str | None = None,
              words: frozenset[str] | None = None) -> list[AgeHit]:
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
            nb = _NUM_BEFORE.search(text, max(0, pos - 6), pos)
            if nb is None:
                continue
            m = _NUM_THEN_CUE.match(text, nb.start())
            if m is None:
                continue
            if "old" not in m.group().lower() and _NOT_AGE_AFTER.match(text, m.end()):
                continue  # "5 years experience", "3 years in business"
            _add(hits, int(m.group(1)), m.start(), m.end())
    if has_digit:
        for rx, hints in ((_CUE_THEN_NUM, _AGE_HINTS), (_IM_NUM, _IM_HINTS)):
            for pos in word_starts(low, hints, words):
                m = rx.match(text, pos)
                if m is not None:
                    _add(hits, int(m.group(1)), m.start(), m.end())
    if any(h in low for h in _WORD_HINTS):
        for rx in (_WORD_THEN_CUE, _CUE_THEN_WORD):
            for m in rx.finditer(text):
                age = _word_value(m)
                if rx is _WORD_THEN_CUE and "old" not in m.group().lower() \
                        and _NOT_AGE_AFTER.match(text, m.end()):
                    continue
                if MIN_AGE <= age <= MAX_AGE:
                    hits.append(AgeHit(age, m.start(), m.end()))
    hits.sort(key=lambda h: (h.start, -h.end))
    out: list[AgeHit] = []
    for h in hits:  # overlapping cues ("I'm 22 years old") are one statement
        if out and h.start < out[-1].end:
            continue
        out.append(h)
    return out
