"""Use cases of Bitcoin ad-payment tracing: store transactions from a file, and attribute
stored ads to the owners of the addresses that paid for them (tracelight.authorship.bitcoin).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tracelight.authorship import bitcoin as btc
from tracelight.blobs import ImageRefused, read_regular_file
from tracelight.errors import InputError, UsageError
from tracelight.store import Store
from tracelight.store.authorship import StoredAttribution, StoredTx

MAX_PAYMENTS_BYTES = 2_000_000_000
MAX_SMALL_BYTES = 200_000_000
BATCH = 20_000
# an owner cluster is specific (its attributions are medium evidence and join networks) when
# the match had at most this many candidate payments and the cluster at most this many
# addresses; bigger clusters are exchanges, mixers or custodial wallets paying for anyone
SPECIFIC_MAX_CANDIDATES = 1
SPECIFIC_MAX_ADDRESSES = 500


@dataclass(frozen=True, slots=True)
class IngestPayments:
    read: int
    new: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "new": self.new, "seconds": round(self.seconds, 2),
                "tx_per_s": round(self.read / self.seconds, 1) if self.seconds else None}


@dataclass(frozen=True, slots=True)
class Attribution:
    matches: list[btc.PaymentMatch]
    spend: list[dict[str, Any]]
    postings: int
    transactions: int
    owners: int
    seconds: float
    score: btc.AttributionScore | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    stored: int | None = None  # attributions stored (btc match), None when not stored
    written: int = 0  # ads attributed by an address written in them


def _read_json(path: Path, what: str) -> Any:
    try:
        data = read_regular_file(path, MAX_SMALL_BYTES)
    except ImageRefused as exc:
        raise InputError(f"cannot read {what} {path}: {exc.reason}") from None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InputError(f"{path}: {what} is not JSON") from None


def ingest_payments(store: Store, path: Path) -> IngestPayments:
    """Store the transactions of a JSON Lines file (see docs/authorship.md); all or nothing:
    one malformed line stops it with the line and field, before anything is written."""
    t0 = time.perf_counter()
    try:
        data = read_regular_file(path, MAX_PAYMENTS_BYTES)
    except ImageRefused as exc:
        raise InputError(f"cannot read {path}: {exc.reason}") from None
    try:
        txs = btc.parse_tx_lines(data.decode("utf-8").splitlines(), path.name)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except btc.PaymentFormatError as exc:
        raise InputError(str(exc)) from None
    rows = [StoredTx(t.txid, t.time, t.inputs, t.outputs) for t in txs]
    new = store.add_btc_txs(rows)
    return IngestPayments(len(rows), new, time.perf_counter() - t0)


def _text(path: Path, what: str) -> str:
    try:
        return read_regular_file(path, MAX_PAYMENTS_BYTES).decode("utf-8")
    except ImageRefused as exc:
        raise InputError(f"cannot read {what} {path}: {exc.reason}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def ingest_core(store: Store, files: list[tuple[str, str]],
                mempool: Path | None = None) -> IngestPayments:
    """Store the transactions of Bitcoin Core JSON files ((name, text): `getblock` verbosity
    2/3 or `getrawtransaction` verbose; tracelight.authorship.bitcoin.CoreReader), timed by
    mempool first-seen times where `mempool` (JSON Lines txid, first_seen) has them. All or
    nothing: a malformed object stops it, with the file and field, before anything is
    written."""
    t0 = time.perf_counter()
    try:
        seen = btc.parse_first_seen(_text(mempool, "the mempool file").splitlines(),
                                    mempool.name) if mempool is not None else {}
        reader = btc.CoreReader(seen)
        txs = [t for name, text in files for t in btc.parse_core_text(text, reader, name)]
    except btc.PaymentFormatError as exc:
        raise InputError(str(exc)) from None
    new = store.add_btc_txs([StoredTx(t.txid, t.time, t.inputs, t.outputs) for t in txs])
    return IngestPayments(len(txs), new, time.perf_counter() - t0)


def read_core_files(paths: list[Path]) -> list[tuple[str, str]]:
    return [(p.name, _text(p, "the Bitcoin Core JSON")) for p in paths]


def read_wallets(values: tuple[str, ...], wallet_file: Path | None) -> list[str]:
    out = [v.strip() for v in values if v.strip()]
    if wallet_file is not None:
        try:
            text = read_regular_file(wallet_file, MAX_SMALL_BYTES).decode("utf-8", "replace")
        except ImageRefused as exc:
            raise InputError(f"cannot read {wallet_file}: {exc.reason}") from None
        out.extend(ln.strip() for ln in text.splitlines() if ln.strip())
    if not out:
        raise UsageError("give the ad site's wallet addresses (--wallet ADDR or --wallets FILE)")
    return out


def attribute_stored(store: Store, *, wallets: list[str], prices_path: Path, rates_path: Path,
                     truth_path: Path | None = None, window_min: float = 10.0,
                     tolerance: float = 0.0005, tier_field: str = "price_tier",
                     save: bool = False, change_heuristic: bool = False) -> Attribution:
    """Match stored ads (posting time, price tier in extra[tier_field]) to stored payments into
    `wallets`, group addresses into owners, and, with `truth_path`, score the attribution.

    save: replace the stored attributions with these (plus ads whose text names an address of
    an owner), and the stored addresses of the owners attributed. change_heuristic: also
    join change addresses to their spender (tracelight.authorship.bitcoin.owners)."""
    if not 0 < window_min <= 24 * 60:
        raise UsageError(f"--window must be between 0 and 1440 minutes, got {window_min}")
    if not 0 < tolerance < 1:
        raise UsageError(f"--tolerance must be between 0 and 1, got {tolerance}")
    t0 = time.perf_counter()
    try:
        prices = btc.parse_prices(_read_json(prices_path, "the price list"), prices_path.name)
        rates = btc.parse_rates(_read_json(rates_path, "the rates"), rates_path.name)
    except btc.PaymentFormatError as exc:
        raise InputError(str(exc)) from None
    posts = []
    for ad in store.iter_ads():
        p = btc.posting(ad.ad_id, ad.posted_at, ad.extra.get(tier_field), prices)
        if p is not None:
            posts.append(p)
    txs = [btc.Tx(t.txid, t.time, t.inputs, t.outputs) for t in store.iter_btc_txs()]
    wal = frozenset(wallets)
    owner_of = btc.owners(txs, wal, change=change_heuristic)
    matches = btc.attribute(btc.match(posts, txs, wal, rates,
                                      window=timedelta(minutes=window_min),
                                      tolerance=tolerance), txs, owner_of)
    score = None
    if truth_path is not None:
        truth = _read_json(truth_path, "the truth file")
        if not isinstance(truth, dict) or not isinstance(truth.get("ad_owner"), dict) \
                or not isinstance(truth.get("address_owner"), dict):
            raise InputError(f"{truth_path}: needs objects ad_owner and address_owner")
        score = btc.score_attribution(matches, owner_of, truth["ad_owner"],
                                      truth["address_owner"])
    stored = None
    written = 0
    if save:
        stored, written = save_attributions(store, matches, owner_of)
    return Attribution(matches, btc.owner_spend(matches), len(posts), len(txs),
                       len(set(owner_of.values())), time.perf_counter() - t0, score,
                       stored=stored, written=written)


def _strength(candidates: int, cluster_size: int) -> str:
    return "medium" if (candidates <= SPECIFIC_MAX_CANDIDATES
                        and cluster_size <= SPECIFIC_MAX_ADDRESSES) else "weak"


def save_attributions(store: Store, matches: list[btc.PaymentMatch],
                      owner_of: Mapping[str, str]) -> tuple[int, int]:
    """Store the matches as attributions, add the ads that name a Bitcoin address of a known
    owner (`via` written), and store the addresses of every owner attributed; returns
    (attributions stored, of which written)."""
    size: dict[str, int] = {}
    for o in owner_of.values():
        size[o] = size.get(o, 0) + 1
    rows: list[StoredAttribution] = []
    pk_of = {ad.ad_id: ad.pk for ad in store.iter_ads()}
    for m in matches:
        pk = pk_of.get(m.ad_id)
        if pk is None or not m.owner:
            continue
        rows.append(StoredAttribution(
            pk, m.owner, "payment", m.candidates, m.confidence,
            _strength(m.candidates, size.get(m.owner, 0)), m.txid, m.paid_at, m.delay_s,
            m.amount_btc, m.amount_usd, m.price_usd, m.diff_usd))
    done = {r.ad_pk for r in rows}
    written = 0
    pks = sorted(set(pk_of.values()) - done)
    for i in range(0, len(pks), 2000):
        for pk, ments in store.mentions_for(pks[i:i + 2000]).items():
            for mt in ments:
                addr = mt.value[4:] if mt.kind == "crypto" and mt.value.startswith("BTC:") \
                    else None
                owner = owner_of.get(addr) if addr else None
                if owner and pk not in done:
                    done.add(pk)
                    written += 1
                    rows.append(StoredAttribution(pk, owner, "written", 1, 1.0,
                                                  _strength(1, size.get(owner, 0))))
    wanted = {r.owner for r in rows}
    addresses = {a: o for a, o in owner_of.items() if o in wanted}
    return store.replace_btc_attributions(rows, addresses), written


def wallet_owner_ads(store: Store, key_of: Mapping[int, str]
                     ) -> tuple[dict[str, list[str]], dict[tuple[str, str], tuple[float, str]]]:
    """Per specific owner (medium attributions only: weak ones never link), the keys of the
    ads it paid for; and per (owner, ad key) the confidence and a line saying why."""
    by_owner: dict[str, list[str]] = {}
    detail: dict[tuple[str, str], tuple[float, str]] = {}
    for a in store.btc_attributions():
        key = key_of.get(a.ad_pk)
        if key is None or a.strength != "medium":
            continue
        by_owner.setdefault(a.owner, []).append(key)
        how = (f"paid {a.delay_s / 60:.1f} min before posting, ${a.diff_usd:+.2f} from the "
               f"price" if a.via == "payment" and a.delay_s is not None
               and a.diff_usd is not None else "its address is written in the ad")
        detail[(a.owner, key)] = (a.confidence, f"Bitcoin owner {a.owner}: {how}")
    return by_owner, detail


@dataclass(frozen=True, slots=True)
class OwnerAd:
    """One ad an owner paid for (or whose text names its address), for the owner page."""

    source: str
    ad_id: str
    attribution: StoredAttribution
    network_id: str | None


@dataclass(frozen=True, slots=True)
class OwnerView:
    owner: str
    addresses: list[str]
    n_addresses: int
    ads: list[OwnerAd]
    networks: list[str]
    usd: float
    btc: float


def owner_view(store: Store, owner: str, *, max_addresses: int = 200) -> OwnerView:
    """A Bitcoin owner: its addresses, the payments and ads attributed to it, their networks.
    NotFoundError when no stored attribution names it."""
    from tracelight.errors import NotFoundError

    attrs = store.btc_attributions(owner=owner)
    if not attrs:
        raise NotFoundError(f"no stored attribution names the Bitcoin owner {owner!r} "
                            "(tracelight btc match stores them)")
    pks = [a.ad_pk for a in attrs]
    refs = store.ad_refs(pks)
    nets = store.network_ids_of(pks)
    ads = [OwnerAd(*refs.get(a.ad_pk, ("", str(a.ad_pk))), a, nets.get(a.ad_pk))
           for a in attrs]
    return OwnerView(owner, store.owner_addresses(owner, max_addresses),
                     store.count_owner_addresses(owner), ads,
                     sorted({n for n in nets.values() if n}),
                     round(sum(a.amount_usd or 0.0 for a in attrs), 2),
                     round(sum(a.amount_btc or 0.0 for a in attrs), 8))


@dataclass(frozen=True, slots=True)
class AdPaymentEvidence:
    """Who wrote and who paid, for one ad's page: its attribution and same-author ads."""

    attribution: StoredAttribution | None
    owner_ads: int
    authors: list[tuple[str, str, float, str, bool]]  # source, ad id, score, why, linkable


def ad_evidence(store: Store, ad_pk: int, limit: int = 20) -> AdPaymentEvidence:
    attrs = store.btc_attributions(ad_pks=[ad_pk])
    attr = attrs[0] if attrs else None
    n_owner = len(store.btc_attributions(owner=attr.owner)) if attr else 0
    links = store.author_links_of(ad_pk, limit)
    others = [x.ad_b_pk if x.ad_a_pk == ad_pk else x.ad_a_pk for x in links]
    refs = store.ad_refs(others)
    authors = [(*refs.get(pk, ("", str(pk))), x.score, "; ".join(x.matched), x.linkable)
               for x, pk in zip(links, others, strict=True)]
    return AdPaymentEvidence(attr, n_owner, authors)


def network_owners(store: Store, network_id: str, limit: int = 2000) -> list[tuple[str, int]]:
    """(owner, ads of the network attributed to it), most ads first."""
    pks = store.member_pks(network_id, limit)
    counts: dict[str, int] = {}
    for a in store.btc_attributions(ad_pks=pks):
        counts[a.owner] = counts.get(a.owner, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
