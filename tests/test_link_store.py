"""Networks in the store: round trip, incremental runs, `similar` — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from tracelight.demo import linkads as synth
from tracelight.records import AdRecord, ProcessedAd
from tracelight.services.link import (
    stored_hubs,
    stored_network,
    stored_networks,
    update_networks,
)
from tracelight.services.similar import similar_ads
from tracelight.store import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _processed(n: int, seed: int = 3) -> tuple[list[ProcessedAd], dict[str, str | None]]:
    ads, truth = synth.generate(n, seed=seed)
    out = []
    for a in ads:
        rec = AdRecord(id=a.key, source="synth", title=a.title, body=a.body,
                       posted_at=a.posted_at, location=a.location)
        out.append(ProcessedAd(rec, list(a.mentions), risk=random.Random(a.key).random()))
    return out, truth


def _partition(store: Store) -> set[frozenset[str]]:
    return {frozenset(n.ad_ids) for n in stored_networks(store, min_size=2)}


def test_round_trip_incremental_and_rebuild(store: Store) -> None:
    items, _truth = _processed(400)
    store.write_batch(None, items[:300])
    result, mode = update_networks(store)
    assert mode == "rebuild" and result.stats["new_ads"] == 300
    nets = list(stored_networks(store, min_size=2))
    assert nets and nets[0].size >= nets[-1].size
    assert store.count_networks() == len(nets)
    assert any(h.value == synth.SITE_PHONE for h in stored_hubs(store))
    one = stored_network(store, nets[0].network_id)
    assert one.to_dict() == nets[0].to_dict()
    assert one.evidence and one.risk is not None and one.locations
    ids_before = {k: n.network_id for n in nets for k in n.ad_ids}

    store.write_batch(None, items[300:])
    result, mode = update_networks(store)
    assert mode == "incremental" and result.stats["new_ads"] == 100
    incremental = _partition(store)
    kept = sum(1 for n in stored_networks(store) for k in n.ad_ids
               if ids_before.get(k) == n.network_id)
    assert kept >= 0.9 * len(ids_before)  # ids survive growth

    _, mode = update_networks(store, rebuild=True)
    assert mode == "rebuild" and _partition(store) == incremental
    last = store.last_link_run()
    assert last is not None and last.mode == "rebuild"

    # nothing new: an incremental run reads no ads and changes nothing
    result, mode = update_networks(store)
    assert mode == "unchanged" and result.stats["new_ads"] == 0
    assert _partition(store) == incremental


def test_similar_lists_reasons(store: Store) -> None:
    items, truth = _processed(300, seed=4)
    store.write_batch(None, items)
    update_networks(store)
    net_ad = next(k for k, v in truth.items() if v is not None
                  and sum(1 for x in truth.values() if x == v) >= 3)
    ad = store.get_ad(net_ad)
    rows = [r.to_dict() for r in similar_ads(store, ad, k=5)]
    assert rows and len(rows) <= 5
    assert rows == sorted(rows, key=lambda r: (-r["score"], r["ad_id"]))
    top = rows[0]
    assert truth[top["ad_id"]] == truth[net_ad]
    assert top["reasons"] and {"kind", "value", "strength"} <= set(top["reasons"][0])
    assert top["network_id"] is not None
