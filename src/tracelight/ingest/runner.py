"""`tracelight ingest`: stream records into the store in batches, crash-safe and idempotent.

- Memory stays flat: records stream from the readers, at most a few batches are in flight.
- Each batch is one transaction, so `kill -9` leaves no half-written ad; running the same
  command again completes the job (already-stored ads count as unchanged).
- Malformed records go to the rejects file as `file:line: reason`; ingest goes on.
- The analysis stages run in worker processes when more than one core is available.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tracelight.errors import RecordError
from tracelight.ingest.readers import SourceItem, check_readable, iter_source
from tracelight.pipeline import PipelineOptions, Processor
from tracelight.records import AdRecord, ProcessedAd, utcnow
from tracelight.store import Store

# Called after each batch is committed with the store and the pks written (new or changed ads):
# watchlists, bank matching and incremental linking hang off this.
AfterBatch = Callable[[Store, list[int]], None]


@dataclass
class IngestSummary:
    run_pk: int = 0
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects_path: str | None = None
    status: str = "running"
    written_pks: list[int] = field(default_factory=list, repr=False)

    @property
    def ads_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_pk, "status": self.status, "read": self.read, "new": self.new,
                "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "seconds": round(self.seconds, 3),
                "ads_per_second": round(self.ads_per_second, 1),
                "rejects_path": self.rejects_path}


class _Rejects:
    """The rejects file, opened only when the first reject arrives."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def write(self, origin: str, reason: str) -> None:
        if self.path is None:
            return
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._fh.write(f"{origin}: {' '.join(reason.split())}\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def _batches(items: Iterable[SourceItem], size: int) -> Iterator[list[SourceItem]]:
    batch: list[SourceItem] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _process_chunk(processor: Processor, chunk: list[tuple[AdRecord, Path]],
                   ) -> list[ProcessedAd]:
    return processor.many(chunk)


def ingest(store: Store, paths: Sequence[str], *, default_source: str | None = None,
           options: PipelineOptions | None = None, rejects_path: str | None = None,
           batch_size: int = 500, workers: int | None = None,
           progress: Callable[[int, str], None] | None = None,
           after_batch: Sequence[AfterBatch] = ()) -> IngestSummary:
    """Ingest every record under `paths`. Returns the run's counts."""
    for p in paths:
        check_readable(p)  # fail before writing anything if a path is wrong
    options = options or PipelineOptions()
    processor = Processor(options)
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    summary = IngestSummary(rejects_path=rejects_path)
    summary.run_pk = store.start_run(list(paths), rejects_path)
    rejects = _Rejects(rejects_path)
    started = time.perf_counter()
    pool: ProcessPoolExecutor | None = None
    try:
        if workers > 1:
            ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        for path in paths:
            _ingest_path(store, path, default_source, processor, pool, batch_size, summary,
                         rejects, progress, after_batch)
        summary.status = "done"
    except KeyboardInterrupt:
        summary.status = "interrupted"
        raise
    except BaseException:
        summary.status = "failed"
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        rejects.close()
        summary.seconds = time.perf_counter() - started
        try:
            store.update_run(summary.run_pk, status=summary.status, finished_at=utcnow(),
                             read=summary.read, new=summary.new, updated=summary.updated,
                             unchanged=summary.unchanged, rejected=summary.rejected)
        except Exception:  # the original error matters more than the bookkeeping
            if summary.status == "done":
                raise
    return summary


def _ingest_path(store: Store, path: str, default_source: str | None, processor: Processor,
                 pool: ProcessPoolExecutor | None, batch_size: int, summary: IngestSummary,
                 rejects: _Rejects, progress: Callable[[int, str], None] | None,
                 after_batch: Sequence[AfterBatch]) -> None:
    # Up to 3 batches are processed ahead of the one being written: enough to keep both
    # cores busy, little enough that memory does not grow with the input.
    in_flight: deque[tuple[list[SourceItem], Future[list[ProcessedAd]] | list[ProcessedAd]]]
    in_flight = deque()

    def drain_one() -> None:
        batch, pending = in_flight.popleft()
        processed = pending.result() if isinstance(pending, Future) else pending
        _write(store, batch, processed, summary, rejects, after_batch)
        if progress:
            progress(batch[-1].position, path)

    for batch in _batches(iter_source(path, default_source), batch_size):
        good: list[tuple[AdRecord, Path]] = []
        for item in batch:
            summary.read += 1
            if isinstance(item.result, RecordError):
                summary.rejected += 1
                rejects.write(item.origin, item.result.message)
            else:
                good.append((item.result, item.base_dir))
        kept = [it for it in batch if not isinstance(it.result, RecordError)] or batch[-1:]
        if pool is not None and good:
            in_flight.append((kept, pool.submit(_process_chunk, processor, good)))
        else:
            in_flight.append((kept, processor.many(good)))
        while len(in_flight) > 3:
            drain_one()
    while in_flight:
        drain_one()


def _write(store: Store, batch: list[SourceItem], processed: list[ProcessedAd],
           summary: IngestSummary, rejects: _Rejects, after_batch: Sequence[AfterBatch]) -> None:
    if not processed:
        return
    origins = [it.origin for it in batch if not isinstance(it.result, RecordError)]
    result = store.write_batch(summary.run_pk, processed)
    summary.new += result.new
    summary.updated += result.updated
    summary.unchanged += result.unchanged
    for index, reason in result.rejected:
        summary.rejected += 1
        rejects.write(origins[index] if index < len(origins) else "?", reason)
    store.update_run(summary.run_pk, read=summary.read, new=summary.new,
                     updated=summary.updated, unchanged=summary.unchanged,
                     rejected=summary.rejected)
    for hook in after_batch:
        hook(store, result.written_pks)
