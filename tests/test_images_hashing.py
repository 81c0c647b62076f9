from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from images_helpers import edited_copy, scene
from tracelight.images.hashing import (
    bits_to_hex,
    hamming,
    hamming_many,
    hash_bytes,
    hash_image,
    image_info_dict,
    pdq_to_bytes,
)

hex64 = st.binary(min_size=32, max_size=32).map(bytes.hex)


@given(hex64, hex64)
def test_hamming_is_a_metric(a: str, b: str) -> None:
    assert hamming(a, a) == 0
    assert hamming(a, b) == hamming(b, a)
    assert 0 <= hamming(a, b) <= 256
    assert hamming(a.upper(), b) == hamming(a, b)


@given(hex64, st.lists(hex64, min_size=1, max_size=20))
def test_hamming_many_agrees_with_hamming(q: str, others: list[str]) -> None:
    packed = np.frombuffer(b"".join(pdq_to_bytes(h) for h in others), np.uint8).reshape(-1, 32)
    assert hamming_many(pdq_to_bytes(q), packed).tolist() == [hamming(q, h) for h in others]


def test_hamming_rejects_different_lengths() -> None:
    with pytest.raises(ValueError):
        hamming("ab", "abc")


def test_bits_to_hex_is_big_endian() -> None:
    bits = [1] + [0] * 255
    assert bits_to_hex(bits) == "8" + "0" * 63
    assert bits_to_hex([0] * 255 + [1]) == "0" * 63 + "1"


def test_hash_image_fields(tmp_path: Path) -> None:
    p = scene(tmp_path / "a.jpg", 1)
    info = hash_image(p, position=2, original="images/a.jpg")
    data = p.read_bytes()
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.md5 == hashlib.md5(data).hexdigest()
    assert info.pdq and len(info.pdq) == 64
    assert (info.width, info.height) == (320, 240)
    assert info.position == 2 and info.original == "images/a.jpg"
    assert info.stored_path == str(p) and info.error is None
    assert set(image_info_dict(info)) == {"path", "sha256", "md5", "pdq", "quality", "width",
                                          "height"}


def test_edited_copy_is_near(tmp_path: Path) -> None:
    a = hash_image(scene(tmp_path / "a.jpg", 1))
    b = hash_image(edited_copy(tmp_path / "a.jpg", tmp_path / "b.jpg"))
    c = hash_image(scene(tmp_path / "c.jpg", 2))
    assert a.pdq and b.pdq and c.pdq
    assert hamming(a.pdq, b.pdq) <= 31
    assert hamming(a.pdq, c.pdq) > 31


@pytest.mark.parametrize("content,needle", [
    (b"", "not a recognised image format"),
    (b"hello, not an image", "not a recognised image format"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image"),
])
def test_bad_bytes_give_error_not_exception(content: bytes, needle: str) -> None:
    info = hash_bytes(content, original="x")
    assert info.error and needle in info.error
    assert info.sha256 == hashlib.sha256(content).hexdigest()
    assert info.pdq is None


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = scene(tmp_path / "a.jpg", 3).read_bytes()
    info = hash_bytes(data[: len(data) // 3])
    assert info.error and info.pdq is None


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert hash_image(tmp_path / "nope.jpg").error == "file not found"
    assert "directory" in (hash_image(tmp_path).error or "")


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    info = hash_bytes(data)
    assert info.sha256 and (info.error or info.pdq)
