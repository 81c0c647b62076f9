"""The image stage and the bank hook inside a real ingest run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from images_helpers import edited_copy, scene
from tracelight import pipeline
from tracelight.images.banks import parse_bank_lines
from tracelight.images.hashing import hash_image
from tracelight.images.stage import ImageStage
from tracelight.ingest.runner import ingest
from tracelight.records import AdRecord, ProcessedAd
from tracelight.services.banks import BankHook, import_bank
from tracelight.store import open_store


def test_stage_hashes_copies_and_reports_errors(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    scene(src / "a.jpg", 1)
    keep = tmp_path / "kept"
    rec = AdRecord(id="1", source="s", body="x",
                   images=("a.jpg", "missing.jpg", "https://example.org/x.jpg", "a.jpg"))
    item = ProcessedAd(record=rec)
    ImageStage(str(keep))(item, src)
    a, missing, remote, again = item.images
    assert a.sha256 and a.pdq and a.position == 0 and a.original == "a.jpg"
    assert a.stored_path == f"{a.sha256[:2]}/{a.sha256}"  # a content key, relative to the store
    assert (keep / a.stored_path).read_bytes() == (src / "a.jpg").read_bytes()
    assert missing.error == "file not found" and missing.position == 1
    assert remote.error and "remote" in remote.error
    assert again.sha256 == a.sha256 and again.position == 3


def test_ingest_with_image_stage_and_bank_hook(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "images").mkdir(parents=True)
    scene(corpus / "images" / "a.jpg", 1)
    edited_copy(corpus / "images" / "a.jpg", corpus / "images" / "b.jpg")
    scene(corpus / "images" / "c.jpg", 2)
    ads = [{"id": "1", "source": "demo", "body": "one", "images": ["images/a.jpg"]},
           {"id": "2", "source": "demo", "body": "two", "images": ["images/b.jpg"]},
           {"id": "3", "source": "demo", "body": "three", "images": ["images/c.jpg"]}]
    (corpus / "ads.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ads))
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    try:
        a = hash_image(corpus / "images" / "a.jpg")
        import_bank(store, "known", parse_bank_lines([f"{a.pdq},case 1"]))
        monkeypatch.setattr(pipeline, "build_stages",
                            lambda opts: [ImageStage(str(tmp_path / "kept"))])
        hook = BankHook()
        summary = ingest(store, [str(corpus / "ads.jsonl")], workers=1, after_batch=[hook])
        assert summary.new == 3
        assert sorted(m.distance == 0 for m in hook.new_matches) == [False, True]
        rows = store.bank_match_rows()
        assert sorted(x for r in rows for x in r["ads"]) == ["demo/1", "demo/2"]
    finally:
        store.close()


def test_kept_image_keys_work_from_any_directory(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The web app and OCR run elsewhere than ingest did: the key is relative to the store."""
    from pathlib import Path

    from PIL import Image

    from tracelight.images.stage import ImageStage
    from tracelight.records import AdRecord, ProcessedAd
    from tracelight.store.blobs import ImageStore

    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "a.jpg")
    monkeypatch.chdir(tmp_path)
    item = ProcessedAd(AdRecord(id="1", source="s", body="x", images=("a.jpg",)))
    ImageStage("kept")(item, tmp_path)
    info = item.images[0]
    assert info.stored_path is not None and not Path(info.stored_path).is_absolute()
    monkeypatch.chdir("/")
    kept = ImageStore(tmp_path / "kept").get(info.sha256 or "", 10**6)
    assert kept == (tmp_path / "a.jpg").read_bytes()
