"""Ads, revisions, entities and mentions: writing ingest batches and reading them back."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tracelight.errors import NotFoundError
from tracelight.records import (
    AdRecord,
    Mention,
    ProcessedAd,
    Reason,
    reasons_from_json,
    reasons_to_json,
    utcnow,
)
from tracelight.store.base import StoreBase
from tracelight.store.blobs import is_key
from tracelight.store.schema import (
    ad_images,
    ad_revisions,
    ads,
    entities,
    images,
    ingest_runs,
    mentions,
)


@dataclass(frozen=True, slots=True)
class StoredAd:
    """An ad as the store holds it: the record plus what tracelight learned about it."""

    pk: int
    source: str
    ad_id: str
    url: str | None
    title: str
    body: str
    posted_at: datetime | None
    location: str | None
    images: list[str]
    extra: dict[str, Any]
    content_hash: str
    revision: int
    first_seen: datetime
    last_seen: datetime
    risk: float | None
    reasons: list[Reason] | None

    def to_record(self) -> AdRecord:
        return AdRecord(id=self.ad_id, source=self.source, title=self.title, body=self.body,
                        url=self.url, posted_at=self.posted_at, location=self.location,
                        images=tuple(self.images), extra=self.extra)

    def to_dict(self, *, body: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.ad_id, "source": self.source, "url": self.url, "title": self.title,
        }
        if body:
            out["body"] = self.body
        out.update({
            "posted_at": self.posted_at, "location": self.location, "images": self.images,
            "revision": self.revision, "first_seen": self.first_seen,
            "last_seen": self.last_seen, "risk": self.risk,
            "reasons": reasons_to_json(self.reasons) or [],
        })
        if self.extra:
            out["extra"] = self.extra
        return out


@dataclass(frozen=True, slots=True)
class AdImage:
    """One image slot of an ad: where it came from, and its hashes once it was read."""

    position: int
    original: str
    error: str | None
    sha256: str | None
    md5: str | None
    pdq: str | None
    quality: int | None
    width: int | None
    height: int | None
    stored_path: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"position": self.position, "original": self.original, "error": self.error,
                "sha256": self.sha256, "md5": self.md5, "pdq": self.pdq,
                "quality": self.quality, "width": self.width, "height": self.height,
                "stored_path": self.stored_path}


AD_COLUMNS = [ads.c.pk, ads.c.source, ads.c.ad_id, ads.c.url, ads.c.title, ads.c.body,
              ads.c.posted_at, ads.c.location, ads.c.images, ads.c.extra, ads.c.content_hash,
              ads.c.revision, ads.c.first_seen, ads.c.last_seen, ads.c.risk, ads.c.reasons]


def row_to_ad(row: Any) -> StoredAd:
    m = row._mapping
    return StoredAd(pk=m["pk"], source=m["source"], ad_id=m["ad_id"], url=m["url"],
                    title=m["title"], body=m["body"], posted_at=_aware(m["posted_at"]),
                    location=m["location"], images=list(m["images"] or []),
                    extra=dict(m["extra"] or {}), content_hash=m["content_hash"],
                    revision=m["revision"], first_seen=_aware(m["first_seen"]),
                    last_seen=_aware(m["last_seen"]), risk=m["risk"],
                    reasons=reasons_from_json(m["reasons"]))


def _aware(value: Any) -> Any:
    """SQLite hands datetimes back naive; everything tracelight stores is UTC."""
    from datetime import UTC
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass
class BatchResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # (index in the batch, reason) for records the store refused, e.g. repeated ids
    rejected: list[tuple[int, str]] = field(default_factory=list)
    written_pks: list[int] = field(default_factory=list)


def _upsert_ignore(conn: Connection, table: Any, rows: list[dict[str, Any]],
                   index: list[str]) -> None:
    if not rows:
        return
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(maker(table).on_conflict_do_nothing(index_elements=index), rows)


def _bulk_insert(conn: Connection, table: Any, cols: Sequence[str],
                 rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT many rows given as tuples in `cols` order, in the caller's transaction.

    The same values SQLAlchemy would send (each column type's own bind processing: JSON,
    datetimes), without its per-row dictionary work, which cost more than the database's
    own: COPY on PostgreSQL, the driver's executemany on SQLite.
    """
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver != "psycopg":
        # COPY below is psycopg 3's; other drivers (psycopg2) take SQLAlchemy's executemany
        conn.execute(insert(table), [dict(zip(cols, row, strict=True)) for row in rows])
        return
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in cols]
    if any(procs):
        fixed = [(i, proc) for i, proc in enumerate(procs) if proc is not None]
        out = []
        for row in rows:
            values = list(row)
            for i, proc in fixed:
                values[i] = proc(values[i])
            out.append(tuple(values))
        rows = out
    names = ", ".join(f'"{c}"' for c in cols)
    if dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(  # type: ignore[union-attr]
                f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in cols)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', list(rows))


def _record_row(rec: AdRecord, content_hash: str | None = None) -> dict[str, Any]:
    return {"url": rec.url, "title": rec.title, "body": rec.body, "posted_at": rec.posted_at,
            "location": rec.location, "images": list(rec.images), "extra": dict(rec.extra),
            "content_hash": content_hash or rec.content_hash()}


def write_batch(conn: Connection, run_pk: int | None, items: Sequence[ProcessedAd],
                now: datetime) -> BatchResult:
    """Write one batch in the caller's transaction: new ads, new revisions, seen-again ads.

    Idempotent: writing the same records again changes nothing but `last_seen`.
    """
    result = BatchResult()
    keys = [(it.record.source, it.record.id) for it in items]
    existing: dict[tuple[str, str], Any] = {}
    if keys:
        for row in conn.execute(
            select(ads.c.pk, ads.c.source, ads.c.ad_id, ads.c.content_hash, ads.c.revision,
                   ads.c.last_run).where(tuple_(ads.c.source, ads.c.ad_id).in_(set(keys)))
        ):
            existing[(row.source, row.ad_id)] = row
    seen_in_batch: set[tuple[str, str]] = set()
    to_insert: list[ProcessedAd] = []
    hash_of: dict[int, str] = {}
    changed: list[tuple[Any, ProcessedAd]] = []
    unchanged_pks: list[int] = []
    hashes = [it.record.content_hash() for it in items]
    for index, (key, item) in enumerate(zip(keys, items, strict=True)):
        old = existing.get(key)
        if key in seen_in_batch or (old is not None and run_pk is not None
                                    and old.last_run == run_pk):
            result.rejected.append((index, f"duplicate id {key[1]!r} (source {key[0]!r}): it "
                                    "appeared earlier in this run; the first was kept"))
            continue
        seen_in_batch.add(key)
        hash_of[id(item)] = hashes[index]
        if old is None:
            to_insert.append(item)
        elif old.content_hash != hashes[index]:
            changed.append((old, item))
        else:
            unchanged_pks.append(old.pk)

    if to_insert:
        new_pairs = _insert_ads(conn, run_pk, to_insert, hash_of, now)
        result.new = len(new_pairs)
    else:
        new_pairs = []

    changed_pairs: list[tuple[int, ProcessedAd]] = []
    if changed:
        # The version being replaced moves to ad_revisions; `ads` always holds the newest.
        old_pks = [old.pk for old, _ in changed]
        history_cols = ["ad_pk", "revision", "content_hash", "url", "title", "body",
                        "posted_at", "location", "images", "extra", "seen_at", "run_pk"]
        conn.execute(insert(ad_revisions).from_select(history_cols, select(
            ads.c.pk, ads.c.revision, ads.c.content_hash, ads.c.url, ads.c.title, ads.c.body,
            ads.c.posted_at, ads.c.location, ads.c.images, ads.c.extra, ads.c.last_seen,
            ads.c.last_run).where(ads.c.pk.in_(old_pks))))
    for old, item in changed:
        conn.execute(update(ads).where(ads.c.pk == old.pk).values(
            **_record_row(item.record, hash_of[id(item)]), revision=old.revision + 1,
            last_seen=now,
            last_run=run_pk, risk=item.risk, reasons=reasons_to_json(item.reasons)))
        changed_pairs.append((old.pk, item))
    if changed_pairs:
        pks = [pk for pk, _ in changed_pairs]
        conn.execute(delete(mentions).where(mentions.c.ad_pk.in_(pks)))
        conn.execute(delete(ad_images).where(ad_images.c.ad_pk.in_(pks)))
        result.updated = len(changed_pairs)

    if unchanged_pks:
        conn.execute(update(ads).where(ads.c.pk.in_(unchanged_pks))
                     .values(last_seen=now, last_run=run_pk))
        result.unchanged = len(unchanged_pks)

    written = new_pairs + changed_pairs
    _write_mentions(conn, [(pk, it.mentions) for pk, it in written])
    _write_images(conn, [(pk, it) for pk, it in written])
    result.written_pks = [pk for pk, _ in written]
    return result


AD_INSERT_COLS = ("source", "ad_id", "url", "title", "body", "posted_at", "location", "images",
                  "extra", "content_hash", "revision", "first_seen", "last_seen", "last_run",
                  "risk", "reasons")


def _insert_ads(conn: Connection, run_pk: int | None, items: list[ProcessedAd],
                hash_of: dict[int, str], now: datetime) -> list[tuple[int, ProcessedAd]]:
    """Insert new ads; (pk, item) for each, in the order given."""
    rows = [(it.record.source, it.record.id, it.record.url, it.record.title, it.record.body,
             it.record.posted_at, it.record.location, list(it.record.images),
             dict(it.record.extra), hash_of[id(it)], 1, now, now, run_pk, it.risk,
             reasons_to_json(it.reasons)) for it in items]
    if conn.dialect.name == "postgresql":
        # take the keys from the sequence first, then COPY: no second look-up of the rows
        pks = sorted(conn.execute(text(
            "SELECT nextval(pg_get_serial_sequence('ads', 'pk')) "
            "FROM generate_series(1, :n)"), {"n": len(items)}).scalars())
        _bulk_insert(conn, ads, ("pk", *AD_INSERT_COLS),
                     [(pk, *row) for pk, row in zip(pks, rows, strict=True)])
        return list(zip(pks, items, strict=True))
    _bulk_insert(conn, ads, AD_INSERT_COLS, rows)
    pk_of: dict[tuple[str, str], int] = {}
    keys = [(it.record.source, it.record.id) for it in items]
    for i in range(0, len(keys), 400):
        pk_of.update(((r.source, r.ad_id), r.pk) for r in conn.execute(
            select(ads.c.pk, ads.c.source, ads.c.ad_id).where(
                tuple_(ads.c.source, ads.c.ad_id).in_(keys[i:i + 400]))))
    return [(pk_of[key], it) for key, it in zip(keys, items, strict=True)]


def _write_mentions(conn: Connection, per_ad: list[tuple[int, list[Mention]]]) -> None:
    wanted = {(m.kind, m.value[:512]) for _, ms in per_ad for m in ms}
    if not wanted:
        return
    pks = entity_pks(conn, wanted, create=True)
    _bulk_insert(conn, mentions, MENTION_COLS,
                 [(ad_pk, pks[(m.kind, m.value[:512])], m.field[:32], m.start, m.end, m.raw,
                   m.obfuscated) for ad_pk, ms in per_ad for m in ms])


MENTION_COLS = ("ad_pk", "entity_pk", "field", "start", "end", "raw", "obfuscated")


def entity_pks(conn: Connection, wanted: Iterable[tuple[str, str]], *,
               create: bool = False) -> dict[tuple[str, str], int]:
    wanted = set(wanted)
    out: dict[tuple[str, str], int] = {}
    if not wanted:
        return out
    chunk = sorted(wanted)
    if conn.dialect.name == "postgresql":
        # one statement each over arrays: a row-value IN list of hundreds of pairs is planned
        # as a filter and cost ~50 ms a batch
        params = {"k": [k for k, _ in chunk], "v": [v for _, v in chunk]}
        pairs = ("unnest(CAST(:k AS varchar[]), CAST(:v AS varchar[])) "
                 "WITH ORDINALITY AS w(kind, value, n)")
        if create:
            conn.execute(text(f"INSERT INTO entities (kind, value) SELECT kind, value "
                              f"FROM {pairs} ORDER BY n ON CONFLICT (kind, value) DO NOTHING"),
                         params)
        for row in conn.execute(text(f"SELECT e.pk, e.kind, e.value FROM {pairs} "
                                     "JOIN entities e ON e.kind = w.kind AND e.value = w.value"),
                                params):
            out[(row.kind, row.value)] = row.pk
        return out
    if create:
        _upsert_ignore(conn, entities, [{"kind": k, "value": v} for k, v in chunk],
                       ["kind", "value"])
    for i in range(0, len(chunk), 400):
        part = chunk[i:i + 400]
        for row in conn.execute(select(entities.c.pk, entities.c.kind, entities.c.value)
                                .where(tuple_(entities.c.kind, entities.c.value).in_(part))):
            out[(row.kind, row.value)] = row.pk
    return out


def _write_images(conn: Connection, per_ad: list[tuple[int, ProcessedAd]]) -> None:
    hashed = {img.sha256: img for _, it in per_ad for img in it.images if img.sha256}
    pk_by_sha: dict[str, int] = {}
    if hashed:
        _upsert_ignore(conn, images, [
            {"sha256": img.sha256, "md5": img.md5 or "", "pdq": img.pdq,
             "quality": img.quality, "width": img.width, "height": img.height,
             "stored_path": img.stored_path} for img in hashed.values()], ["sha256"])
        # An image first seen unkept (or kept by an older version) gets its content key now
        keyed = sorted(sha for sha, img in hashed.items() if is_key(img.stored_path))
        key_expr = func.substr(images.c.sha256, 1, 2) + "/" + images.c.sha256
        for i in range(0, len(keyed), 500):
            conn.execute(update(images).where(images.c.sha256.in_(keyed[i:i + 500]))
                         .where(images.c.stored_path.is_distinct_from(key_expr))
                         .values(stored_path=key_expr))
        for row in conn.execute(select(images.c.pk, images.c.sha256)
                                .where(images.c.sha256.in_(list(hashed)))):
            pk_by_sha[row.sha256] = row.pk
    _bulk_insert(conn, ad_images, ("ad_pk", "position", "image_pk", "original", "error"),
                 [(ad_pk, img.position, pk_by_sha.get(img.sha256) if img.sha256 else None,
                   img.original, img.error) for ad_pk, it in per_ad for img in it.images])


# ---- reading -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AdFilter:
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    location: str | None = None  # case-insensitive substring of the posted location
    min_risk: float | None = None
    category: str | None = None  # the record's extra["category"], exactly

    def clauses(self, *, risk_walk: bool = False) -> list[Any]:
        """risk_walk: the caller will walk the risk index, so the source test must not
        tempt the planner onto the (source, id) index and a sort of a third of all ads."""
        out: list[Any] = []
        if self.source and risk_walk:
            out.append(ads.c.source + "" == self.source)
        elif self.source:
            out.append(ads.c.source == self.source)
        if self.since:
            out.append(ads.c.posted_at >= self.since)
        if self.until:
            out.append(ads.c.posted_at < self.until)
        if self.location:
            out.append(func.lower(ads.c.location).contains(self.location.lower(),
                                                           autoescape=True))
        if self.min_risk is not None:
            out.append(ads.c.risk >= self.min_risk)
        if self.category:
            out.append(ads.c.extra["category"].as_string() == self.category)
        return out


SORTS: dict[str, list[Any]] = {
    "posted": [ads.c.posted_at.desc(), ads.c.pk.desc()],
    "risk": [func.coalesce(ads.c.risk, -1.0).desc(), ads.c.pk],
    "id": [ads.c.source, ads.c.ad_id],
    "ingested": [ads.c.pk],
}


def select_ads(flt: AdFilter, sort: str = "posted") -> Any:
    stmt = select(*AD_COLUMNS)
    clauses = flt.clauses()
    if clauses:
        stmt = stmt.where(and_(*clauses))
    return stmt.order_by(*SORTS[sort])


FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_match_expression(query: str) -> str:
    """User words to a safe FTS5 query: every word must appear, no operator injection."""
    tokens = FTS_TOKEN.findall(query)
    return " ".join(f'"{t}"' for t in tokens)


def iter_rows(conn: Connection, stmt: Any, batch: int = 1000) -> Iterator[Any]:
    """Stream rows without holding the result in memory (server-side cursor on PostgreSQL)."""
    result = conn.execution_options(yield_per=batch).execute(stmt)
    yield from result


class AdTables(StoreBase):
    """The AdRepo (ads, mentions, images of ads, revisions, risk, ingest runs) and the
    SearchRepo of tracelight.store.interfaces."""

    # ---- ingest runs ---------------------------------------------------------------------
    def start_run(self, paths: Sequence[str], rejects_path: str | None) -> int:
        with self.transaction() as conn:
            return int(conn.execute(insert(ingest_runs).returning(ingest_runs.c.pk).values(
                started_at=utcnow(), status="running", paths=list(paths), read=0, new=0,
                updated=0, unchanged=0, rejected=0, rejects_path=rejects_path)).scalar_one())

    def update_run(self, run_pk: int, **values: Any) -> None:
        with self.transaction() as conn:
            conn.execute(update(ingest_runs).where(ingest_runs.c.pk == run_pk).values(**values))

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute(select(ingest_runs).order_by(ingest_runs.c.pk.desc())
                                .limit(limit))
            return [dict(r._mapping) for r in rows]

    def write_batch(self, run_pk: int | None, items: Sequence[ProcessedAd],
                    now: datetime | None = None) -> BatchResult:
        with self.transaction() as conn:
            return write_batch(conn, run_pk, items, now or utcnow())

    # ---- ads -----------------------------------------------------------------------------
    def count_ads(self, flt: AdFilter | None = None) -> int:
        flt = flt or AdFilter()
        stmt = select(func.count()).select_from(ads)
        clauses = flt.clauses()
        if clauses:
            stmt = stmt.where(*clauses)
        with self.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def iter_ads(self, flt: AdFilter | None = None, *, sort: str = "posted",
                 limit: int | None = None, offset: int = 0) -> Iterator[StoredAd]:
        """Stream ads; memory stays flat however many match."""
        stmt = select_ads(flt or AdFilter(), sort)
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        with self.connect() as conn:
            for row in iter_rows(conn, stmt):
                yield row_to_ad(row)

    def get_ad(self, ad_id: str, source: str | None = None) -> StoredAd:
        """The ad with this id (and source, when ids repeat across sources)."""
        stmt = select(*AD_COLUMNS).where(ads.c.ad_id == ad_id)
        if source:
            stmt = stmt.where(ads.c.source == source)
        with self.connect() as conn:
            rows = conn.execute(stmt.limit(10)).all()
        if not rows:
            where = f" from source {source!r}" if source else ""
            raise NotFoundError(f"no ad with id {ad_id!r}{where}")
        if len(rows) > 1:
            sources = ", ".join(sorted(r.source for r in rows))
            raise NotFoundError(f"ad id {ad_id!r} exists in several sources ({sources})",
                                hint="say which with --source")
        return row_to_ad(rows[0])

    def find_ads_by_ref(self, readings: Sequence[tuple[str | None, str]], *,
                        limit: int = 20) -> list[StoredAd]:
        """Ads matching any reading of a typed ad reference (tracelight.services.adref):
        (source, id) pairs, a None source meaning any source. By source, then id."""
        conds = [ads.c.ad_id == ad_id if source is None else
                 and_(ads.c.source == source, ads.c.ad_id == ad_id)
                 for source, ad_id in readings if ad_id and len(ad_id) <= 512
                 and (source is None or len(source) <= 200)]
        if not conds:
            return []
        stmt = (select(*AD_COLUMNS).where(or_(*conds))
                .order_by(ads.c.source, ads.c.ad_id).limit(limit))
        with self.connect() as conn:
            return [row_to_ad(r) for r in conn.execute(stmt)]

    def ad_refs(self, pks: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Internal key -> (source, ad id), for the ads that still exist."""
        out: dict[int, tuple[str, str]] = {}
        with self.connect() as conn:
            for i in range(0, len(pks), 500):
                for r in conn.execute(select(ads.c.pk, ads.c.source, ads.c.ad_id)
                                      .where(ads.c.pk.in_(list(pks[i:i + 500])))):
                    out[r.pk] = (r.source, r.ad_id)
        return out

    def get_ad_by_pk(self, pk: int) -> StoredAd:
        with self.connect() as conn:
            row = conn.execute(select(*AD_COLUMNS).where(ads.c.pk == pk)).first()
        if row is None:
            raise NotFoundError(f"no ad with internal key {pk}")
        return row_to_ad(row)

    def get_ads_by_pks(self, pks: Sequence[int]) -> list[StoredAd]:
        out: dict[int, StoredAd] = {}
        with self.connect() as conn:
            for i in range(0, len(pks), 500):
                for row in conn.execute(select(*AD_COLUMNS).where(ads.c.pk.in_(pks[i:i + 500]))):
                    ad = row_to_ad(row)
                    out[ad.pk] = ad
        return [out[pk] for pk in pks if pk in out]

    def mentions_for(self, ad_pks: Sequence[int]) -> dict[int, list[Mention]]:
        out: dict[int, list[Mention]] = {pk: [] for pk in ad_pks}
        stmt = (select(mentions.c.ad_pk, entities.c.kind, entities.c.value, mentions.c.field,
                       mentions.c.start, mentions.c.end, mentions.c.obfuscated,
                       mentions.c.raw)
                .join(entities, entities.c.pk == mentions.c.entity_pk))
        with self.connect() as conn:
            for i in range(0, len(ad_pks), 500):
                part = list(ad_pks[i:i + 500])
                for r in conn.execute(stmt.where(mentions.c.ad_pk.in_(part))
                                      .order_by(mentions.c.ad_pk, mentions.c.field,
                                                mentions.c.start)):
                    out[r.ad_pk].append(Mention(kind=r.kind, value=r.value, field=r.field,
                                                start=r.start, end=r.end,
                                                obfuscated=bool(r.obfuscated), raw=r.raw))
        return out

    def images_for(self, ad_pk: int) -> list[AdImage]:
        stmt = (select(ad_images.c.position, ad_images.c.original, ad_images.c.error,
                       images.c.sha256, images.c.md5, images.c.pdq, images.c.quality,
                       images.c.width, images.c.height, images.c.stored_path)
                .select_from(ad_images.outerjoin(images, images.c.pk == ad_images.c.image_pk))
                .where(ad_images.c.ad_pk == ad_pk).order_by(ad_images.c.position))
        with self.connect() as conn:
            return [AdImage(**r._mapping) for r in conn.execute(stmt)]

    # ---- the image store migration (services/image_migrate.py) ---------------------------
    def iter_image_keys(self) -> list[tuple[int, str, str | None]]:
        """(image pk, sha256, stored_path) of every image, in pk order."""
        with self.connect() as conn:
            return [(r.pk, r.sha256, r.stored_path) for r in conn.execute(
                select(images.c.pk, images.c.sha256, images.c.stored_path)
                .order_by(images.c.pk))]

    def set_image_key(self, image_pk: int, stored_path: str) -> None:
        with self.transaction() as conn:
            conn.execute(update(images).where(images.c.pk == image_pk)
                         .values(stored_path=stored_path))

    def drop_image_bytes(self, image_pk: int, error: str) -> None:
        """The image's bytes are not kept: no stored path, and `error` on every ad showing it
        that has no image error yet."""
        with self.transaction() as conn:
            conn.execute(update(images).where(images.c.pk == image_pk)
                         .values(stored_path=None))
            conn.execute(update(ad_images).where(ad_images.c.image_pk == image_pk)
                         .where(ad_images.c.error.is_(None))
                         .values(error=error))

    def unflagged_image_refs(self) -> list[tuple[int, int, str]]:
        """(ad pk, position, reference as written) of ad images with bytes and no error."""
        with self.connect() as conn:
            return [(r.ad_pk, r.position, r.original) for r in conn.execute(
                select(ad_images.c.ad_pk, ad_images.c.position, ad_images.c.original)
                .where(ad_images.c.error.is_(None)).where(ad_images.c.image_pk.is_not(None)))]

    def flag_ad_image(self, ad_pk: int, position: int, error: str) -> None:
        with self.transaction() as conn:
            conn.execute(update(ad_images).where(ad_images.c.ad_pk == ad_pk)
                         .where(ad_images.c.position == position).values(error=error))

    def revisions(self, ad_pk: int) -> list[dict[str, Any]]:
        """Every version of an ad, oldest first; the last one is the current text."""
        with self.connect() as conn:
            rows = conn.execute(select(ad_revisions).where(ad_revisions.c.ad_pk == ad_pk)
                                .order_by(ad_revisions.c.revision))
            history = [dict(r._mapping) for r in rows]
        ad = self.get_ad_by_pk(ad_pk)
        history.append({"ad_pk": ad.pk, "revision": ad.revision, "content_hash": ad.content_hash,
                        "url": ad.url, "title": ad.title, "body": ad.body,
                        "posted_at": ad.posted_at, "location": ad.location,
                        "images": ad.images, "extra": ad.extra, "seen_at": ad.last_seen})
        return history

    def find_by_entity(self, kind: str, values: Sequence[str], *, limit: int = 20,
                       offset: int = 0) -> tuple[int, list[StoredAd]]:
        """Ads that mention any of these normalised values of one entity kind."""
        with self.connect() as conn:
            pks = list(entity_pks(conn, [(kind, v) for v in values]).values())
            if not pks:
                return 0, []
            ad_pks = (select(mentions.c.ad_pk).where(mentions.c.entity_pk.in_(pks))
                      .distinct().scalar_subquery())
            total = conn.execute(select(func.count()).select_from(ads)
                                 .where(ads.c.pk.in_(ad_pks))).scalar_one()
            rows = conn.execute(select(*AD_COLUMNS).where(ads.c.pk.in_(ad_pks))
                                .order_by(ads.c.posted_at.desc(), ads.c.pk.desc())
                                .limit(limit).offset(offset))
            return int(total), [row_to_ad(r) for r in rows]

    def set_risk(self, scores: Sequence[tuple[int, float | None, list[Reason] | None]],
                 ) -> None:
        with self.transaction() as conn:
            for pk, risk, reasons in scores:
                conn.execute(update(ads).where(ads.c.pk == pk).values(
                    risk=risk, reasons=reasons_to_json(reasons)))
