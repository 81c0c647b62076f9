"""`tracelight bench crawl`: pages/s (and pages/hour) crawling the local fake site.

Generates N demo ads, serves them from tracelight.demo.site on 127.0.0.1 (in a child process,
as a remote site would be; it still shares this machine's cores), crawls them with a
profile at the given per-host delay and concurrency into a scratch SQLite store and WARC
folder (fetch, parse, WARC, ingest with extraction and scoring; with images: each demo picture
downloaded once, checked, kept in a scratch image store and hashed), then crawls again with one
ad in ten changed (the incremental path: listing pages, conditional GETs, only changed ads, no
image fetched again). Prints pages/s, ad pages/s, ads/s stored, images/s, the crawler's CPU
time and peak RSS, and the machine's load average (the machine is shared).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tracelight.bench.measure import peak_rss_mb, say
from tracelight.collect.profile import SiteProfile, parse_profile
from tracelight.demo.generator import generate
from tracelight.services.crawl import CrawlSummary, crawl
from tracelight.store import open_store


def _profile(base: str, delay: float, concurrency: int) -> SiteProfile:
    return parse_profile({
        "name": "bench", "country": "US", "start_urls": [f"{base}/list/1"],
        "allowed_hosts": ["127.0.0.1"], "listing_patterns": ["^/list/"],
        "ad_patterns": ["^/ad/"], "max_depth": 1000, "max_pages": 10_000_000,
        "selectors": {"title": "h1.title", "body": "div.text", "posted_at": "time.posted",
                      "location": "span.where", "images": "img.photo",
                      "contacts": "p.contact"},
        "delay_seconds": delay, "concurrency": concurrency,
        "allow_private_addresses": True}, "bench.yaml")


def _line(label: str, s: CrawlSummary, ad_pages: int) -> None:
    secs = max(s.seconds, 1e-9)
    say(f"{label}: {s.pages:,} pages ({ad_pages:,} ad pages, {s.listings:,} listings) in "
        f"{s.seconds:.2f} s = {s.pages / secs:,.1f} pages/s ({s.pages / secs * 3600:,.0f} "
        f"pages/hour), {ad_pages / secs:,.1f} ad pages/s; new {s.ads_new:,}, changed "
        f"{s.ads_changed:,}, not modified {s.not_modified:,}, errors {sum(s.errors.values())}")
    say(f"  images: {s.images_fetched:,} fetched ({s.images_fetched / secs:,.1f} images/s), "
        f"{s.images_known:,} already kept, {s.images_failed:,} not kept")


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


@contextmanager
def _site(ads_path: Path, per_page: int, port: int = 0) -> Iterator[str]:
    code = ("import sys; from tracelight.demo.site import serve; "
            "serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])")
    proc = subprocess.Popen([sys.executable, "-c", code, str(ads_path), str(per_page),
                             str(port), str(ads_path.parent)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        if not base.startswith("http://127.0.0.1:"):
            raise RuntimeError("the fake site did not start")
        yield base
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def run(*, n_ads: int = 2000, delay: float = 0.0, concurrency: int = 4, per_page: int = 50,
        seed: int = 7, keep: Path | None = None, images: bool = True) -> None:
    tmp = None if keep else tempfile.TemporaryDirectory(prefix="tracelight-bench-crawl-")
    root = keep or Path(tmp.name)  # type: ignore[union-attr]
    root.mkdir(parents=True, exist_ok=True)
    try:
        generate(root / "demo", n_ads=n_ads, seed=seed, images=images)
        ads = [json.loads(line) for line in
               (root / "demo" / "ads.jsonl").read_text(encoding="utf-8").splitlines()]
        ads_path = root / "demo" / "ads.jsonl"
        if not images:  # the fake site draws a picture for an ad without any, unless told not
            for ad in ads:
                ad["n_images"] = 0
            ads_path.write_text("".join(json.dumps(a) + "\n" for a in ads), encoding="utf-8")
        store = open_store(f"sqlite:///{root / 'bench.db'}")
        try:
            with _site(ads_path, per_page) as base:
                prof = _profile(base, delay, concurrency)
                say(f"crawl bench: {n_ads:,} demo ads on {base}, delay {delay:g} s, "
                    f"concurrency {concurrency}, {per_page} ads per listing page, images "
                    f"{'on' if images else 'off'}", err=True)
                load = os.getloadavg()[0]
                t, cpu = time.perf_counter(), _cpu()
                first = crawl(store, prof, warc_dir=root / "warc", image_dir=root / "images")
                wall, cpu = time.perf_counter() - t, _cpu() - cpu
            _line("first crawl", first, first.pages - first.listings)
            ing = first.ingest
            if ing is not None:
                say(f"  of which ingest: {ing.read:,} ads in {ing.seconds:.2f} s; whole "
                    f"crawl {first.ads_new / wall:,.1f} ads/s stored")
            say(f"  crawler CPU {cpu:.2f} s for {wall:.2f} s wall ({cpu / max(wall, 1e-9):.2f} "
                f"cores); load average at start {load:.2f} on {os.cpu_count()} cores")
            for i, ad in enumerate(ads):
                if i % 10 == 0:
                    ad["body"] = str(ad.get("body", "")) + " (edited)"
            ads_path.write_text("".join(json.dumps(a) + "\n" for a in ads), encoding="utf-8")
            with _site(ads_path, per_page, int(base.rsplit(":", 1)[1])):
                t, cpu = time.perf_counter(), _cpu()
                again = crawl(store, prof, warc_dir=root / "warc", image_dir=root / "images")
                wall, cpu = time.perf_counter() - t, _cpu() - cpu
            _line("re-crawl, 1 in 10 changed", again, again.pages - again.listings)
            say(f"  crawler CPU {cpu:.2f} s for {wall:.2f} s wall; load average now "
                f"{os.getloadavg()[0]:.2f}")
            size = sum(p.stat().st_size for p in (root / "warc").glob("*.warc.gz"))
            say(f"WARC written: {size / 1e6:,.1f} MB; peak RSS of the crawler "
                f"{peak_rss_mb():,.0f} MiB")
        finally:
            store.close()
    finally:
        if tmp is not None:
            tmp.cleanup()
