"""`tracelight bench link`: link N generated ads; seconds, ads/s, peak RSS and pairwise
precision/recall against the planted networks."""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracelight.bench.measure import peak_rss_mb, say

if TYPE_CHECKING:
    from tracelight.link import LinkState
    from tracelight.link.features import LinkAd


def _partition(assignment: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for k, v in assignment.items():
        groups.setdefault(v, set()).add(k)
    return {frozenset(g) for g in groups.values()}


def run(n_ads: int = 3000, corpus: str = "demo", seed: int = 7, oracle: bool = False,
        batches: int = 1, market: str = "simple") -> dict[str, Any]:
    """Print the headline line and return the figures (the CLI prints them as JSON).

    corpus "demo": the demo generator without images (mentions from the extractor, or from
    truth.jsonl with `oracle`); "synth": tracelight.demo.linkads, identifiers given.
    `batches` > 1 links incrementally and checks the result equals a single run.
    market (synth only): "simple", or "realistic" (tracelight.demo.market: single-contact
    networks, rotating phones, cross-posting, site footers, ad-builder texts, stock photos).
    The figures include pairwise precision/recall by true network size bucket and the share
    of singletons wrongly merged.
    """
    from tracelight.demo.linkads import iter_ads as synth_iter
    from tracelight.link import link_batch, pairwise_scores
    from tracelight.link.corpus import read_corpus
    from tracelight.link.metrics import bucket_scores

    t0 = time.perf_counter()
    if corpus == "synth":
        truth: dict[str, str | None] = {}

        def stream() -> Iterator[LinkAd]:
            # streamed straight into the linker: only features stay in memory
            for ad, net in synth_iter(n_ads, seed, market):
                truth[ad.key] = net
                yield ad

        ads: Iterable[LinkAd] = stream()
        how = f"synthetic, market {market} (identifiers given)"
    else:
        from tracelight.demo import generate

        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp), n_ads=n_ads, seed=seed, images=False)
            ads, truth, how = read_corpus(Path(tmp), oracle=oracle)
        say(f"generated {n_ads} ads (demo, mentions: {how}) in "
            f"{time.perf_counter() - t0:.1f} s", err=True)
    # for the synthetic corpus, generating is interleaved with featurising: its share of the
    # time is measured apart and taken off (the figure is the linker's alone)
    gen_clock = [0.0, 0.0]  # wall, cpu

    def timed_source(source: Iterable[LinkAd]) -> Iterator[LinkAd]:
        it = iter(source)
        while True:
            t, c = time.perf_counter(), time.process_time()
            try:
                ad = next(it)
            except StopIteration:
                return
            finally:
                gen_clock[0] += time.perf_counter() - t
                gen_clock[1] += time.process_time() - c
            yield ad

    c0, t0 = time.process_time(), time.perf_counter()
    if batches == 1:
        result = link_batch(timed_source(ads), min_record_size=2)
    else:
        every = list(timed_source(ads))
        state: LinkState | None = None
        step = -(-len(every) // batches)
        for i in range(0, len(every), step):
            result = link_batch(every[i:i + step], state=state, min_record_size=2)
            state = result.state
    wall = time.perf_counter() - t0
    secs = wall - gen_clock[0] if corpus == "synth" else wall
    cpu = time.process_time() - c0 - (gen_clock[1] if corpus == "synth" else 0.0)
    n_ads = len(result.state.table)
    sizes = Counter(result.state.assignment.values())
    predicted = {k: (v if sizes[v] > 1 else None) for k, v in result.state.assignment.items()}
    scores = pairwise_scores(predicted, truth)
    out: dict[str, Any] = {
        "ads": n_ads, "corpus": corpus, "mentions": how, "batches": batches,
        "seconds": round(secs, 2), "cpu_seconds": round(cpu, 2),
        "ads_per_s": round(n_ads / secs), "peak_rss_mib": round(peak_rss_mb()),
        "precision": round(scores.precision, 4), "recall": round(scores.recall, 4),
        "networks": result.stats.get("networks"),
        "by_size": bucket_scores(predicted, truth),
        "wording_refused": result.stats.get("wording_refused"),
        "hubs": len([h for h in result.hubs if h.kind != "sentence"]),
        "stages_s": {k: v for k, v in result.stats.items() if k.endswith("_s")}}
    if corpus == "synth":
        out["generate_s_excluded"] = round(gen_clock[0], 2)
    if batches > 1:
        full = link_batch(every, min_record_size=2)
        same = _partition(full.state.assignment) == _partition(result.state.assignment)
        out["incremental_equals_rebuild"] = same
    say(f"link: {n_ads} ads in {secs:.2f} s (cpu {cpu:.2f} s) = "
        f"{n_ads / secs:,.0f} ads/s; peak RSS {peak_rss_mb():.0f} MiB; "
        f"pairwise precision {scores.precision:.4f} recall {scores.recall:.4f}")
    for bucket, v in out["by_size"].items():
        if bucket == "singletons":
            say(f"  singletons: {v['wrongly_merged']} of {v['ads']} wrongly merged "
                f"({v['fraction']:.2%})")
        else:
            say(f"  networks of {bucket} ads ({v['networks']}): precision {v['precision']:.4f} "
                f"recall {v['recall']:.4f}")
    return out
