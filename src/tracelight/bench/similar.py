"""`tracelight bench similar`: store N synthetic ads, time `tracelight link` on the store (full,
then incremental), then time `similar` for random ads (median and worst, milliseconds)."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from tracelight.bench.measure import peak_rss_mb, say


def run(n_ads: int = 20_000, queries: int = 20, seed: int = 7,
        db_url: str | None = None) -> None:
    """`db_url`: an empty database to use instead of a scratch SQLite file."""
    from tracelight.demo.linkads import iter_ads
    from tracelight.records import AdRecord, ProcessedAd
    from tracelight.services.link import update_networks
    from tracelight.services.similar import similar_ads
    from tracelight.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'b.db'}"
        store = open_store(url)
        t0 = time.perf_counter()
        extra = max(10, n_ads // 100)  # held back, then added: the incremental case
        batch: list[ProcessedAd] = []
        later: list[ProcessedAd] = []
        for i, (ad, _net) in enumerate(iter_ads(n_ads + extra, seed)):
            item = ProcessedAd(AdRecord(id=ad.key, source="synth", title=ad.title,
                                        body=ad.body, posted_at=ad.posted_at,
                                        location=ad.location), list(ad.mentions))
            (batch if i < n_ads else later).append(item)
            if len(batch) == 2000:
                store.write_batch(None, batch)
                batch = []
        if batch:
            store.write_batch(None, batch)
        say(f"stored {n_ads} ads in {time.perf_counter() - t0:.1f} s", err=True)
        t0 = time.perf_counter()
        result, _ = update_networks(store)
        link_s = time.perf_counter() - t0
        say(f"link (store): {n_ads} ads in {link_s:.2f} s = {n_ads / link_s:,.0f} ads/s;"
            f" peak RSS {peak_rss_mb():.0f} MiB; networks {result.stats['networks']}")
        store.write_batch(None, later)
        t0 = time.perf_counter()
        _, mode = update_networks(store)
        say(f"link (store, {mode}, {len(later)} new ads): {time.perf_counter() - t0:.2f} s")
        rng = random.Random(seed)
        ids = [f"ad{rng.randint(1, n_ads):08d}" for _ in range(queries)]
        times = []
        for ad_id in ids:
            t = time.perf_counter()
            similar_ads(store, store.get_ad(ad_id), k=20)
            times.append((time.perf_counter() - t) * 1000)
        store.close()
    p95 = sorted(times)[max(0, -(-len(times) * 95 // 100) - 1)]
    say(f"similar: {queries} queries over {n_ads} ads: median "
        f"{statistics.median(times):.0f} ms, p95 {p95:.0f} ms, worst {max(times):.0f} ms; "
        f"load {os.getloadavg()[0]:.1f}")
