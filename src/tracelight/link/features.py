"""Per-ad linking features, held column-wise so a million ads fit in a few hundred MB.

`LinkAd` is what callers hand the linker (built from a ProcessedAd, a StoredAd plus its
mentions, or anything else). `FeatureTable` is what the linker keeps between runs: computing it
is the expensive, per-ad part (reading text); everything after it is global and cheap.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import numpy as np

from tracelight.kinds import STRONG
from tracelight.link.text import cleaned_text, wording_batch
from tracelight.records import ImageInfo, Mention, ProcessedAd

# Identifier kinds that are strong evidence when two ads share them (kinds.yaml: strong).
STRONG_KINDS = STRONG
IMAGE_KIND = "image"  # exact image (sha256)
IMAGE_NEAR_KIND = "image_near"  # near-duplicate image group (PDQ)

FEATURE_VERSION = 1  # bump when featurising changes: stored state is then rebuilt


@dataclass(frozen=True, slots=True)
class LinkAd:
    """One ad as the linker sees it. `key` must be unique and stable (e.g. "source/ad_id")."""

    key: str
    title: str = ""
    body: str = ""
    posted_at: datetime | None = None
    location: str | None = None
    mentions: tuple[Mention, ...] = ()
    image_sha256: tuple[str, ...] = ()
    image_pdq: tuple[str, ...] = ()
    risk: float | None = None

    @classmethod
    def from_processed(cls, item: ProcessedAd, key: str | None = None) -> LinkAd:
        rec = item.record
        return cls.build(key or f"{rec.source}/{rec.id}", rec.title, rec.body, rec.posted_at,
                         rec.location, item.mentions, item.images, item.risk)

    @classmethod
    def build(cls, key: str, title: str, body: str, posted_at: datetime | None,
              location: str | None, mentions: Iterable[Mention],
              images: Iterable[ImageInfo | dict[str, Any]] = (),
              risk: float | None = None) -> LinkAd:
        shas: list[str] = []
        pdqs: list[str] = []
        for img in images:
            get = img.get if isinstance(img, dict) else lambda k, i=img: getattr(i, k, None)
            if get("sha256"):
                shas.append(str(get("sha256")))
            quality = get("quality")
            # PDQ's own quality score: below 50 the hash is unreliable (flat images).
            if get("pdq") and (quality is None or quality >= 50):
                pdqs.append(str(get("pdq")))
        return cls(key=key, title=title, body=body, posted_at=posted_at, location=location,
                   mentions=tuple(mentions), image_sha256=tuple(shas), image_pdq=tuple(pdqs),
                   risk=risk)

    def identifiers(self) -> list[tuple[str, str]]:
        out = {(m.kind, m.value) for m in self.mentions if m.kind in STRONG_KINDS and m.value}
        out.update((IMAGE_KIND, s) for s in self.image_sha256)
        return sorted(out)

    def names(self) -> tuple[str, ...]:
        return tuple(sorted({m.value for m in self.mentions if m.kind == "name" and m.value}))

    def city(self) -> str | None:
        if self.location and self.location.strip():
            return self.location.strip()
        for m in self.mentions:
            if m.kind == "location" and m.value:
                return m.value
        return None


def _epoch(dt: datetime | None) -> float:
    if dt is None:
        return float("nan")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _concat_ragged(parts: Sequence[tuple[np.ndarray, np.ndarray]],
                   dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Join (values, offsets) pairs into one (values, offsets)."""
    values = [p[0] for p in parts if p[0].size]
    vals = np.concatenate(values).astype(dtype, copy=False) if values else np.zeros(0, dtype)
    offs = [np.zeros(1, dtype=np.int64)]
    base = 0
    for v, o in parts:
        offs.append(o[1:] + base)
        base += v.size
    return vals, np.concatenate(offs)


def take_ragged(values: np.ndarray, offsets: np.ndarray,
                rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ragged rows `rows` (in that order) of (values, offsets)."""
    lens = (offsets[1:] - offsets[:-1])[rows]
    new_off = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lens, out=new_off[1:])
    if new_off[-1] == 0:
        return values[:0], new_off
    starts = offsets[:-1][rows]
    idx = np.repeat(starts - new_off[:-1], lens) + np.arange(new_off[-1], dtype=np.int64)
    return values[idx], new_off


@dataclass
class FeatureTable:
    """Linking features of many ads; row i belongs to keys[i]."""

    keys: list[str] = field(default_factory=list)
    posted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    risk: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    cities: list[str | None] = field(default_factory=list)
    names: list[tuple[str, ...]] = field(default_factory=list)
    pdq: list[tuple[str, ...]] = field(default_factory=list)
    ident_vocab: list[tuple[str, str]] = field(default_factory=list)
    ident_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    ident_off: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    shingles: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    sh_off: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    sentences: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    se_off: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))

    def __len__(self) -> int:
        return len(self.keys)

    # ---- building ----------------------------------------------------------------------
    @classmethod
    def from_ads(cls, ads: Iterable[LinkAd], *, batch_size: int = 2000,
                 progress: Callable[[int], None] | None = None) -> FeatureTable:
        parts: list[FeatureTable] = []
        it: Iterator[LinkAd] = iter(ads)
        while True:
            batch = list(islice(it, batch_size))
            if not batch:
                break
            parts.append(cls._from_batch(batch))
            if progress:
                progress(len(batch))
        return cls.concat(parts)

    @classmethod
    def _from_batch(cls, ads: Sequence[LinkAd]) -> FeatureTable:
        wb = wording_batch([cleaned_text(a.title, a.body, a.mentions) for a in ads])
        vocab: dict[tuple[str, str], int] = {}
        ids: list[int] = []
        offs = [0]
        for a in ads:
            for ident in a.identifiers():
                ids.append(vocab.setdefault(ident, len(vocab)))
            offs.append(len(ids))
        return cls(
            keys=[a.key for a in ads],
            posted=np.array([_epoch(a.posted_at) for a in ads], dtype=np.float64),
            risk=np.array([np.nan if a.risk is None else a.risk for a in ads], np.float64),
            cities=[a.city() for a in ads], names=[a.names() for a in ads],
            pdq=[a.image_pdq for a in ads],
            ident_vocab=list(vocab), ident_ids=np.asarray(ids, dtype=np.int32),
            ident_off=np.asarray(offs, dtype=np.int64),
            shingles=wb.shingles, sh_off=wb.shingle_offsets,
            sentences=wb.sentences, se_off=wb.sentence_offsets)

    @classmethod
    def concat(cls, parts: Sequence[FeatureTable]) -> FeatureTable:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls()
        if len(parts) == 1:
            return parts[0]
        vocab: dict[tuple[str, str], int] = {}
        ident_parts = []
        for p in parts:
            remap = np.array([vocab.setdefault(v, len(vocab)) for v in p.ident_vocab],
                             dtype=np.int32)
            ident_parts.append((remap[p.ident_ids] if p.ident_ids.size else p.ident_ids,
                                p.ident_off))
        ident_ids, ident_off = _concat_ragged(ident_parts, np.int32)
        sh, sh_off = _concat_ragged([(p.shingles, p.sh_off) for p in parts], np.uint32)
        se, se_off = _concat_ragged([(p.sentences, p.se_off) for p in parts], np.uint64)
        return cls(
            keys=[k for p in parts for k in p.keys],
            posted=np.concatenate([p.posted for p in parts]),
            risk=np.concatenate([p.risk for p in parts]),
            cities=[c for p in parts for c in p.cities],
            names=[n for p in parts for n in p.names],
            pdq=[q for p in parts for q in p.pdq],
            ident_vocab=list(vocab), ident_ids=ident_ids, ident_off=ident_off,
            shingles=sh, sh_off=sh_off, sentences=se, se_off=se_off)

    def take(self, rows: np.ndarray) -> FeatureTable:
        """A table of the given rows, in that order (identifier vocabulary kept whole)."""
        rows = np.asarray(rows, dtype=np.int64)
        ids, ioff = take_ragged(self.ident_ids, self.ident_off, rows)
        sh, shoff = take_ragged(self.shingles, self.sh_off, rows)
        se, seoff = take_ragged(self.sentences, self.se_off, rows)
        pick = rows.tolist()
        return FeatureTable(
            keys=[self.keys[i] for i in pick], posted=self.posted[rows], risk=self.risk[rows],
            cities=[self.cities[i] for i in pick], names=[self.names[i] for i in pick],
            pdq=[self.pdq[i] for i in pick], ident_vocab=self.ident_vocab, ident_ids=ids,
            ident_off=ioff, shingles=sh, sh_off=shoff, sentences=se, se_off=seoff)

    def without(self, keys: Iterable[str]) -> FeatureTable:
        drop = set(keys)
        if not drop:
            return self
        rows = np.array([i for i, k in enumerate(self.keys) if k not in drop], dtype=np.int64)
        return self.take(rows)

    def canonical(self) -> FeatureTable:
        """Rows sorted by key, so every global step is independent of arrival order."""
        order = np.array(sorted(range(len(self.keys)), key=self.keys.__getitem__),
                         dtype=np.int64)
        if np.array_equal(order, np.arange(order.size)):
            return self
        return self.take(order)

    # ---- accessors ---------------------------------------------------------------------
    def idents_of(self, row: int) -> list[tuple[str, str]]:
        a, b = self.ident_off[row], self.ident_off[row + 1]
        return [self.ident_vocab[i] for i in self.ident_ids[a:b]]

    # ---- persistence -------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        meta = {"version": FEATURE_VERSION, "keys": self.keys, "cities": self.cities,
                "names": self.names, "pdq": self.pdq, "ident_vocab": self.ident_vocab}
        buf = io.BytesIO()
        np.savez(buf, posted=self.posted, risk=self.risk, ident_ids=self.ident_ids,
                 ident_off=self.ident_off, shingles=self.shingles, sh_off=self.sh_off,
                 sentences=self.sentences, se_off=self.se_off,
                 meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FeatureTable | None:
        """The stored table, or None when it was made by another feature version."""
        arrays = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(arrays["meta"].tobytes().decode())
        if meta.get("version") != FEATURE_VERSION:
            return None
        return cls(keys=meta["keys"], posted=arrays["posted"], risk=arrays["risk"],
                   cities=meta["cities"], names=[tuple(n) for n in meta["names"]],
                   pdq=[tuple(p) for p in meta["pdq"]],
                   ident_vocab=[(k, v) for k, v in meta["ident_vocab"]],
                   ident_ids=arrays["ident_ids"], ident_off=arrays["ident_off"],
                   shingles=arrays["shingles"], sh_off=arrays["sh_off"],
                   sentences=arrays["sentences"], se_off=arrays["se_off"])
