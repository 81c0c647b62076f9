"""Folding text so that hidden characters read as what they look like, without moving spans.

`fold(text)` maps each character to at most one ASCII character (full-width `２`, mathematical
bold `𝟐`, circled `②`, superscript `²`, Arabic-Indic `٢` all become `2`; full-width and
mathematical letters become their ASCII letter; odd dashes, quotes and spaces become plain
ones). The result has exactly the length of the input, so a match at [start:end) in the folded
text is the same span in the original: spans always index what the advertiser wrote.

Number words and look-alike letters (`two`, `dos`, `oh`, `O`, `l`) are read by the phone
extractor on top of the folded text, because whether "to" means 2 depends on its neighbours.
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

# Ranges scanned once at import to build the table: the whole BMP (full-width forms,
# circled and superscript digits, other scripts' decimal digits), the mathematical
# alphanumerics and the segmented digits of "Symbols for Legacy Computing".
_RANGES = ((0x80, 0x10000), (0x1D400, 0x1D800), (0x1FBF0, 0x1FBFA))

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2043\u02d7"
_SQUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4\u02bc\uff07"
_DQUOTES = "\u201c\u201d\u201e\u201f\u2033\uff02"


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for lo, hi in _RANGES:
        for cp in range(lo, hi):
            if 0xD800 <= cp < 0xE000:
                continue  # surrogates
            ch = chr(cp)
            digit = unicodedata.digit(ch, None)
            if digit is not None:
                table[cp] = str(digit)
                continue
            if unicodedata.category(ch) == "Zs":
                table[cp] = " "
                continue
            nf = unicodedata.normalize("NFKC", ch)
            if len(nf) == 1 and nf.isascii() and (nf.isalnum() or nf in "@.$#+-()/:'\"_"):
                table[cp] = nf
    for ch in _DASHES:
        table[ord(ch)] = "-"
    for ch in _SQUOTES:
        table[ord(ch)] = "'"
    for ch in _DQUOTES:
        table[ord(ch)] = '"'
    return table


_TABLE = _build_table()


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold_run(m: re.Match[str]) -> str:
    return m.group().translate(_TABLE)


def fold(text: str) -> str:
    """The same text with look-alike characters mapped to ASCII, one character for one."""
    if text.isascii():
        return text
    # translate only the non-ASCII runs: str.translate is slow per character outside ASCII
    return _NON_ASCII.sub(_fold_run, text)


def is_plain(original: str, folded: str) -> bool:
    """True when folding changed nothing in this span (it was written in plain ASCII)."""
    return original == folded


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def lower(folded: str) -> str:
    """Lower-case of ASCII letters only, so the result keeps the length (and the spans)."""
    if folded.isascii():
        return folded.lower()
    low = folded.lower()
    return low if len(low) == len(folded) else folded.translate(_ASCII_LOWER)


_WORDCH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


_PUNCT = "".join(c for c in string.punctuation if c not in "'_")
_PUNCT_BYTES = bytes.maketrans(_PUNCT.encode(), b" " * len(_PUNCT))
_PUNCT_STR = str.maketrans(_PUNCT, " " * len(_PUNCT))


def word_set(low: str) -> frozenset[str]:
    """The words of a lower-cased text (punctuation but ' and _ as spaces), for O(1) gates:
    an extractor whose cue words are absent skips its patterns entirely."""
    if low.isascii():
        return frozenset(low.translate(_PUNCT_STR).split())
    # emoji or other symbols glued between words ("two🌹zero"): split there too, and keep
    # whole words with non-ASCII letters as well, for names with accents ("bogotá")
    words = _NON_ASCII.sub(" ", low).translate(_PUNCT_STR).split()
    if any(ch.isalpha() for seg in _NON_ASCII.findall(low) for ch in seg):
        data = low.encode("utf-8", "surrogatepass").translate(_PUNCT_BYTES)
        words += data.decode("utf-8", "surrogatepass").split()
    return frozenset(words)


@lru_cache(maxsize=256)
def _index(words: tuple[str, ...]) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """First word of each cue (what a word set can answer) -> the cues starting with it."""
    by_first: dict[str, list[str]] = {}
    for w in words:
        first = w.split(" ", 1)[0].strip(string.punctuation.replace("'", "")) or w
        by_first.setdefault(first, []).append(w)
    return frozenset(by_first), {k: tuple(v) for k, v in by_first.items()}


def word_starts(low: str, words: tuple[str, ...],
                present: frozenset[str] | None = None) -> list[int]:
    """Sorted positions where one of `words` starts at a word boundary in `low`.

    Extractors anchor their patterns at these positions (`rx.match(text, pos)`) instead of
    scanning every position with a look-behind: `str.find` runs at C speed, and on a
    typical ad it is several times cheaper than a regex scan per pattern. With `present`
    (the text's word set), only cues whose first word occurs are looked for.
    """
    firsts, by_first = _index(words)
    todo = firsts if present is None else firsts & present
    found: set[int] = set()
    for first in todo:
        for w in by_first[first]:
            i = low.find(w)
            while i >= 0:
                if i == 0 or low[i - 1] not in _WORDCH or not w[0].isalnum():
                    found.add(i)
                i = low.find(w, i + 1)
    return sorted(found)
