"""`tracelight bench tx`: follow-the-money throughput, memory, streaming latency and quality.

Generates a synthetic bank of about N transactions (in branches of ~2,000 accounts, each with
its own id prefix and truth, so generation memory stays small), then measures:
- ingest: accounts and transactions into a scratch SQLite store (items/s, peak RSS, and RSS
  sampled along the way to show whether memory stays flat);
- score: every stored transaction in time order through the scorer (items/s, RSS samples);
- streaming: per-transaction latency of parse + score on one branch replayed one at a time
  (p50 / p99 / max);
- quality: precision and recall per typology against the planted truth, and alerts per
  10,000 customers.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tracelight.bench.measure import peak_rss_mb, report, say, timed

TX_PER_ACCOUNT = 25.5  # what the generator writes on average
BRANCH = 2000


def _rss_now_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mb()


def run(n_tx: int = 1_000_000, seed: int = 7, keep: str | None = None) -> dict[str, Any]:
    from tracelight.finance.engine import Scorer
    from tracelight.finance.evaluate import evaluate
    from tracelight.finance.generator import generate
    from tracelight.finance.records import transaction_from
    from tracelight.services import finance
    from tracelight.store import open_store

    size = max(100, min(BRANCH, round(n_tx / TX_PER_ACCOUNT)))
    branches = max(1, round(n_tx / TX_PER_ACCOUNT / size))
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tracelight-bench-tx-"))
    work.mkdir(parents=True, exist_ok=True)
    truth: dict[str, Any] = {"planted": {}, "lookalikes": {}}
    total_tx = 0
    with timed() as t:
        for b in range(branches):
            folder = work / f"b{b:04d}"
            if not (folder / "truth.json").is_file():
                generate(folder, accounts=size, seed=seed + b, prefix=f"X{b:04d}")
            part = json.loads((folder / "truth.json").read_text())
            total_tx += part["transactions"]
            for k, v in part["planted"].items():
                truth["planted"].setdefault(k, []).extend(v)
            for k, v in part["lookalikes"].items():
                truth["lookalikes"].setdefault(k, []).extend(v)
    report("tx generate", total_tx, t.seconds, "transactions", branches=branches,
           accounts=branches * size)

    store = open_store(f"sqlite:///{work / 'bench.db'}")
    samples: list[str] = []
    try:
        with timed() as t:
            for b in range(branches):
                with (work / f"b{b:04d}" / "accounts.csv").open("rb") as fh:
                    finance.ingest_accounts(store, "accounts.csv", fh)
        report("tx ingest accounts", branches * size, t.seconds, "accounts")
        done = 0
        cpu0 = time.process_time()
        with timed() as t:
            for b in range(branches):
                with (work / f"b{b:04d}" / "transactions.csv").open("rb") as fh:
                    r = finance.ingest_transactions(store, [("transactions.csv", fh)])
                done += r.read
                if b in {branches // 4, branches // 2, branches - 1}:
                    samples.append(f"{done}:{_rss_now_mb():.0f}MiB")
        ingest_cpu = time.process_time() - cpu0
        report("tx ingest transactions", done, t.seconds, "transactions",
               cpu_s=f"{ingest_cpu:.1f}", rss_along_the_way=",".join(samples))
        ingest_s = t.seconds
        samples = []
        marks = {total_tx // 4, total_tx // 2, 3 * total_tx // 4}
        seen = 0

        def progress(n: int) -> None:
            nonlocal seen
            before = seen
            seen += n
            if any(before < m <= seen for m in marks):
                samples.append(f"{seen}:{_rss_now_mb():.0f}MiB")
        cpu0 = time.process_time()
        with timed() as t:
            result = finance.score(store, link=False, progress=progress)
        score_cpu = time.process_time() - cpu0
        report("tx score (from the store, time order)", result.transactions, t.seconds,
               "transactions", cpu_s=f"{score_cpu:.1f}",
               alerts=len(result.alerts), rss_along_the_way=",".join(samples))
        score_s = t.seconds
    finally:
        store.close()
    both = ingest_s + score_s
    rate = total_tx / both if both > 0 else float("inf")
    cpu_rate = total_tx / (ingest_cpu + score_cpu) if ingest_cpu + score_cpu > 0 else 0.0
    say(f"tx ingest + score: {total_tx} transactions in {both:.1f} s = {rate:,.0f}/s "
        f"({cpu_rate:,.0f}/CPU-s); 5,000,000 at this rate: {5_000_000 / rate / 60:.1f} min "
        f"wall, {5_000_000 / cpu_rate / 60:.1f} min of CPU (extrapolated, not measured)")

    # streaming latency: one branch replayed a transaction at a time (parse + score)
    import csv
    again = open_store(f"sqlite:///{work / 'bench.db'}")
    try:
        accounts = finance.load_accounts(again)
    finally:
        again.close()
    scorer = Scorer(accounts)
    lat: list[float] = []
    with (work / "b0000" / "transactions.csv").open(encoding="utf-8", newline="") as text:
        for row in csv.DictReader(text):
            start = time.perf_counter()
            scorer.observe(transaction_from(row))
            lat.append((time.perf_counter() - start) * 1000)
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
    say(f"tx stream (parse + score, one at a time): {len(lat)} transactions, p50 {pct(50):.3f} "
        f"ms, p99 {pct(99):.3f} ms, max {lat[-1]:.2f} ms")
    scores = evaluate(result.alerts, truth)
    for s in scores:
        say(f"tx quality {s.typology}: planted {s.planted} alerted {s.alerted} "
            f"precision {s.precision:.3f} recall {s.recall:.3f}")
    customers = branches * size
    lookalikes = {a for v in truth["lookalikes"].values() for a in v}
    false_alerts = sum(1 for a in result.alerts if a.account in lookalikes)
    say(f"tx alerts: {len(result.alerts)} over {customers} customers = "
        f"{len(result.alerts) / customers * 10_000:.1f} per 10,000 "
        f"(planted rate 1% per typology); lookalikes alerted: {false_alerts} of "
        f"{len(lookalikes)}")
    say(f"tx peak RSS {peak_rss_mb():.0f} MiB")
    sys.stdout.flush()
    if not keep:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return {"transactions": total_tx, "ingest_s": ingest_s, "score_s": score_s}
