"""Follow the money: bank accounts, transactions, alerts and account <-> ad links.

Tables (migration 0007, in store/schema.py): `fin_accounts`, `fin_transactions` (keyed on
tx_id: writing the same transaction again adds nothing), `fin_alerts` (replaced as a whole by
each scoring run), `fin_account_ads` (an account's phone/email/handle/crypto found in an ad).
Only storage: reading files, red flags and scoring live in tracelight.finance and
tracelight.services.finance. Rows leave as the dataclasses below.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, tuple_, update

from tracelight.records import utcnow
from tracelight.store.ads import _upsert_ignore
from tracelight.store.base import StoreBase
from tracelight.store.schema import (
    ads,
    fin_account_ads,
    fin_accounts,
    fin_alerts,
    fin_transactions,
    network_members,
    networks,
)

ACCOUNT_COLUMNS = ("account_id", "kind", "business_type", "opened", "phone", "email", "handle",
                   "crypto", "address", "city", "region", "country", "opening_hours")
TX_COLUMNS = ("tx_id", "amount", "currency", "from_account", "to_account", "channel",
              "merchant", "mcc", "city", "region", "country")
CHUNK = 500


@dataclass(frozen=True)
class FinAccount:
    account_id: str
    kind: str
    business_type: str
    opened: str
    phone: str
    email: str
    handle: str
    crypto: str
    address: str
    city: str
    region: str
    country: str
    opening_hours: str


@dataclass(frozen=True)
class FinTx:
    tx_id: str
    timestamp: datetime  # with the offset it was written in
    amount: float
    currency: str
    from_account: str
    to_account: str
    channel: str
    merchant: str
    mcc: str
    city: str
    region: str
    country: str


@dataclass(frozen=True)
class FinAlert:
    alert_id: str
    account_id: str
    typologies: list[str]
    indicators: list[dict[str, Any]]  # {code, citation, first_seen, last_seen, tx_ids}
    score: float
    first_seen: datetime
    last_seen: datetime
    linked_ads: list[str]
    linked_networks: list[str]
    score_reasons: list[str]
    scored_at: datetime


@dataclass(frozen=True)
class AccountAdLink:
    account_id: str
    ad_pk: int
    ad_id: str
    kind: str
    value: str


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_ZONES: dict[int, timezone] = {}


def _zone(minutes: int) -> timezone:
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES[minutes] = timezone(timedelta(minutes=minutes))
    return zone


def _tx(r: Any) -> FinTx:
    when = _aware(r.ts).astimezone(_zone(int(r.tz_minutes or 0)))
    return FinTx(tx_id=r.tx_id, timestamp=when, amount=float(r.amount), currency=r.currency,
                 from_account=r.from_account, to_account=r.to_account, channel=r.channel,
                 merchant=r.merchant, mcc=r.mcc, city=r.city, region=r.region,
                 country=r.country)


def _account(r: Any) -> FinAccount:
    return FinAccount(**{c: getattr(r, c) or "" for c in ACCOUNT_COLUMNS})


def _alert(r: Any) -> FinAlert:
    return FinAlert(alert_id=r.alert_id, account_id=r.account_id,
                    typologies=list(r.typologies or []), indicators=list(r.indicators or []),
                    score=float(r.score), first_seen=_aware(r.first_seen),
                    last_seen=_aware(r.last_seen), linked_ads=list(r.linked_ads or []),
                    linked_networks=list(r.linked_networks or []),
                    score_reasons=list(r.score_reasons or []), scored_at=_aware(r.scored_at))


def _tx_row(tx: Any) -> dict[str, Any]:
    when: datetime = tx.timestamp
    offset = when.utcoffset() or timedelta(0)
    row = {c: getattr(tx, c) for c in TX_COLUMNS}
    row["ts"] = when.astimezone(UTC)
    row["tz_minutes"] = int(offset.total_seconds() // 60)
    return row


class FinanceTables(StoreBase):
    """The FinanceRepo of tracelight.store.interfaces, on SQLite or PostgreSQL."""

    # ---- accounts ------------------------------------------------------------------------
    def write_fin_accounts(self, accounts: Sequence[Any]) -> tuple[int, int]:
        """Store accounts (objects with the account fields) in one transaction.

        Returns (new, updated); an account stored again unchanged counts as neither."""
        rows: dict[str, dict[str, Any]] = {}
        for a in accounts:
            rows[a.account_id] = {c: getattr(a, c) for c in ACCOUNT_COLUMNS}
        new = updated = 0
        ids = list(rows)
        with self.transaction() as conn:
            for i in range(0, len(ids), CHUNK):
                part = ids[i:i + CHUNK]
                have = {r.account_id: r for r in conn.execute(
                    select(fin_accounts).where(fin_accounts.c.account_id.in_(part)))}
                fresh = [rows[k] for k in part if k not in have]
                if fresh:
                    conn.execute(insert(fin_accounts), fresh)
                    new += len(fresh)
                for k in part:
                    old = have.get(k)
                    if old is not None and any((getattr(old, c) or "") != rows[k][c]
                                               for c in ACCOUNT_COLUMNS):
                        conn.execute(update(fin_accounts)
                                     .where(fin_accounts.c.account_id == k).values(**rows[k]))
                        updated += 1
        return new, updated

    def count_fin_accounts(self) -> int:
        with self.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(fin_accounts))
                       .scalar_one())

    def fin_account(self, account_id: str) -> FinAccount | None:
        with self.connect() as conn:
            r = conn.execute(select(fin_accounts)
                             .where(fin_accounts.c.account_id == account_id)).first()
            return _account(r) if r is not None else None

    def iter_fin_accounts(self, batch: int = 5000) -> Iterator[FinAccount]:
        last = 0
        while True:
            with self.connect() as conn:
                rows = list(conn.execute(select(fin_accounts).where(fin_accounts.c.pk > last)
                                         .order_by(fin_accounts.c.pk).limit(batch)))
            if not rows:
                return
            for r in rows:
                yield _account(r)
            last = rows[-1].pk

    # ---- transactions --------------------------------------------------------------------
    def write_fin_transactions(self, transactions: Sequence[Any]) -> int:
        """Store one batch in one transaction; returns how many were new (known tx_ids and
        repeats within the batch add nothing)."""
        rows: dict[str, dict[str, Any]] = {}
        for tx in transactions:
            rows.setdefault(tx.tx_id, _tx_row(tx))
        if not rows:
            return 0
        ids = list(rows)
        with self.transaction() as conn:
            known: set[str] = set()
            for i in range(0, len(ids), CHUNK):
                known.update(conn.execute(select(fin_transactions.c.tx_id).where(
                    fin_transactions.c.tx_id.in_(ids[i:i + CHUNK]))).scalars())
            fresh = [rows[k] for k in ids if k not in known]
            for i in range(0, len(fresh), 5000):
                _upsert_ignore(conn, fin_transactions, fresh[i:i + 5000], ["tx_id"])
        return len(fresh)

    def count_fin_transactions(self) -> int:
        with self.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(fin_transactions))
                       .scalar_one())

    def iter_fin_transactions(self, batch: int = 5000) -> Iterator[FinTx]:
        """Every transaction in time order, read a page at a time (flat memory)."""
        last: tuple[datetime, int] | None = None
        while True:
            q = select(fin_transactions).order_by(fin_transactions.c.ts, fin_transactions.c.pk)
            if last is not None:
                q = q.where(tuple_(fin_transactions.c.ts, fin_transactions.c.pk) > last)
            with self.connect() as conn:
                rows = list(conn.execute(q.limit(batch)))
            if not rows:
                return
            for r in rows:
                yield _tx(r)
            last = (rows[-1].ts, rows[-1].pk)

    def fin_transactions_by_ids(self, tx_ids: Sequence[str]) -> list[FinTx]:
        out: list[FinTx] = []
        ids = list(dict.fromkeys(tx_ids))
        with self.connect() as conn:
            for i in range(0, len(ids), CHUNK):
                out += [_tx(r) for r in conn.execute(select(fin_transactions).where(
                    fin_transactions.c.tx_id.in_(ids[i:i + CHUNK])))]
        return sorted(out, key=lambda t: (t.timestamp, t.tx_id))

    def fin_transactions_of(self, account_id: str, limit: int = 200) -> list[FinTx]:
        """An account's newest transactions (either side), newest first."""
        with self.connect() as conn:
            rows = conn.execute(select(fin_transactions).where(or_(
                fin_transactions.c.from_account == account_id,
                fin_transactions.c.to_account == account_id))
                .order_by(fin_transactions.c.ts.desc(), fin_transactions.c.pk.desc())
                .limit(limit))
            return [_tx(r) for r in rows]

    # ---- alerts --------------------------------------------------------------------------
    def replace_fin_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> int:
        """The alerts of one scoring run replace the previous run's, all at once."""
        now = utcnow()
        rows = [{"alert_id": a["alert_id"], "account_id": a["account"],
                 "typologies": list(a["typologies"]), "indicators": list(a["indicators"]),
                 "score": float(a["score"]), "first_seen": a["first_seen"],
                 "last_seen": a["last_seen"], "linked_ads": list(a.get("linked_ads", [])),
                 "linked_networks": list(a.get("linked_networks", [])),
                 "score_reasons": list(a.get("score_reasons", [])), "scored_at": now}
                for a in alerts]
        with self.transaction() as conn:
            conn.execute(delete(fin_alerts))
            for i in range(0, len(rows), 1000):
                conn.execute(insert(fin_alerts), rows[i:i + 1000])
        return len(rows)

    def fin_alerts(self, *, limit: int = 100, offset: int = 0,
                   typology: str | None = None) -> list[FinAlert]:
        """Alerts, highest score first."""
        with self.connect() as conn:
            q = select(fin_alerts).order_by(fin_alerts.c.score.desc(), fin_alerts.c.alert_id)
            if typology is None:
                return [_alert(r) for r in conn.execute(q.limit(limit).offset(offset))]
            rows = [_alert(r) for r in conn.execute(q)]
        return [a for a in rows if typology in a.typologies][offset:offset + limit]

    def count_fin_alerts(self) -> int:
        with self.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(fin_alerts)).scalar_one())

    def fin_alert(self, alert_id: str) -> FinAlert | None:
        with self.connect() as conn:
            r = conn.execute(select(fin_alerts).where(fin_alerts.c.alert_id == alert_id)).first()
            return _alert(r) if r is not None else None

    def fin_alerts_of(self, account_ids: Sequence[str]) -> list[FinAlert]:
        with self.connect() as conn:
            return [_alert(r) for r in conn.execute(select(fin_alerts).where(
                fin_alerts.c.account_id.in_(list(account_ids)[:CHUNK])))]

    # ---- account <-> ad links ------------------------------------------------------------
    def replace_account_ad_links(self, links: Sequence[tuple[str, int, str, str]]) -> int:
        """(account_id, ad_pk, kind, value) found by one linking run replace the last run's."""
        rows = [{"account_id": a, "ad_pk": p, "kind": k, "value": v} for a, p, k, v in links]
        with self.transaction() as conn:
            conn.execute(delete(fin_account_ads))
            for i in range(0, len(rows), 1000):
                _upsert_ignore(conn, fin_account_ads, rows[i:i + 1000],
                               ["account_id", "ad_pk", "kind", "value"])
        return len(rows)

    def ad_links_of_accounts(self, account_ids: Sequence[str]) -> list[AccountAdLink]:
        out: list[AccountAdLink] = []
        ids = list(dict.fromkeys(account_ids))
        with self.connect() as conn:
            for i in range(0, len(ids), CHUNK):
                out += [AccountAdLink(r.account_id, r.ad_pk, r.ad_id, r.kind, r.value)
                        for r in conn.execute(
                            select(fin_account_ads, ads.c.ad_id)
                            .join(ads, ads.c.pk == fin_account_ads.c.ad_pk)
                            .where(fin_account_ads.c.account_id.in_(ids[i:i + CHUNK]))
                            .order_by(fin_account_ads.c.account_id, ads.c.ad_id))]
        return out

    def accounts_linked_to_network(self, network_id: str) -> list[AccountAdLink]:
        """Accounts whose identifiers appear in the ads of one network."""
        with self.connect() as conn:
            return _links(conn, select(fin_account_ads, ads.c.ad_id)
                          .join(ads, ads.c.pk == fin_account_ads.c.ad_pk)
                          .join(network_members,
                                network_members.c.ad_pk == fin_account_ads.c.ad_pk)
                          .join(networks, networks.c.pk == network_members.c.network_pk)
                          .where(networks.c.network_id == network_id)
                          .order_by(fin_account_ads.c.account_id, ads.c.ad_id).limit(2000))


def _links(conn: Connection, q: Any) -> list[AccountAdLink]:
    return [AccountAdLink(r.account_id, r.ad_pk, r.ad_id, r.kind, r.value)
            for r in conn.execute(q)]
