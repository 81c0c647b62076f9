"""Linking on the engine (tracelight.engine.dlink): the global link steps as Spark group-bys,
joins and iterative connected components give byte-identical networks and hubs to the local
linker (`link_batch`) on the same ads: a realistic demo market of 600 ads, text only, in 4
shards (one ad repeated across them), on Spark local[2] through `tracelight cluster run`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tracelight.engine.dlink import table_from_rows, table_rows
from tracelight.engine.rows import read_rows
from tracelight.link import LinkAd, link_batch
from tracelight.link.features import FeatureTable

pytest.importorskip("pyarrow")


def _spark_ok() -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java (apt-get install openjdk-17-jre-headless)")


def test_rows_round_trip_a_feature_table() -> None:
    from datetime import UTC, datetime

    from tracelight.records import Mention

    ads = [LinkAd(key=f"k{i}", title="t", body=f"call me at 555 {i} sweet lovely new in town",
                  posted_at=datetime(2026, 1, 1 + i, tzinfo=UTC) if i % 2 else None,
                  location="Austin" if i % 3 else None,
                  mentions=(Mention("phone", f"+1555{i % 2}", "body", 0, 1),
                            Mention("name", "Ann", "body", 0, 1)),
                  image_pdq=("ab" * 32,) if i == 1 else ())
           for i in range(5)]
    t = FeatureTable.from_ads(ads)
    back = table_from_rows(list(table_rows(t)))
    assert back.keys == t.keys and back.cities == t.cities and back.names == t.names
    assert back.pdq == t.pdq
    assert [back.idents_of(i) for i in range(5)] == [t.idents_of(i) for i in range(5)]
    for a in ("shingles", "sh_off", "sentences", "se_off"):
        assert np.array_equal(getattr(back, a), getattr(t, a))
    assert np.array_equal(back.posted, t.posted, equal_nan=True)


def test_merge_answers_follow_the_core(tmp_path: Path) -> None:
    """The driver's merge pass over engine-decided edges: refused edges do not merge."""
    from tracelight.engine.dlink import _merge

    # (a, b, s, la, lb, has_a, has_b, corroborated (both groups small), one_sided,
    #  no_contact, corroborated (a group past small_group), size_a, size_b)
    decided = [(0, 5, 0.5, 0, 5, True, True, False, True, True, False, 1, 1),
               (1, 7, 0.9, 1, 7, True, False, True, True, True, True, 1, 1),
               (5, 7, 0.6, 5, 7, True, False, True, True, True, True, 1, 1)]
    used, refused, root = _merge(decided, 5)
    assert refused == 1
    assert used == [(1, 7, 0.9), (5, 7, np.float32(0.6).item())] or \
        [(a, b) for a, b, _s in used] == [(1, 7), (5, 7)]
    # 1-7 merged first; then 5-7: both sides hold contacts (7 took 1's) and 5-7 is corroborated
    assert root == {7: 1, 5: 1}


def test_merge_asks_the_merged_sizes() -> None:
    """Wording between two groups that other edges have grown past small_group takes the
    answer for big groups, as the local merge's corroborated(a, b, s, na, nb) does."""
    from tracelight.engine.dlink import _merge

    # 0-1 joins two 3-ad groups (one_sided: 1 has no contact); then 0-2 between the merged
    # 6-ad group and a 3-ad group: corroborated only while both are small -> refused
    decided = [(0, 1, 0.9, 0, 1, True, False, True, True, True, True, 3, 3),
               (0, 2, 0.8, 0, 2, True, True, True, True, True, False, 3, 3)]
    used, refused, _root = _merge(decided, 5)
    assert refused == 1 and [(a, b) for a, b, _s in used] == [(0, 1)]
    # with room for both, the same edge joins
    used, refused, _root = _merge(decided, 10)
    assert refused == 0 and len(used) == 2


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tracelight.demo import generate

    root = tmp_path_factory.mktemp("engine-link")
    generate(root, n_ads=600, seed=5, images=False)
    lines = (root / "ads.jsonl").read_bytes().splitlines(keepends=True)
    per = -(-len(lines) // 4)
    for i in range(4):
        (root / f"shard-{i}.jsonl").write_bytes(b"".join(lines[i * per:(i + 1) * per]))
    # a repeated ad across shards: the store keeps the first, so must the linker
    (root / "shard-3.jsonl").write_bytes((root / "shard-3.jsonl").read_bytes() + lines[0])
    return root


@pytest.mark.slow
def test_spark_link_on_engine_is_byte_identical(market: Path, tmp_path: Path) -> None:
    _spark_ok()
    from click.testing import CliRunner

    from tracelight.cli.app import cli
    from tracelight.ingest.readers import iter_source
    from tracelight.pipeline import PipelineOptions, Processor
    from tracelight.records import ProcessedAd

    opts = PipelineOptions(images=False)
    shards = [str(market / f"shard-{i}.jsonl") for i in range(4)]
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["cluster", "run", "--engine", "spark", "--master",
                                   "local[2]", "--no-images", "--format", "jsonl",
                                   "--link-on", "engine",
                                   *shards, str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["duplicates"] == 1 and summary["ads"] == 600
    assert json.loads((out / "manifest.json").read_text())["link_on"] == "engine"

    proc = Processor(opts)
    items = [(it.result, it.base_dir) for p in shards for it in iter_source(p, None)]
    done, seen = [], set()
    for p in proc.each(items):
        if isinstance(p, ProcessedAd) and p.record.id not in seen:
            seen.add(p.record.id)
            done.append(p)
    local = link_batch([LinkAd.from_processed(p, key=p.record.id) for p in done], previous={})
    engine_records = [r["record"] for r in read_rows(str(out / "networks.parquet"))]
    local_records = [json.dumps(n.to_dict(), ensure_ascii=False, separators=(",", ":"))
                     for n in local.networks]
    assert len(engine_records) == len(local_records)
    assert engine_records == local_records
    hubs = [(r["kind"], r["value"], r["ads"], r["groups"], r["reason"], r["example"])
            for r in read_rows(str(out / "hubs.parquet"))]
    assert hubs == [(h.kind, h.value, h.ads, h.groups, h.reason, h.example)
                    for h in local.hubs]
    assignment = json.loads((out / "link_state" / "assignment.json").read_text())
    assert (out / "link_state" / "assignment.json").read_bytes() == \
        local.state.assignment_bytes()
    assert len(assignment) == 600
    assert summary["networks"] == local.stats["networks"] >= 20
    assert summary["link_stats"]["wording_pairs"] == local.stats["wording_pairs"]
    assert summary["link_stats"]["wording_refused"] == local.stats["wording_refused"]
    assert len(local.hubs) >= 3 and any(h.kind != "sentence" for h in local.hubs)


def test_load_reads_the_feature_parts_in_key_order(tmp_path: Path) -> None:
    """Linked on the engine, the linker state's features are one part per block of rows in
    key order; `cluster load` joins them into the table the store keeps."""
    from tracelight.services.cluster import _read_features

    ads = [LinkAd(key=f"k{i:02d}", body=f"sweet new girl in town {i} call now") for i in range(6)]
    whole = FeatureTable.from_ads(ads)
    (tmp_path / "link_state" / "features").mkdir(parents=True)
    for j, rows in enumerate(([0, 1, 2], [3, 4, 5])):
        (tmp_path / "link_state" / "features" / f"part-{j:05d}-{rows[0]:012d}.npz") \
            .write_bytes(whole.take(np.array(rows)).to_bytes())
    got = _read_features(str(tmp_path))
    assert got is not None and got.keys == whole.keys
    assert np.array_equal(got.shingles, whole.shingles)
    (tmp_path / "link_state" / "features.npz").write_bytes(whole.take(np.array([0])).to_bytes())
    one = _read_features(str(tmp_path))  # linked on the driver: the one file wins
    assert one is not None and one.keys == ["k00"]
