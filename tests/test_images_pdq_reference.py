"""PDQ correctness against ThreatExchange's reference hashes (tests/data/pdq, vendored)."""

from __future__ import annotations

import csv

import pytest

from images_helpers import PDQ_DATA
from tracelight.images.hashing import hamming, hash_image

if not (PDQ_DATA / "expected.csv").is_file():
    # The data ships with the tests: missing data is a broken checkout, never a skip.
    raise RuntimeError(f"PDQ reference data missing at {PDQ_DATA.resolve()}")


def _rows() -> list[dict[str, str]]:
    with (PDQ_DATA / "expected.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_reference_set_is_complete() -> None:
    rows = _rows()
    assert len(rows) >= 20
    assert {r["reference"] for r in rows} == {"cpp", "python-pdqhashing"}
    for r in rows:
        assert (PDQ_DATA / r["path"]).is_file(), r["path"]


@pytest.mark.parametrize("row", _rows(),
                         ids=lambda r: f"{r['reference']}:{r['path']}")
def test_hash_matches_reference(row: dict[str, str]) -> None:
    info = hash_image(PDQ_DATA / row["path"])
    assert info.error is None
    assert info.pdq is not None and len(info.pdq) == 64
    dist = hamming(info.pdq, row["hash"])
    assert dist <= 16, f"{row['path']}: {dist} bits from the {row['reference']} hash"
    if row["reference"] == "cpp" and (info.quality or 0) >= 80:
        assert dist <= 10, f"{row['path']}: {dist} bits from the C++ hash (quality {info.quality})"


def test_small_image_reports_zero_quality() -> None:
    info = hash_image(PDQ_DATA / "misc-images" / "small.jpg")
    assert info.quality == 0
    assert (info.width, info.height) == (224, 399)


def test_bridge_edits_stay_near_and_unrelated_images_far() -> None:
    mods = sorted((PDQ_DATA / "bridge-mods").glob("*.jpg"))
    assert mods
    orig = hash_image(PDQ_DATA / "bridge-mods" / "aaa-orig.jpg").pdq
    assert orig
    for m in mods:
        h = hash_image(m).pdq
        assert h and hamming(orig, h) <= 31, m.name
    unrelated = sorted((PDQ_DATA / "reg-test-input" / "labelme-subset").glob("*.jpg"))
    for u in unrelated:
        info = hash_image(u)
        if (info.quality or 0) >= 50:
            assert info.pdq and hamming(orig, info.pdq) > 31, u.name
