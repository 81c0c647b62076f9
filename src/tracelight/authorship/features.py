"""Stylometric features of one ad, with identifiers masked first.

Authors rotate phones, emails and handles; what they keep is how they write. Every contact the
extractor finds (phones, emails, URLs, social/payment handles, crypto addresses) is replaced by a
placeholder *before* featurising, so two ads that share a phone gain nothing here and two ads
by one person with different phones lose nothing. Digits left over are folded to `0`.

Features of one ad (`Style`):
- character 2-4-grams of the masked text (hashed, TF weighted, l2-normalised): spelling quirks,
  favourite phrases, emoji and punctuation runs all show up here;
- word 1-2-grams (hashed): phrases and slang;
- a dense "habits" vector: function-word frequencies, punctuation and emoji rates,
  capitalisation profile, layout (lines, bullets, blank lines, line length).

Pure functions: no store, web or CLI imports. Never raises on any text; deterministic.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from tracelight.extract import extract_text

MASK_KINDS = ("phone", "email", "url", "social", "payment", "crypto")
PLACEHOLDER = {"phone": "\u2460", "email": "\u2461", "url": "\u2462", "social": "\u2463",
               "payment": "\u2463", "crypto": "\u2464"}
MAX_CHARS = 20_000  # style lives in the first few thousand characters; caps the cost

FUNCTION_WORDS = (
    "a", "an", "the", "and", "or", "but", "so", "if", "to", "of", "in", "on", "at", "for",
    "with", "by", "from", "up", "about", "i", "me", "my", "you", "your", "u", "ur", "we",
    "our", "it", "is", "am", "are", "be", "was", "will", "can", "just", "very", "really",
    "all", "no", "not", "im", "dont", "here", "now", "come", "let", "get", "this", "that",
)
_FW_INDEX = {w: i for i, w in enumerate(FUNCTION_WORDS)}
PUNCT = ".!?,;:~*-_()[]/&+#'\"\u2026\u2022"
_PUNCT_INDEX = {c: i for i, c in enumerate(PUNCT)}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_DIGITS = re.compile(r"\d")

HABIT_NAMES: tuple[str, ...] = (
    *(f"fw:{w}" for w in FUNCTION_WORDS),
    *(f"punct:{c}" for c in PUNCT),
    "emoji_rate", "upper_ratio", "allcaps_words", "title_words", "lower_start_lines",
    "lines", "blank_lines", "bullet_lines", "mean_line_len", "repeat_punct", "space_before_punct",
    "double_space", "word_len", "digits",
)
N_HABITS = len(HABIT_NAMES)

_CHAR = HashingVectorizer(analyzer="char", ngram_range=(2, 4), n_features=2 ** 18,
                          alternate_sign=False, lowercase=False, norm="l2")
_WORDS = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=2 ** 18,
                           alternate_sign=False, lowercase=True, norm="l2",
                           token_pattern=r"(?u)[^\s]+")


def is_emoji(ch: str) -> bool:
    """Pictographs and symbols (So) outside the placeholder range."""
    return unicodedata.category(ch) == "So" and ch not in PLACEHOLDER.values()


def mask(text: str, region: str = "US") -> str:
    """The text with every contact the extractor finds replaced by one placeholder character
    per contact, and remaining digits folded to 0. Never raises."""
    text = (text or "")[:MAX_CHARS]
    try:
        found = extract_text(text, "body", region, kinds=MASK_KINDS)
    except Exception:
        found = []
    spans = sorted(((m.start, m.end, m.kind) for m in found), key=lambda s: (s[0], -s[1]))
    out: list[str] = []
    pos = 0
    for start, end, kind in spans:
        if start < pos or end <= start:
            continue
        out.append(text[pos:start])
        out.append(PLACEHOLDER.get(kind, "\u2465"))
        pos = end
    out.append(text[pos:])
    return _DIGITS.sub("0", "".join(out))


def habits(masked: str) -> np.ndarray:
    """The dense habit vector of a masked text (see HABIT_NAMES)."""
    v = np.zeros(N_HABITS, dtype=np.float64)
    n_chars = max(len(masked), 1)
    words = _WORD.findall(masked)
    low_words = [w.lower() for w in words]
    n_words = max(len(words), 1)
    for w in low_words:
        i = _FW_INDEX.get(w)
        if i is not None:
            v[i] += 1.0
    v[:len(FUNCTION_WORDS)] /= n_words
    base = len(FUNCTION_WORDS)
    emoji = upper = letters = digits = 0
    for ch in masked:
        i = _PUNCT_INDEX.get(ch)
        if i is not None:
            v[base + i] += 1.0
        elif ch.isalpha():
            letters += 1
            upper += ch.isupper()
        elif ch.isdigit():
            digits += 1
        elif is_emoji(ch):
            emoji += 1
    v[base:base + len(PUNCT)] *= 100.0 / n_chars
    k = base + len(PUNCT)
    lines = masked.split("\n")
    nonblank = [ln for ln in lines if ln.strip()]
    v[k] = 100.0 * emoji / n_chars
    v[k + 1] = upper / max(letters, 1)
    v[k + 2] = sum(1 for w in words if len(w) > 1 and w.isupper()) / n_words
    v[k + 3] = sum(1 for w in words if w[:1].isupper() and not w.isupper()) / n_words
    v[k + 4] = sum(1 for ln in nonblank if ln.lstrip()[:1].islower()) / max(len(nonblank), 1)
    v[k + 5] = math.log1p(len(nonblank))
    v[k + 6] = (len(lines) - len(nonblank)) / max(len(lines), 1)
    v[k + 7] = sum(1 for ln in nonblank if ln.lstrip()[:1] in "-*\u2022>~"
                   or is_emoji(ln.lstrip()[:1] or " ")) / max(len(nonblank), 1)
    v[k + 8] = math.log1p(sum(len(ln) for ln in nonblank) / max(len(nonblank), 1))
    v[k + 9] = 100.0 * len(re.findall(r"([!?.~*])\1", masked)) / n_chars
    v[k + 10] = 100.0 * len(re.findall(r" [!?.,]", masked)) / n_chars
    v[k + 11] = 100.0 * masked.count("  ") / n_chars
    v[k + 12] = sum(len(w) for w in words) / n_words / 10.0
    v[k + 13] = 100.0 * digits / n_chars
    return v


@dataclass(frozen=True, slots=True)
class StyleMatrix:
    """Style features of a batch of ads, row i for ad i."""

    chars: sparse.csr_matrix  # hashed char 2-4-grams, l2-normalised
    words: sparse.csr_matrix  # hashed word 1-2-grams, l2-normalised
    habits: np.ndarray  # (n, N_HABITS)
    masked: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.masked)


def featurise(texts: Sequence[str], region: str = "US") -> StyleMatrix:
    """Style features of every text (masked first). Never raises; deterministic."""
    masked = tuple(mask(t, region) for t in texts)
    if not masked:
        empty = sparse.csr_matrix((0, 2 ** 18))
        return StyleMatrix(empty, empty, np.zeros((0, N_HABITS)), ())
    chars = sparse.csr_matrix(_CHAR.transform(masked))
    words = sparse.csr_matrix(_WORDS.transform(masked))
    hab = np.vstack([habits(m) for m in masked])
    return StyleMatrix(chars, words, hab, masked)


def emoji_set(masked: str) -> frozenset[str]:
    return frozenset(ch for ch in masked if is_emoji(ch))


def word_set(masked: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(masked))
