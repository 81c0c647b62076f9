"""The crawl-state repository: one row per (profile, URL) the crawler fetched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import and_, delete, insert, select

from tracelight.store.base import StoreBase
from tracelight.store.schema import crawl_pages


@dataclass(frozen=True)
class CrawlPage:
    """What the crawler last saw at one URL."""

    url: str
    kind: str  # ad, listing
    fetched_at: datetime
    status: int | None = None
    content_hash: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None


class CrawlTables(StoreBase):
    """The CrawlRepo of tracelight.store.interfaces."""

    def crawl_pages(self, profile: str, urls: Sequence[str] | None = None,
                    ) -> dict[str, CrawlPage]:
        """The stored state of `urls` (every URL of the profile when None), by URL."""
        cols = [crawl_pages.c[f] for f in CrawlPage.__dataclass_fields__]
        out: dict[str, CrawlPage] = {}
        with self.connect() as conn:
            if urls is None:
                rows = list(conn.execute(select(*cols).where(crawl_pages.c.profile == profile)))
            else:
                rows = []
                wanted = list(dict.fromkeys(urls))
                for i in range(0, len(wanted), 400):
                    rows += conn.execute(select(*cols).where(and_(
                        crawl_pages.c.profile == profile,
                        crawl_pages.c.url.in_(wanted[i:i + 400])))).all()
        for row in rows:
            out[row.url] = CrawlPage(**row._mapping)
        return out

    def save_crawl_pages(self, profile: str, pages: Sequence[CrawlPage]) -> None:
        """Insert or replace the state of `pages`, in one transaction."""
        if not pages:
            return
        latest = {p.url: p for p in pages}
        with self.transaction() as conn:
            urls = list(latest)
            for i in range(0, len(urls), 400):
                conn.execute(delete(crawl_pages).where(and_(
                    crawl_pages.c.profile == profile, crawl_pages.c.url.in_(urls[i:i + 400]))))
            conn.execute(insert(crawl_pages),
                         [{"profile": profile, **asdict(p)} for p in latest.values()])
