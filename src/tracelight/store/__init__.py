"""The store: one narrow interface over SQLite (embedded default) and PostgreSQL (team server).

Rows become dataclasses at this boundary. No other package writes SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from tracelight.errors import NotFoundError
from tracelight.records import Mention, ProcessedAd, utcnow
from tracelight.store import db
from tracelight.store.ads import (
    AD_COLUMNS,
    AdFilter,
    BatchResult,
    StoredAd,
    entity_pks,
    iter_rows,
    row_to_ad,
    select_ads,
    write_batch,
)
from tracelight.store.base import StoreBase
from tracelight.store.image_banks import BankTables
from tracelight.store.networks import NetworkTables
from tracelight.store.schema import ad_images, ad_revisions, ads, entities, images, ingest_runs
from tracelight.store.schema import mentions as mentions_t
from tracelight.store.search import text_search
from tracelight.store.workspace import WorkspaceTables

__all__ = ["AdFilter", "BatchResult", "Store", "StoredAd", "open_store"]


class Store(NetworkTables, BankTables, WorkspaceTables, StoreBase):
    """All reads and writes tracelight makes. Open with `open_store(url)`.

    One store type made of repositories (see tracelight.store.interfaces): ads, ingest runs
    and search here; networks (store/networks.py), hash banks (store/image_banks.py) and the
    workspace's queries (store/workspace.py) as mixins over the same engine.
    """

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
        stmt = (select(mentions_t.c.ad_pk, entities.c.kind, entities.c.value, mentions_t.c.field,
                       mentions_t.c.start, mentions_t.c.end, mentions_t.c.obfuscated,
                       mentions_t.c.raw)
                .join(entities, entities.c.pk == mentions_t.c.entity_pk))
        with self.connect() as conn:
            for i in range(0, len(ad_pks), 500):
                part = list(ad_pks[i:i + 500])
                for r in conn.execute(stmt.where(mentions_t.c.ad_pk.in_(part))
                                      .order_by(mentions_t.c.ad_pk, mentions_t.c.field,
                                                mentions_t.c.start)):
                    out[r.ad_pk].append(Mention(kind=r.kind, value=r.value, field=r.field,
                                                start=r.start, end=r.end,
                                                obfuscated=bool(r.obfuscated), raw=r.raw))
        return out

    def images_for(self, ad_pk: int) -> list[dict[str, Any]]:
        stmt = (select(ad_images.c.position, ad_images.c.original, ad_images.c.error,
                       images.c.sha256, images.c.md5, images.c.pdq, images.c.quality,
                       images.c.width, images.c.height, images.c.stored_path)
                .select_from(ad_images.outerjoin(images, images.c.pk == ad_images.c.image_pk))
                .where(ad_images.c.ad_pk == ad_pk).order_by(ad_images.c.position))
        with self.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

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

    def search_text(self, query: str, *, limit: int = 20, offset: int = 0,
                    cap: int | None = None) -> tuple[int, list[StoredAd]]:
        """Ads containing every word of `query`, best first; see search.text_search for cap."""
        with self.connect() as conn:
            total, rows = text_search(conn, query, limit, offset, cap)
        return total, [row_to_ad(r) for r in rows]

    def find_by_entity(self, kind: str, values: Sequence[str], *, limit: int = 20,
                       offset: int = 0) -> tuple[int, list[StoredAd]]:
        """Ads that mention any of these normalised values of one entity kind."""
        with self.connect() as conn:
            pks = list(entity_pks(conn, [(kind, v) for v in values]).values())
            if not pks:
                return 0, []
            ad_pks = (select(mentions_t.c.ad_pk).where(mentions_t.c.entity_pk.in_(pks))
                      .distinct().scalar_subquery())
            total = conn.execute(select(func.count()).select_from(ads)
                                 .where(ads.c.pk.in_(ad_pks))).scalar_one()
            rows = conn.execute(select(*AD_COLUMNS).where(ads.c.pk.in_(ad_pks))
                                .order_by(ads.c.posted_at.desc(), ads.c.pk.desc())
                                .limit(limit).offset(offset))
            return int(total), [row_to_ad(r) for r in rows]

    def set_risk(self, scores: Sequence[tuple[int, float | None, list[dict[str, Any]] | None]],
                 ) -> None:
        with self.transaction() as conn:
            for pk, risk, reasons in scores:
                conn.execute(update(ads).where(ads.c.pk == pk).values(risk=risk,
                                                                       reasons=reasons))


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open (and, by default, create or upgrade) the database at `url`."""
    engine = db.make_engine(url)
    if migrate:
        db.migrate(engine, url)
    return Store(engine, url)
