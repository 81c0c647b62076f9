"""Full-text search over title and body: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

The only place that knows how each backend searches text; callers see one function.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, column, func, select, table, text

from tracelight.store.ads import AD_COLUMNS, FTS_TOKEN, StoredAd, fts_match_expression, row_to_ad
from tracelight.store.base import StoreBase
from tracelight.store.schema import ads


def capped_count(conn: Connection, stmt: Any, cap: int) -> int:
    """Rows of `stmt` (a select), counting no further than cap + 1."""
    return int(conn.execute(select(func.count()).select_from(
        stmt.limit(cap + 1).subquery())).scalar_one())


def text_search(conn: Connection, query: str, limit: int, offset: int,
                cap: int | None = None) -> tuple[int, list[Any]]:
    """(total matches, rows of AD_COLUMNS) for the words in `query`, best matches first.

    With `cap`, counting stops at cap + 1 and, for words that match more ads than that (a word
    in every ad), results come newest-ingested first: ranking every match would take seconds
    at 100,000 ads, and "2,000+" is all a person needs to know.
    """
    if not FTS_TOKEN.search(query):
        return 0, []
    if conn.dialect.name == "sqlite":
        fts = table("ads_fts", column("rowid"), column("rank"))
        cond: Any = text("ads_fts MATCH :q").bindparams(q=fts_match_expression(query))
        source: Any = fts.join(ads, ads.c.pk == fts.c.rowid)
        key: Any = fts.c.rowid
        ranked: list[Any] = [fts.c.rank, ads.c.pk]
    else:
        # PostgreSQL: `search` is a generated tsvector column with a GIN index (migration 0001).
        tsq = func.plainto_tsquery("simple", " ".join(FTS_TOKEN.findall(query)))
        search_col: Any = column("search")
        cond = search_col.op("@@")(tsq)
        source = ads
        key = ads.c.pk
        ranked = [func.ts_rank(search_col, tsq).desc(), ads.c.pk]
    if cap is None:
        total = int(conn.execute(select(func.count()).select_from(source).where(cond))
                    .scalar_one())
        order = ranked
    else:
        total = capped_count(conn, select(key).select_from(source).where(cond), cap)
        order = ranked if total <= cap else [key.desc()]
    stmt = (select(*AD_COLUMNS).select_from(source).where(cond).order_by(*order)
            .limit(limit).offset(offset))
    return total, list(conn.execute(stmt))


class SearchTables(StoreBase):
    """The SearchRepo of tracelight.store.interfaces: full-text search over ads."""

    def search_text(self, query: str, *, limit: int = 20, offset: int = 0,
                    cap: int | None = None) -> tuple[int, list[StoredAd]]:
        """Ads containing every word of `query`, best first; see text_search for cap."""
        with self.connect() as conn:
            total, rows = text_search(conn, query, limit, offset, cap)
        return total, [row_to_ad(r) for r in rows]
