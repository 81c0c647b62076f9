"""Same-author links between stored ads, and stored Bitcoin transactions (migration 0010).

Only storage: the model (tracelight.authorship) and the use cases (services/authorship.py,
services/btc.py) live elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, or_, select

from tracelight.records import utcnow
from tracelight.store.ads import _upsert_ignore
from tracelight.store.base import StoreBase
from tracelight.store.schema import author_links, btc_txs

CHUNK = 2000


@dataclass(frozen=True, slots=True)
class AuthorLink:
    ad_a_pk: int
    ad_b_pk: int
    score: float
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredTx:
    txid: str
    time: datetime
    inputs: tuple[str, ...]
    outputs: tuple[tuple[str, float], ...]


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class AuthorshipTables(StoreBase):
    """author_links and btc_txs."""

    def replace_author_links(self, links: Sequence[AuthorLink]) -> int:
        """Replace every stored author link with these (one transaction); returns the count."""
        now = utcnow()
        seen: set[tuple[int, int]] = set()
        unique = []
        for x in links:
            key = (min(x.ad_a_pk, x.ad_b_pk), max(x.ad_a_pk, x.ad_b_pk))
            if key[0] != key[1] and key not in seen:
                seen.add(key)
                unique.append({"ad_a_pk": key[0], "ad_b_pk": key[1], "score": float(x.score),
                               "matched": list(x.matched), "created_at": now})
        with self.transaction() as conn:
            conn.execute(delete(author_links))
            for i in range(0, len(unique), CHUNK):
                conn.execute(insert(author_links), unique[i:i + CHUNK])
        return len(unique)

    def author_links_of(self, ad_pk: int, limit: int = 100) -> list[AuthorLink]:
        """Links that involve the ad, strongest first."""
        stmt = (select(author_links).where(or_(author_links.c.ad_a_pk == ad_pk,
                                               author_links.c.ad_b_pk == ad_pk))
                .order_by(author_links.c.score.desc(), author_links.c.pk).limit(limit))
        with self.connect() as conn:
            return [AuthorLink(r.ad_a_pk, r.ad_b_pk, r.score, tuple(r.matched or ()))
                    for r in conn.execute(stmt)]

    def iter_author_links(self) -> Iterator[AuthorLink]:
        with self.connect() as conn:
            for r in conn.execute(select(author_links).order_by(author_links.c.pk)):
                yield AuthorLink(r.ad_a_pk, r.ad_b_pk, r.score, tuple(r.matched or ()))

    def add_btc_txs(self, txs: Sequence[StoredTx]) -> int:
        """Store transactions not stored yet (keyed on txid); returns how many were new."""
        with self.transaction() as conn:
            before = int(conn.execute(select(func.count()).select_from(btc_txs)).scalar_one())
            for i in range(0, len(txs), CHUNK):
                _upsert_ignore(conn, btc_txs, [
                    {"txid": t.txid, "time": t.time, "inputs": list(t.inputs),
                     "outputs": [[a, v] for a, v in t.outputs]} for t in txs[i:i + CHUNK]],
                    ["txid"])
            after = int(conn.execute(select(func.count()).select_from(btc_txs)).scalar_one())
        return after - before

    def count_btc_txs(self) -> int:
        with self.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(btc_txs)).scalar_one())

    def iter_btc_txs(self) -> Iterator[StoredTx]:
        """Every stored transaction, oldest first."""
        with self.connect() as conn:
            stmt = select(btc_txs).order_by(btc_txs.c.time, btc_txs.c.txid)
            for r in conn.execution_options(yield_per=5000).execute(stmt):
                yield StoredTx(r.txid, _utc(r.time), tuple(r.inputs),
                               tuple((str(a), float(v)) for a, v in r.outputs))
