"""The demo corpus generator: plans networks and advertisers, writes ads, truth, labels, images.

A planner stream seeded from (seed, n_ads) fixes every persona's size, posting times and own
seed; each persona then builds its ads from its own stream, so the same arguments give
byte-identical files however many worker processes build them. The text never depends on
`images`: a corpus generated without pictures has the same ads, minus the image paths.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tracelight.demo import contacts as C
from tracelight.demo import decoys as D
from tracelight.demo.ads import (
    LABEL_RULES,
    SOURCES,
    PersonaResult,
    PersonaSpec,
    build_chunk,
    build_persona,
)
from tracelight.demo.images import ImageJob, write_images
from tracelight.demo.truth import identifier_linking, write_jsonl

END = datetime(2026, 10, 31, tzinfo=UTC)
SPAN_DAYS = 120
FAST_PATH_ADS = 20_000
IMAGE_NAME = re.compile(r"[0-9a-f]{16}\.(?:jpg|png)")


@dataclass
class DemoSummary:
    """What `generate` wrote, with the figures benchmarks quote."""

    out_dir: Path
    n_ads: int
    seed: int
    n_networks: int
    n_network_ads: int
    n_independent_ads: int
    n_labelled: int
    n_positive: int
    n_images: int
    n_obfuscated: int
    seconds: float
    ads_path: Path
    truth_path: Path
    labels_path: Path
    # Pairwise recall of linking on perfectly extracted identifiers (site hub phones left
    # out), and with perfect near-duplicate image matching added: the ceilings contact and
    # image evidence can reach. None for large text-only corpora (compute them with
    # tracelight.demo.identifier_linking(load_truth(...)) if needed).
    identifier_recall: float | None = None
    identifier_image_recall: float | None = None
    files: dict[str, Path] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()
                if k != "files"}


def network_sizes(rng: random.Random, n_networks: int, total: int) -> list[int]:
    """Heavy-tailed sizes in 2..40 that add up to `total` exactly (when it is feasible)."""
    if n_networks == 0:
        return []
    u = [rng.paretovariate(1.5) for _ in range(n_networks)]

    def sizes(x: float) -> list[int]:
        return [min(40, 2 + int(x * (v - 1))) for v in u]

    lo, hi = 0.0, 80.0
    for _ in range(40):  # scale the tail so the sizes add up to about `total`
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(sizes(mid)) < total else (lo, mid)
    s = sizes(lo)
    order = list(range(n_networks))
    while sum(s) != total:
        i = rng.choice(order)
        if sum(s) < total and s[i] < 40:
            s[i] += 1
        elif sum(s) > total and s[i] > 2:
            s[i] -= 1
        if all(v == 40 for v in s) or all(v == 2 for v in s):
            break
    return s


def _realistic_specs(rng: random.Random, n_ads: int, first_idx: int) -> list[PersonaSpec]:
    """--market realistic: single-contact networks (18 % of the ads, 20-100 ads each, every
    ad rewritten) and large rotating networks (12 %, 101-300 ads), tracelight.demo.decoys."""
    specs: list[PersonaSpec] = []
    idx = first_idx
    for style, share, (lo, hi) in (("sole", 0.18, D.SOLE_SIZE), ("big", 0.12, D.BIG_SIZE)):
        budget = round(share * n_ads)
        while budget >= lo:
            size = min(budget, rng.randint(lo, hi))
            budget -= size
            length = rng.uniform(30, SPAN_DAYS - 1)
            start = END - timedelta(days=rng.uniform(length, SPAN_DAYS))
            offs = sorted(rng.uniform(0, length) for _ in range(size))
            idx += 1
            specs.append(PersonaSpec("net", idx, rng.getrandbits(64),
                                     [start + timedelta(days=o) for o in offs], [],
                                     style=style))
    return specs


def _cross_post(rng: random.Random, spec: PersonaSpec, n_left: int) -> int:
    """Re-post some of a persona's ads on the other source (each copy 10 minutes after its
    ad); returns how many copies were added (at most `n_left`)."""
    who = "network" if spec.kind == "net" else "independent"
    if n_left <= 0 or rng.random() >= D.CROSS_POST[who]:
        return 0
    times: list[datetime] = []
    copies: list[int] = []
    for t in spec.times:
        times.append(t)
        if len(copies) < n_left and rng.random() < 0.5:
            times.append(t + timedelta(minutes=10))
            copies.append(len(times) - 1)
    spec.times, spec.copies = times, tuple(copies)
    return len(copies)


def plan(rng: random.Random, n_ads: int, market: str = "simple") -> list[PersonaSpec]:
    """Sizes, seeds and posting times of every persona; ads are numbered in posting order."""
    if market == "realistic":
        big = _realistic_specs(rng, n_ads, 100_000)
        copies_budget = round(0.08 * n_ads)
        rest = n_ads - sum(len(s.times) for s in big) - copies_budget
        out = plan(rng, rest) + big
        for s in out:
            s.market = "realistic"
            copies_budget -= _cross_post(rng, s, copies_budget)
        while copies_budget > 0:  # fill up to n_ads with independents posting once
            when = END - timedelta(days=rng.uniform(0, SPAN_DAYS))
            out.append(PersonaSpec("ind", 100_000 + copies_budget, rng.getrandbits(64),
                                     [when], [], market="realistic"))
            copies_budget -= 1
        for s in out:
            s.indices = []
        order = sorted(((t, si, k) for si, s in enumerate(out) for k, t in enumerate(s.times)))
        for number, (_, si, _) in enumerate(order, start=1):
            out[si].indices.append(number)
        return out
    n_net = round(n_ads * 0.093) if n_ads >= 20 else n_ads // 10
    net_total = round(0.6 * n_ads)
    n_net = min(n_net, net_total // 2)
    sizes = network_sizes(rng, n_net, net_total)
    specs: list[PersonaSpec] = []
    for i, size in enumerate(sizes):
        length = rng.uniform(7, 75)
        start = END - timedelta(days=rng.uniform(length, SPAN_DAYS))
        offs = sorted(rng.uniform(0, length) for _ in range(size))
        specs.append(PersonaSpec("net", i + 1, rng.getrandbits(64),
                                 [start + timedelta(days=o) for o in offs], []))
    for j in range(n_ads - sum(sizes)):
        when = END - timedelta(days=rng.uniform(0, SPAN_DAYS))
        specs.append(PersonaSpec("ind", j + 1, rng.getrandbits(64), [when], []))
    order = sorted(((t, si, k) for si, s in enumerate(specs) for k, t in enumerate(s.times)))
    for number, (_, si, _) in enumerate(order, start=1):
        specs[si].indices.append(number)
    return specs


def _build_all(specs: list[PersonaSpec], site_phones: dict[str, C.Phone], salt: str,
               workers: int, progress: Callable[[int], None] | None, text_only: bool
               ) -> list[PersonaResult]:
    """Build every persona (in parallel when asked); the output never depends on `workers`."""
    size = max(50, -(-len(specs) // (4 * workers)))  # chunking never changes the output
    chunks = [specs[i:i + size] for i in range(0, len(specs), size)]
    results: list[PersonaResult] = []

    def take(batch: list[PersonaResult]) -> None:
        results.extend(batch)
        if progress:
            progress(sum(len(r.ads) for r in batch))

    if workers > 1 and len(chunks) > 1:
        ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for batch in pool.map(build_chunk, chunks, [site_phones] * len(chunks),
                                  [salt] * len(chunks), [text_only] * len(chunks)):
                take(batch)
    else:
        for chunk in chunks:
            take(build_chunk(chunk, site_phones, salt, text_only))
    # Strangers never share a contact: a persona whose random identifiers collide with an
    # earlier one's (or whose traps spell someone's phone) is rebuilt from a new stream.
    used: set[str] = {p.e164 for p in site_phones.values()}
    all_phones = set(used).union(*(r.phones for r in results))
    for i, spec in enumerate(specs):
        attempt = 0
        while results[i].identifiers & used or results[i].trap_numbers & all_phones:
            attempt += 1
            all_phones -= results[i].phones
            results[i] = build_persona(spec, site_phones, salt, attempt, text_only)
            all_phones |= results[i].phones
        used |= results[i].identifiers
    return results


def generate(out_dir: Path, n_ads: int = 3000, seed: int = 7, images: bool = True,
             progress: Callable[[int], None] | None = None,
             max_images: int = 6000, workers: int | None = None,
             network_labels: bool = False, label_rule: str = "drawn",
             market: str = "simple") -> DemoSummary:
    """Write a synthetic corpus (ads.jsonl, truth.jsonl, labels.csv, images/, README.txt).

    Deterministic for (n_ads, seed). `progress` receives increments that add up to n_ads.
    `workers` (default: up to 2 processes for large corpora) never changes the output.
    `network_labels`: label each network as a whole (every ad of a risky network is
    positive, and some of them carry no indicator of their own: tracelight.demo.ads.BARE_SHARE);
    off by default, which leaves the corpus byte-identical to earlier versions.
    `label_rule` (with network labels): "drawn" or "evidence" (tracelight.demo.ads.LABEL_RULES:
    per-persona labels with less noise in the rule; the ads themselves are the same).
    `market`: "simple" (default, byte-identical to earlier versions) or "realistic": plant
    the decoys real markets show at scale (tracelight.demo.decoys: single-contact networks of
    20-100 rewritten ads, large rotating networks, cross-posting, site footer phones on 30 %
    of ads, ad-builder texts, stock phrases and photos, a third of personas in Britain).
    """
    if label_rule not in LABEL_RULES:
        raise ValueError(f"label_rule must be one of {', '.join(LABEL_RULES)}")
    if market not in ("simple", "realistic"):
        raise ValueError(f"market must be simple or realistic, not {market!r}")
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"tracelight-demo/{seed}/{n_ads}")
    specs = plan(rng, n_ads, market)
    for spec in specs:
        spec.network_labels = network_labels
        spec.label_rule = label_rule
    site_used: set[str] = set()
    site_phones = {s: C.make_tollfree(rng, site_used) for s in SOURCES}
    cores = min(2, os.cpu_count() or 1)
    if workers is None:
        workers = cores if n_ads >= 20_000 else 1
    image_workers = workers if workers > 1 else cores  # drawing pictures is the slow part
    text_progress = progress if not images else None
    # Large text-only corpora (benchmarks) skip the dict round trip and the linking figures.
    fast = not images and n_ads > FAST_PATH_ADS
    results = _build_all(specs, site_phones, f"{seed}/{n_ads}", workers, text_progress, fast)
    built = sorted((ad for r in results for ad in r.ads), key=lambda ad: ad[0])
    if fast:
        return _finish_fast(out_dir, seed, results, built, t0)
    records: list[dict] = []
    truths: list[dict] = []
    planned: list[tuple[list, list]] = []  # image truth as planned, before --no-images drops it
    all_jobs: dict[str, ImageJob] = {}
    n_labelled = n_pos = n_obf = 0
    for _, record, truth, jobs in built:
        if truth["label"] is not None:
            n_labelled += 1
            n_pos += truth["label"]
        n_obf += truth["obfuscated_phone"]
        planned.append((truth["images"], truth["image_phones"]))
        new = [j for j in jobs if j.path not in all_jobs]
        if images and jobs and len(all_jobs) + len(new) <= max_images:
            for j in new:
                all_jobs[j.path] = j
        else:
            record["images"], truth["images"] = [], []
            truth["image_phones"] = []
        records.append(record)
        truths.append(truth)
    ads_path, truth_path = out_dir / "ads.jsonl", out_dir / "truth.jsonl"
    labels_path = out_dir / "labels.csv"
    write_jsonl(ads_path, records)
    write_jsonl(truth_path, truths)
    _write_labels(labels_path, ((t["id"], t["label"]) for t in truths))
    n_images = 0
    image_dir = out_dir / "images"
    _clear_images(out_dir)
    if all_jobs:
        image_dir.mkdir(exist_ok=True)
        ordered = sorted(all_jobs.values(), key=lambda j: (j.base.base_id, j.path))
        n_images = write_images(out_dir, ordered,
                                _ad_progress(progress, len(ordered), len(records)),
                                workers=image_workers)
    elif progress and images:
        progress(len(records))
    n_net_ads = sum(1 for t in truths if t["network_id"])
    with_planned = [{**t, "images": im, "image_phones": ip}
                    for t, (im, ip) in zip(truths, planned, strict=True)]
    summary = DemoSummary(
        out_dir=out_dir, n_ads=len(records), seed=seed,
        n_networks=sum(1 for r in results if r.is_network), n_network_ads=n_net_ads,
        n_independent_ads=len(records) - n_net_ads, n_labelled=n_labelled, n_positive=n_pos,
        n_images=n_images, n_obfuscated=n_obf, seconds=0.0, ads_path=ads_path,
        truth_path=truth_path, labels_path=labels_path,
        identifier_recall=identifier_linking(truths)["recall"],
        identifier_image_recall=identifier_linking(with_planned, with_images=True)["recall"],
    )
    summary.seconds = time.perf_counter() - t0
    _readme(out_dir, summary)
    return summary


def _clear_images(out_dir: Path) -> None:
    image_dir = out_dir / "images"
    if image_dir.is_dir():  # files of an earlier run would be pictures no ad references
        for old in image_dir.iterdir():
            if old.is_file() and IMAGE_NAME.fullmatch(old.name):
                old.unlink()


def _write_labels(path: Path, labels: Iterable[tuple[str, int | None]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("ad_id,label\n")
        for ad_id, label in labels:
            if label is not None:
                fh.write(f"{ad_id},{label}\n")


def _finish_fast(out_dir: Path, seed: int, results: list[PersonaResult], built: list,
                 t0: float) -> DemoSummary:
    ads_path, truth_path = out_dir / "ads.jsonl", out_dir / "truth.jsonl"
    labels_path = out_dir / "labels.csv"
    with ads_path.open("w", encoding="utf-8") as fa, truth_path.open("w", encoding="utf-8") as ft:
        for _, rec_line, truth_line, _ in built:
            fa.write(rec_line + "\n")
            ft.write(truth_line + "\n")
    _write_labels(labels_path, ((i, lab) for _, _, _, (i, lab, _) in built))
    _clear_images(out_dir)
    n_labelled = sum(1 for *_, (_, lab, _) in built if lab is not None)
    n_net_ads = sum(len(r.ads) for r in results if r.is_network)
    summary = DemoSummary(
        out_dir=out_dir, n_ads=len(built), seed=seed,
        n_networks=sum(1 for r in results if r.is_network), n_network_ads=n_net_ads,
        n_independent_ads=len(built) - n_net_ads, n_labelled=n_labelled,
        n_positive=sum(1 for *_, (_, lab, _) in built if lab), n_images=0,
        n_obfuscated=sum(1 for *_, (_, _, obf) in built if obf), seconds=0.0,
        ads_path=ads_path, truth_path=truth_path, labels_path=labels_path,
        identifier_recall=None, identifier_image_recall=None)
    summary.seconds = time.perf_counter() - t0
    _readme(out_dir, summary)
    return summary


def _ad_progress(progress: Callable[[int], None] | None, n_images: int, n_ads: int
                 ) -> Callable[[int], None] | None:
    """Report image writing (the slow part) as ads done, so a bar has one unit."""
    if progress is None:
        return None
    state = {"images": 0, "ads": 0}

    def tick(k: int) -> None:
        state["images"] += k
        ads = n_ads * state["images"] // max(1, n_images)
        if ads > state["ads"]:
            progress(ads - state["ads"])
            state["ads"] = ads

    return tick


def _fmt(x: float | None) -> str:
    return "not computed" if x is None else f"{x:.3f}"


def _readme(out_dir: Path, s: DemoSummary) -> None:
    (out_dir / "README.txt").write_text(
        f"tracelight demo corpus (synthetic, non-explicit; no real person or listing)\n\n"
        f"generated by: tracelight demo-generate --ads {s.n_ads} --seed {s.seed}"
        f"{'' if s.n_images else ' --no-images'}\n"
        f"ads: {s.n_ads} ({s.n_network_ads} in {s.n_networks} planted networks, "
        f"{s.n_independent_ads} independent)\n"
        f"images: {s.n_images} files\nlabelled risk subset: {s.n_labelled} "
        f"({s.n_positive} positive)\nads with an obscured phone: {s.n_obfuscated}\n"
        f"pairwise recall of perfect identifier linking: {_fmt(s.identifier_recall)} "
        f"(with images: {_fmt(s.identifier_image_recall)})\n\n"
        "files: ads.jsonl (ad records), truth.jsonl (ground truth, one line per ad, same "
        "order), labels.csv (ad_id,label), images/.\nSee docs/demo.md for the truth format.\n",
        encoding="utf-8")
