from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.images.hashing import hamming_many
from tracelight.images.pdqindex import PdqIndex, pack_hashes


def _flip(row: np.ndarray, bits: np.ndarray) -> np.ndarray:
    out = row.copy()
    for b in bits:
        out[b // 8] ^= 1 << (7 - b % 8)
    return out


def _brute(db: np.ndarray, q: np.ndarray, t: int) -> list[list[tuple[int, int]]]:
    out = []
    for row in q:
        d = hamming_many(row.tobytes(), db)
        hits = [(int(i), int(d[i])) for i in np.nonzero(d <= t)[0]]
        out.append(sorted(hits, key=lambda x: (x[1], x[0])))
    return out


@pytest.mark.parametrize("threshold", [0, 15, 31, 32, 47, 70])
def test_both_backends_are_exact(threshold: int) -> None:
    rng = np.random.default_rng(threshold)
    db = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    # Clustered rows (like real near-duplicate photos) plus random ones.
    db[1000:1100] = np.array([_flip(db[0], rng.choice(256, rng.integers(0, 40), replace=False))
                              for _ in range(100)])
    q = np.array([_flip(db[i], rng.choice(256, rng.integers(0, threshold + 2), replace=False))
                  for i in rng.integers(0, 3000, 60)] + [db[0]], dtype=np.uint8)
    expected = _brute(db, q, threshold)
    assert PdqIndex(db, backend="flat").search(q, threshold) == expected
    assert PdqIndex(db, backend="mih").search(q, threshold) == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40),
       st.integers(0, 64))
def test_mih_equals_brute_force(rows: list[bytes], t: int) -> None:
    db = pack_hashes([r.hex() for r in rows])
    expected = _brute(db, db, t)
    assert PdqIndex(db, backend="mih").search(db, t) == expected


def test_empty_index_and_queries() -> None:
    empty = PdqIndex.from_hex([])
    assert empty.search(np.zeros((2, 32), np.uint8), 31) == [[], []]
    idx = PdqIndex.from_hex(["00" * 32])
    assert idx.search(np.zeros((0, 32), np.uint8), 31) == []


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        PdqIndex(np.zeros((2, 31), np.uint8))
    with pytest.raises(ValueError):
        PdqIndex.from_hex(["00" * 32]).search(np.zeros((1, 32), np.uint8), -1)
