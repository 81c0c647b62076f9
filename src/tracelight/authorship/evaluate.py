"""Train on some authors, evaluate on authors never seen: TPR at 1% and 0.1% FPR, R-precision,
and how many same-author pairs the candidate search finds (blocking recall)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from tracelight.authorship.features import featurise
from tracelight.authorship.model import (
    AuthorModel,
    Corpus,
    candidate_pairs,
    fit,
    pair_features,
    r_precision,
    tpr_at_fpr,
    training_pairs,
)


@dataclass(frozen=True, slots=True)
class Evaluation:
    train_ads: int
    test_ads: int
    test_pairs: int
    test_positive_pairs: int
    tpr_at_1pct: float
    tpr_at_01pct: float
    threshold: float
    r_precision: float
    candidate_pairs: int
    blocking_recall: float  # same-author test pairs the LSH candidates include
    linked_precision: float  # of candidate pairs over threshold, the share truly same-author
    linked_recall: float  # of all same-author test pairs, the share linked
    seconds_featurise: float
    seconds_pairs: float
    pairs_scored: int

    def rows(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for f in fields(self):
            v = getattr(self, f.name)
            out.append({"metric": f.name, "value": round(v, 4) if isinstance(v, float) else v})
        return out

def split_authors(authors: Sequence[str], seed: int = 0,
                  test_share: float = 0.3) -> tuple[list[int], list[int]]:
    names = sorted(set(authors))
    rng = random.Random(seed)
    rng.shuffle(names)
    test = set(names[:int(len(names) * test_share)])
    tr = [n for n, a in enumerate(authors) if a not in test]
    te = [n for n, a in enumerate(authors) if a in test]
    return tr, te


def train(texts: Sequence[str], authors: Sequence[str], *, seed: int = 0,
          calibrate_share: float = 0.3) -> AuthorModel:
    """Fit on part of the authors, choose the 1%-FPR threshold on the others' pairs."""
    fit_idx, cal_idx = split_authors(authors, seed + 1, calibrate_share)
    fit_c = Corpus.of(featurise([texts[n] for n in fit_idx]))
    fit_auth = [authors[n] for n in fit_idx]
    pairs, labels = training_pairs(fit_auth, candidate_pairs(fit_c.style, x=fit_c.weighted),
                                   seed=seed)
    model = fit(fit_c, pairs, labels)
    cal_c = Corpus.of(featurise([texts[n] for n in cal_idx]))
    cal_auth = [authors[n] for n in cal_idx]
    cpairs, clabels = training_pairs(cal_auth, candidate_pairs(cal_c.style, x=cal_c.weighted),
                                     seed=seed + 2)
    if len(set(clabels.tolist())) == 2:
        _, model.threshold = tpr_at_fpr(model.scores(pair_features(cal_c, cpairs)), clabels,
                                        0.01)
    model.stats = {"fit_ads": len(fit_idx), "fit_pairs": len(pairs),
                   "calibration_pairs": len(cpairs)}
    return model


def evaluate(model: AuthorModel, texts: Sequence[str], authors: Sequence[str], *,
             seed: int = 0, r_queries: int = 200) -> Evaluation:
    t0 = time.perf_counter()
    c = Corpus.of(featurise(texts))
    t1 = time.perf_counter()
    cands = candidate_pairs(c.style, x=c.weighted)
    pairs, labels = training_pairs(authors, cands, seed=seed + 3, per_author=10_000)
    t2 = time.perf_counter()
    scores = model.scores(pair_features(c, pairs))
    t3 = time.perf_counter()
    tpr1, _ = tpr_at_fpr(scores, labels, 0.01)
    tpr01, _ = tpr_at_fpr(scores, labels, 0.001)
    same = {p for p, y in zip(pairs, labels.tolist(), strict=True) if y == 1}
    cand_set = set(cands)
    found = len(same & cand_set)
    cs = model.scores(pair_features(c, cands)) if cands else np.zeros(0)
    linked = [p for p, s in zip(cands, cs.tolist(), strict=True) if s >= model.threshold]
    true_linked = sum(1 for i, j in linked if authors[i] == authors[j])
    rng = random.Random(seed)
    queries = [n for n in range(len(authors))
               if sum(1 for a in authors if a == authors[n]) > 1]
    rng.shuffle(queries)
    rp = r_precision(c, model, authors, queries[:r_queries])
    return Evaluation(
        train_ads=int(model.stats.get("fit_ads", 0)), test_ads=len(texts),
        test_pairs=len(pairs), test_positive_pairs=int(labels.sum()), tpr_at_1pct=tpr1,
        tpr_at_01pct=tpr01, threshold=model.threshold, r_precision=rp,
        candidate_pairs=len(cands), blocking_recall=found / len(same) if same else 0.0,
        linked_precision=true_linked / len(linked) if linked else 0.0,
        linked_recall=true_linked / len(same) if same else 0.0,
        seconds_featurise=t1 - t0, seconds_pairs=t3 - t2, pairs_scored=len(pairs))
