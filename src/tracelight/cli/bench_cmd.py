"""`tracelight bench ...`: benchmarks that print figures (never timed assertions in tests).

Each stage adds its own subcommand to the `bench` group from its own cli module.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from tracelight.cli.app import cli, format_option


@cli.group()
def bench() -> None:
    """Measure throughput and memory of each stage on generated data."""


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 1024 if sys.platform != "darwin" else ru / (1024 * 1024)


def process_tree_peak_rss_mb() -> float:
    """Largest peak resident memory of this process and its finished workers, in MiB."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(peak_rss_mb(), children / 1024 if sys.platform != "darwin" else children / 2**20)


@dataclass
class Timing:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    t = Timing()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def report(name: str, items: int, seconds: float, unit: str = "items", **extra: object) -> None:
    """Print one benchmark line in a fixed, greppable shape."""
    rate = items / seconds if seconds > 0 else float("inf")
    fields = " ".join(f"{k}={v}" for k, v in extra.items())
    click.echo(f"{name}: {items} {unit} in {seconds:.2f} s = {rate:,.0f} {unit}/s; "
               f"peak RSS {peak_rss_mb():.0f} MiB {fields}".rstrip())


def _child_ingest(path: str, db_url: str, workers: int | None) -> tuple[float, dict[str, object]]:
    """Run `tracelight ingest` in a child process so its peak memory is measured alone."""
    import json
    import subprocess

    cmd = [sys.executable, "-m", "tracelight", "ingest", path, "--db", db_url,
           "--format", "jsonl", "--rejects", os.devnull]
    if workers:
        cmd += ["--workers", str(workers)]
    with timed() as t:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise click.ClickException(f"ingest failed: {done.stderr.strip()[-500:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # the ingest process reports its own peak and its workers' (the generator's are not in it)
    return t.seconds, {**out, "peak_mb": out["peak_rss_mib"]}


@bench.command("ingest")
@click.option("--ads", "n_ads", type=click.IntRange(1), default=20_000, show_default=True,
              help="How many synthetic ads to generate and ingest.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes for the analysis stages (default: up to 2 cores).")
@click.option("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="PostgreSQL server to measure too, when reachable; a "
              "scratch database is created there and dropped afterwards.")
def bench_ingest(n_ads: int, seed: int, workers: int | None, pg_url: str) -> None:
    """Ingest N generated ads (extraction and scoring on) into SQLite and PostgreSQL."""
    import subprocess
    import tempfile
    import uuid

    import sqlalchemy as sa

    with tempfile.TemporaryDirectory(prefix="tracelight-bench-") as tmp:
        # Generate in a child too: Linux keeps a process's peak memory across fork and exec,
        # so a generator run in this process would be counted as the ingest's memory.
        with timed() as t:
            subprocess.run([sys.executable, "-m", "tracelight", "demo-generate", tmp,
                            "--ads", str(n_ads), "--seed", str(seed), "--no-images",
                            "--format", "jsonl"], check=True, capture_output=True)
        click.echo(f"generated {n_ads} ads in {t.seconds:.1f} s", err=True)
        ads_file = str(Path(tmp) / "ads.jsonl")
        seconds, out = _child_ingest(ads_file, f"sqlite:///{tmp}/bench.db", workers)
        report("ingest sqlite", n_ads, seconds, "ads", child_peak_rss_mib=f"{out['peak_mb']:.0f}")
        try:
            admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT",
                                     connect_args={"connect_timeout": 3})
            name = f"tracelight_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:
            click.echo(f"ingest postgresql: skipped (no server at {pg_url}: "
                       f"{str(exc).splitlines()[0][:100]})")
            return
        try:
            url = sa.engine.make_url(pg_url).set(database=name).render_as_string(False)
            seconds, out = _child_ingest(ads_file, url, workers)
            report("ingest postgresql", n_ads, seconds, "ads",
                   child_peak_rss_mib=f"{out['peak_mb']:.0f}")
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@bench.command("adversarial")
@click.option("--sizes", default="1,16,256,1024", show_default=True,
              help="Body sizes in KB, comma-separated.")
@click.option("--only", default=None, help="Only the generators whose name matches this "
              "regular expression (e.g. 'dotcom|email').")
@click.option("--no-page", is_flag=True, help="Skip the ad page (the logged-in ASGI request).")
@click.option("--repeat", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Run each single reader this many times and keep the best time.")
@format_option("table", "jsonl")
def bench_adversarial(sizes: str, only: str | None, no_page: bool, repeat: int,
                      fmt: str) -> None:
    """Worst time per KB of every extractor, the highlighter and the ad page on hostile
    bodies (runs of each character class, 1 KB .. 1 MB)."""
    from tracelight.bench import adversarial

    adversarial.report(adversarial.parse_sizes(sizes), only, pages=not no_page, fmt=fmt,
                       repeat=repeat)
