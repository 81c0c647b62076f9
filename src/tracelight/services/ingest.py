"""Use case: ingest sources into the store, and the work that follows each committed batch
(bank matches, then watchlists). One list, used by every command that ingests (`ingest`,
`demo`), so none of them forgets a step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracelight.ingest.runner import AfterBatch, IngestSummary
from tracelight.ingest.runner import ingest as run_ingest
from tracelight.services.banks import BankHook
from tracelight.services.watchlists import watchlist_hook
from tracelight.store import Store


def default_after_batch() -> list[AfterBatch]:
    # watchlists after banks: a notification never points at an ad whose bank check is pending
    return [BankHook(), watchlist_hook]


def ingest(store: Store, paths: Sequence[str], *,
           after_batch: Sequence[AfterBatch] | None = None, **kwargs: Any) -> IngestSummary:
    """tracelight.ingest.runner.ingest with the default after-batch hooks unless told others.

    kwargs: default_source, options, rejects_path, batch_size, workers, progress.
    """
    hooks = default_after_batch() if after_batch is None else after_batch
    return run_ingest(store, paths, after_batch=hooks, **kwargs)
