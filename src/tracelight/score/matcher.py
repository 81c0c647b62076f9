"""Fast phrase matching for the indicator catalogue.

Design (why it is shaped like this):
- Text is *folded* with one `str.translate` call that keeps the length: lower case, full-width /
  mathematical / accented letters to ASCII, separators to spaces. Because folding never adds or
  removes characters, a match offset in the folded text is the same offset in the original
  field: evidence spans need no offset map.
- Words are then cut out with one compiled regex (C speed) and each word is reduced to a
  *skeleton* in which look-alikes are one letter (`4 @ a` -> a, `0 o` -> o, `1 ! | l i` -> i,
  `5 $ s` -> s, ...). Catalogue phrases are reduced the same way, so "n0 g@mes" and "no games"
  have the same skeleton. Words keep trailing punctuation out ("so young!!" is "young").
- Phrases are looked up word by word in a dictionary keyed by their first word (hash lookups,
  the Aho-Corasick idea for word sequences): cost grows with the number of words in the ad,
  not with the size of the catalogue. Longest phrase first at each word, leftmost wins.
- Spacing variants: a multi-word phrase also matches written as one word ("nogames") and with
  a one-letter word glued on ("daddys", "im"). Letter-spaced words ("y o u n g") are runs of
  one-letter words, collapsed and looked up as one word.
- Emoji are matched with one small regex, only when the text is not plain ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Characters that count as separators between words. Leet symbols (@ $ ! | +) are kept out on
# purpose: they can stand for letters ("n0 g@mes") and must stay visible to the skeleton.
_SEPARATORS = " \t\n\r\f\v.,;:-_*~/\\'\"`()[]{}<>#=^?&%\u00a0\u2000\u2001\u2002\u2003\u2004" \
    "\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u2010\u2011\u2012\u2013\u2014\u2015\u2018" \
    "\u2019\u201c\u201d\u2022\u2026\u3000\u00b7"

# Look-alikes collapsed to one letter in skeletons (applied to text and phrases alike).
_SKELETON = str.maketrans({
    "4": "a", "@": "a", "8": "b", "3": "e", "9": "g", "1": "i", "!": "i", "|": "i", "l": "i",
    "0": "o", "5": "s", "$": "s", "7": "t", "+": "t", "2": "z",
})
# A word starts and ends with a letter, digit, @ or $; leet symbols may sit inside it.
_WORD_RE = re.compile(r"[a-z0-9@$](?:[a-z0-9@$!|+]*[a-z0-9@$])?")

WILDCARD = "*"  # a trailing `*` in a phrase: any word ending
PREFIX_HEAD = 4  # wildcard phrases need at least this many letters before the `*`
# three or more one-letter words, one space apart: "y o u n g"
_SPACED_GATE = re.compile(r"[a-z0-9@$] [a-z0-9@$] [a-z0-9@$]")
_SPACED_RE = re.compile(r"(?<![a-z0-9@$!|+])(?:[a-z0-9@$] ){2,}[a-z0-9@$](?![a-z0-9@$!|+])")

def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    ranges = [
        range(0x00, 0x250),        # ASCII, Latin-1, Latin Extended-A/B
        range(0x2000, 0x2070),     # general punctuation / spaces
        range(0x2460, 0x2500),     # enclosed alphanumerics (circled letters and digits)
        range(0xFF00, 0xFFEF),     # full-width forms
        range(0x1D400, 0x1D800),   # mathematical alphanumeric symbols
        range(0x1F130, 0x1F18A),   # squared / negative circled letters
    ]
    for rng in ranges:
        for cp in rng:
            ch = chr(cp)
            if ch in _SEPARATORS:
                table[cp] = " "
                continue
            decomposed = unicodedata.normalize("NFKD", ch)
            base = decomposed[:1].lower() if decomposed else ""
            if len(base) == 1 and base.isascii() and base.isalnum():
                if base != ch:
                    table[cp] = base
            elif unicodedata.category(ch).startswith("Z"):
                table[cp] = " "
    for ch in _SEPARATORS:
        table[ord(ch)] = " "
    return table


_FOLD = _build_fold_table()


def fold(text: str) -> str:
    """Length-preserving normal form used for matching (offsets stay valid in `text`)."""
    out = text.translate(_FOLD)
    # Characters outside the table keep their case; lower() is safe when it keeps the length
    # (it almost always does; a few letters such as 'İ' grow, and then we leave case alone).
    low = out.lower()
    return low if len(low) == len(out) else out


def skeleton_words(phrase: str) -> list[str]:
    """The skeleton words of a catalogue phrase (without a trailing wildcard)."""
    folded = fold(phrase.rstrip().rstrip(WILDCARD))
    return [m.group().translate(_SKELETON) for m in _WORD_RE.finditer(folded)]


def normalize_phrase(phrase: str) -> str:
    """A phrase's identity for duplicate checks: skeleton words joined by spaces (+ '*')."""
    wildcard = phrase.rstrip().endswith(WILDCARD)
    return " ".join(skeleton_words(phrase)) + (WILDCARD if wildcard else "")


def _variants(words: list[str]) -> set[tuple[str, ...]]:
    """Spellings of a multi-word phrase: as words, as one word, one-letter words glued on."""
    out = {tuple(words)}
    if len(words) > 1:
        out.add(("".join(words),))
        glued: list[str] = []
        for w in words:
            if len(w) == 1 and glued:
                glued[-1] += w
            else:
                glued.append(w)
        out.add(tuple(glued))
    return out


@dataclass(frozen=True, slots=True)
class Match:
    key: str  # indicator code
    phrase: str
    start: int
    end: int


class PhraseMatcher:
    """Find every catalogue phrase and emoji in a text.

    entries: (key, phrase, kind) with kind "phrase" (words) or "emoji" (literal sequence).
    """

    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        self._keys: list[str] = []
        self._phrases: list[str] = []
        # first skeleton word -> [(following words, phrase index)], longest first
        self._first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        self._prefixes: dict[str, int] = {}  # single-word wildcard phrases: prefix -> index
        emoji: dict[str, int] = {}
        seen: set[tuple[str, str]] = set()
        for key, phrase, kind in entries:
            norm = phrase.replace("\ufe0f", "") if kind == "emoji" else normalize_phrase(phrase)
            if not norm.strip(WILDCARD) or (kind, norm) in seen:
                continue
            seen.add((kind, norm))
            idx = len(self._keys)
            self._keys.append(key)
            self._phrases.append(phrase)
            if kind == "emoji":
                emoji[norm] = idx
                continue
            words = skeleton_words(phrase)
            if norm.endswith(WILDCARD) and len(words) == 1 and len(words[0]) >= PREFIX_HEAD:
                self._prefixes.setdefault(words[0], idx)
                continue
            for variant in _variants(words):
                self._first.setdefault(variant[0], []).append((variant[1:], idx))
        for cands in self._first.values():
            cands.sort(key=lambda c: -len(c[0]))
        self._prefix_lens = sorted({len(p) for p in self._prefixes}, reverse=True)
        self._prefix_heads = {p[:PREFIX_HEAD] for p in self._prefixes}
        self._first_keys = frozenset(self._first)
        # candidate words for wildcard phrases, found in the space-joined skeleton text
        self._prefix_re = re.compile(
            "(?<![^ ])(?:" + "|".join(re.escape(p) for p in sorted(self._prefixes)) + ")"
        ) if self._prefixes else None
        self._emoji_idx = emoji
        self._emoji_re = None
        if emoji:
            alts = ["".join(re.escape(ch) + "\ufe0f?" for ch in e)
                    for e in sorted(emoji, key=len, reverse=True)]
            self._emoji_re = re.compile("|".join(alts))

    def __len__(self) -> int:
        return len(self._keys)

    def _lookup(self, words: list[str], i: int) -> tuple[int, int] | None:
        """(phrase index, words used) of the longest phrase starting at word i."""
        word = words[i]
        cands = self._first.get(word)
        if cands:
            for rest, idx in cands:
                k = len(rest)
                if not k:
                    return idx, 1
                if tuple(words[i + 1:i + 1 + k]) == rest:
                    return idx, k + 1
        if word[:PREFIX_HEAD] in self._prefix_heads:
            for n in self._prefix_lens:
                idx = self._prefixes.get(word[:n])
                if idx is not None:
                    return idx, 1
        return None

    def find_folded(self, folded: str) -> list[Match]:
        """Matches in already-folded text (offsets are offsets in the original text)."""
        # Per-word work runs in C: findall, one translate, split, a set intersection and
        # list.index. Python only touches the few words that can start a phrase.
        out: list[Match] = []
        raw_words = _WORD_RE.findall(folded)
        if raw_words:
            joined = " ".join(raw_words).translate(_SKELETON)
            words = joined.split(" ")
            cands: list[int] = []
            for w in self._first_keys.intersection(words):
                i = words.index(w)
                while True:
                    cands.append(i)
                    try:
                        i = words.index(w, i + 1)
                    except ValueError:
                        break
            if self._prefix_re is not None:
                cands += [joined.count(" ", 0, m.start())
                          for m in self._prefix_re.finditer(joined)]
            if cands:
                cands.sort()
                out += self._words(folded, raw_words, words, cands)
        gate = _SPACED_GATE.search(folded)  # a fast scan; the exact regex only from there on
        if gate is not None:
            for run in _SPACED_RE.finditer(folded, max(0, gate.start() - 1)):
                letters = run.group()[::2].translate(_SKELETON)
                found = self._lookup([letters], 0)
                if found is not None:
                    idx = found[0]
                    out.append(Match(self._keys[idx], self._phrases[idx], run.start(),
                                     run.end()))
        if self._emoji_re is not None and not folded.isascii():
            for m in self._emoji_re.finditer(folded):
                idx = self._emoji_idx[m.group().replace("\ufe0f", "")]
                out.append(Match(self._keys[idx], self._phrases[idx], m.start(), m.end()))
        return out

    def _words(self, folded: str, raw_words: list[str], words: list[str],
               cands: list[int]) -> Iterator[Match]:
        # Offsets are found lazily with str.find, word by word up to the words that matched:
        # the gap between two words holds no word character, so find() lands on the word.
        j, pos = 0, 0  # next word to locate, and where to look for it

        def start_of(k: int) -> int:
            nonlocal j, pos
            while True:
                pos = folded.find(raw_words[j], pos)
                if j == k:
                    return pos
                pos += len(raw_words[j])
                j += 1

        skip_to = 0
        for i in cands:
            if i < skip_to:
                continue
            found = self._lookup(words, i)
            if found is None:
                continue
            idx, used = found
            last = i + used - 1
            start = start_of(i)
            end = start_of(last) + len(raw_words[last]) if last != i else \
                start + len(raw_words[i])
            yield Match(self._keys[idx], self._phrases[idx], start, end)
            skip_to = last + 1

    def find(self, text: str) -> list[Match]:
        return self.find_folded(fold(text))
