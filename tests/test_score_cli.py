"""train / evaluate / rescore / queue through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from score_fixtures import labelled_corpus, write_labels
from tracelight.cli.main import cli, main
from tracelight.records import AdRecord, Mention, ProcessedAd
from tracelight.store import open_store


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _load(db_url: str, tmp_path: Path) -> Path:
    items, labels = labelled_corpus()
    minor_body = "Hi, I am 16, new here"
    items.append(ProcessedAd(
        record=AdRecord(id="minor", source="fixture", body=minor_body),
        mentions=[Mention("age", "16", "body", 10, 12, raw="16")]))
    store = open_store(db_url)
    try:
        store.write_batch(None, items)
    finally:
        store.close()
    labels_path = tmp_path / "labels.csv"
    write_labels(labels_path, labels)
    return labels_path


@pytest.mark.slow
def test_rescore_queue_train_evaluate(db_url: str, tmp_path: Path) -> None:
    labels = _load(db_url, tmp_path)
    models = tmp_path / "models"

    code, out, err = run("queue", "--db", db_url)
    assert code == 0 and "nothing scored yet" in err

    code, out, _ = run("rescore", "--db", db_url, "--model-dir", str(models))
    assert code == 0 and "rescored 241 ads with default weights" in out

    code, out, _ = run("queue", "--db", db_url, "--format", "jsonl", "--limit", "5")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5
    assert rows[0]["id"] == "minor" and rows[0]["risk"] >= 0.95
    assert rows[0]["reasons"][0]["code"] == "stated_age_under_18"
    assert [r["risk"] for r in rows] == sorted((r["risk"] for r in rows), reverse=True)
    assert all({"code", "weight", "evidence"} <= set(x) for r in rows for x in r["reasons"])

    code, out, _ = run("queue", "--db", db_url, "--limit", "3")
    assert code == 0 and "Stated age under 18" in out  # the reason's label, for people
    code, out, _ = run("queue", "--db", db_url, "--limit", "3", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("rank,kind,ref,id,source,risk")
    assert "fixture/minor" in out and "stated_age_under_18 (+4)" in out

    code, out, _ = run("ads", "--db", db_url, "--sort", "risk", "--format", "jsonl",
                       "--limit", "1")
    ad = json.loads(out)
    assert ad["id"] == "minor" and ad["reasons"][0]["code"] == "stated_age_under_18"

    code, out, _ = run("evaluate", "--labels", str(labels), "--db", db_url,
                       "--format", "jsonl", "--folds", "2")
    assert code == 0, out
    res = {r["scorer"]: r for r in map(json.loads, out.splitlines())}
    assert set(res) == {"trained", "default-weights", "trained (2-fold, every labelled ad)",
                        "default-weights (every labelled ad)"}
    assert res["default-weights (every labelled ad)"]["n"] == 180
    assert res["default-weights"]["roc_auc"] > 0.7
    assert {"pr_auc", "precision@50", "precision@200"} <= set(res["trained"])

    code, out, _ = run("train", "--labels", str(labels), "--db", db_url,
                       "--model-dir", str(models), "--format", "jsonl")
    assert code == 0, out
    assert json.loads(out)["version"] == 1
    assert (models / "risk-model-v1.card.md").is_file()

    code, out, _ = run("rescore", "--db", db_url, "--model-dir", str(models))
    assert code == 0 and "risk-model-v1" in out
    code, out, _ = run("queue", "--db", db_url, "--format", "jsonl", "--limit", "1")
    assert json.loads(out)["id"] == "minor"

    code, out, _ = run("rescore", "--db", db_url, "--model-dir", str(models),
                       "--default-weights")
    assert code == 0 and "default weights" in out


def _main_exit(capsys, *args: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(exc.value.code or 0), err


def test_label_file_errors(sqlite_url: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _load(sqlite_url, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,y\nx,1\n")
    code, err = _main_exit(capsys, "evaluate", "--labels", str(bad), "--db", sqlite_url)
    assert code == 3 and "header 'ad_id,label'" in err
    bad.write_text("ad_id,label\nad0001,maybe\n")
    code, err = _main_exit(capsys, "train", "--labels", str(bad), "--db", sqlite_url)
    assert code == 3 and "bad.csv:2: label must be 0 or 1" in err
    bad.write_text("ad_id,label\nnope,1\n")
    code, err = _main_exit(capsys, "train", "--labels", str(bad), "--db", sqlite_url,
                           "--model-dir", str(tmp_path / "m"))
    assert code == 2 and "none of the labelled ad ids" in err
    code, err = _main_exit(capsys, "train", "--labels", str(tmp_path / "missing.csv"),
                           "--db", sqlite_url)
    assert code == 3 and "cannot read labels" in err
    code, err = _main_exit(capsys, "rescore", "--db", sqlite_url, "--model-dir", str(tmp_path))
    assert code == 0
    (tmp_path / "risk-model-v1.joblib").write_bytes(b"junk")
    code, err = _main_exit(capsys, "rescore", "--db", sqlite_url, "--model-dir", str(tmp_path))
    assert code == 7 and "not a tracelight model" in err


def test_bad_catalogue_setting_is_one_line(sqlite_url: str, tmp_path: Path, capsys,
                                           monkeypatch) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "ind.yaml"
    broken.write_text("version: 1\nsources: {}\nindicators: []\n")
    monkeypatch.setenv("TRACELIGHT_CATALOGUE", str(broken))
    code, err = _main_exit(capsys, "rescore", "--db", sqlite_url)
    assert code == 7 and "ind.yaml: sources:" in err


def test_help() -> None:
    for cmd in (["train"], ["evaluate"], ["rescore"], ["queue"], ["bench", "score"]):
        code, out, _ = run(*cmd, "--help")
        assert code == 0 and "Usage" in out
