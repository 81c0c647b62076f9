"""Pairwise precision and recall of a partition against planted truth.

A pair of ads is "linked" when both are in the same predicted network; it is correct when
both carry the same (non-null) truth network id. Counted from contingency sizes, never by
enumerating pairs, so a million ads cost nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PairScores:
    precision: float
    recall: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    def to_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "predicted_pairs": self.predicted_pairs, "true_pairs": self.true_pairs,
                "correct_pairs": self.correct_pairs}


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(predicted: Mapping[str, str | None],
                    truth: Mapping[str, str | None]) -> PairScores:
    """predicted/truth: ad key -> network id (None = alone). Keys missing from either: alone."""
    pred_sizes = Counter(v for v in predicted.values() if v is not None)
    true_sizes = Counter(v for v in truth.values() if v is not None)
    both = Counter((predicted.get(k), t) for k, t in truth.items()
                   if t is not None and predicted.get(k) is not None)
    pp = sum(_pairs(c) for c in pred_sizes.values())
    tp = sum(_pairs(c) for c in true_sizes.values())
    cp = sum(_pairs(c) for c in both.values())
    return PairScores(precision=cp / pp if pp else 1.0, recall=cp / tp if tp else 1.0,
                      predicted_pairs=pp, true_pairs=tp, correct_pairs=cp)


BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("2-5", 2, 5), ("6-20", 6, 20), ("21-100", 21, 100), (">100", 101, 1 << 62))


def bucket_scores(predicted: Mapping[str, str | None], truth: Mapping[str, str | None],
                  ) -> dict[str, dict[str, float | int]]:
    """Pairwise precision/recall per true network size bucket, and the singletons' fate.

    Recall of a bucket: its true pairs found. Precision of a bucket: of the predicted pairs
    that hold at least one ad of a true network in the bucket, the share inside one true
    network (a pair across two buckets counts as wrong in both). "singletons": ads alone in
    truth (None, or a network of one) - how many share a predicted network with another ad.
    """
    true_sizes = Counter(v for v in truth.values() if v is not None)

    def bucket_of_size(size: int) -> str:
        if size < 2:
            return "singletons"
        return next(name for name, lo, hi in BUCKETS if lo <= size <= hi)

    def bucket_of(k: str) -> str:
        t = truth.get(k)
        return bucket_of_size(true_sizes[t] if t is not None else 1)

    members: dict[str, list[str]] = {}
    for k, p in predicted.items():
        if p is not None:
            members.setdefault(p, []).append(k)
    names = [b[0] for b in BUCKETS]
    pred_pairs = Counter[str]()
    correct = Counter[str]()
    wrong_singletons = 0
    for ks in members.values():
        if len(ks) < 2:
            continue
        in_bucket = Counter(bucket_of(k) for k in ks)
        per_net = Counter(t for t in (truth.get(k) for k in ks) if t is not None)
        for b, c in in_bucket.items():
            if b == "singletons":
                wrong_singletons += c
                continue
            pred_pairs[b] += _pairs(len(ks)) - _pairs(len(ks) - c)
        for t, c in per_net.items():
            if true_sizes[t] >= 2:
                correct[bucket_of_size(true_sizes[t])] += _pairs(c)
    true_pairs = Counter[str]()
    nets = Counter[str]()
    for size in true_sizes.values():
        if size >= 2:
            b = bucket_of_size(size)
            true_pairs[b] += _pairs(size)
            nets[b] += 1
    out: dict[str, dict[str, float | int]] = {}
    for b in names:
        pp, tp, cp = pred_pairs[b], true_pairs[b], correct[b]
        out[b] = {"networks": nets[b], "true_pairs": tp,
                  "precision": round(cp / pp, 4) if pp else 1.0,
                  "recall": round(cp / tp, 4) if tp else 1.0}
    singles = sum(1 for k in truth if bucket_of(k) == "singletons")
    out["singletons"] = {"ads": singles, "wrongly_merged": wrong_singletons,
                         "fraction": round(wrong_singletons / singles, 4) if singles else 0.0}
    return out
