"""Hash banks, bank-match alerts and image search over stored ad images.

Tables (migration 0002): `banks`, `bank_hashes` (one row per known hash), `bank_matches` (one
alert per stored image x bank hash: the evidence is the image's hashes, the bank hash, its
label and the distance). Images that matched a bank are never displayed: the web asks
`is_bank_matched()` / `bank_matched_sha256s()` and shows hashes only.

Matching itself is pure (tracelight.images.banks.BankIndex); this module loads banks into it
and records what it finds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
)

from tracelight import settings
from tracelight.errors import NotFoundError, UsageError
from tracelight.images.banks import BankEntry, BankIndex, BankMatch
from tracelight.images.pdqindex import PdqIndex, pack_hashes
from tracelight.records import ImageInfo, utcnow
from tracelight.store import Store
from tracelight.store.ads import _upsert_ignore
from tracelight.store.schema import ad_images, ads, images, metadata

MIN_PDQ_QUALITY = 50  # below this a PDQ hash says little (flat or tiny pictures)
MAX_BANK_NAME = 100

banks = Table(
    "banks", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_BANK_NAME), nullable=False, unique=True),
    Column("source", Text),  # file it was imported from
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

bank_hashes = Table(
    "bank_hashes", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("bank_pk", Integer, ForeignKey("banks.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # pdq, md5, sha1, sha256
    Column("value", String(64), nullable=False),
    Column("label", Text),
    UniqueConstraint("bank_pk", "kind", "value", name="uq_bank_hashes_bank_kind_value"),
    Index("ix_bank_hashes_kind_value", "kind", "value"),
)

bank_matches = Table(
    "bank_matches", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("bank_hash_pk", Integer, ForeignKey("bank_hashes.pk", ondelete="CASCADE"),
           nullable=False),
    Column("image_pk", Integer, ForeignKey("images.pk", ondelete="CASCADE"), nullable=False),
    Column("distance", Integer, nullable=False),
    Column("matched_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # new, reviewed, dismissed
    UniqueConstraint("bank_hash_pk", "image_pk", name="uq_bank_matches_hash_image"),
    Index("ix_bank_matches_image", "image_pk"),
)


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
class ImportResult:
    bank: str
    created: bool
    added: int
    already_present: int
    new_matches: int


@dataclass(frozen=True)
class SimilarAd:
    """One ad image resembling a searched photo."""

    ad_pk: int
    ad_id: str
    source: str
    title: str
    position: int
    image_sha256: str
    distance: int
    exact: bool
    bank_matched: bool

    def to_dict(self) -> dict[str, Any]:
        return {"ad_id": self.ad_id, "source": self.source, "title": self.title,
                "position": self.position, "image_sha256": self.image_sha256,
                "distance": self.distance, "exact": self.exact,
                "bank_matched": self.bank_matched}


# ---- banks -----------------------------------------------------------------------------------

def import_bank(store: Store, name: str, entries: Sequence[BankEntry], *,
                source: str | None = None, threshold: int | None = None) -> ImportResult:
    """Create bank NAME (or add to it) and match every stored image against the new hashes."""
    name = name.strip()
    if not name or len(name) > MAX_BANK_NAME:
        raise UsageError(f"a bank name has 1 to {MAX_BANK_NAME} characters")
    now = utcnow()
    with store.transaction() as conn:
        pk = conn.execute(select(banks.c.pk).where(banks.c.name == name)).scalar()
        created = pk is None
        if created:
            pk = conn.execute(insert(banks).returning(banks.c.pk).values(
                name=name, source=source, created_at=now, updated_at=now)).scalar_one()
        before = conn.execute(select(func.count()).select_from(bank_hashes)
                              .where(bank_hashes.c.bank_pk == pk)).scalar_one()
        rows = [{"bank_pk": pk, "kind": e.kind, "value": e.value, "label": e.label}
                for e in entries]
        for i in range(0, len(rows), 5000):
            _upsert_ignore(conn, bank_hashes, rows[i:i + 5000], ["bank_pk", "kind", "value"])
        after = conn.execute(select(func.count()).select_from(bank_hashes)
                             .where(bank_hashes.c.bank_pk == pk)).scalar_one()
        conn.execute(banks.update().where(banks.c.pk == pk).values(updated_at=now))
    added = int(after - before)
    new_matches = 0
    if added:
        # Images ingested before this bank existed are matched now, against this bank only.
        index = load_bank_index(store, bank=name)
        new_matches = len(_match_stored(store, index, threshold))
    return ImportResult(bank=name, created=created, added=added,
                        already_present=len(entries) - added, new_matches=new_matches)


def list_banks(store: Store) -> list[BankSummary]:
    with store.connect() as conn:
        counts: dict[int, dict[str, int]] = {}
        for r in conn.execute(select(bank_hashes.c.bank_pk, bank_hashes.c.kind, func.count())
                              .group_by(bank_hashes.c.bank_pk, bank_hashes.c.kind)):
            counts.setdefault(r[0], {})[r[1]] = int(r[2])
        matches: dict[int, int] = dict(conn.execute(
            select(bank_hashes.c.bank_pk, func.count())
            .select_from(bank_matches.join(bank_hashes,
                                           bank_hashes.c.pk == bank_matches.c.bank_hash_pk))
            .group_by(bank_hashes.c.bank_pk)).all())
        return [BankSummary(name=r.name, source=r.source, created_at=r.created_at,
                            updated_at=r.updated_at, hashes=counts.get(r.pk, {}),
                            matches=int(matches.get(r.pk, 0)))
                for r in conn.execute(select(banks).order_by(banks.c.name))]


def delete_bank(store: Store, name: str) -> None:
    with store.transaction() as conn:
        pk = conn.execute(select(banks.c.pk).where(banks.c.name == name)).scalar()
        if pk is None:
            raise NotFoundError(f"no bank named {name!r}")
        hash_pks = select(bank_hashes.c.pk).where(bank_hashes.c.bank_pk == pk)
        conn.execute(delete(bank_matches).where(bank_matches.c.bank_hash_pk.in_(hash_pks)))
        conn.execute(delete(bank_hashes).where(bank_hashes.c.bank_pk == pk))
        conn.execute(delete(banks).where(banks.c.pk == pk))


def load_bank_index(store: Store, *, bank: str | None = None) -> BankIndex:
    """Every bank (or one) in a BankIndex. Build once per ingest run, not per batch."""
    index = BankIndex()
    index.image_dir = settings.get("image_dir")
    stmt = (select(banks.c.name, bank_hashes.c.kind, bank_hashes.c.value, bank_hashes.c.label)
            .join(banks, banks.c.pk == bank_hashes.c.bank_pk)
            .order_by(bank_hashes.c.pk))
    if bank is not None:
        stmt = stmt.where(banks.c.name == bank)
    per_bank: dict[str, list[BankEntry]] = {}
    with store.connect() as conn:
        for r in conn.execution_options(yield_per=10_000).execute(stmt):
            per_bank.setdefault(r.name, []).append(BankEntry(r.kind, r.value, r.label))
    for name, entries in per_bank.items():
        index.add_bank(name, entries)
    return index


# ---- matching --------------------------------------------------------------------------------

def match_images(store: Store, images_: Sequence[ImageInfo], *, index: BankIndex | None = None,
                 threshold: int | None = None) -> list[BankMatch]:
    """Match ingested images against all banks and record an alert for each new match.

    For the ingest pipeline: call after the batch is written (the images must be stored), with
    one `index = load_bank_index(store)` reused for the whole run. Returns the new matches.
    """
    index = index if index is not None else load_bank_index(store)
    if not index.banks:
        return []
    return _record(store, index, [i for i in images_ if i.sha256], threshold)


def images_of_ads(store: Store, ad_pks: Sequence[int]) -> list[ImageInfo]:
    """The stored, readable images of these ads (each image once)."""
    out: dict[str, ImageInfo] = {}
    with store.connect() as conn:
        for i in range(0, len(ad_pks), 500):
            stmt = (select(images.c.sha256, images.c.md5, images.c.pdq, images.c.quality,
                           images.c.width, images.c.height, images.c.stored_path)
                    .join(ad_images, ad_images.c.image_pk == images.c.pk)
                    .where(ad_images.c.ad_pk.in_(list(ad_pks[i:i + 500]))))
            for r in conn.execute(stmt):
                out.setdefault(r.sha256, ImageInfo(
                    position=0, original=r.stored_path or "", sha256=r.sha256,
                    md5=r.md5 or None, pdq=r.pdq, quality=r.quality, width=r.width,
                    height=r.height, stored_path=r.stored_path))
    return list(out.values())


class BankHook:
    """After-batch hook for ingest (tracelight.ingest.runner.AfterBatch): match the images of
    the ads just written against every bank. The bank index is loaded once, on first use."""

    def __init__(self, threshold: int | None = None) -> None:
        self.threshold = threshold
        self.index: BankIndex | None = None
        self.new_matches: list[BankMatch] = []

    def __call__(self, store: Store, ad_pks: list[int]) -> None:
        if self.index is None:
            self.index = load_bank_index(store)
        if not self.index.banks or not ad_pks:
            return
        self.new_matches += match_images(store, images_of_ads(store, ad_pks),
                                         index=self.index, threshold=self.threshold)


def _match_stored(store: Store, index: BankIndex, threshold: int | None) -> list[BankMatch]:
    found: list[BankMatch] = []
    batch: list[ImageInfo] = []
    for info in iter_stored_images(store):
        batch.append(info)
        if len(batch) >= 5000:
            found += _record(store, index, batch, threshold)
            batch = []
    if batch:
        found += _record(store, index, batch, threshold)
    return found


def _record(store: Store, index: BankIndex, infos: Sequence[ImageInfo],
            threshold: int | None) -> list[BankMatch]:
    if threshold is None:
        threshold = settings.get_int("pdq_threshold")
    # A flat picture's PDQ hash resembles every other flat picture's: only exact hashes count.
    pdq_ok = [i if (i.quality or 0) >= MIN_PDQ_QUALITY else _without_pdq(i) for i in infos]
    matches = [m for per in index.match(pdq_ok, threshold) for m in per]
    if not matches:
        return []
    now = utcnow()
    new: list[BankMatch] = []
    with store.transaction() as conn:
        shas = sorted({m.image_sha256 for m in matches if m.image_sha256})
        image_pk = _pks_by(conn, images.c.sha256, images.c.pk, shas)
        keys = sorted({(m.bank, m.kind, m.bank_hash) for m in matches})
        hash_pk: dict[tuple[str, str, str], int] = {}
        for i in range(0, len(keys), 300):
            part = keys[i:i + 300]
            stmt = (select(banks.c.name, bank_hashes.c.kind, bank_hashes.c.value,
                           bank_hashes.c.pk)
                    .join(banks, banks.c.pk == bank_hashes.c.bank_pk)
                    .where(bank_hashes.c.value.in_(sorted({k[2] for k in part}))))
            for r in conn.execute(stmt):
                hash_pk[(r.name, r.kind, r.value)] = r.pk
        for m in matches:
            ipk = image_pk.get(m.image_sha256 or "")
            hpk = hash_pk.get((m.bank, m.kind, m.bank_hash))
            if ipk is None or hpk is None:
                continue  # image not stored (yet) or bank changed meanwhile
            exists = conn.execute(select(bank_matches.c.pk).where(
                bank_matches.c.bank_hash_pk == hpk, bank_matches.c.image_pk == ipk)).first()
            if exists:
                continue
            conn.execute(insert(bank_matches).values(bank_hash_pk=hpk, image_pk=ipk,
                                                     distance=m.distance, matched_at=now,
                                                     status="new"))
            new.append(m)
    return new


def _without_pdq(info: ImageInfo) -> ImageInfo:
    from dataclasses import replace

    return replace(info, pdq=None)


def _pks_by(conn: Any, col: Any, pk_col: Any, values: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(0, len(values), 500):
        for r in conn.execute(select(col, pk_col).where(col.in_(values[i:i + 500]))):
            out[r[0]] = r[1]
    return out


def iter_stored_images(store: Store) -> Iterator[ImageInfo]:
    stmt = select(images.c.sha256, images.c.md5, images.c.pdq, images.c.quality,
                  images.c.width, images.c.height, images.c.stored_path).order_by(images.c.pk)
    with store.connect() as conn:
        for r in conn.execution_options(yield_per=5000).execute(stmt):
            yield ImageInfo(position=0, original=r.stored_path or "", sha256=r.sha256,
                            md5=r.md5 or None, pdq=r.pdq, quality=r.quality, width=r.width,
                            height=r.height, stored_path=r.stored_path)


def bank_match_rows(store: Store, *, bank: str | None = None, status: str | None = None,
                    limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Alerts with their evidence: bank, hash kind, bank hash and label, distance, the image's
    hashes and the ads that carry it. Never the image itself."""
    stmt = (select(bank_matches.c.pk, bank_matches.c.distance, bank_matches.c.matched_at,
                   bank_matches.c.status, banks.c.name.label("bank"), bank_hashes.c.kind,
                   bank_hashes.c.value.label("bank_hash"), bank_hashes.c.label,
                   images.c.pk.label("image_pk"), images.c.sha256, images.c.md5, images.c.pdq,
                   images.c.quality)
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
    with store.connect() as conn:
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


def bank_matched_sha256s(store: Store, sha256s: Sequence[str]) -> set[str]:
    """Which of these images matched any bank (the web must not display those)."""
    out: set[str] = set()
    values = sorted(set(sha256s))
    with store.connect() as conn:
        for i in range(0, len(values), 500):
            stmt = (select(images.c.sha256).distinct()
                    .join(bank_matches, bank_matches.c.image_pk == images.c.pk)
                    .where(images.c.sha256.in_(values[i:i + 500])))
            out.update(r[0] for r in conn.execute(stmt))
    return out


def is_bank_matched(store: Store, sha256: str) -> bool:
    return bool(bank_matched_sha256s(store, [sha256]))


# ---- image search ----------------------------------------------------------------------------

def search_similar_ads(store: Store, query: ImageInfo, *, max_distance: int = 31,
                       limit: int = 50) -> list[SimilarAd]:
    """Ads whose images match (same SHA-256/MD5) or resemble (PDQ within max_distance) the
    query image, closest first. Low-quality PDQ hashes (< 50) on either side only match
    exactly."""
    distance: dict[int, tuple[int, bool]] = {}  # image pk -> (distance, exact)
    with store.connect() as conn:
        for r in conn.execute(select(images.c.pk).where(
                (images.c.sha256 == (query.sha256 or "")) | (images.c.md5 == (query.md5 or "")))):
            distance[r.pk] = (0, True)
        if query.pdq and (query.quality or 0) >= MIN_PDQ_QUALITY:
            pks: list[int] = []
            hexes: list[str] = []
            stmt = (select(images.c.pk, images.c.pdq)
                    .where(images.c.pdq.is_not(None), images.c.quality >= MIN_PDQ_QUALITY))
            for r in conn.execution_options(yield_per=10_000).execute(stmt):
                pks.append(r.pk)
                hexes.append(r.pdq)
            if pks:
                found = PdqIndex(pack_hashes(hexes)).search(pack_hashes([query.pdq]),
                                                            max_distance)[0]
                for j, d in found:
                    distance.setdefault(pks[j], (d, False))
        if not distance:
            return []
        matched: set[int] = set()
        ids = sorted(distance)
        hits: list[SimilarAd] = []
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            matched.update(r[0] for r in conn.execute(
                select(bank_matches.c.image_pk).where(bank_matches.c.image_pk.in_(part))))
            stmt = (select(ads.c.pk, ads.c.ad_id, ads.c.source, ads.c.title,
                           ad_images.c.position, ad_images.c.image_pk, images.c.sha256)
                    .select_from(ad_images.join(ads, ads.c.pk == ad_images.c.ad_pk)
                                 .join(images, images.c.pk == ad_images.c.image_pk))
                    .where(ad_images.c.image_pk.in_(part)))
            for r in conn.execute(stmt):
                d, exact = distance[r.image_pk]
                hits.append(SimilarAd(ad_pk=r.pk, ad_id=r.ad_id, source=r.source,
                                      title=r.title, position=r.position,
                                      image_sha256=r.sha256, distance=d, exact=exact,
                                      bank_matched=r.image_pk in matched))
    best: dict[int, SimilarAd] = {}
    for h in sorted(hits, key=lambda h: (h.distance, not h.exact, h.position)):
        best.setdefault(h.ad_pk, h)  # one row per ad: its closest image
    return sorted(best.values(), key=lambda h: (h.distance, not h.exact, h.source,
                                                h.ad_id))[:limit]
