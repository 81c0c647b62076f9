"""`tracelight link`, `networks`, `hubs`, `similar`, `bench link` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tracelight.cli.main import cli
from tracelight.demo import linkads as synth
from tracelight.records import AdRecord, ProcessedAd
from tracelight.store import open_store


def _db(tmp_path: Path, n: int = 300, url: str | None = None,
        ) -> tuple[str, dict[str, str | None]]:
    url = url or f"sqlite:///{tmp_path / 't.db'}"
    ads, truth = synth.generate(n, seed=9)
    store = open_store(url)
    store.write_batch(None, [ProcessedAd(AdRecord(id=a.key, source="synth", title=a.title,
                                                  body=a.body, posted_at=a.posted_at,
                                                  location=a.location), list(a.mentions))
                             for a in ads])
    store.close()
    return url, truth


def test_link_networks_hubs_similar(tmp_path: Path, db_url: str) -> None:
    """On SQLite and on PostgreSQL."""
    url, _truth = _db(tmp_path, url=db_url)
    runner = CliRunner()
    res = runner.invoke(cli, ["networks", "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0 and res.stdout == ""
    res = runner.invoke(cli, ["link", "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["mode"] == "rebuild" and summary["ads"] == 300 and summary["networks"] > 5

    res = runner.invoke(cli, ["networks", "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0
    nets = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(nets) == summary["networks"]
    for key in ("network_id", "ad_ids", "phones", "emails", "names", "locations", "first_seen",
                "last_seen", "evidence", "size", "hubs_excluded"):
        assert key in nets[0]
    assert {"kind", "value", "ad_ids"} <= set(nets[0]["evidence"][0])
    res = runner.invoke(cli, ["networks", "--db", url, "--min-size", "5", "--format", "csv"])
    assert res.exit_code == 0 and res.stdout.startswith("network_id,size")
    res = runner.invoke(cli, ["networks", "--db", url])
    assert res.exit_code == 0 and "Networks" in res.stdout

    res = runner.invoke(cli, ["hubs", "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0
    hub_rows = [json.loads(line) for line in res.stdout.splitlines()]
    (site,) = [h for h in hub_rows if h["value"] == synth.SITE_PHONE]
    assert "beside other contacts" in site["reason"] and "groups" in site["reason"]
    assert all("/" in h["example"] for h in hub_rows if h["example"])  # examples as SOURCE/ID

    member = nets[0]["ad_ids"][0]
    res = runner.invoke(cli, ["similar", member, "--db", url, "--k", "3", "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert 1 <= len(rows) <= 3 and rows[0]["reasons"]
    res = runner.invoke(cli, ["similar", member, "--db", url])
    assert res.exit_code == 0

    res = runner.invoke(cli, ["link", "--db", url, "--format", "jsonl"])
    assert json.loads(res.stdout)["mode"] == "unchanged"


def test_similar_unknown_ad_is_one_clear_error(tmp_path: Path) -> None:
    from tracelight.cli.main import main

    url, _ = _db(tmp_path, 20)
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(["similar", "nope", "--db", url])
    assert exc.value.code == 4


def test_bench_link_prints_figures() -> None:
    res = CliRunner().invoke(cli, ["bench", "link", "--ads", "400", "--corpus", "synth",
                                   "--batches", "2"])
    assert res.exit_code == 0, res.output
    line = json.loads(res.stdout.strip().splitlines()[-1])
    assert line["ads"] == 400 and line["incremental_equals_rebuild"] is True
    assert 0 <= line["precision"] <= 1 and "peak_rss_mib" in line


def test_bench_link_demo_corpus() -> None:
    res = CliRunner().invoke(cli, ["bench", "link", "--ads", "600", "--oracle"])
    assert res.exit_code == 0, res.output
    line = json.loads(res.stdout.strip().splitlines()[-1])
    assert line["precision"] >= 0.97 and line["recall"] >= 0.93


def test_networks_json_risk_is_the_queues_ranking(tmp_path: Path) -> None:
    """`tracelight networks` and `tracelight queue` give a network the same risk: one ranking
    (score_network over the member ads), with the parts it came from."""
    import random

    url = f"sqlite:///{tmp_path / 'r.db'}"
    ads, _truth = synth.generate(200, seed=5)
    store = open_store(url)
    store.write_batch(None, [ProcessedAd(AdRecord(id=a.key, source="synth", title=a.title,
                                                  body=a.body, posted_at=a.posted_at,
                                                  location=a.location), list(a.mentions),
                                         risk=round(random.Random(a.key).random(), 3))
                             for a in ads])
    store.close()
    runner = CliRunner()
    assert runner.invoke(cli, ["link", "--db", url]).exit_code == 0
    res = runner.invoke(cli, ["networks", "--db", url, "--format", "jsonl"])
    nets = [json.loads(line) for line in res.stdout.splitlines()]
    assert nets and [n["size"] for n in nets] == sorted((n["size"] for n in nets), reverse=True)
    for n in nets:
        assert {"max", "mean", "scored_ads", "score", "reasons"} <= set(n["risk"])
        assert 0 <= n["risk"]["score"] <= 1
    res = runner.invoke(cli, ["queue", "--db", url, "--limit", "500", "--format", "jsonl"])
    queued = {r["id"]: r["risk"] for r in map(json.loads, res.stdout.splitlines())
              if r["kind"] == "network"}
    assert queued and all(queued[n["network_id"]] == n["risk"]["score"] for n in nets
                          if n["network_id"] in queued)
