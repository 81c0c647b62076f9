"""Same-author links between stored ads, and stored Bitcoin transactions (migration 0010);
Bitcoin attributions of ads to owners and the owners' addresses (migration 0014).

Only storage: the model (tracelight.authorship) and the use cases (services/authorship.py,
services/btc.py) live elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, or_, select

from tracelight.records import utcnow
from tracelight.store.ads import _upsert_ignore
from tracelight.store.base import StoreBase
from tracelight.store.schema import author_links, btc_addresses, btc_attributions, btc_txs

CHUNK = 2000


@dataclass(frozen=True, slots=True)
class AuthorLink:
    ad_a_pk: int
    ad_b_pk: int
    score: float
    matched: tuple[str, ...]
    linkable: bool = True  # at or over the model's threshold for <= 1% FPR


@dataclass(frozen=True, slots=True)
class StoredAttribution:
    """An ad attributed to a Bitcoin owner: by the payment that bought it (`via` payment) or
    by an address written in it (`via` written, no payment fields)."""

    ad_pk: int
    owner: str
    via: str
    candidates: int
    confidence: float
    strength: str  # medium: a specific owner cluster (joins networks); weak: shown only
    txid: str | None = None
    paid_at: datetime | None = None
    delay_s: float | None = None
    amount_btc: float | None = None
    amount_usd: float | None = None
    price_usd: float | None = None
    diff_usd: float | None = None


_ATTR_FIELDS = ("ad_pk", "owner", "via", "candidates", "confidence", "strength", "txid",
                "paid_at", "delay_s", "amount_btc", "amount_usd", "price_usd", "diff_usd")


def _attr(r: object) -> StoredAttribution:
    values = {f: getattr(r, f) for f in _ATTR_FIELDS}
    if values["paid_at"] is not None:
        values["paid_at"] = _utc(values["paid_at"])
    return StoredAttribution(**values)


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
                               "matched": list(x.matched), "created_at": now,
                               "linkable": bool(x.linkable)})
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
            return [AuthorLink(r.ad_a_pk, r.ad_b_pk, r.score, tuple(r.matched or ()),
                               bool(r.linkable)) for r in conn.execute(stmt)]

    def iter_author_links(self, *, linkable_only: bool = False) -> Iterator[AuthorLink]:
        stmt = select(author_links).order_by(author_links.c.pk)
        if linkable_only:
            stmt = stmt.where(author_links.c.linkable.is_(True))
        with self.connect() as conn:
            for r in conn.execute(stmt):
                yield AuthorLink(r.ad_a_pk, r.ad_b_pk, r.score, tuple(r.matched or ()),
                                 bool(r.linkable))

    def replace_btc_attributions(self, rows: Sequence[StoredAttribution],
                                 addresses: Mapping[str, str]) -> int:
        """Replace every stored attribution (one per ad: the first given wins) and owner
        address (address -> owner) with these, in one transaction; returns the count."""
        now = utcnow()
        seen: set[int] = set()
        out = []
        for a in rows:
            if a.ad_pk in seen:
                continue
            seen.add(a.ad_pk)
            out.append({**{f: getattr(a, f) for f in _ATTR_FIELDS}, "created_at": now})
        addr = [{"address": k, "owner": v} for k, v in sorted(addresses.items())]
        with self.transaction() as conn:
            conn.execute(delete(btc_attributions))
            conn.execute(delete(btc_addresses))
            for i in range(0, len(out), CHUNK):
                conn.execute(insert(btc_attributions), out[i:i + CHUNK])
            for i in range(0, len(addr), CHUNK):
                conn.execute(insert(btc_addresses), addr[i:i + CHUNK])
        return len(out)

    def btc_attributions(self, *, owner: str | None = None,
                         ad_pks: Sequence[int] | None = None) -> list[StoredAttribution]:
        """Stored attributions (of one owner, or of these ads), by owner then payment time."""
        stmt = select(btc_attributions).order_by(btc_attributions.c.owner,
                                                 btc_attributions.c.paid_at.is_(None),
                                                 btc_attributions.c.paid_at,
                                                 btc_attributions.c.ad_pk)
        if owner is not None:
            stmt = stmt.where(btc_attributions.c.owner == owner)
        out: list[StoredAttribution] = []
        with self.connect() as conn:
            if ad_pks is None:
                return [_attr(r) for r in conn.execute(stmt)]
            pks = list(ad_pks)
            for i in range(0, len(pks), CHUNK):
                out.extend(_attr(r) for r in conn.execute(
                    stmt.where(btc_attributions.c.ad_pk.in_(pks[i:i + CHUNK]))))
        return out

    def owner_addresses(self, owner: str, limit: int = 1000) -> list[str]:
        stmt = (select(btc_addresses.c.address).where(btc_addresses.c.owner == owner)
                .order_by(btc_addresses.c.address).limit(limit))
        with self.connect() as conn:
            return [r[0] for r in conn.execute(stmt)]

    def count_owner_addresses(self, owner: str) -> int:
        stmt = select(func.count()).select_from(btc_addresses).where(
            btc_addresses.c.owner == owner)
        with self.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

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
