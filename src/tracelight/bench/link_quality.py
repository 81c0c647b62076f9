"""`tracelight bench link-quality`: pairwise precision/recall by true network size bucket
(2-5, 6-20, 21-100, > 100 ads) and the share of singletons wrongly merged, on corpora with the
decoys of issue 12, for this linker and (optionally) a baseline linker from another checkout.

corpus "market": tracelight.demo.market (identifiers given, fast: 300,000 ads in minutes);
"demo": `demo-generate --market realistic --no-images`, mentions from the extractor (what
`ingest -> link` sees). The baseline (`--baseline DIR`, a folder holding another checkout's
`src/tracelight`, e.g. `git archive main src | tar -x -C DIR`) links the same ads in a child
process, so "before" and "after" are measured on identical input.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelight.bench.measure import peak_rss_mb, say
from tracelight.link.features import LinkAd

BUCKETS = ("2-5", "6-20", "21-100", ">100")

_CHILD = r"""
import json, resource, sys, time
from datetime import datetime
from tracelight.link import link_batch
from tracelight.link.features import LinkAd
from tracelight.records import Mention

def ads(path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            yield LinkAd(key=d["key"], title=d["title"], body=d["body"],
                         posted_at=datetime.fromisoformat(d["posted_at"]) if d["posted_at"]
                         else None, location=d["location"],
                         mentions=tuple(Mention(*m[:5], raw=m[5]) for m in d["mentions"]),
                         image_sha256=tuple(d["images"]))

c0, t0 = time.process_time(), time.perf_counter()
r = link_batch(ads(sys.argv[1]), min_record_size=2)
hwm = 0.0
try:  # VmHWM: this process's own peak (ru_maxrss keeps the parent's across exec)
    with open("/proc/self/status", encoding="ascii") as fh:
        hwm = next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
       "peak_rss_mib": hwm, "assignment": r.state.assignment}
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump(out, fh)
"""


def _dump(ads: Iterable[LinkAd], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for a in ads:
            fh.write(json.dumps({
                "key": a.key, "title": a.title, "body": a.body,
                "posted_at": a.posted_at.isoformat() if a.posted_at else None,
                "location": a.location, "images": list(a.image_sha256),
                "mentions": [[m.kind, m.value, m.field, m.start, m.end, m.raw]
                             for m in a.mentions]}) + "\n")


def _corpus(corpus: str, n_ads: int, seed: int, tmp: Path,
            ) -> tuple[list[LinkAd], dict[str, str | None]]:
    if corpus == "market":
        from tracelight.demo.linkads import generate

        return generate(n_ads, seed=seed, market="realistic")
    from tracelight.demo import generate as demo_generate
    from tracelight.link.corpus import read_corpus

    demo_generate(tmp / "demo", n_ads=n_ads, seed=seed, images=False, market="realistic")
    ads, truth, _how = read_corpus(tmp / "demo")
    return ads, truth


def miss_breakdown(ads: Iterable[LinkAd], assignment: dict[str, str],
                   truth: dict[str, str | None], hubs: Iterable[tuple[str, str]] = (),
                   ) -> dict[str, dict[str, int]]:
    """Which true pairs the linker missed, and why, per size bucket.

    Each ad outside the largest predicted part of its true network is classed by its part:
    "no contact" (no contact extracted from any of its ads, hubs left out: only wording or a
    photo could join it), "contacts disjoint" (its contacts share none with the largest part:
    rotation without overlap, a second phone), "contact shared, split" (it shares one: a hub
    decision or an extractor misread). Missed pairs = its part's ads x the largest part's.
    """
    from tracelight.link.metrics import BUCKETS as SIZES
    from tracelight.link.text import CONTACT_KINDS

    def size_bucket(size: int) -> str:
        return next(name for name, lo, hi in SIZES if lo <= size <= hi)

    hub_set = set(hubs)
    contacts = {a.key: {(m.kind, m.value) for m in a.mentions
                        if m.kind in CONTACT_KINDS and (m.kind, m.value) not in hub_set}
                for a in ads}
    nets: dict[str, list[str]] = {}
    for k, t in truth.items():
        if t is not None and k in assignment:
            nets.setdefault(t, []).append(k)
    out: dict[str, dict[str, int]] = {b: {} for b in BUCKETS}
    for ks in nets.values():
        if len(ks) < 2:
            continue
        parts: dict[str, list[str]] = {}
        for k in ks:
            parts.setdefault(assignment[k], []).append(k)
        if len(parts) == 1:
            continue
        main = max(parts.values(), key=lambda p: (len(p), min(p)))
        main_c = set().union(*(contacts.get(k, set()) for k in main))
        row = out[size_bucket(len(ks))]
        for part in parts.values():
            if part is main:
                continue
            mine = set().union(*(contacts.get(k, set()) for k in part))
            why = ("no contact" if not mine else "contact shared, split" if mine & main_c
                   else "contacts disjoint")
            row[why] = row.get(why, 0) + len(part) * len(main)
    return out


def _singled(assignment: dict[str, str]) -> dict[str, str | None]:
    sizes = Counter(assignment.values())
    return {k: (v if sizes[v] > 1 else None) for k, v in assignment.items()}


def _baseline(ads: list[LinkAd], baseline: Path, tmp: Path) -> dict[str, Any]:
    src = baseline / "src" if (baseline / "src" / "tracelight").is_dir() else baseline
    if not (src / "tracelight" / "link").is_dir():
        raise FileNotFoundError(f"no tracelight/link under {baseline}")
    _dump(ads, tmp / "ads.jsonl")
    env = {**os.environ, "PYTHONPATH": str(src)}
    subprocess.run([sys.executable, "-c", _CHILD, str(tmp / "ads.jsonl"),
                    str(tmp / "out.json")], check=True, env=env)
    with (tmp / "out.json").open(encoding="utf-8") as fh:
        out: dict[str, Any] = json.load(fh)
    return out


def run(sizes: Iterable[int] = (3000, 30000), corpus: str = "market", seed: int = 7,
        baseline: Path | None = None) -> dict[str, Any]:
    """Link each size; print the by-bucket table; return the figures."""
    from tracelight.link import link_batch
    from tracelight.link.metrics import bucket_scores

    results: dict[str, Any] = {"corpus": corpus, "seed": seed, "runs": []}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            t0 = time.perf_counter()
            ads, truth = _corpus(corpus, n, seed, tmp)
            gen_s = time.perf_counter() - t0
            c0, t0 = time.process_time(), time.perf_counter()
            res = link_batch(ads, min_record_size=2)
            after = {"seconds": round(time.perf_counter() - t0, 2),
                     "cpu_seconds": round(time.process_time() - c0, 2),
                     "peak_rss_mib": round(peak_rss_mb()),
                     "by_size": bucket_scores(_singled(res.state.assignment), truth),
                     "hubs": len([h for h in res.hubs if h.kind != "sentence"]),
                     "missed_pairs": miss_breakdown(
                         ads, res.state.assignment, truth,
                         [(h.kind, h.value) for h in res.hubs if h.kind != "sentence"]),
                     "wording_refused": res.stats.get("wording_refused")}
            run_out: dict[str, Any] = {"ads": len(ads), "generate_s": round(gen_s, 2),
                                       "after": after}
            del res
            if baseline is not None:
                b = _baseline(ads, baseline, tmp)
                run_out["before"] = {
                    "seconds": round(b["seconds"], 2), "cpu_seconds": round(b["cpu_seconds"], 2),
                    "peak_rss_mib": round(b["peak_rss_mib"]),
                    "by_size": bucket_scores(_singled(b["assignment"]), truth)}
            results["runs"].append(run_out)
            _print(run_out)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    results["children_cpu_s"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime, 2)
    say(f"load average {results['load_average']}")
    return results


def _print(r: dict[str, Any]) -> None:
    a = r["after"]
    b = r.get("before")
    say(f"{r['ads']:,} ads ({r.get('generate_s')} s to generate): after {a['seconds']} s "
        f"(cpu {a['cpu_seconds']} s, peak RSS {a['peak_rss_mib']} MiB)"
        + (f"; before {b['seconds']} s (cpu {b['cpu_seconds']} s, peak RSS "
           f"{b['peak_rss_mib']} MiB)" if b else ""))
    say(f"  {'bucket':<8} {'nets':>6} " + (f"{'before P':>9} {'before R':>9} " if b else "")
        + f"{'after P':>8} {'after R':>8}")
    for bucket in BUCKETS:
        v = a["by_size"][bucket]
        row = f"  {bucket:<8} {v['networks']:>6} "
        if b:
            w = b["by_size"][bucket]
            row += f"{w['precision']:>9.4f} {w['recall']:>9.4f} "
        row += f"{v['precision']:>8.4f} {v['recall']:>8.4f}"
        say(row)
    s = a["by_size"]["singletons"]
    line = (f"  singletons wrongly merged: after {s['wrongly_merged']}/{s['ads']} "
            f"({s['fraction']:.2%})")
    if b:
        t = b["by_size"]["singletons"]
        line += f"; before {t['wrongly_merged']}/{t['ads']} ({t['fraction']:.2%})"
    say(line)
    for bucket in BUCKETS:
        why = a.get("missed_pairs", {}).get(bucket)
        if why:
            say(f"  missed pairs {bucket}: " + ", ".join(f"{k} {v:,}" for k, v in
                                                         sorted(why.items(), key=lambda x: -x[1])))

