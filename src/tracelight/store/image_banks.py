"""Hash banks, bank-match alerts and the stored image hashes image search reads.

Tables (migration 0002, in store/schema.py): `banks`, `bank_hashes` (one row per known hash),
`bank_matches` (one alert per stored image x bank hash: the evidence is the image's hashes, the
bank hash, its label and the distance). Images that matched a bank are never displayed: the
web asks `is_bank_matched()` / `bank_matched_sha256s()` and shows hashes only.

Only storage: matching (tracelight.images.banks) and the use cases that run it
(tracelight.services.banks, tracelight.services.image_search) live elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from tracelight.errors import NotFoundError, UsageError
from tracelight.records import ImageInfo, utcnow
from tracelight.store.ads import _upsert_ignore
from tracelight.store.base import StoreBase
from tracelight.store.schema import (
    MAX_BANK_NAME,
    ad_images,
    ads,
    bank_hashes,
    bank_matches,
    banks,
    images,
)

MIN_PDQ_QUALITY = 50  # below this a PDQ hash says little (flat or tiny pictures)


@dataclass(frozen=True)
class BankSummary:
    name: str
    source: str | None
    created_at: datetime
    updated_at: datetime
    hashes: dict[str, int]  # per kind
    matches: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "created_at": self.created_at,
                "updated_at": self.updated_at, "pdq": self.hashes.get("pdq", 0),
                "md5": self.hashes.get("md5", 0), "sha1": self.hashes.get("sha1", 0),
                "sha256": self.hashes.get("sha256", 0), "total": sum(self.hashes.values()),
                "matches": self.matches}


@dataclass(frozen=True)
class BankHash:
    """One known hash of a bank."""

    bank: str
    kind: str  # pdq, md5, sha1, sha256
    value: str
    label: str | None = None


@dataclass(frozen=True)
class FoundMatch:
    """A stored image that matched a bank hash, to be recorded as an alert."""

    image_sha256: str
    bank: str
    kind: str
    bank_hash: str
    distance: int


@dataclass(frozen=True)
class ImageHit:
    """An ad that carries one stored image."""

    ad_pk: int
    ad_id: str
    source: str
    title: str
    position: int
    image_pk: int
    image_sha256: str


def _image_info(r: Any) -> ImageInfo:
    return ImageInfo(position=0, original=r.stored_path or "", sha256=r.sha256,
                     md5=r.md5 or None, pdq=r.pdq, quality=r.quality, width=r.width,
                     height=r.height, stored_path=r.stored_path)


def _pks_by(conn: Connection, col: Any, pk_col: Any, values: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(0, len(values), 500):
        for r in conn.execute(select(col, pk_col).where(col.in_(values[i:i + 500]))):
            out[r[0]] = r[1]
    return out


class BankTables(StoreBase):
    """The BankRepo of tracelight.store.interfaces, on SQLite or PostgreSQL."""

    # ---- banks ---------------------------------------------------------------------------
    def add_bank_hashes(self, name: str, entries: Sequence[tuple[str, str, str | None]], *,
                        source: str | None = None) -> tuple[str, bool, int]:
        """Create bank NAME (or add to it) with these (kind, value, label) hashes.

        Returns (the name as stored, created, how many hashes were new)."""
        name = name.strip()
        if not name or len(name) > MAX_BANK_NAME:
            raise UsageError(f"a bank name has 1 to {MAX_BANK_NAME} characters")
        now = utcnow()
        with self.transaction() as conn:
            pk = conn.execute(select(banks.c.pk).where(banks.c.name == name)).scalar()
            created = pk is None
            if created:
                pk = conn.execute(insert(banks).returning(banks.c.pk).values(
                    name=name, source=source, created_at=now, updated_at=now)).scalar_one()
            before = conn.execute(select(func.count()).select_from(bank_hashes)
                                  .where(bank_hashes.c.bank_pk == pk)).scalar_one()
            rows = [{"bank_pk": pk, "kind": kind, "value": value, "label": label}
                    for kind, value, label in entries]
            for i in range(0, len(rows), 5000):
                _upsert_ignore(conn, bank_hashes, rows[i:i + 5000],
                               ["bank_pk", "kind", "value"])
            after = conn.execute(select(func.count()).select_from(bank_hashes)
                                 .where(bank_hashes.c.bank_pk == pk)).scalar_one()
            conn.execute(banks.update().where(banks.c.pk == pk).values(updated_at=now))
        return name, created, int(after - before)

    def list_banks(self) -> list[BankSummary]:
        with self.connect() as conn:
            counts: dict[int, dict[str, int]] = {}
            for r in conn.execute(select(bank_hashes.c.bank_pk, bank_hashes.c.kind,
                                         func.count())
                                  .group_by(bank_hashes.c.bank_pk, bank_hashes.c.kind)):
                counts.setdefault(r[0], {})[r[1]] = int(r[2])
            matches: dict[int, int] = {int(k): int(v) for k, v in conn.execute(
                select(bank_hashes.c.bank_pk, func.count())
                .select_from(bank_matches.join(bank_hashes,
                                               bank_hashes.c.pk == bank_matches.c.bank_hash_pk))
                .group_by(bank_hashes.c.bank_pk)).all()}
            return [BankSummary(name=r.name, source=r.source, created_at=r.created_at,
                                updated_at=r.updated_at, hashes=counts.get(r.pk, {}),
                                matches=int(matches.get(r.pk, 0)))
                    for r in conn.execute(select(banks).order_by(banks.c.name))]

    def delete_bank(self, name: str) -> None:
        with self.transaction() as conn:
            pk = conn.execute(select(banks.c.pk).where(banks.c.name == name)).scalar()
            if pk is None:
                raise NotFoundError(f"no bank named {name!r}")
            hash_pks = select(bank_hashes.c.pk).where(bank_hashes.c.bank_pk == pk)
            conn.execute(delete(bank_matches).where(bank_matches.c.bank_hash_pk.in_(hash_pks)))
            conn.execute(delete(bank_hashes).where(bank_hashes.c.bank_pk == pk))
            conn.execute(delete(banks).where(banks.c.pk == pk))

    def bank_version(self) -> tuple[int, int, str]:
        """A cheap fingerprint of every bank's hashes (count, newest pk, newest bank change):
        it changes whenever a hash is added or removed or a bank is made, renamed or deleted,
        so a long-lived matcher (the check API) knows when to reload its index."""
        with self.connect() as conn:
            n, top = conn.execute(select(func.count(), func.max(bank_hashes.c.pk))).one()
            banks_n, changed = conn.execute(select(func.count(), func.max(banks.c.updated_at))
                                            ).one()
        return int(n or 0), int(top or 0), f"{banks_n}:{changed}"

    def iter_bank_hashes(self, *, bank: str | None = None) -> Iterator[BankHash]:
        """Every known hash of every bank (or of one), in the order they were added."""
        stmt = (select(banks.c.name, bank_hashes.c.kind, bank_hashes.c.value,
                       bank_hashes.c.label)
                .join(banks, banks.c.pk == bank_hashes.c.bank_pk)
                .order_by(bank_hashes.c.pk))
        if bank is not None:
            stmt = stmt.where(banks.c.name == bank)
        with self.connect() as conn:
            for r in conn.execution_options(yield_per=10_000).execute(stmt):
                yield BankHash(r.name, r.kind, r.value, r.label)

    # ---- stored images ---------------------------------------------------------------------
    def images_of_ads(self, ad_pks: Sequence[int]) -> list[ImageInfo]:
        """The stored, readable images of these ads (each image once)."""
        out: dict[str, ImageInfo] = {}
        with self.connect() as conn:
            for i in range(0, len(ad_pks), 500):
                stmt = (select(images.c.sha256, images.c.md5, images.c.pdq, images.c.quality,
                               images.c.width, images.c.height, images.c.stored_path)
                        .join(ad_images, ad_images.c.image_pk == images.c.pk)
                        .where(ad_images.c.ad_pk.in_(list(ad_pks[i:i + 500]))))
                for r in conn.execute(stmt):
                    out.setdefault(r.sha256, _image_info(r))
        return list(out.values())

    def iter_stored_images(self) -> Iterator[ImageInfo]:
        stmt = select(images.c.sha256, images.c.md5, images.c.pdq, images.c.quality,
                      images.c.width, images.c.height, images.c.stored_path).order_by(images.c.pk)
        with self.connect() as conn:
            for r in conn.execution_options(yield_per=5000).execute(stmt):
                yield _image_info(r)

    def image_pks_with_digest(self, sha256: str | None, md5: str | None) -> list[int]:
        """Stored images with exactly this SHA-256 or MD5."""
        with self.connect() as conn:
            return [r.pk for r in conn.execute(select(images.c.pk).where(
                (images.c.sha256 == (sha256 or "")) | (images.c.md5 == (md5 or ""))))]

    def pdq_hashes(self, min_quality: int = MIN_PDQ_QUALITY) -> tuple[list[int], list[str]]:
        """(image pks, PDQ hex hashes) of every stored image whose PDQ quality is usable."""
        pks: list[int] = []
        hexes: list[str] = []
        stmt = (select(images.c.pk, images.c.pdq)
                .where(images.c.pdq.is_not(None), images.c.quality >= min_quality))
        with self.connect() as conn:
            for r in conn.execution_options(yield_per=10_000).execute(stmt):
                pks.append(r.pk)
                hexes.append(r.pdq)
        return pks, hexes

    def ads_with_images(self, image_pks: Sequence[int]) -> tuple[list[ImageHit], set[int]]:
        """The ads carrying these images, and which of the images matched a bank."""
        matched: set[int] = set()
        hits: list[ImageHit] = []
        ids = sorted(set(image_pks))
        with self.connect() as conn:
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                matched.update(r[0] for r in conn.execute(
                    select(bank_matches.c.image_pk).where(bank_matches.c.image_pk.in_(part))))
                stmt = (select(ads.c.pk, ads.c.ad_id, ads.c.source, ads.c.title,
                               ad_images.c.position, ad_images.c.image_pk, images.c.sha256)
                        .select_from(ad_images.join(ads, ads.c.pk == ad_images.c.ad_pk)
                                     .join(images, images.c.pk == ad_images.c.image_pk))
                        .where(ad_images.c.image_pk.in_(part)))
                hits.extend(ImageHit(r.pk, r.ad_id, r.source, r.title, r.position,
                                     r.image_pk, r.sha256) for r in conn.execute(stmt))
        return hits, matched

    # ---- alerts ----------------------------------------------------------------------------
    def record_bank_matches(self, found: Sequence[FoundMatch]) -> list[int]:
        """Record an alert for each match not recorded before; return their indices in
        `found`. Matches of images not stored (yet) or of hashes since removed are skipped."""
        if not found:
            return []
        now = utcnow()
        new: list[int] = []
        with self.transaction() as conn:
            shas = sorted({m.image_sha256 for m in found if m.image_sha256})
            image_pk = _pks_by(conn, images.c.sha256, images.c.pk, shas)
            keys = sorted({(m.bank, m.kind, m.bank_hash) for m in found})
            hash_pk: dict[tuple[str, str, str], int] = {}
            for i in range(0, len(keys), 300):
                part = keys[i:i + 300]
                stmt = (select(banks.c.name, bank_hashes.c.kind, bank_hashes.c.value,
                               bank_hashes.c.pk)
                        .join(banks, banks.c.pk == bank_hashes.c.bank_pk)
                        .where(bank_hashes.c.value.in_(sorted({k[2] for k in part}))))
                for r in conn.execute(stmt):
                    hash_pk[(r.name, r.kind, r.value)] = r.pk
            for n, m in enumerate(found):
                ipk = image_pk.get(m.image_sha256 or "")
                hpk = hash_pk.get((m.bank, m.kind, m.bank_hash))
                if ipk is None or hpk is None:
                    continue  # image not stored (yet) or bank changed meanwhile
                exists = conn.execute(select(bank_matches.c.pk).where(
                    bank_matches.c.bank_hash_pk == hpk,
                    bank_matches.c.image_pk == ipk)).first()
                if exists:
                    continue
                conn.execute(insert(bank_matches).values(bank_hash_pk=hpk, image_pk=ipk,
                                                         distance=m.distance, matched_at=now,
                                                         status="new"))
                new.append(n)
        return new

    def bank_match_rows(self, *, bank: str | None = None, status: str | None = None,
                        limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Alerts with their evidence: bank, hash kind, bank hash and label, distance, the
        image's hashes and the ads that carry it. Never the image itself."""
        stmt = (select(bank_matches.c.pk, bank_matches.c.distance, bank_matches.c.matched_at,
                       bank_matches.c.status, banks.c.name.label("bank"), bank_hashes.c.kind,
                       bank_hashes.c.value.label("bank_hash"), bank_hashes.c.label,
                       images.c.pk.label("image_pk"), images.c.sha256, images.c.md5,
                       images.c.pdq, images.c.quality)
                .select_from(bank_matches
                             .join(bank_hashes, bank_hashes.c.pk == bank_matches.c.bank_hash_pk)
                             .join(banks, banks.c.pk == bank_hashes.c.bank_pk)
                             .join(images, images.c.pk == bank_matches.c.image_pk))
                .order_by(bank_matches.c.matched_at.desc(), bank_matches.c.pk.desc())
                .limit(limit).offset(offset))
        if bank:
            stmt = stmt.where(banks.c.name == bank)
        if status:
            stmt = stmt.where(bank_matches.c.status == status)
        with self.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
            ads_by_image: dict[int, list[str]] = {}
            pks = sorted({r["image_pk"] for r in rows})
            for i in range(0, len(pks), 500):
                for a in conn.execute(select(ad_images.c.image_pk, ads.c.source, ads.c.ad_id)
                                      .join(ads, ads.c.pk == ad_images.c.ad_pk)
                                      .where(ad_images.c.image_pk.in_(pks[i:i + 500]))
                                      .order_by(ads.c.source, ads.c.ad_id)):
                    ads_by_image.setdefault(a.image_pk, []).append(f"{a.source}/{a.ad_id}")
        for row in rows:
            row["ads"] = ads_by_image.get(row["image_pk"], [])
            row["image_sha256"] = row.pop("sha256")
        return rows

    def bank_matched_sha256s(self, sha256s: Sequence[str]) -> set[str]:
        """Which of these images matched any bank (the web must not display those)."""
        out: set[str] = set()
        values = sorted(set(sha256s))
        with self.connect() as conn:
            for i in range(0, len(values), 500):
                stmt = (select(images.c.sha256).distinct()
                        .join(bank_matches, bank_matches.c.image_pk == images.c.pk)
                        .where(images.c.sha256.in_(values[i:i + 500])))
                out.update(r[0] for r in conn.execute(stmt))
        return out

    def is_bank_matched(self, sha256: str) -> bool:
        return bool(self.bank_matched_sha256s([sha256]))
