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
