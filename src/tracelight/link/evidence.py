"""Evidence that two ads come from the same network, with its strength.

strong  - the same phone, email, social or payment handle, crypto address, or image (exact
          sha256, or a near-duplicate by PDQ);
medium  - near-duplicate wording once contact details are removed (`wording`), or the same
          template with only the slots (names, places, numbers) changed (`template`); the
          linker lets it join two groups whose contacts disagree only when the ads share a
          name (or the text has at most two small writers): see docs/networks.md;
weak    - the same writing style, or the same name in the same city within a few days.
          Shown to the analyst, never used to merge: common names and popular cities would
          otherwise join strangers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tracelight.link import minhash
from tracelight.link.features import IMAGE_KIND, IMAGE_NEAR_KIND, LinkAd
from tracelight.link.text import cleaned_text, wording_batch

STRONG, MEDIUM, WEAK = "strong", "medium", "weak"
WEAK_DAYS = 7  # "overlapping dates": posted within a week of each other


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # phone, email, social, payment, crypto, image, image_near, wording, template,
    #            name_city, style
    value: str
    strength: str
    ad_ids: tuple[str, ...]
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "value": self.value,
                               "strength": self.strength, "ad_ids": list(self.ad_ids)}
        if self.score is not None:
            out["score"] = round(float(self.score), 3)
        return out


def strength_of(kind: str) -> str:
    if kind in ("wording", "template", "author", "wallet_owner", "room"):
        return MEDIUM
    if kind in ("name_city", "style"):
        return WEAK
    return STRONG


# ---- images ------------------------------------------------------------------------------

def _pdq_bits(hexes: Sequence[str]) -> np.ndarray:
    """PDQ hex strings to an (n, 4) uint64 array."""
    out = np.zeros((len(hexes), 4), dtype=np.uint64)
    for i, h in enumerate(hexes):
        for j in range(4):
            out[i, j] = int(h[16 * j:16 * (j + 1)], 16)
    return out


def pdq_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_duplicate_pdq_pairs(hashes: Sequence[str], threshold: int,
                             max_bucket: int = 200) -> list[tuple[int, int]]:
    """Pairs (i, j) of PDQ hashes within `threshold` bits.

    Candidates share one of sixteen 16-bit chunks (every pair within 15 bits does, by the
    pigeonhole principle; most within 31 do), then the full distance is checked.
    """
    n = len(hashes)
    if n < 2:
        return []
    bits = _pdq_bits(hashes)
    chunks = np.concatenate([(bits[:, j // 4] >> np.uint64(16 * (j % 4))) & np.uint64(0xFFFF)
                             for j in range(4 * 4)]).astype(np.int64)
    which = np.repeat(np.arange(16, dtype=np.int64), n)
    items = np.tile(np.arange(n, dtype=np.int64), 16)
    key = which * 65536 + chunks
    a, b = minhash.bucket_pairs(key, items, max_bucket)
    if a.size == 0:
        return []
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    uniq = minhash.unique_sorted(lo * n + hi)
    lo, hi = uniq // n, uniq % n
    x = bits[lo] ^ bits[hi]
    dist = np.bitwise_count(x).sum(axis=1)
    keep = (dist <= threshold) & (lo != hi)
    return list(zip(lo[keep].tolist(), hi[keep].tolist(), strict=True))


PairFinder = Callable[[Sequence[str], int], list[tuple[int, int]]]


def _default_finder() -> PairFinder:
    """The images package's exact PDQ range index when installed, else the built-in search."""
    try:
        from tracelight.images.pdqindex import PdqIndex, pack_hashes
    except ImportError:  # pragma: no cover - the images stage is optional
        return near_duplicate_pdq_pairs

    def find(hashes: Sequence[str], threshold: int) -> list[tuple[int, int]]:
        if len(hashes) < 2:
            return []
        packed = pack_hashes(hashes)
        hits = PdqIndex(packed).search(packed, threshold)
        return [(i, j) for i, found in enumerate(hits) for j, _d in found if j > i]

    return find


def pdq_groups(pdqs: Sequence[str], threshold: int,
               finder: PairFinder | None = None) -> dict[str, str]:
    """Each PDQ hash -> a representative of its near-duplicate group (smallest hash)."""
    distinct = sorted(set(pdqs))
    pairs = (finder or _default_finder())(distinct, threshold)
    parent = list(range(len(distinct)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return {h: distinct[find(i)] for i, h in enumerate(distinct)}


# ---- wording -----------------------------------------------------------------------------

def wording_pairs(sig: np.ndarray, usable: np.ndarray, shingles: np.ndarray,
                  offsets: np.ndarray, *, bands: int, rows: int, threshold: float,
                  prefilter: float, max_bucket: int, short: np.ndarray | None = None,
                  city: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ad pairs whose wording Jaccard is >= threshold: (a, b, exact Jaccard), a < b.

    LSH proposes candidates, the MinHash estimate drops clear misses (< prefilter), and the
    exact Jaccard decides: on stock-phrase corpora strangers reach estimated 0.3 by chance.
    short/city (per row): a candidate holding a `short` row (too little distinctive wording
    to stand alone) is kept only when both rows name the same city (-1: none), the only
    case its edge could join (contradiction.py); short sets collide often in LSH, so this
    drops most candidates before the estimate.
    """
    a, b = minhash.lsh_pairs(sig, usable, bands, rows, max_bucket)
    if short is not None and city is not None and a.size:
        keep = ~(short[a] | short[b]) | ((city[a] == city[b]) & (city[a] >= 0))
        a, b = a[keep], b[keep]
    return verify_pairs(sig, shingles, offsets, a, b, threshold=threshold, prefilter=prefilter)


def verify_pairs(sig: np.ndarray, shingles: np.ndarray, offsets: np.ndarray, a: np.ndarray,
                 b: np.ndarray, *, threshold: float, prefilter: float,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidate pairs (a[i], b[i]) whose wording holds: the MinHash estimate drops clear
    misses (< prefilter), the exact Jaccard (>= threshold) decides; (a, b, exact Jaccard)."""
    if a.size == 0:
        return a, b, np.zeros(0, np.float32)
    est = minhash.estimate(sig, a, b)
    keep = est >= prefilter
    a, b = a[keep], b[keep]
    exact = minhash.exact_jaccard(shingles, offsets, a, b)
    keep = exact >= threshold
    return a[keep], b[keep], exact[keep]


def wording_kind(score: float, template_threshold: float) -> str:
    """A near-identical skeleton (after slots are blanked) is the same template."""
    return "template" if score >= template_threshold else "wording"


# ---- comparing two ads (for `tracelight similar`) ----------------------------------------

def shingle_set(ad: LinkAd) -> set[int]:
    wb = wording_batch([cleaned_text(ad.title, ad.body, ad.mentions)])
    return set(wb.shingles.tolist())


def jaccard(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


_STYLE_FEATURES = (
    re.compile(r"[A-Z]"), re.compile(r"!"), re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]"),
    re.compile(r"\.\.\.|…"), re.compile(r"\s{2,}"), re.compile(r"[~*♡♥★☆]"),
    re.compile(r"\b(?:u|ur|r|pls|plz|luv|xoxo)\b", re.IGNORECASE),
)


def style_vector(text: str) -> np.ndarray:
    """A small writing-style profile: rates of capitals, exclamations, emoji, ellipses..."""
    n = max(len(text), 1)
    v = np.array([len(p.findall(text)) / n * 100 for p in _STYLE_FEATURES], dtype=np.float64)
    words = text.split()
    v = np.append(v, (sum(len(w) for w in words) / len(words)) if words else 0.0)
    return v


def style_similarity(a: str, b: str) -> float:
    va, vb = style_vector(a), style_vector(b)
    na, nb = np.linalg.norm(va), np.linalg.norm(vb)
    if na == 0 or nb == 0:
        return 0.0
    return float(va @ vb / (na * nb))


def shingle_sets(ads: Sequence[LinkAd]) -> list[set[int]]:
    """Wording shingle sets of many ads in one vectorised pass."""
    wb = wording_batch([cleaned_text(ad.title, ad.body, ad.mentions) for ad in ads])
    off = wb.shingle_offsets
    return [set(wb.shingles[off[i]:off[i + 1]].tolist()) for i in range(len(ads))]


def compare(a: LinkAd, b: LinkAd, *, a_shingles: set[int] | None = None,
            b_shingles: set[int] | None = None, wording_threshold: float = 0.3,
            template_threshold: float = 0.8, pdq_threshold: int = 31,
            hubs: set[tuple[str, str]] | frozenset[Any] = frozenset(),
            style_threshold: float = 0.995, style: bool = True) -> list[Evidence]:
    """Every reason that links ad `a` to ad `b`, strongest first. Hub values are not reasons."""
    ids = (a.key, b.key)
    out: list[Evidence] = []
    shared = set(a.identifiers()) & set(b.identifiers())
    for kind, value in sorted(shared):
        if (kind, value) not in hubs:
            out.append(Evidence(kind, value, STRONG, ids))
    for pa in a.image_pdq:
        for pb in b.image_pdq:
            d = pdq_distance(pa, pb)
            if 0 < d <= pdq_threshold:
                out.append(Evidence(IMAGE_NEAR_KIND, f"{pa[:16]}… ~ {pb[:16]}… ({d} bits)",
                                    STRONG, ids, score=1 - d / 256))
    sa = a_shingles if a_shingles is not None else shingle_set(a)
    j = jaccard(sa, b_shingles if b_shingles is not None else shingle_set(b))
    if j >= wording_threshold:
        kind = wording_kind(j, template_threshold)
        out.append(Evidence(kind, f"{j:.0%} of wording shingles shared", MEDIUM, ids, score=j))
    an, bn = set(a.names()), set(b.names())
    ca, cb = a.city(), b.city()
    if an & bn and ca and cb and ca.casefold() == cb.casefold() and a.posted_at and b.posted_at:
        days = abs((a.posted_at - b.posted_at).total_seconds()) / 86400
        if days <= WEAK_DAYS:
            name = sorted(an & bn)[0]
            out.append(Evidence("name_city", f"{name} in {ca}, {days:.0f} days apart", WEAK,
                                ids))
    s = style_similarity(a.title + "\n" + a.body, b.title + "\n" + b.body) if style else 0.0
    if s >= style_threshold:
        out.append(Evidence("style", f"writing style {s:.3f} alike", WEAK, ids, score=s))
    return out


def similarity_score(evidence: Sequence[Evidence]) -> float:
    """Order `similar` results: strong > medium > weak, then by score."""
    total = 0.0
    for e in evidence:
        if e.strength == STRONG:
            total += 10.0
        elif e.strength == MEDIUM:
            total += 5.0 * (e.score or 0.5)
        else:
            total += 0.5 * (e.score or 1.0)
    return round(total, 4) if not math.isnan(total) else 0.0


__all__ = ["IMAGE_KIND", "IMAGE_NEAR_KIND", "MEDIUM", "STRONG", "WEAK", "Evidence", "compare",
           "jaccard", "near_duplicate_pdq_pairs", "pdq_groups", "shingle_set",
           "similarity_score", "style_similarity", "wording_pairs"]
