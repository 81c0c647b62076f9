"""`tracelight image hash`, `tracelight image-search`, `tracelight bench images|bank`.

Thin shell over tracelight.images (pure) and tracelight.services (banks, alerts, search).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
import numpy as np
from rich.progress import Progress

from tracelight import settings
from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.bench_cmd import bench, report, timed
from tracelight.cli.common import progress_bar as common_progress
from tracelight.cli.common import store_from
from tracelight.cli.output import emit, stderr
from tracelight.errors import InputError
from tracelight.images.hashing import hash_image, hash_images, image_info_dict

HASH_COLUMNS = ("path", "sha256", "md5", "pdq", "quality", "width", "height", "error")


@contextmanager
def progress_bar(total: int | None, label: str) -> Iterator[Progress]:
    """The shared progress bar on stderr (hidden when stderr is not a terminal)."""
    with common_progress(total=total, unit="images") as prog:
        prog.add_task(label, total=total, info="")
        yield prog


def _advance(prog: Progress, n: int = 1) -> None:
    prog.advance(prog.task_ids[0], n)


@cli.group()
def image() -> None:
    """Hash images: SHA-256, MD5, PDQ perceptual hash and quality."""


@image.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option("jsonl", "table", "csv", default="jsonl")
def image_hash(files: Sequence[Path], fmt: str) -> None:
    """Print the hashes of each FILE: {"path","sha256","md5","pdq","quality","width","height"}.

    pdq is 64 hex characters, big-endian as in ThreatExchange; quality is 0..100 (below 50 the
    picture is too flat for its PDQ hash to mean much). Files that cannot be read are printed
    with an "error" field and make the command exit with status 3.
    """
    failed = 0

    def rows() -> Iterator[dict[str, object]]:
        nonlocal failed
        with progress_bar(len(files), "hashing") as prog:
            for f in files:
                info = hash_image(f, original=str(f))
                if info.error:
                    failed += 1
                yield image_info_dict(info)
                _advance(prog)

    emit(rows(), fmt, HASH_COLUMNS, widths={"sha256": 64, "pdq": 64})
    if failed:
        raise InputError(f"{failed} of {len(files)} file(s) could not be hashed",
                         hint="see the error field")


@image.command("migrate")
@db_option
@click.option("--image-dir", default=None,
              help="The image folder. [default: TRACELIGHT_IMAGE_DIR or tracelight-images]")
def image_migrate(db_url: str, image_dir: str | None) -> None:
    """Move a store made by an older version onto the content-addressed image store.

    Copies every image that is still readable and valid (a regular file inside the image
    folder, same SHA-256 as at ingest, decodes under the pixel limit) into the store and flags
    the rest as image errors on their ads. Safe to run again: it then changes nothing.
    """
    from tracelight.services.image_migrate import migrate_images

    folder = image_dir or settings.get("image_dir")
    with store_from(db_url) as store:
        summary = migrate_images(store, folder, max_bytes=settings.get_int("image_max_bytes"))
    emit([summary.to_dict()], "jsonl", ())
    for line in summary.examples:
        stderr.print(f"flagged {line}", markup=False, highlight=False)


@cli.command("image-search")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--max-distance", type=click.IntRange(0, 256), default=None,
              help="Largest PDQ distance shown as a resemblance. [default: TRACELIGHT_"
                   "PDQ_THRESHOLD or 31]")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@db_option
@format_option()
def image_search(file: Path, max_distance: int | None, limit: int, db_url: str,
                 fmt: str) -> None:
    """Ads whose images match or resemble the photo in FILE, closest first, with distances.

    distance 0 with exact=true means the very same file; small distances are edited copies
    (re-encoded, resized, cropped, brightness shifted). Query images of PDQ quality below 50
    are searched by exact hash only.
    """
    from tracelight.services.image_search import search_similar_ads

    info = hash_image(file)
    if info.error:
        raise InputError(f"{file}: {info.error}")
    threshold = max_distance if max_distance is not None else settings.get_int("pdq_threshold")
    with store_from(db_url) as store:
        hits = search_similar_ads(store, info, max_distance=threshold, limit=limit)
    if not hits and fmt == "table":
        stderr.print(f"no ad image within PDQ distance {threshold} of {file}")
    emit((h.to_dict() for h in hits), fmt,
         ("ad_id", "source", "distance", "exact", "position", "image_sha256", "bank_matched",
          "title"), widths={"title": 50, "image_sha256": 16})


# ---- benchmarks ------------------------------------------------------------------------------

def make_jpegs(folder: Path, count: int, width: int, height: int, seed: int = 1) -> list[Path]:
    """Synthetic, non-explicit 'room' pictures: gradient walls, furniture rectangles, grain."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    paths = []
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    for i in range(count):
        base = rng.uniform(60, 200, 3)
        slope = rng.uniform(-0.15, 0.15, 3)
        arr = base[None, None, :] + (xx[..., None] * slope[None, None, :]
                                     + yy[..., None] * slope[::-1][None, None, :] * 0.5)
        arr += rng.normal(0, 6, (height, width, 1))
        im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(im)
        for _ in range(int(rng.integers(4, 10))):
            x0, y0 = int(rng.integers(0, width * 3 // 4)), int(rng.integers(0, height * 3 // 4))
            x1 = min(width, x0 + int(rng.integers(width // 16 + 1, width // 2 + 2)))
            y1 = min(height, y0 + int(rng.integers(height // 16 + 1, height // 2 + 2)))
            draw.rectangle((x0, y0, x1, y1), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        p = folder / f"bench-{i:05d}.jpg"
        im.save(p, "JPEG", quality=85)
        paths.append(p)
    return paths


@bench.command("images")
@click.option("--count", type=click.IntRange(1), default=300, show_default=True,
              help="How many JPEGs to generate and hash.")
@click.option("--width", type=click.IntRange(32), default=800, show_default=True)
@click.option("--height", type=click.IntRange(32), default=600, show_default=True)
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Processes to hash with. [default: 1, then every core]")
def bench_images(count: int, width: int, height: int, workers: int | None) -> None:
    """Decode + hash throughput (SHA-256, MD5, PDQ) on generated JPEGs (target >= 60/s)."""
    runs = [workers] if workers else sorted({1, os.cpu_count() or 1})
    with tempfile.TemporaryDirectory(prefix="tracelight-bench-") as tmp:
        with progress_bar(None, "generating JPEGs"):
            paths = make_jpegs(Path(tmp), count, width, height)
        size = sum(p.stat().st_size for p in paths) / count / 1024
        for n in runs:
            errors = 0
            cpu0 = _cpu_seconds()
            with progress_bar(count, f"hashing ({n} process(es))") as prog, timed() as t:
                for info in hash_images(((p, 0, p.name) for p in paths), workers=n):
                    errors += info.error is not None
                    _advance(prog)
            cpu = _cpu_seconds() - cpu0
            # CPU time per image is what other load on a shared machine cannot distort.
            report(f"image decode+hash ({width}x{height} JPEG, {size:.0f} KiB avg, "
                   f"{n} process(es))", count, t.seconds, "images", errors=errors,
                   cpu_ms_per_image=f"{cpu / count * 1000:.1f}",
                   images_per_cpu_s=f"{count / cpu:.0f}" if cpu > 0 else "n/a")


def _cpu_seconds() -> float:
    """CPU time of this process and its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@bench.command("bank")
@click.option("--hashes", type=click.IntRange(1), default=1_000_000, show_default=True,
              help="PDQ hashes in the generated bank.")
@click.option("--queries", type=click.IntRange(1), default=2000, show_default=True)
@click.option("--threshold", type=click.IntRange(0, 256), default=31, show_default=True)
def bench_bank(hashes: int, queries: int, threshold: int) -> None:
    """PDQ bank lookups: build time, batched lookups/s (target >= 1,000) and single-lookup
    latency (target < 5 ms) on random hashes; half the queries are planted near-matches."""
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
    click.echo(f"bank lookup single: {singles} lookups, mean {arr.mean():.2f} ms, "
               f"p50 {np.percentile(arr, 50):.2f} ms, p99 {np.percentile(arr, 99):.2f} ms, "
               f"max {arr.max():.2f} ms, cpu {cpu_ms:.2f} ms/lookup")


