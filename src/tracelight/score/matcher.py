"""Fast phrase matching for the indicator catalogue.

Design (why it is shaped like this):
- Text is *folded* with one `str.translate` call that keeps the length: lower case, full-width /
  mathematical / accented letters to ASCII, separators to spaces. Because folding never adds or
  removes characters, a match offset in the folded text is the same offset in the original
  field: evidence spans need no offset map.
- All phrases of all indicators are compiled into ONE regular expression shaped like a trie
  (shared prefixes factored out, so the engine does roughly Aho-Corasick work per position
  instead of trying every phrase). Each phrase ends in an empty capture group; `m.lastindex`
  says which phrase (and so which indicator) matched, in a single pass over the text.
- Leetspeak is handled in the pattern, not the text: letter `a` compiles to `[a4@]`, `o` to
  `[o0]` and so on. Folding digits in the text would break numbers ("100% real") and
  punctuation ("so young!").
- Letter-spaced words ("y o u n g") are found by a second, cheap pass over runs of single
  characters, which are collapsed and matched again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# Characters that count as separators between words. Leet symbols (@ $ ! | +) and % are kept
# out on purpose: they can stand for letters ("n0 g@mes") and must stay visible to patterns.
_SEPARATORS = " \t\n\r\f\v.,;:-_*~/\\'\"`()[]{}<>#=^?&%\u00a0\u2000\u2001\u2002\u2003\u2004" \
    "\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u2010\u2011\u2012\u2013\u2014\u2015\u2018" \
    "\u2019\u201c\u201d\u2022\u2026\u3000\u00b7"

_LEET: dict[str, str] = {
    "a": "a4@", "b": "b8", "e": "e3", "g": "g9", "i": "i1!|", "l": "l1|", "o": "o0",
    "s": "s5$", "t": "t7+", "z": "z2",
}

WILDCARD = "\x00"  # trie key for a trailing `*` (any word ending)
_WORD = "[a-z0-9]"


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


def normalize_phrase(phrase: str) -> str:
    """A catalogue phrase in the folded form the trie is keyed on (words joined by one space)."""
    wildcard = phrase.rstrip().endswith("*")
    core = phrase.rstrip().rstrip("*")
    words = fold(core).split()
    text = " ".join(words)
    return text + (WILDCARD if wildcard else "")


def _atom(ch: str) -> str:
    if ch == " ":
        return " *"  # "no games", "no-games", "nogames"
    if ch == WILDCARD:
        return _WORD + "*"
    if ch in _LEET:
        return "[" + re.escape(_LEET[ch]) + "]"
    return re.escape(ch)


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    end: int | None = None  # phrase index ending here


@dataclass(frozen=True, slots=True)
class Match:
    key: str  # indicator code
    phrase: str
    start: int
    end: int


class PhraseMatcher:
    """Find every catalogue phrase and emoji in a text in one regex pass.

    entries: (key, phrase, kind) with kind "phrase" (words) or "emoji" (literal sequence).
    """

    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        self._keys: list[str] = []
        self._phrases: list[str] = []
        words = _Node()
        emoji = _Node()
        seen: dict[tuple[str, str], int] = {}
        for key, phrase, kind in entries:
            if kind == "emoji":
                norm = phrase.replace("\ufe0f", "")
                root = emoji
            else:
                norm = normalize_phrase(phrase)
                root = words
            if not norm or (kind, norm) in seen:
                continue
            idx = len(self._keys)
            seen[(kind, norm)] = idx
            self._keys.append(key)
            self._phrases.append(phrase)
            node = root
            for ch in norm:
                node = node.children.setdefault(ch, _Node())
            node.end = idx
        parts = []
        if words.children:
            parts.append(f"(?<!{_WORD})(?:{self._emit(words, word=True)})")
        if emoji.children:
            parts.append(f"(?:{self._emit(emoji, word=False)})")
        self.pattern = "|".join(parts) if parts else r"(?!x)x"
        self._regex = re.compile(self.pattern)
        # named group "p<n>" is the empty end marker of phrase n; the only groups there are
        self._group_phrase = {num: int(name[1:]) for name, num in self._regex.groupindex.items()}
        self._spaced = re.compile(r"(?<![^\s])(?:[^\s] ){2,}[^\s](?![^\s])")

    def _emit(self, node: _Node, *, word: bool) -> str:
        alts = []
        # longer phrases first so "little girl" wins over "little"
        for ch in sorted(node.children, key=lambda c: (c == WILDCARD, c)):
            child = node.children[ch]
            # emoji: the variation selector U+FE0F is optional after every code point
            atom = _atom(ch) if word else re.escape(ch) + "\ufe0f?"
            alts.append(atom + self._emit(child, word=word))
        if node.end is not None:
            tail = f"(?!{_WORD})" if word else ""
            alts.append(tail + f"(?P<p{node.end}>)")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    def __len__(self) -> int:
        return len(self._keys)

    def find_folded(self, folded: str) -> Iterator[Match]:
        """Matches in already-folded text."""
        for m in self._regex.finditer(folded):
            if m.lastindex is None:
                continue
            idx = self._group_phrase[m.lastindex]
            yield Match(self._keys[idx], self._phrases[idx], m.start(), m.end())
        yield from self._find_spaced(folded)

    def _find_spaced(self, folded: str) -> Iterator[Match]:
        # "y o u n g": collapse runs of single characters and match the collapsed text,
        # mapping offsets back through the list of kept positions.
        for run in self._spaced.finditer(folded):
            positions = list(range(run.start(), run.end(), 2))
            collapsed = "".join(folded[p] for p in positions)
            for m in self._regex.finditer(collapsed):
                if m.lastindex is None:
                    continue
                idx = self._group_phrase[m.lastindex]
                yield Match(self._keys[idx], self._phrases[idx],
                            positions[m.start()], positions[m.end() - 1] + 1)

    def find(self, text: str) -> Iterator[Match]:
        return self.find_folded(fold(text))
