"""Full-text search over title and body: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

The only place that knows how each backend searches text; callers see one function.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, column, func, select, table, text

from tracelight.store.ads import AD_COLUMNS, FTS_TOKEN, fts_match_expression
from tracelight.store.schema import ads


def text_search(conn: Connection, query: str, limit: int, offset: int) -> tuple[int, list[Any]]:
    """(total matches, rows of AD_COLUMNS) for the words in `query`, best matches first."""
    if not FTS_TOKEN.search(query):
        return 0, []
    if conn.dialect.name == "sqlite":
        fts = table("ads_fts", column("rowid"), column("rank"))
        match = text("ads_fts MATCH :q").bindparams(q=fts_match_expression(query))
        total = conn.execute(select(func.count()).select_from(fts).where(match)).scalar_one()
        stmt = (select(*AD_COLUMNS).select_from(fts.join(ads, ads.c.pk == fts.c.rowid))
                .where(match).order_by(fts.c.rank, ads.c.pk).limit(limit).offset(offset))
        return total, list(conn.execute(stmt))
    # PostgreSQL: `search` is a generated tsvector column with a GIN index (migration 0001).
    tsq = func.plainto_tsquery("simple", " ".join(FTS_TOKEN.findall(query)))
    search_col: Any = column("search")
    cond = search_col.op("@@")(tsq)
    total = conn.execute(select(func.count()).select_from(ads).where(cond)).scalar_one()
    stmt = (select(*AD_COLUMNS).where(cond)
            .order_by(func.ts_rank(search_col, tsq).desc(), ads.c.pk)
            .limit(limit).offset(offset))
    return total, list(conn.execute(stmt))
