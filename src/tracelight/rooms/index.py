"""The room index: visual words for candidate retrieval, kept features for verification.

Retrieval is a bag of visual words (Sivic & Zisserman's "Video Google", the classic for
finding the same place again): ORB descriptors are quantised to a codebook trained on the
gallery with FAISS k-means (on the descriptors' bits, then binarised, so assignment is a
Hamming search in a FAISS binary index), each photo becomes a tf-idf vector over the words,
and a query's candidates are the photos whose vectors are nearest (a sparse inverted-file
product). Words every room of a chain shares (its wallpaper, its bedding) get a low idf;
words of the hotel's own art and mirror carry the weight.

The kept ORB keypoints of every gallery photo feed geometric verification (verify.py).

Persisted as plain numpy files in one folder (no pickle): `codebook.npy`, `counts_*.npy`
(sparse word counts), `xy.npy`, `desc.npy`, `offsets.npy`, `meta.json`. Loading maps the
large arrays read-only from disk.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import scipy.sparse as sp

from tracelight.rooms.features import DESC_BYTES, Features

DEFAULT_WORDS = 32768
FORMAT = 1


def _bits(desc: np.ndarray) -> np.ndarray:
    return np.unpackbits(desc, axis=1).astype(np.float32)


def _kmeans(x: np.ndarray, k: int, seed: int, niter: int) -> np.ndarray:
    """(k', 32) binary centres of binary descriptors x (FAISS k-means on their bits)."""
    k = max(1, min(k, x.shape[0]))
    if k == 1:
        return np.packbits(_bits(x).mean(axis=0, keepdims=True) > 0.5, axis=1)
    km = faiss.Kmeans(DESC_BYTES * 8, k, niter=niter, seed=seed, verbose=False,
                      min_points_per_centroid=1, max_points_per_centroid=2_000)
    km.train(_bits(x))
    centroids = np.asarray(km.centroids)
    return np.packbits(centroids > 0.5, axis=1).astype(np.uint8)


def _nearest(desc: np.ndarray, codes: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Index of the nearest code (Hamming) for each descriptor; codes (m, 32) or (n, m, 32).
    In chunks of rows, so a large training sample never makes a (n, m, 4) array at once."""
    d64 = np.ascontiguousarray(desc).view(np.uint64)  # (n, 4)
    c64 = np.ascontiguousarray(codes).view(np.uint64)
    out = np.empty(d64.shape[0], np.int64)
    for a in range(0, d64.shape[0], chunk):
        d = d64[a:a + chunk, None, :]
        c = c64[None, :, :] if c64.ndim == 2 else c64[a:a + chunk]
        out[a:a + chunk] = np.argmin(np.bitwise_count(d ^ c).sum(axis=2), axis=1)
    return out


def train_codebook(descs: Sequence[np.ndarray], k: int = DEFAULT_WORDS, *, seed: int = 1,
                   max_train: int = 300_000, niter: int = 10) -> np.ndarray:
    """(b1, 1 + b2, 32) uint8: a two-level vocabulary tree (Nister & Stewenius) of binary
    words, b1 * b2 close to `k`, trained on a sample of gallery descriptors; [:, 0] holds the
    first-level centres, [:, 1:] the words under each."""
    allv = np.concatenate([d for d in descs if len(d)]) if descs else np.zeros((0, DESC_BYTES))
    if allv.shape[0] == 0:
        raise ValueError("no keypoints in the gallery to train visual words on")
    rng = np.random.default_rng(seed)
    allv = allv.astype(np.uint8)
    if allv.shape[0] > max_train:
        allv = allv[rng.choice(allv.shape[0], max_train, replace=False)]
    k = max(4, min(k, allv.shape[0] // 4))
    b1 = max(2, round(float(np.sqrt(k / 2))))
    b2 = max(2, k // b1)
    # FAISS would sample b1 * 2,000 points for the first level anyway: sample before the
    # bits are unpacked (a float32 copy, 1 KiB a descriptor)
    first = allv if allv.shape[0] <= b1 * 2_000 else \
        allv[rng.choice(allv.shape[0], b1 * 2_000, replace=False)]
    top = _kmeans(first, b1, seed, niter)
    b1 = top.shape[0]
    assign = _nearest(allv, top)
    tree = np.zeros((b1, 1 + b2, DESC_BYTES), np.uint8)
    tree[:, 0] = top
    for i in range(b1):
        members = allv[assign == i]
        sub = _kmeans(members, b2, seed + i + 1, niter) if len(members) else top[i:i + 1]
        tree[i, 1:1 + sub.shape[0]] = sub
        tree[i, 1 + sub.shape[0]:] = sub[0]  # unused leaves repeat the first (never nearer)
    return tree


@dataclass(frozen=True)
class Candidate:
    row: int  # gallery photo row in the index
    image_id: str
    hotel_id: str
    score: float  # cosine of tf-idf vectors, 0..1


class RoomIndex:
    """Gallery photos (image id, hotel id) with their words and keypoints."""

    def __init__(self, codebook: np.ndarray) -> None:
        if codebook.ndim != 3 or codebook.shape[2] != DESC_BYTES or codebook.shape[1] < 2:
            raise ValueError("a room codebook is a (b1, 1 + b2, 32) vocabulary tree")
        self.codebook = np.ascontiguousarray(codebook, dtype=np.uint8)
        self._top = np.ascontiguousarray(self.codebook[:, 0, :])
        self._leaves = np.ascontiguousarray(self.codebook[:, 1:, :])
        self._b2 = int(self._leaves.shape[1])
        self.k = int(self.codebook.shape[0] * self._b2)
        self.image_ids: list[str] = []
        self.hotel_ids: list[str] = []
        self._rows: list[np.ndarray] = []  # word ids per photo (pending, not yet in _counts)
        self._counts: sp.csr_matrix = sp.csr_matrix((0, self.k), dtype=np.float32)
        self._xy: list[np.ndarray] = []
        self._desc: list[np.ndarray] = []
        self._xy_all: np.ndarray = np.zeros((0, 2), np.float32)
        self._desc_all: np.ndarray = np.zeros((0, DESC_BYTES), np.uint8)
        self._offsets: np.ndarray = np.zeros(1, np.int64)
        self._sizes: list[tuple[int, int]] = []
        self._tfidf: sp.csr_matrix | None = None
        self._idf: np.ndarray | None = None
        self._seen: set[str] = set()

    # -- building
    def words(self, desc: np.ndarray) -> np.ndarray:
        if len(desc) == 0:
            return np.zeros(0, np.int64)
        desc = np.ascontiguousarray(desc, dtype=np.uint8)
        first = _nearest(desc, self._top)
        second = _nearest(desc, self._leaves[first])
        return (first * self._b2 + second).astype(np.int64)

    def add(self, image_id: str, hotel_id: str, feats: Features) -> bool:
        """Add one gallery photo; False (nothing added) when the image id is already in."""
        if image_id in self._seen:
            return False
        self._seen.add(image_id)
        self.image_ids.append(image_id)
        self.hotel_ids.append(hotel_id)
        self._rows.append(self.words(feats.desc))
        self._xy.append(feats.xy.astype(np.float32))
        self._desc.append(feats.desc)
        self._sizes.append(feats.size)
        self._tfidf = None
        return True

    def __len__(self) -> int:
        return len(self.image_ids)

    def _flush(self) -> None:
        if self._rows:
            n0 = self._counts.shape[0]
            indptr = np.concatenate([[0], np.cumsum([len(r) for r in self._rows])])
            ind = np.concatenate(self._rows) if indptr[-1] else np.zeros(0, np.int64)
            new = sp.csr_matrix((np.ones(ind.size, np.float32), ind, indptr),
                                shape=(len(self._rows), self.k))
            new.sum_duplicates()
            self._counts = sp.vstack([self._counts, new], format="csr")
            assert self._counts.shape[0] == n0 + len(self._rows)
            lens = np.array([len(x) for x in self._xy], np.int64)
            self._xy_all = np.concatenate([self._xy_all, *self._xy]) if self._xy \
                else self._xy_all
            self._desc_all = np.concatenate([self._desc_all, *self._desc])
            self._offsets = np.concatenate([self._offsets, self._offsets[-1] + np.cumsum(lens)])
            self._rows, self._xy, self._desc = [], [], []
        if self._tfidf is None:
            n = max(1, self._counts.shape[0])
            df = np.bincount(self._counts.indices, minlength=self.k).astype(np.float32)
            self._idf = np.log((n + 1.0) / (df + 1.0)).astype(np.float32)
            # binary term frequency: a word's repeats in one photo (a wallpaper motif, the
            # bedding's stripes) count once, so repeated chain patterns do not drown the
            # hotel's own words (burstiness, Jegou et al. 2009)
            m = self._counts.sign().multiply(self._idf[None, :]).tocsr()
            norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            self._tfidf = sp.csr_matrix(sp.diags(1.0 / norms) @ m, dtype=np.float32)

    # -- querying
    def candidates(self, feats: Features, n: int = 100) -> list[Candidate]:
        """The `n` gallery photos whose visual words are nearest to this photo's."""
        self._flush()
        assert self._tfidf is not None and self._idf is not None
        if len(self) == 0 or len(feats) == 0:
            return []
        w = self.words(feats.desc)
        q = (np.bincount(w, minlength=self.k) > 0).astype(np.float32) * self._idf
        nq = float(np.linalg.norm(q))
        if nq == 0:
            return []
        scores = self._tfidf @ (q / nq)
        n = min(n, scores.size)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [Candidate(int(i), self.image_ids[i], self.hotel_ids[i], float(scores[i]))
                for i in top]

    def word_weights(self, desc: np.ndarray) -> np.ndarray:
        """The idf of each descriptor's word (how distinctive it is in this gallery)."""
        self._flush()
        assert self._idf is not None
        return self._idf[self.words(desc)] if len(desc) else np.zeros(0, np.float32)

    def features(self, row: int) -> Features:
        self._flush()
        a, b = int(self._offsets[row]), int(self._offsets[row + 1])
        return Features(np.asarray(self._xy_all[a:b]), np.asarray(self._desc_all[a:b]),
                        self._sizes[row])

    def nbytes(self) -> dict[str, int]:
        """Bytes held per part: the retrieval index and the kept keypoints."""
        self._flush()
        assert self._tfidf is not None
        t = self._tfidf
        return {"words": int(t.data.nbytes + t.indices.nbytes + t.indptr.nbytes
                             + self._counts.data.nbytes + self._counts.indices.nbytes),
                "keypoints": int(self._xy_all.nbytes + self._desc_all.nbytes
                                 + self._offsets.nbytes),
                "codebook": int(self.codebook.nbytes)}

    # -- persistence
    def save(self, folder: Path) -> None:
        self._flush()
        folder.mkdir(parents=True, exist_ok=True)
        c = self._counts
        parts = {"codebook": self.codebook, "counts_data": c.data, "counts_indices": c.indices,
                 "counts_indptr": c.indptr, "xy": self._xy_all, "desc": self._desc_all,
                 "offsets": self._offsets,
                 "sizes": np.array(self._sizes, np.int32).reshape(-1, 2)}
        for name, arr in parts.items():
            tmp = folder / f"{name}.tmp.npy"
            np.save(tmp, arr, allow_pickle=False)
            os.replace(tmp, folder / f"{name}.npy")
        meta = {"format": FORMAT, "image_ids": self.image_ids, "hotel_ids": self.hotel_ids}
        tmp = folder / "meta.json.tmp"
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, folder / "meta.json")

    @classmethod
    def load(cls, folder: Path) -> RoomIndex:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"room index format {meta.get('format')!r} is not {FORMAT}: "
                             "rebuild it (tracelight rooms ingest --rebuild)")

        def arr(name: str, mmap: bool = False) -> np.ndarray:
            return np.load(folder / f"{name}.npy", allow_pickle=False,
                           mmap_mode="r" if mmap else None)

        idx = cls(arr("codebook"))
        idx.image_ids = list(meta["image_ids"])
        idx.hotel_ids = list(meta["hotel_ids"])
        idx._seen = set(idx.image_ids)
        n = len(idx.image_ids)
        idx._counts = sp.csr_matrix((arr("counts_data"), arr("counts_indices"),
                                     arr("counts_indptr")), shape=(n, idx.k))
        idx._xy_all = arr("xy", True)
        idx._desc_all = arr("desc", True)
        idx._offsets = arr("offsets")
        idx._sizes = [(int(w), int(h)) for w, h in arr("sizes")]
        return idx
