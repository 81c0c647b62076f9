"""`tracelight bench bank`: PDQ bank build time, batched lookups/s and single-lookup latency
on random hashes; half the queries are planted near-matches."""

from __future__ import annotations

import time

from tracelight.bench.measure import report, say, timed


def run(hashes: int = 1_000_000, queries: int = 2000, threshold: int = 31) -> None:
    """Targets: >= 1,000 batched lookups/s and < 5 ms per single lookup."""
    import numpy as np

    from tracelight.images.pdqindex import HASH_BYTES, PdqIndex

    rng = np.random.default_rng(3)
    bank = rng.integers(0, 256, (hashes, HASH_BYTES), dtype=np.uint8)
    q = rng.integers(0, 256, (queries, HASH_BYTES), dtype=np.uint8)
    planted = rng.integers(0, hashes, queries // 2)
    for k, j in enumerate(planted):
        row = bank[j].copy()
        for bit in rng.choice(256, int(rng.integers(0, threshold + 1)), replace=False):
            row[bit // 8] ^= 1 << (7 - bit % 8)
        q[k] = row
    with timed() as t:
        index = PdqIndex(bank)
    report(f"bank build ({index.backend})", hashes, t.seconds, "hashes")
    cpu0 = time.process_time()
    with timed() as t:
        found = index.search(q, threshold)
    cpu = time.process_time() - cpu0
    recall = sum(any(i == int(j) for i, _ in found[k]) for k, j in enumerate(planted))
    report("bank lookup batched", queries, t.seconds, "lookups",
           planted_found=f"{recall}/{len(planted)}",
           lookups_per_cpu_s=f"{queries / cpu:,.0f}" if cpu > 0 else "n/a")
    singles = min(queries, 500)
    lat = []
    cpu0 = time.process_time()
    for k in range(singles):
        start = time.perf_counter()
        index.search(q[k:k + 1], threshold)
        lat.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu0) / singles * 1000
    arr = np.array(lat)
    # Wall-clock percentiles include other processes' load; CPU ms per lookup does not.
    say(f"bank lookup single: {singles} lookups, mean {arr.mean():.2f} ms, "
        f"p50 {np.percentile(arr, 50):.2f} ms, p99 {np.percentile(arr, 99):.2f} ms, "
        f"max {arr.max():.2f} ms, cpu {cpu_ms:.2f} ms/lookup")
