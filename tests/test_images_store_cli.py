"""Banks, alerts and image search end to end through the CLI and the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from images_helpers import edited_copy, scene
from tracelight.cli.main import cli
from tracelight.images.hashing import hash_image
from tracelight.records import AdRecord, ProcessedAd
from tracelight.services.banks import load_bank_index, match_images
from tracelight.store import open_store


@pytest.fixture()
def corpus(tmp_path: Path) -> dict[str, object]:
    a = scene(tmp_path / "a.jpg", 1)
    b = edited_copy(a, tmp_path / "b.jpg")
    c = scene(tmp_path / "c.jpg", 2)
    url = f"sqlite:///{tmp_path / 't.db'}"
    store = open_store(url)
    items = []
    for ad_id, paths in (("ad1", [a]), ("ad2", [c, b]), ("ad3", [c])):
        infos = [hash_image(p, position=i, original=p.name) for i, p in enumerate(paths)]
        rec = AdRecord(id=ad_id, source="demo", title=f"title {ad_id}", body="body",
                       images=tuple(p.name for p in paths))
        items.append(ProcessedAd(record=rec, images=infos))
    store.write_batch(None, items)
    store.close()
    return {"url": url, "a": a, "b": b, "c": c, "tmp": tmp_path, "items": items}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_image_hash_cli(corpus: dict) -> None:
    code, out = run("image", "hash", str(corpus["a"]), str(corpus["c"]))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in rows] == [str(corpus["a"]), str(corpus["c"])]
    assert all(len(r["pdq"]) == 64 and r["width"] == 320 for r in rows)


def test_image_hash_cli_bad_file(tmp_path: Path) -> None:
    from tracelight.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["image", "hash", str(tmp_path / "nope.jpg")])
    assert exc.value.code == 3


def test_bank_import_matches_stored_images_and_lists(corpus: dict) -> None:
    url = corpus["url"]
    a = hash_image(corpus["a"])
    bank_file = corpus["tmp"] / "bank.csv"
    bank_file.write_text(f"pdq,label\n{a.pdq},case 12\n")
    code, out = run("bank", "import", "known", str(bank_file), "--db", url)
    assert code == 0, out
    assert "1 hashes added" in out and "2 new match(es)" in out  # photo A and its edited copy
    code, out = run("bank", "list", "--db", url, "--format", "jsonl")
    row = json.loads(out)
    assert (row["name"], row["pdq"], row["matches"]) == ("known", 1, 2)
    code, out = run("bank", "matches", "--db", url, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["distance"] == 0 for r in rows} == {True, False}
    assert sorted(x for r in rows for x in r["ads"]) == ["demo/ad1", "demo/ad2"]
    assert all(r["label"] == "case 12" for r in rows)
    # re-import: nothing new
    code, out = run("bank", "import", "known", str(bank_file), "--db", url)
    assert "0 hashes added, 1 already present" in out

    store = open_store(url)
    try:
        assert store.is_bank_matched(a.sha256 or "")
        c = hash_image(corpus["c"])
        assert not store.is_bank_matched(c.sha256 or "")
        assert store.bank_matched_sha256s([a.sha256 or "", c.sha256 or ""]) == {a.sha256}
    finally:
        store.close()


def test_bank_import_reports_bad_lines(corpus: dict) -> None:
    from tracelight.cli.main import main

    bad = corpus["tmp"] / "bad.txt"
    bad.write_text("abc\n" + "0" * 32 + "\nnothex!\n")
    with pytest.raises(SystemExit) as exc:
        main(["bank", "import", "x", str(bad), "--db", corpus["url"]])
    assert exc.value.code == 3


def test_match_images_for_ingest(corpus: dict) -> None:
    url = corpus["url"]
    store = open_store(url)
    try:
        assert match_images(store, [hash_image(corpus["c"])]) == []  # no banks yet
        c = hash_image(corpus["c"])
        bank = corpus["tmp"] / "md5.txt"
        bank.write_text(f"{c.md5}\n")
        _, out = run("bank", "import", "md5s", str(bank), "--db", url)
        assert "1 new match(es)" in out
        index = load_bank_index(store)
        # the same image again: already recorded, no new alert
        assert match_images(store, [c], index=index) == []
    finally:
        store.close()


def test_image_search_ranks_by_distance(corpus: dict) -> None:
    code, out = run("image-search", str(corpus["a"]), "--db", corpus["url"], "--format",
                    "jsonl")
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["ad_id"], r["exact"]) for r in rows] == [("ad1", True), ("ad2", False)]
    assert rows[0]["distance"] == 0 < rows[1]["distance"] <= 31
    assert rows[1]["position"] == 1
    code, out = run("image-search", str(corpus["a"]), "--db", corpus["url"])
    assert code == 0 and "ad1" in out


def test_bench_commands_run() -> None:
    code, out = run("bench", "images", "--count", "3", "--width", "64", "--height", "48")
    assert code == 0 and "images/s" in out
    code, out = run("bench", "bank", "--hashes", "2000", "--queries", "20")
    assert code == 0 and "lookups/s" in out and "planted_found=10/10" in out
