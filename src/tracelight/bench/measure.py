"""What every benchmark measures with: wall and CPU clocks, peak memory, one report line."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

import click


def say(message: str, *, err: bool = False) -> None:
    """Print one line of figures (stdout) or of progress (stderr)."""
    click.echo(message, err=err)


class ProgressFactory(Protocol):
    """Opens a progress display for one phase; the block advances it by n items at a time."""

    def __call__(self, label: str, total: int | None, /
                 ) -> AbstractContextManager[Callable[[int], None]]: ...


@contextmanager
def no_progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """The default: show nothing (the CLI passes a progress bar on stderr instead)."""
    yield lambda n: None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 1024 if sys.platform != "darwin" else ru / (1024 * 1024)


def process_tree_peak_rss_mb() -> float:
    """Largest peak resident memory of this process and its finished workers, in MiB."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(peak_rss_mb(), children / 1024 if sys.platform != "darwin" else children / 2**20)


def cpu_seconds() -> float:
    """CPU time of this process and its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class Timing:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Wall-clock seconds of the block, readable as `t.seconds` once it ends."""
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
    say(f"{name}: {items} {unit} in {seconds:.2f} s = {rate:,.0f} {unit}/s; "
        f"peak RSS {peak_rss_mb():.0f} MiB {fields}".rstrip())
