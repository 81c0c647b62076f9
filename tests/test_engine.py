"""The cluster engine (tracelight.engine): same stages, same networks as the local path.

- the Parquet rows round-trip a ProcessedAd exactly;
- a job on the local pool, and on Spark in local mode with 2 workers (slow), gives networks
  and hubs byte-identical to `link_batch` over the local pipeline's output, and the same
  scores;
- `cluster load` puts in the store what `tracelight ingest` + `tracelight link` would;
- bad input gives clear errors.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.engine import run_job
from tracelight.engine.job import linker_keys
from tracelight.engine.rows import ad_row, ads_schema, processed_from_row, read_rows, write_rows
from tracelight.errors import InputError
from tracelight.ingest.readers import iter_source
from tracelight.link import LinkAd, link_batch
from tracelight.pipeline import PipelineOptions, Processor
from tracelight.records import AdRecord, ImageInfo, Mention, ProcessedAd, Reason

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 240-ad demo corpus with images, split into 3 JSON Lines shards."""
    from tracelight.demo import generate

    root = tmp_path_factory.mktemp("engine-demo")
    generate(root, n_ads=240, seed=11, images=True)
    lines = (root / "ads.jsonl").read_bytes().splitlines(keepends=True)
    for i in range(3):
        (root / f"shard-{i}.jsonl").write_bytes(b"".join(lines[i * 80:(i + 1) * 80]))
    return root


def _shards(demo: Path) -> list[str]:
    return [str(demo / f"shard-{i}.jsonl") for i in range(3)]


def _local(demo: Path, opts: PipelineOptions) -> tuple[list[ProcessedAd], object]:
    """The local path: the ingest readers and Processor, then the local linker."""
    proc = Processor(opts)
    items = [(it.result, it.base_dir) for p in _shards(demo) for it in iter_source(p, None)]
    done = [p for p in proc.each(items) if isinstance(p, ProcessedAd)]
    result = link_batch([LinkAd.from_processed(p, key=p.record.id) for p in done], previous={})
    return done, result


def _engine_networks(out: Path) -> list[str]:
    return [r["record"] for r in read_rows(str(out / "networks.parquet"))]


def _local_networks(result: object) -> list[str]:
    return [json.dumps(n.to_dict(), ensure_ascii=False, separators=(",", ":"))
            for n in result.networks]  # type: ignore[attr-defined]


def _hubs(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(r["kind"], r["value"], r["ads"], r["groups"], r["reason"], r["example"])
            for r in rows]


def _check_identical(demo: Path, out: Path, opts: PipelineOptions) -> None:
    done, local = _local(demo, opts)
    assert _engine_networks(out) == _local_networks(local)
    assert _hubs(list(read_rows(str(out / "hubs.parquet")))) == [
        (h.kind, h.value, h.ads, h.groups, h.reason, h.example)
        for h in local.hubs]  # type: ignore[attr-defined]
    rows = [r for p in sorted((out / "ads").glob("part-*.parquet")) for r in read_rows(str(p))]
    engine_scores = {r["ad_id"]: (r["risk"], r["reasons"]) for r in rows}
    assert engine_scores == {p.record.id: (ad_row(p)["risk"], ad_row(p)["reasons"])
                             for p in done}
    assert sum(1 for n in local.networks if n.size >= 2) >= 5  # type: ignore[attr-defined]


def test_rows_round_trip(tmp_path: Path) -> None:
    rec = AdRecord(id="a1", source="s", title="T", body="call 555 \u00e9",
                   url="https://x.example/1", posted_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                   location="Chicago", images=("images/a.png",), extra={"k": [1, "v"]})
    item = ProcessedAd(
        record=rec,
        mentions=[Mention("phone", "+15555550100", "body", 5, 8, True, "555", "US", "default")],
        images=[ImageInfo(0, "images/a.png", sha256="ab" * 32, pdq="0f" * 32, quality=90,
                          width=10, height=12)],
        risk=0.42, reasons=[Reason("new_in_town", 0.3, detail="phrase")])
    bare = ProcessedAd(record=AdRecord(id="b", source="s", body="x"))
    path = str(tmp_path / "p.parquet")
    write_rows(path, [ad_row(item, "f:1"), ad_row(bare)], ads_schema())
    back = [processed_from_row(r) for r in read_rows(path, expect="ads")]
    assert back == [item, bare]


def test_linker_keys_follow_the_store_rule() -> None:
    keys, first = linker_keys([("a", "1"), ("b", "1"), ("a", "2"), ("a", "1")])
    assert keys == ["a/1", "b/1", "2", "a/1"]
    assert first == [True, True, True, False]


@pytest.mark.slow
def test_local_pool_job_gives_the_local_networks(demo: Path, tmp_path: Path) -> None:
    opts = PipelineOptions(images=True)
    summary = run_job(_shards(demo), str(tmp_path / "out"), engine="local", workers=1,
                      options=opts)
    assert summary.read == summary.ads == 240 and summary.rejected == 0
    _check_identical(demo, tmp_path / "out", opts)


@pytest.mark.slow
def test_spark_local_2_gives_the_local_networks(demo: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java (apt-get install openjdk-17-jre-headless)")
    from tracelight.cli.app import cli

    out = tmp_path / "out"
    # text only: image hashing on the engine is the same Processor the local-pool test checks;
    # linked on the driver (tests/test_engine_link.py links on the engine)
    res = CliRunner().invoke(cli, ["cluster", "run", "--engine", "spark", "--master",
                                   "local[2]", "--no-images", "--link-on", "driver",
                                   "--format", "jsonl", str(demo / "shard-*.jsonl"), str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["ads"] == 240
    _check_identical(demo, out, PipelineOptions(images=False))


@pytest.mark.slow
def test_load_gives_what_ingest_and_link_give(demo: Path, tmp_path: Path, db_url: str) -> None:
    from tracelight.services.cluster import load_output
    from tracelight.services.ingest import ingest
    from tracelight.services.link import update_networks
    from tracelight.store import open_store

    opts = PipelineOptions(images=True)
    run_job(_shards(demo), str(tmp_path / "out"), engine="local", workers=1, options=opts)
    a = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    b = open_store(db_url)  # the loaded store: SQLite and PostgreSQL
    try:
        ingest(a, _shards(demo), options=opts, workers=1)
        update_networks(a, rebuild=True)
        s = load_output(b, str(tmp_path / "out"))
        assert (s.new, s.linked) == (240, True)
        assert list(a.iter_network_records()) == list(b.iter_network_records())
        assert [h.__dict__ if hasattr(h, "__dict__") else h for h in a.hubs()] == \
            [h.__dict__ if hasattr(h, "__dict__") else h for h in b.hubs()]
        again = load_output(b, str(tmp_path / "out"))  # idempotent
        assert (again.new, again.unchanged) == (0, 240)
    finally:
        a.close()
        b.close()


def test_bad_input_gives_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        run_job([str(tmp_path / "missing.jsonl")], str(tmp_path / "o1"), engine="local")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError, match="not a JSON Lines or Parquet shard"):
        run_job([str(tmp_path / "x.txt")], str(tmp_path / "o2"), engine="local")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no"):
        run_job([str(tmp_path / "empty")], str(tmp_path / "o3"), engine="local")
    shard = tmp_path / "s.jsonl"
    shard.write_text('{"id": "1", "source": "s", "body": "ok"}\nnot json\n{"id": 2}\n')
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        run_job([str(shard)], str(tmp_path / "full"), engine="local")
    s = run_job([str(shard)], str(tmp_path / "o4"), engine="local", workers=1)
    assert (s.read, s.ads, s.rejected) == (3, 1, 2)
    rejects = [json.loads(x) for x in (tmp_path / "o4" / "rejects.jsonl").read_text()
               .splitlines()]
    assert [r["origin"].rsplit(":", 1)[1] for r in rejects] == ["2", "3"]
    assert "invalid JSON" in rejects[0]["reason"]
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="not a Parquet file"):
        run_job([str(fake)], str(tmp_path / "o5"), engine="local", workers=1)
    with pytest.raises(InputError, match="cannot read stdin"):
        run_job(["-"], str(tmp_path / "o7"), engine="local")
    with pytest.raises(InputError, match="unknown engine"):
        run_job([str(shard)], str(tmp_path / "o6"), engine="dask")


def test_load_refuses_what_is_not_a_job_output(tmp_path: Path) -> None:
    from tracelight.services.cluster import read_manifest

    with pytest.raises(InputError, match=r"no manifest\.json"):
        read_manifest(str(tmp_path))
    (tmp_path / "manifest.json").write_text("[1]")
    with pytest.raises(InputError, match="not a tracelight cluster manifest"):
        read_manifest(str(tmp_path))
    path = str(tmp_path / "n.parquet")
    write_rows(path, [ad_row(ProcessedAd(record=AdRecord(id="b", source="s", body="x")))],
               ads_schema())
    with pytest.raises(InputError, match="not a tracelight networks file"):
        list(read_rows(path, expect="networks"))


def test_parquet_input_shards(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([
        {"id": "p1", "source": "s", "body": "call 312-555-0147 tonight",
         "posted_at": datetime(2026, 3, 1, tzinfo=UTC)},
        {"id": "p2", "source": "s", "body": "call 312-555-0147 now", "posted_at": None},
        {"id": None, "source": "s", "body": "no id", "posted_at": None}]),
        tmp_path / "in.parquet")
    s = run_job([f"file://{tmp_path / 'in.parquet'}"], str(tmp_path / "o"), engine="local",
                workers=1, options=PipelineOptions(images=False))
    assert (s.read, s.ads, s.rejected, s.networks) == (3, 2, 1, 1)


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=40)


@settings(max_examples=60, deadline=None)
@given(title=_text, body=_text, loc=st.none() | _text, risk=st.none() | st.floats(0, 1),
       ments=st.lists(st.tuples(st.sampled_from(["phone", "email", "name"]), _text,
                                st.integers(0, 10**6), st.booleans()), max_size=4),
       extra=st.dictionaries(_text, st.none() | st.integers() | _text, max_size=3))
def test_rows_round_trip_any_text(title: str, body: str, loc: str | None, risk: float | None,
                                  ments: list[tuple[str, str, int, bool]],
                                  extra: dict[str, object]) -> None:
    item = ProcessedAd(
        record=AdRecord(id="x", source="s", title=title, body=body or "b", location=loc,
                        extra=extra),
        mentions=[Mention(k, v, "body", s, s + 1, o, v) for k, v, s, o in ments], risk=risk)
    assert processed_from_row(ad_row(item)) == item


def test_cli_names_bad_input(tmp_path: Path) -> None:
    from tracelight.cli.main import cli

    runner = CliRunner()
    res = runner.invoke(cli, ["cluster", "run", "--engine", "local", str(tmp_path / "nope"),
                              str(tmp_path / "o")])
    assert isinstance(res.exception, InputError)
    assert "no such file or folder" in str(res.exception)
    res = runner.invoke(cli, ["cluster", "load", str(tmp_path), "--db",
                              f"sqlite:///{tmp_path / 'x.db'}"])
    assert isinstance(res.exception, InputError) and "no manifest.json" in str(res.exception)
    assert not (tmp_path / "x.db").exists()  # nothing is created for a bad OUT


def test_fsspec_urls_in_and_out(tmp_path: Path) -> None:
    """Shards and output behind an fsspec URL (memory:// here; s3:// and gs:// alike). An
    image named by a remote shard is not fetched: it is refused as a missing file."""
    import fsspec

    with fsspec.open("memory://tl-in/a.jsonl", "w") as fh:
        fh.write('{"id": "m1", "source": "s", "body": "call 312-555-0147", '
                 '"images": ["images/x.png"]}\n'
                 '{"id": "m2", "source": "s", "body": "call 312-555-0147 again"}\n')
    s = run_job(["memory://tl-in/"], "memory://tl-out/run", engine="local", workers=1)
    assert (s.ads, s.networks) == (2, 1)
    rows = list(read_rows("memory://tl-out/run/ads/part-00000.parquet", expect="ads"))
    assert json.loads(rows[0]["image_info"])[0]["error"] == "file not found"
