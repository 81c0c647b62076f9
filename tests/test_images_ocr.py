from __future__ import annotations

import re
from pathlib import Path

import pytest

from images_helpers import text_card
from tracelight.images import ocr
from tracelight.records import ImageInfo

pytestmark = pytest.mark.skipif(not ocr.available(), reason="rapidocr-onnxruntime not installed")


def test_reads_phone_number_written_in_image(tmp_path: Path) -> None:
    card = text_card(tmp_path / "card.png", "Text 702-555-0143")
    result = ocr.ocr_image(card, position=3)
    assert result.error is None
    assert result.field == "image:3"
    digits = re.sub(r"\D", "", result.text)
    assert "7025550143" in digits
    assert all(0.5 <= line.confidence <= 1 for line in result.lines)


def test_ocr_images_skips_unreadable(tmp_path: Path) -> None:
    import hashlib

    from tracelight.store.blobs import ImageStore
    card = text_card(tmp_path / "card.png", "hello 42")
    sha = hashlib.sha256(card.read_bytes()).hexdigest()
    key = ImageStore(tmp_path / "kept").put(card.read_bytes())
    infos = [ImageInfo(position=0, original="a", error="file not found"),
             ImageInfo(position=1, original="b", sha256=sha, stored_path=key),
             ImageInfo(position=2, original="c", sha256=sha, stored_path=str(card))]  # a path
    out = ocr.ocr_images(infos, tmp_path / "kept")
    assert [t.position for t in out] == [1]  # only what the image store keeps is read
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert ocr.ocr_image(bad).error
    assert ocr.ocr_image(tmp_path / "missing.png").error == "file not found"


def test_ocr_stage_adds_image_mentions(tmp_path: Path) -> None:
    import pickle

    from tracelight.images.stage import ImageStage
    from tracelight.records import AdRecord, ProcessedAd

    text_card(tmp_path / "card.png", "Call 702-555-0143")
    text_card(tmp_path / "plain.png", "Welcome")
    item = ProcessedAd(record=AdRecord(id="1", source="s", body="no phone in text",
                                       images=("plain.png", "card.png")))
    kept = str(tmp_path / "kept")
    ImageStage(kept)(item, tmp_path)
    stage = pickle.loads(pickle.dumps(ocr.OcrStage("US", image_dir=kept)))  # worker processes
    stage(item, tmp_path)
    phones = [m for m in item.mentions if m.kind == "phone"]
    assert [(m.value, m.field) for m in phones] == [("+17025550143", "image:1")]
    assert "702" in phones[0].raw
