"""`tracelight bench images`: decode + hash throughput (SHA-256, MD5, PDQ) on generated JPEGs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tracelight.bench.measure import ProgressFactory, cpu_seconds, no_progress, report, timed


def run(count: int = 300, width: int = 800, height: int = 600, workers: int | None = None,
        progress: ProgressFactory = no_progress) -> None:
    """Hash `count` generated JPEGs with 1 process, then with every core (or `workers`)."""
    from tracelight.demo.images import bench_jpegs
    from tracelight.images.hashing import hash_images

    runs = [workers] if workers else sorted({1, os.cpu_count() or 1})
    with tempfile.TemporaryDirectory(prefix="tracelight-bench-") as tmp:
        with progress("generating JPEGs", None):
            paths = bench_jpegs(Path(tmp), count, width, height)
        size = sum(p.stat().st_size for p in paths) / count / 1024
        for n in runs:
            errors = 0
            cpu0 = cpu_seconds()
            with progress(f"hashing ({n} process(es))", count) as advance, timed() as t:
                for info in hash_images(((p, 0, p.name) for p in paths), workers=n):
                    errors += info.error is not None
                    advance(1)
            cpu = cpu_seconds() - cpu0
            # CPU time per image is what other load on a shared machine cannot distort.
            report(f"image decode+hash ({width}x{height} JPEG, {size:.0f} KiB avg, "
                   f"{n} process(es))", count, t.seconds, "images", errors=errors,
                   cpu_ms_per_image=f"{cpu / count * 1000:.1f}",
                   images_per_cpu_s=f"{count / cpu:.0f}" if cpu > 0 else "n/a")
