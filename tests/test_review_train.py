"""Verdicts become labels: `tracelight risk train --from-reviews` compares a candidate with the
scorer in force on the same labels, saves it only when better, and only an admin promotes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from score_fixtures import labelled_corpus
from tracelight.cli.main import cli
from tracelight.store import open_store
from tracelight.store.accounts import Accounts


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def _main_exit(capsys: Any, *args: str) -> tuple[int, str]:
    from tracelight.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(exc.value.code or 0), err


@pytest.mark.slow
def test_train_from_reviews_and_promote(sqlite_url: str, tmp_path: Path, capsys: Any) -> None:
    items, labels = labelled_corpus()
    store = open_store(sqlite_url)
    try:
        store.write_batch(None, items)
        Accounts(store).add_user("root", "x", "admin")
        Accounts(store).add_user("ana", "x", "analyst")
    finally:
        store.close()
    models = tmp_path / "models"
    code, err = _main_exit(capsys, "risk", "train", "--from-reviews", "--db", sqlite_url,
                           "--model-dir", str(models))
    assert code != 0 and "no review verdicts yet" in err
    right = [f"fixture/{k}" for k, v in labels.items() if v]
    assert _cli("review", "mark", *right, "--state", "escalated", "--as", "ana",
                "--db", sqlite_url)[0] == 0
    assert _cli("review", "mark", *[f"fixture/{k}" for k, v in labels.items() if not v],
                "--state", "no-concern", "--reason", "x", "--db", sqlite_url)[0] == 0
    code, out, err = _cli("risk", "train", "--from-reviews", "--folds", "0",
                          "--db", sqlite_url, "--model-dir", str(models))
    assert code == 0 and "not better" in err and not models.exists()  # defaults know these
    # verdicts the default weights get backwards (the newest verdict on an ad wins)
    pos = [f"fixture/{k}" for k, v in labels.items() if not v]
    neg = [f"fixture/{k}" for k, v in labels.items() if v]
    assert _cli("review", "mark", *pos, "--state", "escalated", "--as", "ana",
                "--db", sqlite_url)[0] == 0
    assert _cli("review", "mark", *neg, "--state", "no-concern", "--reason", "duplicate",
                "--as", "ana", "--db", sqlite_url)[0] == 0
    code, out, err = _cli("risk", "train", "--from-reviews", "--format", "jsonl",
                          "--db", sqlite_url, "--model-dir", str(models))
    assert code == 0, err
    rep = json.loads(out)
    assert rep["labels"] == len(labels) and rep["positives"] == len(pos)
    assert rep["current"].startswith("default weights")
    assert {(r["scorer"], r["evaluation"]) for r in rep["rows"]} == {
        ("candidate", "held-out"), ("current", "held-out"), ("candidate", "5-fold CV"),
        ("current", "all labels")}
    assert all(0 <= r["roc_auc"] <= 1 and "precision@50" in r for r in rep["rows"])
    assert rep["better"], rep["rows"]
    assert (models / "candidates" / "risk-model-v1.joblib").is_file()
    assert not (models / "risk-model-v1.joblib").exists()  # not active by itself
    code, err = _main_exit(capsys, "risk", "promote", "1", "--as", "ana", "--db", sqlite_url,
                           "--model-dir", str(models))
    assert code != 0 and "only an admin" in err
    code, err = _main_exit(capsys, "risk", "promote", "7", "--as", "root", "--db", sqlite_url,
                           "--model-dir", str(models))
    assert code != 0 and "no candidate v7" in err
    code, out, err = _cli("risk", "promote", "1", "--as", "root", "--db", sqlite_url,
                          "--model-dir", str(models))
    assert code == 0, err
    assert (models / "risk-model-v1.joblib").is_file()
    assert (models / "risk-model-v1.card.json").is_file()
    card = json.loads((models / "risk-model-v1.card.json").read_text())
    assert card["data"]["description"].startswith("review verdicts")
    assert card["compared_with"]["scorer"].startswith("default weights")
    code, out, err = _cli("risk", "train", "--from-reviews", "--db", sqlite_url,
                          "--model-dir", str(models))
    assert code == 0 and "risk-model-v1" in err
    store = open_store(sqlite_url)
    try:
        actions = [e["action"] for e in Accounts(store).iter_audit()]
    finally:
        store.close()
    assert actions.count("risk.train_from_reviews") == 3 and actions.count("risk.promote") == 1


@pytest.mark.slow
def test_bench_review_prints_the_simulated_analyst_figures() -> None:
    code, out, err = _cli("bench", "review", "--ads", "400", "--top", "40")
    assert code == 0, err
    got = json.loads(out)
    assert got["read"] == 42 and got["calibration_slice"] is True  # 2 calibration rows
    assert got["next_queue_hides"] >= 40
    held = got["held_out_next_queue"]
    assert held["before"]["n"] == held["after"]["n"] > 0
    reads = got["reads_to_90pct_positive_networks"]
    assert reads["closing_whole_networks"] <= reads["ad_by_ad"]
    assert "verdict" in got["train_from_reviews"]
