"""Full-text search over title and body: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

The only place that knows how each backend searches text; callers see one function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, column, func, select, table, text

from tracelight.store.ads import AD_COLUMNS, FTS_TOKEN, StoredAd, fts_match_expression, row_to_ad
from tracelight.store.base import StoreBase
from tracelight.store.schema import ads

# Rank at most this many matches. Ranking reads every matching row's text (ts_rank on
# PostgreSQL): a word in most of 1M ads took 3.8 s at p95, the first 5,000 matches 44 ms
# (docs/scale.md). Past it, the results are the best of the first RANK_CAP matches the index
# yields (about the first stored), and the result says so.
RANK_CAP = 5000


@dataclass(frozen=True)
class TextPage:
    """One page of a full-text search.

    total: matching ads (with a count cap, cap + 1 means "more than cap").
    ranked: how many matches were ranked to order the page: all of them, or `rank_cap`.
    capped: True when there were more matches than `rank_cap`, so only the first `ranked`
    were ranked and pages past them are empty.
    """

    total: int
    ads: list[StoredAd]
    ranked: int
    capped: bool


def capped_count(conn: Connection, stmt: Any, cap: int) -> int:
    """Rows of `stmt` (a select), counting no further than cap + 1."""
    return int(conn.execute(select(func.count()).select_from(
        stmt.limit(cap + 1).subquery())).scalar_one())


def text_search(conn: Connection, query: str, limit: int, offset: int,
                cap: int | None = None, rank_cap: int = RANK_CAP,
                ) -> tuple[int, list[Any], int, bool]:
    """(total, rows of AD_COLUMNS best first, matches ranked, capped) for the words in `query`.

    With `cap`, counting stops at cap + 1 ("2,000+" is all a person needs to know). Whatever
    the count, at most `rank_cap` matches are ranked: the first the index yields.
    """
    if not FTS_TOKEN.search(query):
        return 0, [], 0, False
    rank_cap = max(1, rank_cap)
    if conn.dialect.name == "sqlite":
        fts = table("ads_fts", column("rowid"), column("rank"))
        cond: Any = text("ads_fts MATCH :q").bindparams(q=fts_match_expression(query))
        key: Any = fts.c.rowid
        candidates = select(key.label("pk")).select_from(fts).where(cond)
        # FTS5's rank (bm25) is only known inside the MATCH query: rank there, join after
        scored = (select(key.label("pk"), fts.c.rank.label("score")).select_from(fts)
                  .where(cond))
        high_first = False  # bm25 as FTS5 gives it: lower is better
    else:
        # PostgreSQL: `search` is a generated tsvector column with a GIN index (migration 0001).
        tsq = func.plainto_tsquery("simple", " ".join(FTS_TOKEN.findall(query)))
        search_col: Any = column("search")
        cond = search_col.op("@@")(tsq)
        key = ads.c.pk
        candidates = select(key.label("pk")).select_from(ads).where(cond)
        scored = select(key.label("pk"), func.ts_rank(search_col, tsq).label("score")) \
            .select_from(ads).where(cond)
        high_first = True
    within = capped_count(conn, candidates, rank_cap)
    capped = within > rank_cap
    if not capped:
        total = within
    elif cap is None:
        total = int(conn.execute(select(func.count()).select_from(
            candidates.subquery())).scalar_one())
    elif cap <= rank_cap:
        total = cap + 1  # "more than cap": already known
    else:
        total = capped_count(conn, candidates, cap)
    if cap is not None:
        total = min(total, cap + 1)
    if capped:
        # score only the first rank_cap matches the index yields, and order those: the
        # reads of matching rows stop there (a LIMIT, no ORDER BY, inside; the sort outside)
        scored = scored.limit(rank_cap)
    ranked = scored.subquery("ranked")
    score = ranked.c.score.desc() if high_first else ranked.c.score
    page = (select(ranked.c.pk, ranked.c.score).order_by(score, ranked.c.pk)
            .limit(limit).offset(offset).subquery("page"))
    stmt = (select(*AD_COLUMNS).select_from(page.join(ads, ads.c.pk == page.c.pk))
            .order_by(page.c.score.desc() if high_first else page.c.score, page.c.pk))
    return total, list(conn.execute(stmt)), min(within, rank_cap), capped


class SearchTables(StoreBase):
    """The SearchRepo of tracelight.store.interfaces: full-text search over ads."""

    def search_text(self, query: str, *, limit: int = 20, offset: int = 0,
                    cap: int | None = None) -> tuple[int, list[StoredAd]]:
        """Ads containing every word of `query`, best first; see text_search for cap."""
        page = self.search_text_page(query, limit=limit, offset=offset, cap=cap)
        return page.total, page.ads

    def search_text_page(self, query: str, *, limit: int = 20, offset: int = 0,
                         cap: int | None = None, rank_cap: int = RANK_CAP) -> TextPage:
        """A page of ads containing every word of `query`, best first, saying how many
        matches were ranked (see text_search)."""
        with self.connect() as conn:
            total, rows, ranked, capped = text_search(conn, query, limit, offset, cap, rank_cap)
        return TextPage(total, [row_to_ad(r) for r in rows], ranked, capped)
