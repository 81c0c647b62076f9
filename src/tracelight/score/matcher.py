"""Fast phrase matching for the indicator catalogue.

Design (why it is shaped like this):
- Text is *folded* with one `str.translate` call that keeps the length: lower case, full-width /
  mathematical / accented letters to ASCII, separators to spaces. Because folding never adds or
  removes characters, a match offset in the folded text is the same offset in the original
  field: evidence spans need no offset map.
- Words are then cut out in C: the folded text is viewed as ASCII bytes (each non-ASCII code
  point one '?', so offsets still hold), one byte translate keeps only word characters
  (letters, digits, `@`, `$`) and `split()` cuts the words. A second byte translate gives each
  word's *skeleton*, in which look-alikes are one letter (`4 @ a` -> a, `0 o` -> o,
  `1 l i` -> i, `5 $ s` -> s, `3 e`, `7 t`, ...). Catalogue phrases are reduced the same way, so
  "n0 g@mes" and "no games" have the same skeleton, and "so young!!" holds the word "young".
- Phrases are looked up word by word in a dictionary keyed by their first word (hash lookups,
  the Aho-Corasick idea for word sequences): cost grows with the number of words in the ad,
  not with the size of the catalogue. Longest phrase first at each word, leftmost wins.
- Spacing variants: a multi-word phrase also matches written as one word ("nogames") and with
  a one-letter word glued on ("daddys", "im"). Letter-spaced words ("y o u n g", "y.o.u.n.g")
  are runs of one-letter words, collapsed and looked up as one word.
- Emoji are matched with one small regex, only when the text is not plain ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

# Characters folded to spaces (separators between words). `@` and `$` are kept out on purpose:
# they can stand for letters ("n0 g@mes") and must stay visible to the skeleton.
_SEPARATORS = " \t\n\r\f\v.,;:-_*~/\\'\"`()[]{}<>#=^?&%\u00a0\u2000\u2001\u2002\u2003\u2004" \
    "\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u2010\u2011\u2012\u2013\u2014\u2015\u2018" \
    "\u2019\u201c\u201d\u2022\u2026\u3000\u00b7"

# Look-alikes collapsed to one letter in skeletons (applied to text and phrases alike).
# Word characters: letters, digits and the two leet symbols that stand for letters (@ $).
_WORD_CHARS = b"abcdefghijklmnopqrstuvwxyz0123456789@$"
# Look-alikes collapsed to one letter in skeletons (applied to text and phrases alike).
_LOOKALIKE = {"4": "a", "@": "a", "8": "b", "3": "e", "9": "g", "1": "i", "l": "i", "0": "o",
              "5": "s", "$": "s", "7": "t", "2": "z"}


def _byte_table(skeleton: bool) -> bytes:
    table = bytearray(b" " * 256)  # everything that is not a word character -> space
    for c in _WORD_CHARS:
        ch = chr(c)
        table[c] = ord(_LOOKALIKE.get(ch, ch)) if skeleton else c
    return bytes(table)


_SKELETON_BYTES = _byte_table(skeleton=True)
_WORDS_ONLY = _byte_table(skeleton=False)


def _ascii_view(folded: str) -> bytes:
    # Non-ASCII code points become one '?' each, so byte offsets equal string offsets.
    return folded.encode("ascii", "replace")

WILDCARD = "*"  # a trailing `*` in a phrase: any word ending
PREFIX_HEAD = 4  # wildcard phrases need at least this many letters before the `*`
# three or more one-character words: "y o u n g", "y.o.u.n.g"
_SPACED_RE = re.compile(r"(?<![a-z0-9@$])(?:[a-z0-9@$] +){2,}[a-z0-9@$](?![a-z0-9@$])")


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
                table[cp] = base
            elif unicodedata.category(ch).startswith("Z"):
                table[cp] = " "
            else:
                # identity entries too: a missing key costs str.translate an exception per
                # character, which made non-ASCII ads several times slower to fold
                table[cp] = ch
    for ch in _SEPARATORS:
        table[ord(ch)] = " "
    return table


_FOLD = _build_fold_table()


_FOLD_BYTES = bytes(ord(_FOLD.get(c, chr(c)).lower()) for c in range(128)) + bytes(range(128, 256))


def fold(text: str) -> str:
    """Length-preserving normal form used for matching (offsets stay valid in `text`)."""
    if text.isascii():  # the common case: one C-level byte translate
        return text.encode("ascii").translate(_FOLD_BYTES).decode("ascii")
    out = text.translate(_FOLD)
    # Characters outside the table keep their case; lower() is safe when it keeps the length
    # (it almost always does; a few letters such as 'İ' grow, and then we leave case alone).
    low = out.lower()
    return low if len(low) == len(out) else out


def words_of(folded: str) -> list[str]:
    """The words of folded text as written (no look-alike folding), cut in C."""
    return _ascii_view(folded).translate(_WORDS_ONLY).decode("ascii").split()


def skeleton_words(phrase: str) -> list[str]:
    """The skeleton words of a catalogue phrase (without a trailing wildcard)."""
    folded = fold(phrase.rstrip().rstrip(WILDCARD))
    return _ascii_view(folded).translate(_SKELETON_BYTES).decode("ascii").split()


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


class Match(NamedTuple):  # a tuple: built for every match, so it must be cheap
    key: str  # indicator code
    phrase: str
    start: int
    end: int
    detail: str = ""  # "matched 'phrase'", made once per phrase, not once per match


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
        self._details = [f"matched {p!r}" for p in self._phrases]
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

    def _match(self, idx: int, start: int, end: int) -> Match:
        return Match(self._keys[idx], self._phrases[idx], start, end, self._details[idx])

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
                pidx = self._prefixes.get(word[:n])
                if pidx is not None:
                    return pidx, 1
        return None

    def find_folded(self, folded: str) -> list[Match]:
        """Matches in already-folded text (offsets are offsets in the original text)."""
        # Per-word work runs in C: two byte translates, split, a set intersection and
        # list.index. Python only touches the few words that can start a phrase.
        out: list[Match] = []
        # skeleton words and spaces, at the same offsets as the folded text
        joined = _ascii_view(folded).translate(_SKELETON_BYTES).decode("ascii")
        words = joined.split()
        if words:
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
                cands += [len(joined[:m.start()].split())
                          for m in self._prefix_re.finditer(joined)]
            if cands:
                cands.sort()
                out += self._words(joined, words, cands)
        # Letter-spaced words need three one-letter words in a row: a C-level test on the word
        # lengths gates the regex (lengths over 255 cannot be bytes: then just run it).
        try:
            spaced = b"\x01\x01\x01" in bytes(map(len, words))
        except ValueError:
            spaced = True
        if spaced:
            for run in _SPACED_RE.finditer(joined):
                letters = "".join(run.group().split())
                found = self._lookup([letters], 0)
                if found is not None:
                    idx = found[0]
                    out.append(self._match(idx, run.start(), run.end()))
        if self._emoji_re is not None and not folded.isascii() \
                and any(e in folded for e in self._emoji_idx):
            for m in self._emoji_re.finditer(folded):
                idx = self._emoji_idx[m.group().replace("\ufe0f", "")]
                out.append(self._match(idx, m.start(), m.end()))
        return out

    def _words(self, joined: str, words: list[str], cands: list[int]) -> list[Match]:
        # Offsets are found lazily with str.find, word by word up to the words that matched:
        # the gap between two words is only spaces, so find() lands on the word itself.
        out = []
        j, pos = 0, 0  # next word to locate, and where to look for it
        find, lookup = joined.find, self._lookup
        skip_to = 0
        for i in cands:
            if i < skip_to:
                continue
            found = lookup(words, i)
            if found is None:
                continue
            idx, used = found
            last = i + used - 1
            while j < i:
                pos = find(words[j], pos) + len(words[j])
                j += 1
            start = find(words[i], pos)
            while j < last:
                pos = find(words[j], pos) + len(words[j])
                j += 1
            end = find(words[last], pos) + len(words[last])
            out.append(self._match(idx, start, end))
            skip_to = last + 1
        return out

    def find(self, text: str) -> list[Match]:
        return self.find_folded(fold(text))
