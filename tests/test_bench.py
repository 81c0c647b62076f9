"""`tracelight bench ...` through the real CLI: each prints its figures in a fixed shape.

No timed assertions: only that the figures are there and the inputs are handled.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracelight.cli.main import cli, main

UNREACHABLE_PG = "postgresql+psycopg://nobody@127.0.0.1:9/none"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_bench_similar_prints_link_and_query_figures() -> None:
    code, out = run("bench", "similar", "--ads", "120", "--queries", "3")
    assert code == 0
    assert "link (store): 120 ads in" in out and "networks " in out
    assert "link (store, incremental, 10 new ads):" in out
    assert "similar: 3 queries over 120 ads: median" in out


@pytest.mark.slow
def test_bench_score_prints_timings_and_quality_rows() -> None:
    code, out = run("bench", "score", "--ads", "200", "--format", "jsonl")
    assert code == 0
    assert "score at ingest (default weights, CPU time): 200 ads in" in out
    assert "%_of_extraction" in out
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["scorer"] for r in rows[:2]] == ["trained (held-out 30%)",
                                               "default-weights (held-out 30%)"]
    assert all(0 <= r["roc_auc"] <= 1 for r in rows)


def test_bench_score_corpus_without_ads_is_one_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "score", "--corpus", str(tmp_path)])
    assert exit_info.value.code == 3
    assert capsys.readouterr().err.strip() == (f"error: {tmp_path / 'ads.jsonl'}: no ads.jsonl "
                                               "here (a demo corpus folder is expected)")


@pytest.mark.parametrize(("second", "why"), [("{oops", "not JSON"),
                                              ('{"source": "s"}', "missing required field")])
def test_bench_score_corpus_with_a_bad_record_is_one_clear_error(
        tmp_path: Path, capsys, second: str, why: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ads.jsonl").write_text('{"id": "a", "source": "s", "body": "x"}\n' + second)
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "score", "--corpus", str(tmp_path)])
    assert exit_info.value.code == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'ads.jsonl'}:2: ") and "\n" not in err
    assert why in err


@pytest.mark.slow
def test_bench_ingest_measures_sqlite_and_says_why_postgresql_is_skipped() -> None:
    code, out = run("bench", "ingest", "--ads", "40", "--workers", "1",
                    "--pg-url", UNREACHABLE_PG)
    assert code == 0
    assert "ingest sqlite: 40 ads in" in out and "child_peak_rss_mib=" in out
    assert "cpu_s_per_1000_ads=" in out and "load=" in out
    assert "ingest postgresql: skipped (no server at" in out


@pytest.mark.slow
def test_bench_ingest_with_images_hashes_them_in_the_workers() -> None:
    code, out = run("bench", "ingest", "--ads", "30", "--images", "--pg-url", UNREACHABLE_PG)
    assert code == 0
    assert "ingest sqlite with images: 30 ads in" in out and "cpu_s_per_1000_ads=" in out


def test_bench_web_without_httpx_is_one_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                    capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "httpx", None)  # what a production install looks like
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "web", "--ads", "20"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: `tracelight bench web` needs the httpx package")
    assert "pip install httpx" in err and "\n" not in err


@pytest.mark.slow
def test_bench_web_serves_real_pipeline_data(tmp_path: Path) -> None:
    code, out = run("bench", "web", "--ads", "60", "--users", "2", "--rounds", "2",
                    "--workers", "1", "--keep", str(tmp_path))
    assert code == 0, out
    assert "web: 60 ads, 2 concurrent users" in out
    assert "; 0 errors;" in out
    for kind in ("queue", "search", "ad", "network"):
        assert f"  {kind:8s} n=" in out, kind  # networks were linked: their pages are timed
    # the store was built by the real pipeline: demo ads with the scorer's reasons
    from tracelight.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'bench.db'}")
    try:
        assert store.count_ads() == 60
        scored = [ad for ad in store.iter_ads(sort="risk", limit=5)]
        assert scored and all(ad.risk is not None for ad in scored)
    finally:
        store.close()


@pytest.mark.slow
def test_bench_tx_prints_throughput_latency_and_quality() -> None:
    code, out = run("bench", "tx", "--transactions", "3000")
    assert code == 0, out
    assert "tx ingest transactions:" in out and "tx score (from the store, time order):" in out
    assert "tx stream (parse + score, one at a time):" in out and "p99" in out
    assert "tx quality funnel_account: planted" in out and "per 10,000" in out


@pytest.mark.slow
def test_bench_authorship_network_gain_and_tx_throughput_run_small(tmp_path: Path) -> None:
    from tracelight.authorship.evaluate import train
    from tracelight.bench import authorship
    from tracelight.demo.authors import generate

    tr = generate(12, singletons=12, seed=3)
    model = train([f"{a.title}\n{a.body}" for a in tr], [a.author for a in tr], seed=3)
    gain = authorship.network_gain(model, 3, n_authors=8, days=0.1, noise=1)
    assert gain["author_recall"] >= gain["identifiers_recall"]
    assert 0 <= gain["groups_precision"] <= 1
    tx = authorship.tx_throughput(200, 3, f"sqlite:///{tmp_path / 'tx.db'}")
    assert tx["txs"] == 200 and tx["store_s"] > 0
