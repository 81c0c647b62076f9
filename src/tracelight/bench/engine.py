"""`tracelight bench engine`: the same batch job (extract + score over JSONL shards, no
images, no linking) on Spark, Ray and a local process pool; startup and run seconds, CPU
seconds and the peak resident memory of the whole process tree (driver, JVM, Ray daemons,
workers), sampled from /proc."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tracelight.bench.measure import say, tree_cpu_s, tree_rss_mb


class TreeSampler:
    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.peak = 0.0
        self.procs = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            mb, n = tree_rss_mb(os.getpid())
            if mb > self.peak:
                self.peak, self.procs = mb, n
            self._stop.wait(self.every)

    def __enter__(self) -> TreeSampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def run(n_ads: int = 4000, shards: int = 4, workers: int = 2, seed: int = 7,
        engines: tuple[str, ...] = ("spark", "ray", "local")) -> dict[str, Any]:
    from tracelight.demo import generate
    from tracelight.engine import run_job
    from tracelight.pipeline import PipelineOptions

    out: dict[str, Any] = {"ads": n_ads, "shards": shards, "workers": workers,
                           "load_before": os.getloadavg()[0], "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "demo", n_ads=n_ads, seed=seed, images=False)
        lines = (root / "demo" / "ads.jsonl").read_bytes().splitlines(keepends=True)
        per = -(-len(lines) // shards)
        for i in range(shards):
            (root / f"shard-{i:03d}.jsonl").write_bytes(b"".join(lines[i * per:(i + 1) * per]))
        opts = PipelineOptions(images=False)
        for engine in engines:
            cpu0 = tree_cpu_s(os.getpid(), waited=True)
            t0 = time.perf_counter()
            with TreeSampler() as sampler:
                summary = run_job([str(root / "shard-*.jsonl")], str(root / f"out-{engine}"),
                                  engine=engine, master=f"local[{workers}]", workers=workers,
                                  options=opts, link=False)
            wall = time.perf_counter() - t0
            cpu = tree_cpu_s(os.getpid(), waited=True) - cpu0
            row = {"startup_s": summary.seconds["startup"], "stages_s": summary.seconds["stages"],
                   "wall_s": round(wall, 2), "ads_per_s": round(summary.ads / max(
                       summary.seconds["stages"], 1e-9), 1), "cpu_s_live_tree": round(cpu, 1),
                   "peak_tree_rss_mb": round(sampler.peak), "processes_at_peak": sampler.procs}
            out["runs"][engine] = row
            say(f"engine {engine}: {summary.ads} ads, startup {row['startup_s']:.1f} s, "
                f"stages {row['stages_s']:.1f} s = {row['ads_per_s']:,.0f} ads/s; "
                f"peak tree RSS {row['peak_tree_rss_mb']} MiB ({sampler.procs} processes)",
                err=True)
    out["load_after"] = os.getloadavg()[0]
    return out


def run_link(n_ads: int = 20_000, shards: int = 4, workers: int = 2, seed: int = 7,
             oracle: bool = True) -> dict[str, Any]:
    """Linking only, on the same features: the local linker (`link_table` over the gathered
    table, what `--link-on driver` runs) against Spark local[workers] (`--link-on engine`,
    engine.dlink), and whether their networks and hubs are identical. Featurising is done
    once beforehand (it is distributed either way)."""
    import json

    from tracelight.demo import generate
    from tracelight.engine.dlink import ShardFeatures, link_on_engine
    from tracelight.engine.executors import SparkExecutor
    from tracelight.link import LinkConfig
    from tracelight.link.corpus import read_corpus
    from tracelight.link.features import FeatureTable
    from tracelight.link.pipeline import link_table

    out: dict[str, Any] = {"ads": n_ads, "shards": shards, "workers": workers,
                           "mentions": "oracle" if oracle else "extractor",
                           "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "demo", n_ads=n_ads, seed=seed, images=False)
        ads, _truth, _how = read_corpus(root / "demo", oracle=oracle)
        per = -(-len(ads) // shards)
        parts: list[ShardFeatures] = []
        tables = []
        for i in range(shards):
            t = FeatureTable.from_ads(ads[i * per:(i + 1) * per])
            path = root / f"features-{i:05d}.npz"
            path.write_bytes(t.to_bytes())
            parts.append(ShardFeatures(i, str(path), list(t.keys), [True] * len(t)))
            tables.append(t)
        del ads
        table = FeatureTable.concat(tables).canonical()
        cfg = LinkConfig()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        local = link_table(table, cfg, previous={})
        out["local"] = {"wall_s": round(time.perf_counter() - t0, 2),
                        "cpu_s": round(time.process_time() - cpu0, 2),
                        "networks": local.stats["networks"], "load": os.getloadavg()}
        say(f"local link_table: {out['local']['wall_s']} s", err=True)
        local_records = [json.dumps(n.to_dict(), ensure_ascii=False, separators=(",", ":"))
                         for n in local.networks]
        del table
        got: list[str] = []
        cpu0 = tree_cpu_s(os.getpid(), waited=True)
        t0 = time.perf_counter()
        ex = SparkExecutor(f"local[{workers}]", workers)
        with TreeSampler() as sampler, ex:
            startup = time.perf_counter() - t0
            t1 = time.perf_counter()
            res = link_on_engine(ex.spark, parts, str(root / "engine-out"), cfg,
                                 write_networks=lambda rows: got.extend(r[3] for r in rows))
            link_s = time.perf_counter() - t1
        cpu = tree_cpu_s(os.getpid(), waited=True) - cpu0
        out["spark"] = {"startup_s": round(startup, 2), "link_s": round(link_s, 2),
                        "cpu_s_tree": round(cpu, 1), "peak_tree_rss_mb": round(sampler.peak),
                        "steps": {k: v for k, v in res.stats.items() if k.endswith("_s")},
                        "networks": res.networks, "load": os.getloadavg()}
        out["identical"] = (got == local_records and [h.to_dict() for h in res.hubs]
                            == [h.to_dict() for h in local.hubs])
        say(f"spark local[{workers}] link: {out['spark']['link_s']} s (startup "
            f"{out['spark']['startup_s']} s); identical: {out['identical']}", err=True)
    out["load_after"] = os.getloadavg()
    return out
