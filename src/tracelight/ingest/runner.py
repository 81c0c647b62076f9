"""`tracelight ingest`: stream records into the store in batches, crash-safe and idempotent.

- Memory stays flat: records stream from the readers, at most a few batches are in flight.
- Each batch is one transaction, so `kill -9` leaves no half-written ad; running the same
  command again completes the job (already-stored ads count as unchanged).
- Malformed records go to the rejects file as `file:line: reason`; ingest goes on. So does any
  record that makes reading, a stage or the database write fail: a batch whose write fails is
  written again ad by ad, and only the ad the database refuses is rejected.
- A file that ends early (cut gzip or WARC, unterminated CSV quote) keeps what was read before
  the break; the run ends "incomplete" and names the file and how far it got.
- The analysis stages run in worker processes when more than one core is available.
"""

from __future__ import annotations

import gc
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

from tracelight.errors import InputError, RecordError
from tracelight.ingest.readers import SourceItem, check_readable, iter_source
from tracelight.pipeline import PipelineOptions, Processor
from tracelight.records import (
    AdRecord,
    Evidence,
    ImageInfo,
    Mention,
    ProcessedAd,
    Reason,
    utcnow,
)
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
    problems: list[str] = field(default_factory=list)  # files that ended early or broke off
    written_pks: list[int] = field(default_factory=list, repr=False)

    @property
    def ads_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_pk, "status": self.status, "read": self.read, "new": self.new,
                "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "seconds": round(self.seconds, 3),
                "ads_per_second": round(self.ads_per_second, 1),
                "rejects_path": self.rejects_path, "problems": list(self.problems)}


class _Rejects:
    """The rejects file, opened only when the first reject arrives."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def write(self, origin: str, reason: str) -> None:
        if self.path is None:
            return
        if self._fh is None:
            # backslashreplace: a file name from a hostile archive may not be valid UTF-8
            self._fh = open(self.path, "a", encoding="utf-8",  # noqa: SIM115
                            errors="backslashreplace")
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


# What a worker sends back for one record: the analysis results as plain tuples, without the
# record (the writer still holds it). Pickling the dataclasses themselves cost ~135 us per ad
# each way, more than scoring it; tuples and a rebuild in the writer cost ~35.
_Wire = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], float | None,
              list[tuple[Any, ...]] | None]

_WORKER_PROCESSOR: Processor | None = None


def _init_worker(processor: Processor) -> None:
    global _WORKER_PROCESSOR
    _WORKER_PROCESSOR = processor


def _to_wire(item: ProcessedAd) -> _Wire:
    return ([(m.kind, m.value, m.field, m.start, m.end, m.obfuscated, m.raw, m.region,
              m.region_why) for m in item.mentions],
            [(i.position, i.original, i.sha256, i.md5, i.pdq, i.quality, i.width, i.height,
              i.stored_path, i.error) for i in item.images], item.risk,
            None if item.reasons is None else [
                (r.code, r.weight, tuple(tuple(e) for e in r.evidence), r.description,
                 r.strength, r.category, r.detail, r.count, r.ad_id, r.label)
                for r in item.reasons])


def _from_wire(record: AdRecord, wire: _Wire) -> ProcessedAd:
    mentions, imgs, risk, reasons = wire
    return ProcessedAd(
        record=record, mentions=[Mention(*m) for m in mentions],
        images=[ImageInfo(*i) for i in imgs], risk=risk,
        reasons=None if reasons is None else [
            Reason(r[0], r[1], tuple(Evidence(*e) for e in r[2]), *r[3:]) for r in reasons])


def _process_chunk(chunk: list[tuple[AdRecord, Path]]) -> list[_Wire | RecordError]:
    """In a worker: analyse a chunk with the processor the pool was started with."""
    assert _WORKER_PROCESSOR is not None, "worker started without _init_worker"
    return [r if isinstance(r, RecordError) else _to_wire(r)
            for r in _WORKER_PROCESSOR.each(chunk)]


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
    frozen = False
    try:
        if workers > 1:
            method = "fork" if sys.platform == "linux" else "spawn"
            if method == "fork":
                # load the stages' tables (gazetteer, lexicons: ~0.6 CPU-s) once, here, and
                # let the forked workers share them instead of each building its own
                processor.warm()
                # and keep the collector off those tables: each worker's full collections
                # would otherwise walk (and, by touching refcounts, copy) all of them
                gc.freeze()
                frozen = True
            ctx = multiprocessing.get_context(method)
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                       initializer=_init_worker, initargs=(processor,))
        for path in paths:
            _ingest_path(store, path, default_source, processor, pool, batch_size, summary,
                         rejects, progress, after_batch)
        summary.status = "incomplete" if summary.problems else "done"
    except KeyboardInterrupt:
        summary.status = "interrupted"
        raise
    except BaseException:
        summary.status = "failed"
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if frozen:
            gc.unfreeze()
        rejects.close()
        summary.seconds = time.perf_counter() - started
        try:
            store.update_run(summary.run_pk, status=summary.status, finished_at=utcnow(),
                             read=summary.read, new=summary.new, updated=summary.updated,
                             unchanged=summary.unchanged, rejected=summary.rejected)
        except Exception:  # the original error matters more than the bookkeeping
            if summary.status in ("done", "incomplete"):
                raise
    return summary


def _ingest_path(store: Store, path: str, default_source: str | None, processor: Processor,
                 pool: ProcessPoolExecutor | None, batch_size: int, summary: IngestSummary,
                 rejects: _Rejects, progress: Callable[[int, str], None] | None,
                 after_batch: Sequence[AfterBatch]) -> None:
    # Up to 3 batches are processed ahead of the one being written: enough to keep both
    # cores busy, little enough that memory does not grow with the input.
    Pending = Future[list[_Wire | RecordError]] | list[ProcessedAd | RecordError]
    in_flight: deque[tuple[list[SourceItem], Pending, int]] = deque()

    def drain_one() -> None:
        kept, pending, position = in_flight.popleft()
        if isinstance(pending, Future):
            results: list[ProcessedAd | RecordError] = [
                r if isinstance(r, RecordError) else _from_wire(item.result, r)  # type: ignore[arg-type]
                for item, r in zip(kept, pending.result(), strict=True)]
        else:
            results = pending
        _write(store, kept, results, summary, rejects, after_batch)
        if progress:
            progress(position, path)

    stopped: list[InputError] = []
    for batch in _batches(_until_broken(iter_source(path, default_source), stopped), batch_size):
        good: list[tuple[AdRecord, Path]] = []
        kept: list[SourceItem] = []
        for item in batch:
            summary.read += 1
            if isinstance(item.result, RecordError):
                summary.rejected += 1
                rejects.write(item.origin, item.result.message)
            else:
                good.append((item.result, item.base_dir))
                kept.append(item)
        pending: Pending
        if pool is not None and good:
            pending = pool.submit(_process_chunk, good)
        else:
            pending = processor.each(good)
        in_flight.append((kept, pending, batch[-1].position))
        while len(in_flight) > 3:
            drain_one()
    while in_flight:
        drain_one()
    if stopped:
        # everything read before the break is stored above; the run still says it is short
        summary.problems.append(stopped[0].message)


def _until_broken(items: Iterator[SourceItem], stopped: list[InputError]) -> Iterator[SourceItem]:
    """The items of one file up to where it breaks off; the break is kept in `stopped`."""
    try:
        yield from items
    except InputError as exc:
        stopped.append(exc)


def _write(store: Store, kept: list[SourceItem], results: list[ProcessedAd | RecordError],
           summary: IngestSummary, rejects: _Rejects, after_batch: Sequence[AfterBatch]) -> None:
    origins: list[str] = []
    processed: list[ProcessedAd] = []
    for item, result in zip(kept, results, strict=True):
        if isinstance(result, RecordError):
            summary.rejected += 1
            rejects.write(item.origin, result.message)
        else:
            origins.append(item.origin)
            processed.append(result)
    if not processed:
        return
    written = _store_batch(store, processed, origins, summary, rejects)
    store.update_run(summary.run_pk, read=summary.read, new=summary.new,
                     updated=summary.updated, unchanged=summary.unchanged,
                     rejected=summary.rejected)
    for hook in after_batch:
        hook(store, written)


def _store_batch(store: Store, processed: list[ProcessedAd], origins: list[str],
                 summary: IngestSummary, rejects: _Rejects) -> list[int]:
    """Write one batch; if the database refuses it, write it ad by ad and reject only the ads
    it refuses. Returns the pks written."""
    try:
        parts = [(store.write_batch(summary.run_pk, processed), 0)]
    except Exception as exc:  # which ad is at fault is found below
        _raise_unless_store_writes(store, summary, exc)
        parts = []
        for index, item in enumerate(processed):
            try:
                parts.append((store.write_batch(summary.run_pk, [item]), index))
            except Exception as one:
                _raise_unless_store_writes(store, summary, one)
                summary.rejected += 1
                text = " ".join(str(one).split())[:200]
                rejects.write(origins[index], f"could not be stored: {type(one).__name__}"
                              + (f": {text}" if text else ""))
    written: list[int] = []
    for result, offset in parts:
        summary.new += result.new
        summary.updated += result.updated
        summary.unchanged += result.unchanged
        for index, reason in result.rejected:
            summary.rejected += 1
            at = offset + index
            rejects.write(origins[at] if at < len(origins) else "?", reason)
        written.extend(result.written_pks)
    return written


def _raise_unless_store_writes(store: Store, summary: IngestSummary, exc: Exception) -> None:
    """A failed write is one record's fault only if the database still takes a write."""
    try:
        store.update_run(summary.run_pk, read=summary.read)
    except Exception:
        raise exc from None
