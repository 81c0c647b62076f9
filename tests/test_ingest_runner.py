from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracelight.errors import InputError
from tracelight.ingest.runner import ingest
from tracelight.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]


def _jsonl(path: Path, n: int, start: int = 0, body: str = "Call Amy today, new in town") -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"id": f"ad{i}", "source": "feed", "title": f"Ad {i}",
                                 "body": f"{body} #{i}", "posted_at": "2026-02-01T10:00:00Z"})
                     + "\n")
    return path


def test_ingest_is_idempotent_and_counts(store: Store, tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "a.jsonl", 25)
    with open(src, "a") as fh:
        fh.write("{broken\n")
        fh.write(json.dumps({"id": "ad3", "source": "feed", "body": "dup"}) + "\n")
    rejects = tmp_path / "rejects.txt"
    s1 = ingest(store, [str(src)], rejects_path=str(rejects), batch_size=7, workers=1)
    assert (s1.read, s1.new, s1.rejected, s1.status) == (27, 25, 2, "done")
    lines = rejects.read_text().splitlines()
    assert lines[0].startswith(f"{src}:26: invalid JSON")
    assert lines[1].startswith(f"{src}:27: duplicate id 'ad3'")
    s2 = ingest(store, [str(src)], rejects_path=str(rejects), batch_size=7, workers=1)
    assert (s2.new, s2.updated, s2.unchanged) == (0, 0, 25)
    assert store.count_ads() == 25


def test_changed_file_gives_revisions(store: Store, tmp_path: Path) -> None:
    ingest(store, [str(_jsonl(tmp_path / "a.jsonl", 10))], workers=1)
    s = ingest(store, [str(_jsonl(tmp_path / "b.jsonl", 12, body="Edited"))], workers=1)
    assert (s.new, s.updated) == (2, 10)
    assert store.get_ad("ad0").revision == 2


def test_worker_processes_give_the_same_result(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "a.jsonl", 300)
    one = open_store(f"sqlite:///{tmp_path / 'one.db'}")
    two = open_store(f"sqlite:///{tmp_path / 'two.db'}")
    ingest(one, [str(src)], workers=1, batch_size=50)
    ingest(two, [str(src)], workers=2, batch_size=50)
    assert [a.content_hash for a in one.iter_ads(sort="id")] == \
        [a.content_hash for a in two.iter_ads(sort="id")]


def test_bad_path_fails_before_writing(store: Store, tmp_path: Path) -> None:
    good = _jsonl(tmp_path / "a.jsonl", 3)
    with pytest.raises(InputError, match="no such file"):
        ingest(store, [str(good), str(tmp_path / "missing.jsonl")], workers=1)
    assert store.count_ads() == 0


@pytest.mark.slow
def test_huge_body_is_rejected_not_stored(store: Store, tmp_path: Path) -> None:
    """A body over TRACELIGHT_MAX_BODY_BYTES is a reject with its reason; the rest go in."""
    p = tmp_path / "big.jsonl"
    p.write_text(json.dumps({"id": "big", "source": "s", "body": "x " * 5_000_000}) + "\n"
                 + json.dumps({"id": "ok", "source": "s", "body": "call 206 555 0143"}) + "\n")
    s = ingest(store, [str(p)], workers=1)
    assert s.new == 1 and store.get_ad("ok").body
    assert s.rejected == 1


@pytest.mark.slow
def test_kill_9_mid_run_then_rerun_completes(tmp_path: Path) -> None:
    """A killed ingest leaves only whole batches; running it again finishes the job."""
    src = _jsonl(tmp_path / "many.jsonl", 20_000)
    db = tmp_path / "crash.db"
    cmd = [sys.executable, "-m", "tracelight", "ingest", str(src), "--db", f"sqlite:///{db}",
           "--batch-size", "100", "--workers", "1", "--rejects", str(tmp_path / "r.txt"),
           "--no-extract", "--no-score", "--no-images"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                stored = open_store(f"sqlite:///{db}", migrate=False).count_ads()
            except Exception:
                stored = 0
            if stored >= 1000:
                break
    if proc.poll() is not None:
        pytest.skip("ingest finished before it could be killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = open_store(f"sqlite:///{db}")
    partial = store.count_ads()
    assert 0 < partial < 20_000
    assert partial % 100 == 0  # whole batches only
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert store.count_ads() == 20_000
    assert f"unchanged {partial:,}" in done.stdout


def test_worker_processes_store_the_same_analysis(tmp_path: Path, demo_corpus_dir: Path) -> None:
    """Workers send mentions, images, risk and reasons back as tuples (runner._to_wire): what
    is stored must be what one process stores, field for field."""
    src = str(demo_corpus_dir / "ads.jsonl")

    def stored(workers: int) -> list[object]:
        s = open_store(f"sqlite:///{tmp_path / f'w{workers}.db'}")
        try:
            ingest(s, [src], workers=workers, batch_size=40)
            ads = list(s.iter_ads(sort="id"))
            mentions = s.mentions_for([a.pk for a in ads])
            return [(a.ad_id, a.risk, a.reasons, mentions[a.pk],
                     [i.to_dict() for i in s.images_for(a.pk)]) for a in ads]
        finally:
            s.close()

    one, two = stored(1), stored(2)
    assert len(one) > 100 and any(row[4] for row in one) and any(row[2] for row in one)
    assert one == two


def test_wire_form_round_trips_every_field() -> None:
    from tracelight.ingest import runner
    from tracelight.records import AdRecord, Evidence, ImageInfo, Mention, ProcessedAd, Reason

    item = ProcessedAd(
        record=AdRecord(id="1", source="s", body="x"),
        mentions=[Mention("phone", "+13125550101", "body", 1, 9, True, "312 555", "US", "why")],
        images=[ImageInfo(0, "a.jpg", "s" * 64, "m" * 32, "p" * 64, 90, 10, 20, "ab/cd", None),
                ImageInfo(1, "b.jpg", error="file not found")],
        risk=0.5,
        reasons=[Reason("code", 1.5, (Evidence("body", 1, 2, "t"), Evidence("title", 0, 1, "u")),
                        "d", "validated", "c", "detail", 2, "ad9", "label"),
                 Reason("plain", None)])
    assert runner._from_wire(item.record, runner._to_wire(item)) == item
    bare = ProcessedAd(record=item.record)
    assert runner._from_wire(item.record, runner._to_wire(bare)) == bare
