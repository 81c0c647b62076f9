"""`tracelight demo-generate` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tracelight.cli.main import cli
from tracelight.errors import UsageError


def test_demo_generate_writes_the_corpus(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    result = CliRunner().invoke(cli, ["demo-generate", str(out), "--ads", "40", "--seed", "2",
                                      "--no-images", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["n_ads"] == 40 and summary["n_images"] == 0
    for name in ("ads.jsonl", "truth.jsonl", "labels.csv", "README.txt"):
        assert (out / name).is_file()
    assert "--seed 2" in (out / "README.txt").read_text()


def test_demo_generate_btc_writes_the_authors_and_the_blockchain(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    result = CliRunner().invoke(cli, ["demo-generate", str(out), "--ads", "40", "--no-images",
                                      "--btc", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["btc"] == str(out / "btc")
    truth = json.loads((out / "btc" / "truth.json").read_text())
    assert truth["ad_owner"] and truth["address_owner"] and truth["ad_author"]
    for name in ("ads.jsonl", "payments.jsonl", "rates.json", "prices.json", "wallets.txt"):
        assert (out / "btc" / name).is_file()


def test_demo_generate_table_and_images(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo-generate", str(tmp_path / "c"), "--ads", "15"])
    assert result.exit_code == 0, result.output
    assert "n_networks" in result.stdout
    assert any((tmp_path / "c" / "images").iterdir())


def test_demo_generate_rejects_bad_size(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo-generate", str(tmp_path), "--ads", "0"])
    assert isinstance(result.exception, UsageError)
    assert result.exception.exit_code == 2


def test_demo_generate_help() -> None:
    result = CliRunner().invoke(cli, ["demo-generate", "--help"])
    assert result.exit_code == 0 and "--no-images" in result.output
