"""Use case: follow the money. Ingest bank accounts and transactions, score them into alerts,
link accounts to ads (and their networks) by shared identifiers, draft SAR narratives,
evaluate against the generator's truth, and score a live stream.

The red flags, the scorer, the SAR text and the generator are the pure core in
tracelight.finance; the tables are store/finance.py. This module joins them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from tracelight import kinds
from tracelight.errors import NotFoundError, TracelightError, UsageError
from tracelight.finance.catalogue import RedFlags, load_redflags
from tracelight.finance.engine import Scorer, noisy_or
from tracelight.finance.evaluate import TypologyScore, evaluate, load_truth
from tracelight.finance.readers import read_accounts, read_transactions
from tracelight.finance.records import Account, Alert, Evidence, Reject, Transaction
from tracelight.finance.sar import draft_sar
from tracelight.store import Store
from tracelight.store.finance import AccountAdLink, FinAccount, FinAlert, FinTx

BATCH = 5000
# account field -> the entity kind ads are looked up by (kinds.yaml)
LINK_KINDS = {"phone": "phone", "email": "email", "handle": "social", "crypto": "crypto"}
MAX_ADS_PER_IDENTIFIER = 500  # a site's footer phone in thousands of ads links nothing


@dataclass
class TxIngestResult:
    read: int = 0
    new: int = 0
    rejected: int = 0
    batches: int = 0
    rejects_path: str | None = None


@dataclass
class AccountIngestResult:
    read: int = 0
    new: int = 0
    updated: int = 0
    rejected: int = 0
    rejects_path: str | None = None


@dataclass
class ScoreResult:
    transactions: int
    accounts: int
    alerts: list[Alert]


@dataclass
class LinkResult:
    accounts_checked: int
    links: int
    accounts_linked: int


@dataclass
class AlertView:
    alert: Alert
    account: Account | None
    transactions: list[Transaction]
    links: list[AccountAdLink]
    networks: list[str]
    sar: str


@dataclass
class AccountView:
    account: Account
    transactions: list[Transaction]
    alerts: list[Alert]
    links: list[AccountAdLink]
    networks: list[str] = field(default_factory=list)


class _Rejects:
    """The rejects file, opened when the first reject arrives: `file:line: reason`."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.fh: IO[str] | None = None
        self.count = 0

    def write(self, reject: Reject) -> None:
        self.count += 1
        if self.path is None:
            return
        if self.fh is None:
            try:
                self.fh = open(self.path, "a", encoding="utf-8",  # noqa: SIM115
                               errors="backslashreplace")
            except OSError as exc:
                raise UsageError(f"cannot write the rejects file {self.path!r}: "
                                 f"{exc.strerror}") from None
        self.fh.write(f"{reject.origin}: {reject.reason}\n".encode(
            "utf-8", "backslashreplace").decode("utf-8"))

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


# ---- records <-> rows ---------------------------------------------------------------------

def to_transaction(t: FinTx) -> Transaction:
    return Transaction(tx_id=t.tx_id, timestamp=t.timestamp, amount=t.amount,
                       currency=t.currency, from_account=t.from_account,
                       to_account=t.to_account, channel=t.channel, merchant=t.merchant,
                       mcc=t.mcc, city=t.city, region=t.region, country=t.country)


def to_account(a: FinAccount) -> Account:
    return Account(**{k: getattr(a, k) for k in a.__dataclass_fields__})


def to_alert(a: FinAlert) -> Alert:
    evidence = [Evidence(code=str(e.get("code", "")), citation=str(e.get("citation", "")),
                         first_seen=datetime.fromisoformat(e["first_seen"]),
                         last_seen=datetime.fromisoformat(e["last_seen"]),
                         tx_ids=[str(i) for i in e.get("tx_ids", [])]) for e in a.indicators]
    return Alert(alert_id=a.alert_id, account=a.account_id, typologies=a.typologies,
                 indicators=evidence, score=a.score, first_seen=a.first_seen,
                 last_seen=a.last_seen, linked_ads=a.linked_ads,
                 linked_networks=a.linked_networks, score_reasons=a.score_reasons)


# ---- ingest -------------------------------------------------------------------------------

_Row = TypeVar("_Row")


class _Counts(Protocol):
    read: int
    rejected: int


def _write_in_batches(items: Iterable[_Row | Reject], counts: _Counts, rejects: _Rejects,
                      write: Callable[[list[_Row]], None], batch_size: int) -> None:
    """Rows to `write` in batches of `batch_size` (one database transaction each); rejects
    to the rejects file. The rejects file is closed whatever happens."""
    batch: list[_Row] = []
    try:
        for item in items:
            if isinstance(item, Reject):
                counts.rejected += 1
                rejects.write(item)
                continue
            counts.read += 1
            batch.append(item)
            if len(batch) >= batch_size:
                write(batch)
                batch = []
        if batch:
            write(batch)
    finally:
        rejects.close()


def ingest_transactions(store: Store, sources: Iterable[tuple[str, IO[bytes]]], *,
                        rejects_path: str | None = None, batch_size: int = BATCH,
                        progress: Callable[[int], None] | None = None) -> TxIngestResult:
    """Stream transactions from (name, byte stream) sources into the store, one database
    transaction per batch: a crash loses at most the batch in flight, and running the same
    command again adds nothing already stored (transactions are keyed on tx_id)."""
    result = TxIngestResult(rejects_path=rejects_path)

    def write(batch: list[Transaction]) -> None:
        result.new += store.write_fin_transactions(batch)
        result.batches += 1
        if progress:
            progress(len(batch))

    rows = (item for name, stream in sources for item in read_transactions(stream, name))
    _write_in_batches(rows, result, _Rejects(rejects_path), write, batch_size)
    return result


def ingest_accounts(store: Store, name: str, stream: IO[bytes], *,
                    rejects_path: str | None = None) -> AccountIngestResult:
    result = AccountIngestResult(rejects_path=rejects_path)

    def write(batch: list[Account]) -> None:
        new, updated = store.write_fin_accounts(batch)
        result.new += new
        result.updated += updated

    _write_in_batches(read_accounts(stream, name), result, _Rejects(rejects_path), write, BATCH)
    return result


# ---- accounts <-> ads -----------------------------------------------------------------------

def _lookup_values(store: Store, kind: str, written: str) -> list[str]:
    try:
        values = kinds.normalize_lookup(kind, written)
    except TracelightError:
        return []
    if kinds.kind(kind).normaliser in ("handle", "email"):
        values += [v for v in store.entity_values(kind, written) if v not in values]
    return values


def link_accounts(store: Store) -> LinkResult:
    """Find every ad that carries an account's phone, email, handle or crypto address and
    store the links (replacing the last run's). Identifiers are normalised the way ads are
    keyed (tracelight.kinds), so `(206) 555-0143` on file finds `2oh6 555 0one4three` in an ad.
    """
    links: list[tuple[str, int, str, str]] = []
    checked = 0
    linked: set[str] = set()
    for acct in store.iter_fin_accounts():
        checked += 1
        for field_name, kind in LINK_KINDS.items():
            written = getattr(acct, field_name)
            if not written:
                continue
            values = _lookup_values(store, kind, written)
            if not values:
                continue
            total, ads = store.find_by_entity(kind, values, limit=MAX_ADS_PER_IDENTIFIER)
            if total > MAX_ADS_PER_IDENTIFIER:
                continue  # a hub (a site's own number), not a person's
            for ad in ads:
                links.append((acct.account_id, ad.pk, kind, values[0]))
                linked.add(acct.account_id)
    store.replace_account_ad_links(links)
    return LinkResult(accounts_checked=checked, links=len(links), accounts_linked=len(linked))


def _apply_links(store: Store, alerts: list[Alert], rf: RedFlags) -> None:
    if not alerts:
        return
    by_account: dict[str, list[AccountAdLink]] = {}
    accounts = [a.account for a in alerts]
    for i in range(0, len(accounts), 500):
        for link in store.ad_links_of_accounts(accounts[i:i + 500]):
            by_account.setdefault(link.account_id, []).append(link)
    for alert in alerts:
        links = by_account.get(alert.account, [])
        if not links:
            continue
        ad_pks = sorted({k.ad_pk for k in links})
        alert.linked_ads = sorted({k.ad_id for k in links})
        alert.linked_networks = sorted(set(store.network_ids_of(ad_pks).values()))
        weights = [rf.ad_weight] + ([rf.network_weight] if alert.linked_networks else [])
        before = alert.score
        alert.score = noisy_or([alert.score, *weights])
        alert.score_reasons.append(
            f"identifiers shared with {len(alert.linked_ads)} ad(s) "
            f"[{rf.link_citation}]: score {before:.2f} -> {noisy_or([before, rf.ad_weight]):.2f}")
        if alert.linked_networks:
            alert.score_reasons.append(
                f"linked network(s) {', '.join(alert.linked_networks[:5])} raise the score to "
                f"{alert.score:.2f}")


# ---- scoring ------------------------------------------------------------------------------

def load_accounts(store: Store) -> dict[str, Account]:
    return {a.account_id: to_account(a) for a in store.iter_fin_accounts()}


def score(store: Store, *, redflags: RedFlags | None = None, link: bool = True,
          progress: Callable[[int], None] | None = None) -> ScoreResult:
    """Score every stored transaction in time order; store the alerts (replacing the last
    run's), with their links to ads and networks."""
    rf = redflags or load_redflags()
    accounts = load_accounts(store)
    scorer = Scorer(accounts, rf)
    n = 0
    for t in store.iter_fin_transactions():
        scorer.observe(to_transaction(t))
        n += 1
        if progress and n % BATCH == 0:
            progress(BATCH)
    if link:
        link_accounts(store)
    alerts = sorted(scorer.alerts(), key=lambda a: (-a.score, a.account))
    _apply_links(store, alerts, rf)
    alerts.sort(key=lambda a: (-a.score, a.account))
    from tracelight.services.alerts import _wanted, money_alerts_event
    wanted = _wanted(store, "money.alert")
    before = ({a.alert_id for a in store.fin_alerts(limit=10**9)} if wanted else set())
    store.replace_fin_alerts([a.to_dict() | {"first_seen": a.first_seen,
                                             "last_seen": a.last_seen} for a in alerts])
    if wanted:  # a webhook for each alert new since the last run
        money_alerts_event(store, alerts, before)
    return ScoreResult(transactions=n, accounts=len(accounts), alerts=alerts)


def stream_score(lines: IO[bytes], accounts: dict[str, Account], *,
                 on_reject: Callable[[Reject], None] | None = None,
                 redflags: RedFlags | None = None) -> Iterator[Alert]:
    """Alerts as they fire, for a bank's pipeline: one transaction in, any new alerts out."""
    scorer = Scorer(accounts, redflags)
    for item in read_transactions(lines, "<stdin>"):
        if isinstance(item, Reject):
            if on_reject:
                on_reject(item)
            continue
        yield from scorer.observe(item)


# ---- reads for the shells ------------------------------------------------------------------

def alerts(store: Store, *, limit: int = 100, offset: int = 0,
           typology: str | None = None) -> list[Alert]:
    return [to_alert(a) for a in store.fin_alerts(limit=limit, offset=offset,
                                                  typology=typology)]


def alert_view(store: Store, alert_id: str) -> AlertView:
    row = store.fin_alert(alert_id)
    if row is None:
        raise NotFoundError(f"no alert {alert_id!r}", hint="list them with `tracelight tx alerts`")
    alert = to_alert(row)
    acct = store.fin_account(alert.account)
    account = to_account(acct) if acct else None
    txs = [to_transaction(t) for t in store.fin_transactions_by_ids(alert.tx_ids)]
    links = store.ad_links_of_accounts([alert.account])
    return AlertView(alert=alert, account=account, transactions=txs, links=links,
                     networks=alert.linked_networks,
                     sar=draft_sar(alert, account, txs))


def sar_text(store: Store, alert_id: str) -> str:
    return alert_view(store, alert_id).sar


def account_view(store: Store, account_id: str, limit: int = 200) -> AccountView:
    acct = store.fin_account(account_id)
    if acct is None:
        raise NotFoundError(f"no account {account_id!r}")
    links = store.ad_links_of_accounts([account_id])
    return AccountView(account=to_account(acct),
                       transactions=[to_transaction(t) for t in
                                     store.fin_transactions_of(account_id, limit)],
                       alerts=[to_alert(a) for a in store.fin_alerts_of([account_id])],
                       links=links,
                       networks=sorted(set(store.network_ids_of(
                           sorted({k.ad_pk for k in links})).values())))


def network_accounts(store: Store, network_id: str) -> list[AccountAdLink]:
    """The bank accounts whose identifiers appear in a network's ads (the other way round)."""
    return store.accounts_linked_to_network(network_id)


def evaluate_store(store: Store, truth_path: Path) -> list[TypologyScore]:
    truth = load_truth(truth_path)
    stored = [to_alert(a) for a in store.fin_alerts(limit=10**9)]
    return evaluate(stored, truth)


def alert_rows(items: Sequence[Alert]) -> list[dict[str, Any]]:
    """The printed columns of `tracelight tx alerts`."""
    return [{"alert_id": a.alert_id, "account": a.account, "typologies": a.typologies,
             "indicators": [{"code": e.code, "citation": e.citation, "tx_ids": e.tx_ids}
                            for e in a.indicators],
             "score": round(a.score, 4), "first_seen": a.first_seen.isoformat(),
             "last_seen": a.last_seen.isoformat(), "linked_ads": a.linked_ads,
             "linked_networks": a.linked_networks} for a in items]
