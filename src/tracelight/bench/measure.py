"""What every benchmark measures with: wall and CPU clocks, peak memory, one report line."""

from __future__ import annotations

import os
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


def _proc_stats() -> dict[int, tuple[int, int, int, int]]:
    """Every process (Linux /proc): pid -> (parent pid, own CPU ticks, waited children's CPU
    ticks, resident pages); empty where there is no /proc."""
    out: dict[int, tuple[int, int, int, int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                f = fh.read().rsplit(b")", 1)[1].split()
            out[int(name)] = (int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14]),
                              int(f[21]))
        except (OSError, ValueError, IndexError):
            continue
    return out


def _tree(root: int, stats: dict[int, tuple[int, int, int, int]]) -> set[int]:
    kids: dict[int, list[int]] = {}
    for pid, st in stats.items():
        kids.setdefault(st[0], []).append(pid)
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in tree:
            continue
        tree.add(pid)
        todo.extend(kids.get(pid, ()))
    return tree & stats.keys()


def tree_cpu_s(root: int, *, waited: bool = False) -> float:
    """CPU seconds (user + system) used so far by process `root` and all its live
    descendants; `waited` adds what their finished, waited-for children used. A server's cost
    per request, which a loaded machine does not inflate as it does wall-clock latency."""
    stats = _proc_stats()
    tick = os.sysconf("SC_CLK_TCK")
    return sum(stats[p][1] + (stats[p][2] if waited else 0)
               for p in _tree(root, stats)) / tick


def tree_cpu_by_pid(root: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of each live process in `root`'s tree: how a
    multi-process server spreads its work (a busy worker beside an idle one)."""
    stats = _proc_stats()
    tick = os.sysconf("SC_CLK_TCK")
    return {p: stats[p][1] / tick for p in _tree(root, stats)}


def tree_rss_mb(root: int) -> tuple[float, int]:
    """Resident MiB and process count of `root` and all its live descendants."""
    stats = _proc_stats()
    tree = _tree(root, stats)
    return sum(stats[p][3] for p in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20, len(tree)


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
