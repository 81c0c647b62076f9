"""Exact PDQ range search: every stored hash within Hamming distance T of a query.

Two back ends, one contract (exact results, never approximate — a missed bank match is a
missed possible victim):

- small sets: faiss `IndexBinaryFlat` (brute force, a few ms per query even at 1M);
- large sets: multi-index hashing (Norouzi et al.). The 256 bits are cut into 16 words of 16
  bits; by the pigeonhole principle two hashes within distance T agree on at least one word up
  to floor(T/16) flipped bits, so probing each word's buckets at that radius finds every
  candidate, and the full distance then filters them exactly. With T=31 that is 17 probes per
  word. Buckets are sorted arrays (CSR), which keeps memory at 4 bytes per hash per word and
  building under a second per million hashes. faiss's own IndexBinaryMultiHash was measured
  slower to build (7-14 s) and to query at 1M, with 10x the memory, so it is not used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

import faiss
import numpy as np

from tracelight.images.hashing import PDQ_BITS, pdq_to_bytes

HASH_BYTES = PDQ_BITS // 8
WORD_BITS = 16
N_WORDS = PDQ_BITS // WORD_BITS
FLAT_MAX = 100_000  # below this, brute force is as fast and needs no build time
QUERY_CHUNK = 256  # queries per vectorised step; bounds the candidate arrays' memory


def pack_hashes(hashes: Iterable[str]) -> np.ndarray:
    """Hex PDQ hashes to an (n, 32) uint8 array, bit order unchanged."""
    data = b"".join(pdq_to_bytes(h) for h in hashes)
    return np.frombuffer(data, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def _flip_masks(radius: int) -> np.ndarray:
    masks = [0]
    for r in range(1, radius + 1):
        for bits in combinations(range(WORD_BITS), r):
            m = 0
            for b in bits:
                m |= 1 << b
            masks.append(m)
    return np.array(masks, dtype=np.int64)


def _words(packed: np.ndarray) -> np.ndarray:
    """(n, 32) bytes to (n, 16) 16-bit words (big-endian pairs)."""
    return packed.view(">u2").astype(np.int64)


class PdqIndex:
    """An immutable set of PDQ hashes answering exact Hamming range queries."""

    def __init__(self, packed: np.ndarray, *, backend: str = "auto") -> None:
        if packed.ndim != 2 or packed.shape[1] != HASH_BYTES or packed.dtype != np.uint8:
            raise ValueError("PdqIndex wants an (n, 32) uint8 array; use pack_hashes()")
        self.packed = np.ascontiguousarray(packed)
        self.size = len(packed)
        if backend == "auto":
            backend = "flat" if self.size < FLAT_MAX else "mih"
        if backend not in ("flat", "mih"):
            raise ValueError(f"unknown backend {backend!r}")
        self.backend = backend
        self._as_u64 = self.packed.view(np.uint64)  # (n, 4): fast popcount distances
        if backend == "flat":
            self._flat = faiss.IndexBinaryFlat(PDQ_BITS)
            if self.size:
                self._flat.add(self.packed)
        else:
            self._build_mih()

    @classmethod
    def from_hex(cls, hashes: Sequence[str], *, backend: str = "auto") -> PdqIndex:
        return cls(pack_hashes(hashes) if hashes else np.zeros((0, HASH_BYTES), np.uint8),
                   backend=backend)

    def __len__(self) -> int:
        return self.size

    def _build_mih(self) -> None:
        # One flat array of row ids sorted per word, and per-word bucket offsets into it
        # (offsets already include the word's base), so a query probes all 16 words in one
        # vectorised step instead of a Python loop per word.
        words = _words(self.packed)
        n = self.size
        self._order = np.empty(N_WORDS * n, dtype=np.int32)
        self._offsets = np.empty((N_WORDS, (1 << WORD_BITS) + 1), dtype=np.int64)
        for w in range(N_WORDS):
            col = words[:, w]
            self._order[w * n:(w + 1) * n] = np.argsort(col, kind="stable")
            self._offsets[w, 0] = w * n
            np.cumsum(np.bincount(col, minlength=1 << WORD_BITS), out=self._offsets[w, 1:])
            self._offsets[w, 1:] += w * n

    def search(self, queries: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        """For each query row, [(index, distance)] of stored hashes within `threshold`,
        sorted by distance then index."""
        if queries.ndim != 2 or queries.shape[1] != HASH_BYTES:
            raise ValueError("queries must be an (m, 32) uint8 array")
        if threshold < 0:
            raise ValueError("threshold must be >= 0")
        out: list[list[tuple[int, int]]] = [[] for _ in range(len(queries))]
        if not self.size or not len(queries):
            return out
        queries = np.ascontiguousarray(queries, dtype=np.uint8)
        if self.backend == "flat":
            lims, dist, ids = self._flat.range_search(queries, threshold + 1)  # radius is "<"
            for qi in range(len(queries)):
                a, b = lims[qi], lims[qi + 1]
                out[qi] = sorted(zip(ids[a:b].tolist(), dist[a:b].astype(int).tolist(),
                                     strict=True), key=lambda t: (t[1], t[0]))
            return out
        for start in range(0, len(queries), QUERY_CHUNK):
            chunk = queries[start:start + QUERY_CHUNK]
            q_idx, c_idx, d_val = self._mih_chunk(chunk, threshold)
            for q, c, d in zip(q_idx.tolist(), c_idx.tolist(), d_val.tolist(), strict=True):
                out[start + q].append((c, d))
        for hits in out:
            hits.sort(key=lambda t: (t[1], t[0]))
        return out

    def _mih_chunk(self, chunk: np.ndarray, threshold: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        masks = _flip_masks(threshold // N_WORDS)
        qwords = _words(chunk)  # (nq, 16)
        probes = (qwords[:, :, None] ^ masks[None, None, :]).reshape(-1)
        word = np.broadcast_to(np.arange(N_WORDS)[None, :, None],
                               (len(chunk), N_WORDS, len(masks))).reshape(-1)
        starts = self._offsets[word, probes]
        lengths = self._offsets[word, probes + 1] - starts
        total = int(lengths.sum())
        if not total:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        # Expand each [start, start+length) bucket into positions without a Python loop.
        ends = np.cumsum(lengths)
        pos = np.arange(total, dtype=np.int64) - np.repeat(ends - lengths - starts, lengths)
        ci = np.take(self._order, pos).astype(np.int64)
        qi = np.repeat(np.arange(len(chunk), dtype=np.int64), N_WORDS * len(masks))
        qi = np.repeat(qi, lengths)
        q64 = np.ascontiguousarray(chunk).view(np.uint64)
        dist = np.bitwise_count(np.take(self._as_u64, ci, axis=0) ^ np.take(q64, qi, axis=0)
                                ).sum(axis=1, dtype=np.int64)
        keep = dist <= threshold
        qi, ci, dist = qi[keep], ci[keep], dist[keep]
        # A hash close in several words is found once per word: keep one copy.
        key = qi * self.size + ci
        _, first = np.unique(key, return_index=True)
        return qi[first], ci[first], dist[first]
