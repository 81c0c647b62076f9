"""Wording features: text with contact details removed, split into sentences, hashed shingles.

Pure and vectorised over batches of ads: Python only tokenises; hashing, shingling and
de-duplication run in numpy so a million ads stay within minutes.

What is removed before comparing wording, and why:
- contact details (phones, emails, handles, payment, crypto, URLs): they are strong evidence of
  their own and, worse, a shared site phone in a footer would make unrelated ads look alike;
- any token holding a digit (prices, ages, dates, post ids) becomes the slot `_n_`, and names
  and places found by extraction become `_name_`/`_loc_`: a template with different slot values
  is still the same template.
Shingles never cross sentence boundaries, so reordered sentences keep their shingles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tracelight.kinds import CONTACT
from tracelight.records import Mention

CONTACT_KINDS = frozenset(CONTACT)
SLOT_TOKENS = {"name": " _name_ ", "location": " _loc_ ", "age": " _n_ ", "price": " _n_ "}

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_AT = re.compile(r"\S*@\S*")  # emails and @handles

MIN_SENTENCE_WORDS = 3  # 1-2 word sentences ("Call me.", "Kisses") carry no authorship signal
MAX_SENTENCE_WORDS = 256
MAX_WORD_CHARS = 64
SHINGLE_WORDS = 3  # words per shingle; 3 separates a network's template from stock phrases

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xC2B2AE3D27D4EB4F)
_C3 = np.uint64(0x165667B19E3779F9)
_C4 = np.uint64(0xFF51AFD7ED558CCD)


def _powers(n: int, base: int) -> np.ndarray:
    out = np.empty(n, dtype=np.uint64)
    out[0] = 1
    with np.errstate(over="ignore"):
        for i in range(1, n):
            out[i] = out[i - 1] * np.uint64(base)
    return out


_POW = _powers(MAX_SENTENCE_WORDS, 0x100000001B3)
_CPOW = _powers(MAX_WORD_CHARS, 0x5BD1E995)

# Sentence-ending characters: . ! ? ; : newline | * ~ and the bullet.
_BOUNDARY = np.zeros(0x10000, dtype=bool)
for _ch in ".!?;:\n\r|*~\u2022":
    _BOUNDARY[ord(_ch)] = True


def _char_classes(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(word character, digit, sentence boundary) masks for lower-cased code points.

    ASCII follows `\\w`; above ASCII, letters of every script count as word characters and
    the punctuation, symbol and emoji blocks do not (an approximation of Unicode classes that
    is the same on every machine, which is what matters for comparing ads).
    """
    ascii_word = ((cp >= 48) & (cp <= 57)) | ((cp >= 97) & (cp <= 122)) | (cp == 95)
    high = cp >= 0xC0
    not_word_high = (((cp >= 0x2000) & (cp <= 0x2BFF)) | ((cp >= 0x3000) & (cp <= 0x303F))
                     | ((cp >= 0xFE00) & (cp <= 0xFE0F)) | ((cp >= 0x1F000) & (cp <= 0x1FAFF))
                     | ((cp >= 0xFF00) & (cp <= 0xFF0F)) | ((cp >= 0xFF1A) & (cp <= 0xFF20))
                     | (cp == 0xD7) | (cp == 0xF7))
    word = ascii_word | (high & ~not_word_high)
    digit = (((cp >= 48) & (cp <= 57)) | ((cp >= 0xFF10) & (cp <= 0xFF19))
             | ((cp >= 0x1D7CE) & (cp <= 0x1D7FF)) | ((cp >= 0x660) & (cp <= 0x669)))
    small = cp < 0x10000
    boundary = np.zeros(cp.size, dtype=bool)
    boundary[small] = _BOUNDARY[cp[small]]
    return word, digit, boundary


def _mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(31))
        x = x * _C4
        x ^= x >> np.uint64(33)
        x *= _C1
        x ^= x >> np.uint64(29)
    return x


_NUM = np.uint64(0x5A17_0000_0000_0001)  # the hash of every word holding a digit


def clean_field(text: str, spans: Sequence[Mention]) -> str:
    """One field, lower-cased, contact mentions blanked and slot mentions made slot tokens."""
    if spans:
        out: list[str] = []
        pos = 0
        for m in sorted(spans, key=lambda m: (m.start, -m.end)):
            if m.start < pos or m.end > len(text):
                continue
            out.append(text[pos:m.start])
            out.append(SLOT_TOKENS.get(m.kind, " "))
            pos = m.end
        out.append(text[pos:])
        text = "".join(out)
    text = text.lower()
    # cheap substring tests first: most ads have no URL or @, and the regexes cost more
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _AT.sub(" ", text)
    return text


def cleaned_text(title: str, body: str, mentions: Sequence[Mention] = ()) -> str:
    """Title and body, contact details removed and slots marked; every field ends a sentence."""
    by_field: dict[str, list[Mention]] = {"title": [], "body": []}
    for m in mentions:
        if m.field in by_field and (m.kind in CONTACT_KINDS or m.kind in SLOT_TOKENS):
            by_field[m.field].append(m)
    return (clean_field(title, by_field["title"]) + "\n"
            + clean_field(body, by_field["body"]) + "\n")


@dataclass
class _Tokens:
    h: np.ndarray  # uint64 word hashes, words of kept sentences only
    ad: np.ndarray  # ad of each word
    sent: np.ndarray  # global sentence number of each word
    start: np.ndarray  # char offset of each word in the joined text
    end: np.ndarray


def _tokenise(texts: Sequence[str]) -> _Tokens:
    """Words of many cleaned texts at once, hashed in numpy (no Python loop per word)."""
    lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts)
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    word, digit, boundary = _char_classes(cp)
    ad_start = np.zeros(cp.size, dtype=bool)
    first = np.cumsum(lens) - lens
    ad_start[first[lens > 0]] = True
    prev_word = np.zeros(cp.size, dtype=bool)
    prev_word[1:] = word[:-1]
    w_start = word & (~prev_word | ad_start)
    starts = np.nonzero(w_start)[0]
    if starts.size == 0:
        z = np.zeros(0, np.int64)
        return _Tokens(np.zeros(0, np.uint64), z, z, z, z.copy())
    wchar = np.nonzero(word)[0]
    tok_of_char = np.cumsum(w_start)[wchar] - 1
    tok_first = np.searchsorted(wchar, starts)
    pos = np.arange(wchar.size, dtype=np.int64) - tok_first[tok_of_char]
    ends = np.append(wchar[tok_first[1:] - 1], wchar[-1]) + 1
    with np.errstate(over="ignore"):
        contrib = cp[wchar].astype(np.uint64) * _CPOW[pos % MAX_WORD_CHARS]
        h = _mix(np.add.reduceat(contrib, tok_first)) | np.uint64(1)
    has_digit = np.logical_or.reduceat(digit[wchar], tok_first)
    h[has_digit] = _NUM
    sent_mark = np.cumsum(boundary | ad_start)
    sent = sent_mark[starts]
    ad = np.repeat(np.arange(len(texts), dtype=np.int64), lens)[starts]
    # keep sentences of MIN_SENTENCE_WORDS words or more
    brk = np.ones(sent.size, dtype=bool)
    brk[1:] = sent[1:] != sent[:-1]
    s_start = np.nonzero(brk)[0]
    s_len = np.diff(np.append(s_start, sent.size))
    keep = np.repeat(s_len >= MIN_SENTENCE_WORDS, s_len)
    return _Tokens(h[keep], ad[keep], sent[keep], starts[keep], ends[keep])


@dataclass
class WordingBatch:
    """Wording features of a batch of ads, columnar: ad i owns rows offsets[i]:offsets[i+1]."""

    shingles: np.ndarray  # uint32, sorted and unique within each ad
    shingle_offsets: np.ndarray  # int64, len n_ads + 1
    sentences: np.ndarray  # uint64 sentence hashes, unique within each ad
    sentence_offsets: np.ndarray  # int64, len n_ads + 1


def _segments_unique(ad_of: np.ndarray, values: np.ndarray, n_ads: int,
                     bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort values within each ad and drop repeats; return (values, offsets)."""
    if values.size == 0:
        return values, np.zeros(n_ads + 1, dtype=np.int64)
    if bits == 32:
        key = np.sort((ad_of.astype(np.uint64) << np.uint64(32)) | values.astype(np.uint64))
        keep = np.ones(key.size, dtype=bool)
        keep[1:] = key[1:] != key[:-1]
        key = key[keep]
        ad_sorted = (key >> np.uint64(32)).astype(np.int64)
        vals = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    else:
        order = np.lexsort((values, ad_of))
        ad_sorted = ad_of[order]
        vals = values[order]
        keep = np.ones(vals.size, dtype=bool)
        keep[1:] = (vals[1:] != vals[:-1]) | (ad_sorted[1:] != ad_sorted[:-1])
        vals, ad_sorted = vals[keep], ad_sorted[keep]
    counts = np.bincount(ad_sorted, minlength=n_ads)
    offsets = np.zeros(n_ads + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return vals, offsets


def wording_batch(texts: Sequence[str]) -> WordingBatch:
    """Hash the sentences and word shingles of many cleaned texts (see cleaned_text) at once."""
    n = len(texts)
    tk = _tokenise(texts)
    h = tk.h
    if h.size == 0:
        empty = np.zeros(n + 1, dtype=np.int64)
        return WordingBatch(np.zeros(0, np.uint32), empty, np.zeros(0, np.uint64), empty.copy())
    brk = np.ones(h.size, dtype=bool)
    brk[1:] = tk.sent[1:] != tk.sent[:-1]
    starts = np.nonzero(brk)[0]
    sent_ad = tk.ad[starts]
    sent_idx = np.cumsum(brk) - 1
    pos = (np.arange(h.size, dtype=np.int64) - starts[sent_idx]) % MAX_SENTENCE_WORDS
    with np.errstate(over="ignore"):
        sent_hash = np.add.reduceat(h * _POW[pos], starts)
        k = SHINGLE_WORDS - 1
        valid = np.zeros(h.size, dtype=bool)
        if h.size > k:
            valid[:-k] = sent_idx[:-k] == sent_idx[k:]
        idx = np.nonzero(valid)[0]
        x: np.ndarray = h[idx] * _C1 + h[idx + 1] * _C2
        if SHINGLE_WORDS == 3:
            x += h[idx + 2] * _C3
        x = _mix(x)
    sh = (x >> np.uint64(32)).astype(np.uint32)
    shingles, sh_off = _segments_unique(tk.ad[idx], sh, n, 32)
    sents, se_off = _segments_unique(sent_ad, sent_hash, n, 64)
    return WordingBatch(shingles, sh_off, sents, se_off)


def sentence_text(title: str, body: str, mentions: Sequence[Mention],
                  wanted: int) -> str | None:
    """The (cleaned) text of the ad's sentence whose hash is `wanted`, for hub reports."""
    text = cleaned_text(title, body, mentions)
    tk = _tokenise([text])
    if tk.h.size == 0:
        return None
    brk = np.ones(tk.h.size, dtype=bool)
    brk[1:] = tk.sent[1:] != tk.sent[:-1]
    bounds = np.append(np.nonzero(brk)[0], tk.h.size)
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        pos = np.arange(b - a) % MAX_SENTENCE_WORDS
        with np.errstate(over="ignore"):
            h = int(np.add.reduce(tk.h[a:b] * _POW[pos]))
        if h == wanted:
            return " ".join(text[s:e] for s, e in zip(tk.start[a:b].tolist(),
                                                       tk.end[a:b].tolist(), strict=True))
    return None
