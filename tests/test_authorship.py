"""The authorship core: masked stylometric features, the pair model, candidates, the author
generator (pure; no store)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.authorship.evaluate import evaluate, train
from tracelight.authorship.features import N_HABITS, featurise, habits, mask
from tracelight.authorship.model import (
    PAIR_NAMES,
    AuthorModel,
    Corpus,
    ModelFormatError,
    candidate_pairs,
    lsh_candidate_pairs,
    pair_features,
    tpr_at_fpr,
)
from tracelight.demo.authors import generate

TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@settings(max_examples=60, deadline=None)
@given(TEXTS)
def test_mask_and_habits_never_raise_and_are_deterministic(text: str) -> None:
    m = mask(text)
    assert m == mask(text)
    v = habits(m)
    assert v.shape == (N_HABITS,) and np.isfinite(v).all()
    assert np.array_equal(v, habits(mask(text)))


@settings(max_examples=20, deadline=None)
@given(st.lists(TEXTS, max_size=5))
def test_featurise_never_raises(texts: list[str]) -> None:
    s = featurise(texts)
    assert len(s) == len(texts) and s.habits.shape == (len(texts), N_HABITS)
    if len(texts) >= 2:
        c = Corpus.of(s)
        f = pair_features(c, [(0, 1)])
        assert f.shape == (1, len(PAIR_NAMES)) and np.isfinite(f).all()


def test_contacts_are_masked_so_phone_rotation_changes_nothing() -> None:
    a = "hi there!! sweet vibes ~ call 206-555-0142 or mail amy@example.com xoxo"
    b = "hi there!! sweet vibes ~ call (425) 555-0199 or mail zed@example.org xoxo"
    assert "0142" not in mask(a) and "example" not in mask(a)
    assert mask(a) == mask(b)
    s = featurise([a, b])
    assert (s.chars[0] != s.chars[1]).nnz == 0


def test_generator_is_deterministic_and_rotates_phones() -> None:
    one, two = generate(8, singletons=4, seed=3), generate(8, singletons=4, seed=3)
    assert [(a.id, a.body) for a in one] == [(a.id, a.body) for a in two]
    by_author: dict[str, set[str]] = {}
    for a in one:
        by_author.setdefault(a.author, set()).add(a.phone)
    multi = [p for au, p in by_author.items() if au.startswith("author")]
    assert all(len(p) > 1 for p in multi if len(p) > 1)
    assert generate(8, singletons=4, seed=4)[0].body != one[0].body


def test_candidates_are_bounded_and_never_all_pairs() -> None:
    ads = generate(20, singletons=20, seed=5)
    s = featurise([a.body for a in ads])
    pairs = candidate_pairs(s, k=5)
    n = len(ads)
    assert len(pairs) <= n * 5 < n * (n - 1) // 2
    assert all(i < j for i, j in pairs)
    assert all(i < j for i, j in lsh_candidate_pairs(s))


def test_tpr_at_fpr() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.95])
    labels = np.array([1, 1, 1, 0, 0, 0])
    tpr, thr = tpr_at_fpr(scores, labels, 0.0)
    assert tpr == 0.0 and thr > 0.95
    tpr, _ = tpr_at_fpr(scores, labels, 0.34)
    assert tpr == 1.0


@pytest.mark.slow
def test_pair_model_separates_authors_it_never_saw() -> None:
    train_ads = generate(60, singletons=60, seed=21)
    model = train([f"{a.title}\n{a.body}" for a in train_ads], [a.author for a in train_ads])
    test_ads = generate(30, singletons=30, seed=22)
    ev = evaluate(model, [f"{a.title}\n{a.body}" for a in test_ads],
                  [a.author for a in test_ads], r_queries=30)
    assert ev.tpr_at_1pct > 0.5 and ev.r_precision > 0.6 and ev.linked_precision > 0.6
    again = AuthorModel.from_json(model.to_json())
    assert again.threshold == model.threshold
    assert np.allclose(again.coef, model.coef)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_model_file_garbage_is_refused_cleanly(text: str) -> None:
    with pytest.raises(ModelFormatError):
        AuthorModel.from_json(text)


def test_model_file_with_wrong_shapes_is_refused() -> None:
    import json
    bad = {"format": "tracelight-authorship-1", "features": list(PAIR_NAMES), "coef": [1.0],
           "mean": [0.0], "scale": [1.0], "intercept": 0.0, "threshold": 0.5}
    with pytest.raises(ModelFormatError):
        AuthorModel.from_json(json.dumps(bad))
