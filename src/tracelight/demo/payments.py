"""Synthetic Bitcoin payments for ads on one ad site (clearly fake addresses: "bc1qdemo...").

Ad buyers (the authors of demo/authors.py) pay the site's wallet shortly before each ad
appears, at the site's price list converted at the BTC/USD rate of a minute before; some pay by
card (no transaction). Buyers spend from several addresses, sometimes several in one
transaction, and reuse change. Unrelated users send `noise_per_minute` payments of other amounts
to the same wallet. Truth: which owner paid for which ad, which owner holds which address.
Deterministic by seed.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracelight.authorship.bitcoin import Tx
from tracelight.demo.authors import AuthoredAd, generate
from tracelight.demo.rand import pick

PRICES = {"standard": 12.0, "featured": 35.0, "top": 60.0, "city-pack": 150.0}
TIERS = tuple(PRICES)


@dataclass(frozen=True, slots=True)
class BtcDemo:
    ads: list[AuthoredAd]  # re-timed into the demo's days
    tiers: dict[str, str]  # ad id -> price tier
    txs: list[Tx]
    wallets: tuple[str, ...]
    rates: list[tuple[datetime, float]]
    prices: dict[str, float]
    truth_ad_owner: dict[str, str]  # only ads paid in BTC
    truth_address_owner: dict[str, str]


def _addr(rng: random.Random) -> str:
    return f"bc1qdemo{rng.getrandbits(128):032x}"


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate_btc(ads: Sequence[AuthoredAd], *, seed: int = 7, days: float = 1.0,
                 noise_per_minute: float = 20.0, card_share: float = 0.1) -> BtcDemo:
    rng = random.Random(seed)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    minutes = max(int(days * 24 * 60), 10)
    rates: list[tuple[datetime, float]] = []
    r = 42_000.0
    for m in range(-30, minutes + 1):
        r *= math.exp(rng.gauss(0.0, 0.0005))
        rates.append((start + timedelta(minutes=m), round(r, 2)))

    def rate_at(t: datetime) -> float:
        k = int((t - start).total_seconds() // 60) + 30
        return rates[min(max(k, 0), len(rates) - 1)][1]

    wallets = (_addr(rng), _addr(rng))
    retimed = [AuthoredAd(a.id, a.author, a.title, a.body,
                          start + timedelta(seconds=600 + rng.random() * (minutes - 10) * 60),
                          a.location, a.phone) for a in ads]
    tiers = {a.id: pick(rng, TIERS) if rng.random() < 0.85 else "standard" for a in retimed}
    pools: dict[str, list[str]] = {}
    addr_owner: dict[str, str] = {}
    ad_owner: dict[str, str] = {}
    txs: list[Tx] = []
    n = 0
    for a in sorted(retimed, key=lambda x: (x.posted_at, x.id)):
        if rng.random() < card_share:
            continue
        pool = pools.get(a.author)
        if pool is None:
            pool = pools[a.author] = [_addr(rng) for _ in range(rng.randint(1, 4))]
            for x in pool:
                addr_owner[x] = a.author
        k = 1 if rng.random() < 0.7 or len(pool) == 1 else min(len(pool), rng.randint(2, 3))
        ins = tuple(rng.sample(pool, k))
        pay_time = a.posted_at - timedelta(seconds=5 + min(rng.expovariate(1 / 60), 500))
        quote = pay_time - timedelta(seconds=rng.random() * 60)
        btc = round(PRICES[tiers[a.id]] / rate_at(quote), 8)
        outs = [(pick(rng, wallets), btc)]
        if rng.random() < 0.5:
            change = _addr(rng)
            addr_owner[change] = a.author
            pool.append(change)
            outs.append((change, round(rng.random() * 0.01, 8)))
        n += 1
        txs.append(Tx(f"demo-tx-{n:08d}", pay_time, ins, tuple(outs)))
        ad_owner[a.id] = a.author
    users = [_addr(rng) for _ in range(2000)]
    for m in range(minutes):
        for _ in range(_poisson(rng, noise_per_minute)):
            t = start + timedelta(minutes=m, seconds=rng.random() * 60)
            usd = 5 + rng.random() * 495
            btc = round(usd / rate_at(t), 8)
            src = pick(rng, users) if rng.random() < 0.5 else _addr(rng)
            n += 1
            txs.append(Tx(f"demo-tx-{n:08d}", t, (src,), ((pick(rng, wallets), btc),)))
    txs.sort(key=lambda tx: (tx.time, tx.txid))
    return BtcDemo(retimed, tiers, txs, wallets, rates, dict(PRICES), ad_owner, addr_owner)


@dataclass(frozen=True, slots=True)
class BtcDemoFiles:
    out: str
    ads: int
    txs: int
    wallets: tuple[str, ...]
    btc_paid_ads: int

    def to_dict(self) -> dict[str, object]:
        return {"out": self.out, "ads": self.ads, "transactions": self.txs,
                "btc_paid_ads": self.btc_paid_ads, "wallets": " ".join(self.wallets)}


def tx_to_json(tx: Tx) -> dict[str, object]:
    return {"txid": tx.txid, "time": tx.time.isoformat(), "inputs": list(tx.inputs),
            "outputs": [{"address": a, "btc": v} for a, v in tx.outputs]}


def write_btc_demo(out: Path, *, n_authors: int = 200, seed: int = 7, days: float = 7.0,
                   noise_per_minute: float = 20.0) -> BtcDemoFiles:
    """Write OUT/ads.jsonl (with `price_tier`), OUT/payments.jsonl, OUT/rates.json,
    OUT/prices.json, OUT/wallets.txt and OUT/truth.json (ad -> owner, address -> owner,
    ad -> author)."""
    d = generate_btc(generate(n_authors, singletons=n_authors, seed=seed), seed=seed,
                     days=days, noise_per_minute=noise_per_minute)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "ads.jsonl").open("w", encoding="utf-8") as f:
        for a in d.ads:
            f.write(json.dumps({**a.to_record(), "price_tier": d.tiers[a.id]},
                               ensure_ascii=False) + "\n")
    with (out / "payments.jsonl").open("w", encoding="utf-8") as f:
        for tx in d.txs:
            f.write(json.dumps(tx_to_json(tx)) + "\n")
    (out / "rates.json").write_text(json.dumps(
        [{"time": t.isoformat(), "usd_per_btc": r} for t, r in d.rates]), encoding="utf-8")
    (out / "prices.json").write_text(json.dumps(d.prices, indent=1), encoding="utf-8")
    (out / "wallets.txt").write_text("\n".join(d.wallets) + "\n", encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(
        {"ad_owner": d.truth_ad_owner, "address_owner": d.truth_address_owner,
         "ad_author": {a.id: a.author for a in d.ads}}), encoding="utf-8")
    return BtcDemoFiles(str(out), len(d.ads), len(d.txs), d.wallets, len(d.truth_ad_owner))
