"""`tracelight bench ...`: benchmarks that print figures (never timed assertions in tests).

Each stage adds its own subcommand to the `bench` group from its own cli module.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click

from tracelight.cli.app import cli


@cli.group()
def bench() -> None:
    """Measure throughput and memory of each stage on generated data."""


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 1024 if sys.platform != "darwin" else ru / (1024 * 1024)


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
