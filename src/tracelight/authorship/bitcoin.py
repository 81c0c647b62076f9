"""Bitcoin ad-payment tracing: which payment into the ad site's wallet bought which ad, and
who owns the paying addresses (after Portnoff et al., KDD 2017).

1. Match: an ad appears shortly after its payment, and the site quotes its USD price in BTC at
   the rate of the moment. For each ad, the payments into the site's wallets within `window`
   before its posting time whose amount, valued at one of the BTC/USD rates in force during
   `quote_window` before the payment, is within `tolerance` (relative) of the ad's price, are
   its candidates (cost: amount difference / tolerance + delay / window). Pairs are
   then assigned one to one, best first (smallest relative amount difference, then smallest
   delay), so one payment never buys two ads. Confidence is 1 / the number of candidates the
   ad had (how many other payments could also have bought it).
2. Owners: the common-input-ownership heuristic - every address spent as an input of one
   transaction belongs to one owner - with a union-find over all transactions; optionally
   (off by default) the change-address heuristic too (`owners(change=True)`).
3. Attribution: an ad belongs to the owner of its payment's inputs; owners' total spend is the
   sum of their matched payments in USD.

Pure functions over plain dataclasses; parsing (`parse_*`) never raises anything but
`PaymentFormatError`, with the line and the field.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_INPUTS = 10_000  # per transaction, for hostile files
SATOSHI = 1e-8


class PaymentFormatError(ValueError):
    """A payments, rates, prices or ads file that cannot be read (names line and field)."""


@dataclass(frozen=True, slots=True)
class Tx:
    """One transaction: who spent (input addresses) and what each output address received."""

    txid: str
    time: datetime
    inputs: tuple[str, ...]
    outputs: tuple[tuple[str, float], ...]  # (address, BTC)

    def paid_to(self, wallets: frozenset[str]) -> float:
        return sum(v for a, v in self.outputs if a in wallets)


@dataclass(frozen=True, slots=True)
class Posting:
    """An ad as the matcher sees it: when it appeared and what it cost (USD)."""

    ad_id: str
    posted_at: datetime
    price_usd: float


@dataclass(frozen=True, slots=True)
class PaymentMatch:
    ad_id: str
    txid: str
    paid_at: datetime
    delay_s: float  # posting time minus payment time
    amount_btc: float
    amount_usd: float  # at the rate of the payment's time
    price_usd: float
    diff_usd: float
    candidates: int
    confidence: float
    owner: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ad_id": self.ad_id, "txid": self.txid, "paid_at": self.paid_at.isoformat(),
                "delay_s": round(self.delay_s, 1), "amount_btc": round(self.amount_btc, 8),
                "amount_usd": round(self.amount_usd, 2), "price_usd": self.price_usd,
                "diff_usd": round(self.diff_usd, 2), "candidates": self.candidates,
                "confidence": round(self.confidence, 3), "owner": self.owner}


class Rates:
    """BTC/USD rates over time; the rate at t is the last one at or before t (or the first)."""

    def __init__(self, points: Iterable[tuple[datetime, float]]) -> None:
        pts = sorted(points)
        if not pts:
            raise PaymentFormatError("rates: no BTC/USD rate given")
        self.times = [p[0] for p in pts]
        self.values = [p[1] for p in pts]

    def at(self, t: datetime) -> float:
        k = bisect.bisect_right(self.times, t) - 1
        return self.values[max(k, 0)]

    def around(self, t: datetime, before: timedelta) -> list[float]:
        """The rates in force at some moment in [t - before, t]."""
        lo = max(bisect.bisect_right(self.times, t - before) - 1, 0)
        hi = max(bisect.bisect_right(self.times, t), lo + 1)
        return self.values[lo:hi]


# ---- union-find ---------------------------------------------------------------------------
class UnionFind:
    """Disjoint sets over strings, path halving and union by size; deterministic roots."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}

    def add(self, x: str) -> None:
        if x not in self.parent:
            self.parent[x] = x
            self.size[x] = 1

    def find(self, x: str) -> str:
        self.add(x)
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a: str, b: str) -> str:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if (self.size[ra], rb) < (self.size[rb], ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return ra

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return out


def owners(txs: Iterable[Tx], exclude: frozenset[str] = frozenset(), *,
           change: bool = False) -> dict[str, str]:
    """address -> owner id by common-input ownership. An owner id is "owner:" + the smallest
    address of its cluster (stable across runs). `exclude` (the site's own wallets) never
    joins a cluster.

    change (off by default): also the change-address heuristic (after Meiklejohn et al.,
    2013): in a transaction with two or more outputs, none of them back to an input address,
    where exactly one output address has never been seen before, that one is the spender's
    change and joins the inputs' owner. It finds owners that never spend two addresses
    together, at the price of false joins when a payee uses a fresh address each time;
    transactions are taken in time order.
    """
    uf = UnionFind()
    seen: set[str] = set()
    for tx in sorted(txs, key=lambda t: (t.time, t.txid)) if change else txs:
        ins = [a for a in tx.inputs if a not in exclude]
        if ins:
            first = ins[0]
            uf.add(first)
            for a in ins[1:]:
                uf.union(first, a)
        if change:
            outs = [a for a, _v in tx.outputs]
            if ins and len(set(outs)) >= 2 and not set(outs) & set(tx.inputs):
                fresh = {a for a in outs if a not in seen and a not in exclude}
                if len(fresh) == 1:
                    uf.union(ins[0], fresh.pop())
            seen.update(outs)
            seen.update(tx.inputs)
    out: dict[str, str] = {}
    for members in uf.groups().values():
        oid = "owner:" + min(members)
        for a in members:
            out[a] = oid
    return out


# ---- matching -----------------------------------------------------------------------------
def match(postings: Sequence[Posting], txs: Sequence[Tx], wallets: Iterable[str],
          rates: Rates, *, window: timedelta = timedelta(minutes=10),
          tolerance: float = 0.0005, quote_window: timedelta = timedelta(minutes=2),
          delay_weight: float = 1.0) -> list[PaymentMatch]:
    """Each ad's best payment into `wallets`, one to one (see the module doc)."""
    wal = frozenset(wallets)
    pays = sorted(((tx.time, tx.paid_to(wal), tx) for tx in txs if tx.paid_to(wal) > 0),
                  key=lambda p: (p[0], p[2].txid))
    times = [p[0] for p in pays]
    options: list[tuple[float, float, int, int]] = []  # (cost, delay, posting, payment)
    weight = delay_weight / max(window.total_seconds(), 1.0)
    n_cands: Counter[int] = Counter()
    for pi, post in enumerate(postings):
        if not (post.price_usd > 0 and math.isfinite(post.price_usd)):
            continue
        lo = bisect.bisect_left(times, post.posted_at - window)
        hi = bisect.bisect_right(times, post.posted_at)
        for k in range(lo, hi):
            t, btc, _ = pays[k]
            rel = min(abs(btc * r - post.price_usd) for r in rates.around(t, quote_window)) \
                / post.price_usd
            if rel <= tolerance:
                delay = (post.posted_at - t).total_seconds()
                options.append((rel / tolerance + delay * weight, delay, pi, k))
                n_cands[pi] += 1
    options.sort()
    used_post: set[int] = set()
    used_pay: set[int] = set()
    out: list[PaymentMatch] = []
    for _cost, delay, pi, k in options:
        if pi in used_post or k in used_pay:
            continue
        used_post.add(pi)
        used_pay.add(k)
        t, btc, tx = pays[k]
        post = postings[pi]
        usd = btc * rates.at(t)
        out.append(PaymentMatch(post.ad_id, tx.txid, t, delay, btc, usd, post.price_usd,
                                usd - post.price_usd, n_cands[pi], 1.0 / n_cands[pi]))
    out.sort(key=lambda m: m.ad_id)
    return out


def attribute(matches: Sequence[PaymentMatch], txs: Sequence[Tx],
              owner_of: Mapping[str, str]) -> list[PaymentMatch]:
    """The matches with the owner of each payment's (first non-wallet) input address."""
    by_id = {tx.txid: tx for tx in txs}
    out = []
    for m in matches:
        tx = by_id.get(m.txid)
        owner = ""
        if tx is not None:
            for a in tx.inputs:
                if a in owner_of:
                    owner = owner_of[a]
                    break
        out.append(PaymentMatch(**{**{f: getattr(m, f) for f in m.__slots__}, "owner": owner}))
    return out


def owner_spend(matches: Iterable[PaymentMatch]) -> list[dict[str, Any]]:
    """Per owner: ads bought, total USD and BTC, first and last payment; biggest first."""
    acc: dict[str, dict[str, Any]] = {}
    for m in matches:
        if not m.owner:
            continue
        a = acc.setdefault(m.owner, {"owner": m.owner, "ads": 0, "usd": 0.0, "btc": 0.0,
                                     "first": m.paid_at, "last": m.paid_at})
        a["ads"] += 1
        a["usd"] += m.amount_usd
        a["btc"] += m.amount_btc
        a["first"] = min(a["first"], m.paid_at)
        a["last"] = max(a["last"], m.paid_at)
    rows = sorted(acc.values(), key=lambda r: (-r["usd"], r["owner"]))
    return [{**r, "usd": round(r["usd"], 2), "btc": round(r["btc"], 8),
             "first": r["first"].isoformat(), "last": r["last"].isoformat()} for r in rows]


@dataclass(frozen=True, slots=True)
class AttributionScore:
    ads: int  # ads with a true owner (paid in BTC)
    attributed: int
    correct: int
    precision: float
    recall: float
    cluster_precision: float  # pairwise, over addresses
    cluster_recall: float
    cluster_f1: float


def _pairs_same(labels: Mapping[str, str], keys: Iterable[str]) -> Counter[str]:
    return Counter(labels[k] for k in keys if k in labels)


def score_attribution(matches: Sequence[PaymentMatch], owner_of: Mapping[str, str],
                      truth_ad_owner: Mapping[str, str],
                      truth_address_owner: Mapping[str, str]) -> AttributionScore:
    """Ad -> owner precision/recall (a predicted cluster stands for the true owner holding most
    of its addresses) and pairwise precision/recall/F1 of the address clusters."""
    members: dict[str, list[str]] = {}
    for a, o in owner_of.items():
        members.setdefault(o, []).append(a)
    majority: dict[str, str] = {}
    for o, addrs in members.items():
        c = _pairs_same(truth_address_owner, addrs)
        if c:
            majority[o] = min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    correct = sum(1 for m in matches if m.owner and majority.get(m.owner)
                  == truth_ad_owner.get(m.ad_id) and m.ad_id in truth_ad_owner)
    attributed = sum(1 for m in matches if m.owner)
    # pairwise over addresses: same predicted cluster vs same true owner
    tp = 0
    pred_pairs = 0
    for addrs in members.values():
        c = _pairs_same(truth_address_owner, addrs)
        n = sum(c.values())
        pred_pairs += n * (n - 1) // 2
        tp += sum(v * (v - 1) // 2 for v in c.values())
    true_c = Counter(truth_address_owner[a] for a in owner_of if a in truth_address_owner)
    true_pairs = sum(v * (v - 1) // 2 for v in true_c.values())
    cp = tp / pred_pairs if pred_pairs else 1.0
    cr = tp / true_pairs if true_pairs else 1.0
    n_ads = len(truth_ad_owner)
    return AttributionScore(
        ads=n_ads, attributed=attributed, correct=correct,
        precision=correct / attributed if attributed else 0.0,
        recall=correct / n_ads if n_ads else 0.0, cluster_precision=cp, cluster_recall=cr,
        cluster_f1=2 * cp * cr / (cp + cr) if cp + cr else 0.0)


# ---- parsing ------------------------------------------------------------------------------
def _time(value: Any, where: str) -> datetime:
    if isinstance(value, bool):
        raise PaymentFormatError(f"{where}: not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 0 <= value < 1e11:
            raise PaymentFormatError(f"{where}: time out of range")
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            raise PaymentFormatError(f"{where}: not an ISO time or a Unix time") from None
        return t if t.tzinfo else t.replace(tzinfo=UTC)
    raise PaymentFormatError(f"{where}: not a time")


def _amount(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PaymentFormatError(f"{where}: not a number")
    try:
        v = float(value)
    except ValueError:
        raise PaymentFormatError(f"{where}: not a number") from None
    if not math.isfinite(v) or v < 0 or v > 21e6:
        raise PaymentFormatError(f"{where}: out of range")
    return v


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 120 or not value.isprintable() \
            or value.strip() != value:
        raise PaymentFormatError(f"{where}: not an address")
    return value


def _txid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 100 or not value.isprintable():
        raise PaymentFormatError(f"{where}.txid: missing or not text")
    return value


def parse_tx(obj: Any, where: str = "tx") -> Tx:
    """One transaction from a JSON object: {"txid", "time", "inputs": [addr...],
    "outputs": [{"address", "btc"}...]}."""
    if not isinstance(obj, dict):
        raise PaymentFormatError(f"{where}: not a JSON object")
    txid = _txid(obj.get("txid"), where)
    ins = obj.get("inputs", [])
    outs = obj.get("outputs", [])
    if not isinstance(ins, list) or len(ins) > MAX_INPUTS:
        raise PaymentFormatError(f"{where}.inputs: not a list of addresses")
    if not isinstance(outs, list) or len(outs) > MAX_INPUTS:
        raise PaymentFormatError(f"{where}.outputs: not a list")
    outputs = []
    for n, o in enumerate(outs):
        if not isinstance(o, dict):
            raise PaymentFormatError(f"{where}.outputs[{n}]: not an object")
        outputs.append((_address(o.get("address"), f"{where}.outputs[{n}].address"),
                        _amount(o.get("btc"), f"{where}.outputs[{n}].btc")))
    return Tx(txid, _time(obj.get("time"), f"{where}.time"),
              tuple(_address(a, f"{where}.inputs[{n}]") for n, a in enumerate(ins)),
              tuple(outputs))


def json_lines(lines: Iterable[str], name: str) -> Iterator[tuple[str, Any]]:
    """(where, value) for each non-blank line of JSON Lines, where = "NAME line N"; a line
    that is not JSON stops the walk with PaymentFormatError naming it."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise PaymentFormatError(f"{name} line {n}: not JSON") from None
        yield f"{name} line {n}", obj


def parse_tx_lines(lines: Iterable[str], name: str = "payments") -> list[Tx]:
    return [parse_tx(obj, where) for where, obj in json_lines(lines, name)]


def parse_rates(obj: Any, name: str = "rates") -> Rates:
    """[{"time", "usd_per_btc"}...]."""
    if not isinstance(obj, list):
        raise PaymentFormatError(f"{name}: not a list of rates")
    pts = []
    for n, r in enumerate(obj):
        if not isinstance(r, dict):
            raise PaymentFormatError(f"{name}[{n}]: not an object")
        v = _amount(r.get("usd_per_btc"), f"{name}[{n}].usd_per_btc")
        if v <= 0:
            raise PaymentFormatError(f"{name}[{n}].usd_per_btc: must be positive")
        pts.append((_time(r.get("time"), f"{name}[{n}].time"), v))
    return Rates(pts)


def parse_prices(obj: Any, name: str = "prices") -> dict[str, float]:
    """{"tier": usd, ...}: the ad site's price list."""
    if not isinstance(obj, dict) or not obj:
        raise PaymentFormatError(f"{name}: not an object of tier -> USD")
    out = {}
    for k, v in obj.items():
        p = _amount(v, f"{name}.{k}")
        if p <= 0:
            raise PaymentFormatError(f"{name}.{k}: must be positive")
        out[str(k)] = p
    return out


def posting(ad_id: str, posted_at: datetime | None, tier: Any,
            prices: Mapping[str, float]) -> Posting | None:
    """The ad's posting, or None when it has no time or no known price tier."""
    if posted_at is None or not isinstance(tier, str) or tier not in prices:
        return None
    t = posted_at if posted_at.tzinfo else posted_at.replace(tzinfo=UTC)
    return Posting(ad_id, t, prices[tier])


# ---- Bitcoin Core JSON --------------------------------------------------------------------
def _core_address(spk: Any) -> str | None:
    """The address of a scriptPubKey object ("address", or older nodes' "addresses")."""
    if not isinstance(spk, dict):
        return None
    a = spk.get("address")
    if a is None and isinstance(spk.get("addresses"), list) and len(spk["addresses"]) == 1:
        a = spk["addresses"][0]
    return a if isinstance(a, str) and 1 <= len(a) <= 120 and a.isprintable() else None


class CoreReader:
    """Transactions from Bitcoin Core's JSON: `getblock` verbosity 2 or 3 (a block with "tx"
    objects) and `getrawtransaction` verbose (one transaction), in any order of objects.

    An input's address is its `prevout`'s (verbosity 3), else that of the output it spends
    when that output was read before (an outpoint index over everything read); inputs that
    resolve to no address (coinbase, outputs never seen) are left out. A transaction's time
    is its mempool first-seen time when given (closest to the moment it was paid), else its
    "time"/"blocktime", else its block's time.
    """

    def __init__(self, first_seen: Mapping[str, datetime] | None = None) -> None:
        self.first_seen = dict(first_seen or {})
        self.outpoints: dict[tuple[str, int], str] = {}
        self.unresolved = 0

    def read(self, obj: Any, where: str = "object") -> list[Tx]:
        if not isinstance(obj, dict):
            raise PaymentFormatError(f"{where}: not a JSON object")
        if isinstance(obj.get("tx"), list):  # a block
            if len(obj["tx"]) > 1_000_000:
                raise PaymentFormatError(f"{where}.tx: too many transactions")
            bt = obj.get("time")
            return [self._tx(t, f"{where}.tx[{n}]", bt) for n, t in enumerate(obj["tx"])]
        return [self._tx(obj, where, None)]

    def _tx(self, t: Any, where: str, block_time: Any) -> Tx:
        if not isinstance(t, dict):
            raise PaymentFormatError(f"{where}: not a transaction object (verbosity 2 or 3)")
        txid = _txid(t.get("txid"), where)
        vin, vout = t.get("vin", []), t.get("vout", [])
        if not isinstance(vin, list) or not isinstance(vout, list) \
                or len(vin) > MAX_INPUTS or len(vout) > MAX_INPUTS:
            raise PaymentFormatError(f"{where}: vin/vout not lists")
        outs: list[tuple[str, float]] = []
        for n, o in enumerate(vout):
            if not isinstance(o, dict):
                raise PaymentFormatError(f"{where}.vout[{n}]: not an object")
            value = _amount(o.get("value"), f"{where}.vout[{n}].value")
            a = _core_address(o.get("scriptPubKey"))
            idx = o.get("n", n)
            if a is not None:
                outs.append((a, value))
                if isinstance(idx, int) and not isinstance(idx, bool):
                    self.outpoints[(txid, idx)] = a
        ins: list[str] = []
        for n, i in enumerate(vin):
            if not isinstance(i, dict):
                raise PaymentFormatError(f"{where}.vin[{n}]: not an object")
            if "coinbase" in i:
                continue
            a = _core_address((i.get("prevout") or {}).get("scriptPubKey")) \
                if isinstance(i.get("prevout"), dict) else None
            if a is None:
                prev, k = i.get("txid"), i.get("vout")
                a = self.outpoints.get((prev, k)) if isinstance(prev, str) \
                    and isinstance(k, int) else None
            if a is None:
                self.unresolved += 1
            elif a not in ins:
                ins.append(a)
        when = self.first_seen.get(txid)
        if when is None:
            raw = next((t.get(k) for k in ("time", "blocktime") if t.get(k) is not None),
                       block_time)
            if raw is None:
                raise PaymentFormatError(f"{where}: no time (nor a first-seen time)")
            when = _time(raw, f"{where}.time")
        return Tx(txid, when, tuple(ins), tuple(outs))


def parse_first_seen(lines: Iterable[str], name: str = "mempool") -> dict[str, datetime]:
    """Mempool first-seen times, JSON Lines {"txid", "first_seen"} (ISO or Unix seconds)."""
    out: dict[str, datetime] = {}
    for where, obj in json_lines(lines, name):
        if not isinstance(obj, dict) or not isinstance(obj.get("txid"), str):
            raise PaymentFormatError(f"{where}: needs txid and first_seen")
        out[obj["txid"]] = _time(obj.get("first_seen"), f"{where}.first_seen")
    return out


def parse_core_text(text: str, reader: CoreReader, name: str = "blocks") -> list[Tx]:
    """One file of Bitcoin Core JSON: a JSON value (object, or an array of objects) or JSON
    Lines of objects."""
    stripped = text.lstrip()
    try:
        whole = json.loads(text) if stripped[:1] in ("{", "[") else None
    except ValueError:
        whole = None  # maybe JSON Lines
    if whole is not None:
        items = whole if isinstance(whole, list) else [whole]
        out: list[Tx] = []
        for n, obj in enumerate(items):
            out.extend(reader.read(obj, f"{name}[{n}]"))
        return out
    return [tx for where, obj in json_lines(text.splitlines(), name)
            for tx in reader.read(obj, where)]
