"""Training, evaluation metrics, and versioned models with a model card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from score_fixtures import labelled_corpus
from tracelight.errors import ConfigError, UsageError
from tracelight.score import ScoreContext, extract_features, load_catalogue, score_ad
from tracelight.score.model import load_model, metrics, next_version, save_model, split, train
from tracelight.score.scorer import results_from_features


def _data() -> tuple[list, list[int]]:  # type: ignore[type-arg]
    items, labels = labelled_corpus()
    cat = load_catalogue()
    feats = [extract_features(it.record, it.mentions, catalogue=cat) for it in items
             if it.record.id in labels]
    y = [labels[it.record.id] for it in items if it.record.id in labels]
    return feats, y


def test_metrics() -> None:
    m = metrics([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.1], ks=(2, 50))
    assert m["roc_auc"] == 1.0 and m["pr_auc"] == 1.0
    assert m["precision@2"] == 1.0 and m["precision@50"] == 0.5
    with pytest.raises(UsageError):
        metrics([1, 1], [0.2, 0.3])


def test_split_is_stratified_and_deterministic() -> None:
    y = [0] * 70 + [1] * 30
    tr, te = split(y, test_size=0.3, seed=1)
    assert len(te) == 30 and sum(y[i] for i in te) == 9
    assert (tr, te) == split(y, test_size=0.3, seed=1)
    with pytest.raises(UsageError):
        split([0, 1, 0])


def test_default_weights_rank_the_fixture_well() -> None:
    feats, y = _data()
    scores = [r.risk for r in results_from_features(feats, load_catalogue())]
    assert metrics(y, scores)["roc_auc"] > 0.75


def test_train_save_load_and_score(tmp_path: Path) -> None:
    feats, y = _data()
    cat = load_catalogue()
    model = train(feats, y, catalogue=cat, data="fixture", version=next_version(tmp_path))
    assert model.card["metrics_held_out"]["roc_auc"] > 0.7
    # learned weights follow the planted signal; movement wording is not rewarded
    assert model.weight("trustworthy_provider") > 0.5
    assert model.weight("youth_language") > 0.5
    assert model.weight("movement_language") < model.weight("youth_language")
    path = save_model(model, tmp_path)
    assert path.name == "risk-model-v1.joblib"
    card = json.loads((tmp_path / "risk-model-v1.card.json").read_text())
    assert {"data", "created", "metrics_held_out", "limits"} <= set(card)
    md = (tmp_path / "risk-model-v1.card.md").read_text()
    assert "never a finding about a person" in md and "roc_auc" in md
    assert next_version(tmp_path) == 2
    with pytest.raises(UsageError):
        save_model(model, tmp_path)  # never overwritten
    loaded = load_model(tmp_path)
    assert loaded.name == "risk-model-v1"
    items, _ = labelled_corpus(n=8)
    res = score_ad(items[0].record, items[0].mentions, ScoreContext(model=loaded))
    assert 0 <= res.risk <= 1 and res.scorer == "risk-model-v1"
    assert all(r.weight == round(loaded.weight(r.code), 3) for r in res.reasons)


def test_text_free_model(tmp_path: Path) -> None:
    feats, y = _data()
    model = train(feats, y, catalogue=load_catalogue(), data="fixture", text=False)
    assert model.vectorizer is None
    assert len(model.predict(feats[:3])) == 3


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no risk-model-vN\.joblib"):
        load_model(tmp_path)
    bad = tmp_path / "risk-model-v1.joblib"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(ConfigError, match="not a tracelight model"):
        load_model(bad)
