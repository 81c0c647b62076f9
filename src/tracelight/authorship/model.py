"""The same-author pair classifier, candidate blocking, and its evaluation.

A pair of ads becomes a vector of agreements (cosine of character and word n-grams, IDF-weighted
overlap of words, emoji overlap, per-habit differences); a logistic regression says how likely
one person wrote both. The threshold is the lowest score whose false-positive rate on held-out
pairs stays at or under 1%. Candidates come from each ad's k nearest neighbours by style
vector (at most k per ad, never all pairs); MinHash LSH (datasketch) is the sub-quadratic
alternative. The model is saved as strict JSON (coefficients, scaler, threshold):
no pickle is ever loaded.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler, normalize

from tracelight.authorship.features import (
    HABIT_NAMES,
    N_HABITS,
    StyleMatrix,
    emoji_set,
    word_set,
)

MODEL_FORMAT = "tracelight-authorship-1"
PAIR_NAMES: tuple[str, ...] = ("char_cosine", "word_cosine", "idf_cosine", "rare_word_overlap",
                               "emoji_overlap", *(f"habit_diff:{n}" for n in HABIT_NAMES),
                               *(f"habit_both:{n}" for n in HABIT_NAMES))


class ModelFormatError(ValueError):
    """A model file that is not a tracelight authorship model."""


@dataclass(frozen=True, slots=True)
class PairScore:
    i: int
    j: int
    score: float  # calibrated probability that one person wrote both
    matched: tuple[str, ...]  # the habits that agree, for people


@dataclass
class Corpus:
    """A featurised batch plus the word document frequencies rare-word overlap needs."""

    style: StyleMatrix
    words: list[frozenset[str]] = field(default_factory=list)
    emoji: list[frozenset[str]] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    idf_sum: list[float] = field(default_factory=list)
    weighted: sparse.csr_matrix | None = None  # IDF-weighted char + word n-grams, l2

    @classmethod
    def of(cls, style: StyleMatrix) -> Corpus:
        words = [word_set(m) for m in style.masked]
        df: Counter[str] = Counter()
        for ws in words:
            df.update(ws)
        n = max(len(words), 1)
        idf = {w: math.log((n + 1) / (c + 1)) for w, c in df.items()}
        return cls(style, words, [emoji_set(m) for m in style.masked], idf,
                   [sum(idf[w] for w in ws) for ws in words], weighted(style))


def weighted(style: StyleMatrix) -> sparse.csr_matrix:
    """IDF-weighted (within the batch) character and word n-grams, l2-normalised: n-grams
    every ad shares (stock phrases, the site's template) count little."""
    if len(style) == 0:
        return sparse.csr_matrix((0, 1))
    x = sparse.hstack([TfidfTransformer(sublinear_tf=True).fit_transform(style.chars),
                       TfidfTransformer(sublinear_tf=True).fit_transform(style.words)])
    return sparse.csr_matrix(normalize(sparse.csr_matrix(x)))


def _overlap(c: Corpus, i: int, j: int) -> float:
    shared = c.words[i] & c.words[j]
    if not shared:
        return 0.0
    idf = c.idf
    num = sum(idf.get(w, 0.0) for w in shared)
    den = c.idf_sum[i] + c.idf_sum[j] - num
    return num / den if den > 0 else 1.0


def _rare_shared(c: Corpus, i: int, j: int, k: int = 5) -> list[str]:
    shared = c.words[i] & c.words[j]
    return sorted(shared, key=lambda w: (-c.idf.get(w, 0.0), w))[:k]


def pair_features(c: Corpus, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """(len(pairs), len(PAIR_NAMES)) agreement vectors."""
    out = np.zeros((len(pairs), len(PAIR_NAMES)))
    if not pairs:
        return out
    ii = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    jj = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
    s = c.style
    out[:, 0] = np.asarray(s.chars[ii].multiply(s.chars[jj]).sum(axis=1)).ravel()
    out[:, 1] = np.asarray(s.words[ii].multiply(s.words[jj]).sum(axis=1)).ravel()
    w = c.weighted if c.weighted is not None else weighted(s)
    out[:, 2] = np.asarray(w[ii].multiply(w[jj]).sum(axis=1)).ravel()
    for r, (i, j) in enumerate(pairs):
        out[r, 3] = _overlap(c, i, j)
        ea, eb = c.emoji[i], c.emoji[j]
        out[r, 4] = len(ea & eb) / len(ea | eb) if ea | eb else 0.5
    out[:, 5:5 + N_HABITS] = np.abs(s.habits[ii] - s.habits[jj])
    # presence agreement: 1 both use it, -1 one of the two, 0 neither
    pa, pb = s.habits[ii] > 0, s.habits[jj] > 0
    out[:, 5 + N_HABITS:] = (pa & pb).astype(np.float64) - (pa ^ pb).astype(np.float64)
    return out


def explain(c: Corpus, i: int, j: int, feats: np.ndarray, scale: np.ndarray) -> tuple[str, ...]:
    """What agrees between two ads, in words: shared rare words, shared emoji, close habits."""
    out: list[str] = []
    rare = _rare_shared(c, i, j)
    if rare:
        out.append("shared wording: " + ", ".join(rare))
    emo = sorted(c.emoji[i] & c.emoji[j])
    if emo:
        out.append("same emoji: " + " ".join(emo[:6]))
    out.append(f"character n-gram cosine {feats[0]:.2f}")
    close = []
    hi, hj = c.style.habits[i], c.style.habits[j]
    for k, name in enumerate(HABIT_NAMES):
        if (hi[k] > 0 or hj[k] > 0) and abs(hi[k] - hj[k]) < 0.1 * max(scale[k], 1e-9) \
                and not name.startswith("fw:"):
            close.append(name)
    if close:
        out.append("same habits: " + ", ".join(close[:6]))
    return tuple(out)


# ---- candidates ---------------------------------------------------------------------------
def _shingles(masked: str, k: int = 5) -> set[bytes]:
    low = " ".join(masked.lower().split())
    return {low[p:p + k].encode("utf-8", "surrogatepass") for p in range(max(len(low) - k + 1, 1))}


def candidate_pairs(style: StyleMatrix, *, k: int = 20, chunk: int = 256,
                    x: sparse.csr_matrix | None = None) -> list[tuple[int, int]]:
    """Pairs (i < j) where j is among i's `k` nearest neighbours (or i among j's) by cosine of
    the IDF-weighted character and word n-gram vectors.

    Never all pairs are classified: each ad brings at most `k` candidates. The neighbour
    search itself is a chunked sparse product (exact k-NN), `chunk` rows at a time, so memory
    stays at `chunk` x n floats.
    """
    n = len(style)
    if n < 2:
        return []
    k = max(1, min(k, n - 1))
    if x is None:
        x = weighted(style)
    xt = x.T.tocsc()
    out: set[tuple[int, int]] = set()
    for s in range(0, n, chunk):
        sims = (x[s:s + chunk] @ xt).toarray()
        rows = np.arange(sims.shape[0])
        sims[rows, s + rows] = -1.0
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for r in range(sims.shape[0]):
            i = s + r
            for j in idx[r].tolist():
                if sims[r, j] > 0:
                    out.add((min(i, j), max(i, j)))
    return sorted(out)


def lsh_candidate_pairs(style: StyleMatrix, *, threshold: float = 0.15, num_perm: int = 64,
                        max_bucket: int = 200) -> list[tuple[int, int]]:
    """Pairs whose masked texts' character 5-gram sets MinHash LSH (datasketch) finds at least
    `threshold` alike: sub-quadratic, but on ads that share little literal text it finds
    fewer same-author pairs than `candidate_pairs` (bench authorship prints both)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sigs: list[MinHash] = []
    for n, m in enumerate(style.masked):
        mh = MinHash(num_perm=num_perm, seed=1)
        mh.update_batch(list(_shingles(m)))
        sigs.append(mh)
        lsh.insert(n, mh, check_duplication=False)
    out: set[tuple[int, int]] = set()
    for n, mh in enumerate(sigs):
        hits = [h for h in lsh.query(mh) if h != n]
        if len(hits) > max_bucket:
            hits.sort(key=lambda h: -mh.jaccard(sigs[h]))
            hits = hits[:max_bucket]
        for h in hits:
            out.add((min(n, h), max(n, h)))
    return sorted(out)


# ---- the model ----------------------------------------------------------------------------
@dataclass
class AuthorModel:
    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float = 0.5
    stats: dict[str, Any] = field(default_factory=dict)

    def scores(self, feats: np.ndarray) -> np.ndarray:
        if feats.shape[0] == 0:
            return np.zeros(0)
        z = (feats - self.mean) / self.scale
        logit = np.clip(z @ self.coef + self.intercept, -50, 50)
        return np.asarray(1.0 / (1.0 + np.exp(-logit)))

    def score_pairs(self, c: Corpus, pairs: Sequence[tuple[int, int]],
                    min_score: float | None = None) -> list[PairScore]:
        feats = pair_features(c, pairs)
        sc = self.scores(feats)
        floor = self.threshold if min_score is None else min_score
        habit_scale = self.scale[5:5 + N_HABITS]
        return [PairScore(i, j, float(s), explain(c, i, j, feats[r], habit_scale))
                for r, ((i, j), s) in enumerate(zip(pairs, sc, strict=True)) if s >= floor]

    def to_json(self) -> str:
        return json.dumps({"format": MODEL_FORMAT, "features": list(PAIR_NAMES),
                           "coef": self.coef.tolist(), "intercept": self.intercept,
                           "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                           "threshold": self.threshold, "stats": self.stats},
                          allow_nan=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> AuthorModel:
        try:
            d = json.loads(text)
        except ValueError as exc:
            raise ModelFormatError(f"not JSON: {exc}") from None
        if not isinstance(d, dict) or d.get("format") != MODEL_FORMAT:
            raise ModelFormatError(f"not a {MODEL_FORMAT} model")
        if d.get("features") != list(PAIR_NAMES):
            raise ModelFormatError("model features differ from this tracelight version's")
        try:
            arrays = [np.asarray(d[k], dtype=np.float64) for k in ("coef", "mean", "scale")]
            intercept, threshold = float(d["intercept"]), float(d["threshold"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"bad model field: {exc}") from None
        if any(a.shape != (len(PAIR_NAMES),) or not np.isfinite(a).all() for a in arrays) \
                or not (math.isfinite(intercept) and 0.0 <= threshold <= 1.0) \
                or (arrays[2] <= 0).any():
            raise ModelFormatError("model arrays have the wrong shape or values")
        raw = d.get("stats")
        stats: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
        return cls(arrays[0], intercept, arrays[1], arrays[2], threshold, stats)


def training_pairs(authors: Sequence[str], candidates: Iterable[tuple[int, int]], *,
                   seed: int = 0, per_author: int = 40,
                   negatives: int = 4) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Labelled pairs: same-author pairs (sampled per author), candidate pairs by different
    authors (hard negatives), and random different-author pairs."""
    rng = random.Random(seed)
    by_author: dict[str, list[int]] = {}
    for n, a in enumerate(authors):
        if a:
            by_author.setdefault(a, []).append(n)
    pos: set[tuple[int, int]] = set()
    for members in by_author.values():
        all_pairs = [(a, b) for k, a in enumerate(members) for b in members[k + 1:]]
        rng.shuffle(all_pairs)
        pos.update(all_pairs[:per_author])
    neg: set[tuple[int, int]] = {(i, j) for i, j in candidates
                                 if authors[i] != authors[j] or not authors[i]}
    n = len(authors)
    want = len(pos) * negatives
    tries = 0
    while len(neg) < want and n > 1 and tries < want * 10:
        tries += 1
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j and (authors[i] != authors[j] or not authors[i]):
            neg.add((min(i, j), max(i, j)))
    pairs = sorted(pos) + sorted(neg)
    labels = np.array([1] * len(pos) + [0] * len(neg), dtype=np.int64)
    return pairs, labels


def fit(c: Corpus, pairs: Sequence[tuple[int, int]], labels: np.ndarray) -> AuthorModel:
    """Train the logistic pair model (threshold 0.5 until `calibrate_threshold`)."""
    feats = pair_features(c, pairs)
    if len(set(labels.tolist())) < 2:
        raise ValueError("training needs both same-author and different-author pairs")
    scaler = StandardScaler().fit(feats)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    clf.fit((feats - scaler.mean_) / scale, labels)
    return AuthorModel(clf.coef_[0].astype(np.float64), float(clf.intercept_[0]),
                       scaler.mean_.astype(np.float64), scale.astype(np.float64))


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float) -> tuple[float, float]:
    """(TPR, threshold) at the lowest threshold whose FPR is <= fpr."""
    neg = np.sort(scores[labels == 0])[::-1]
    pos = scores[labels == 1]
    if pos.size == 0:
        return 0.0, 1.0
    allowed = math.floor(fpr * neg.size)
    if neg.size == 0:
        thr = float(pos.min())
    elif allowed >= neg.size:
        thr = 0.0
    else:
        thr = float(np.nextafter(neg[allowed], 2.0))
    return float((pos >= thr).mean()), min(thr, 1.0)


def r_precision(c: Corpus, model: AuthorModel, authors: Sequence[str],
                queries: Sequence[int]) -> float:
    """Mean R-precision: for each query ad, rank every other ad by score; R = ads by the
    same author; the share of the top R that are."""
    n = len(authors)
    vals: list[float] = []
    for q in queries:
        others = [k for k in range(n) if k != q]
        r = sum(1 for k in others if authors[k] == authors[q])
        if r == 0:
            continue
        sc = model.scores(pair_features(c, [(q, k) for k in others]))
        top = np.argsort(-sc, kind="stable")[:r]
        vals.append(sum(1 for t in top if authors[others[t]] == authors[q]) / r)
    return float(np.mean(vals)) if vals else 0.0
