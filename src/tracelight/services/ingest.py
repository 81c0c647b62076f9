"""Use case: ingest sources into the store, and the work that follows each committed batch
(bank matches, then watchlists). One list, used by every command that ingests (`ingest`,
`demo`), so none of them forgets a step."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tracelight.ingest.runner import AfterBatch, IngestSummary
from tracelight.ingest.runner import ingest as run_ingest
from tracelight.pipeline import PipelineOptions
from tracelight.services.banks import BankHook
from tracelight.store import Store


def default_after_batch(via: str | None = "ingest") -> list[AfterBatch]:
    """Bank matching, watchlist notifications and, with `via` (where the ads came from:
    "ingest", "push"), the webhook events they raise (services/alerts.py; nothing unless
    someone subscribed). `via=None`: no webhooks (the check API raises its own)."""
    from tracelight.services.alerts import NetworkAlertHook, WatchAlertHook
    # watchlists after banks: a notification never points at an ad whose bank check is pending
    hooks: list[AfterBatch] = [BankHook(via=via), WatchAlertHook(via)]
    if via:
        hooks.append(NetworkAlertHook(via))
    return hooks


def ingest(store: Store, paths: Sequence[str], *, default_source: str | None = None,
           options: PipelineOptions | None = None, rejects_path: str | None = None,
           batch_size: int = 500, workers: int | None = None,
           progress: Callable[[int, str], None] | None = None,
           after_batch: Sequence[AfterBatch] | None = None) -> IngestSummary:
    """Ingest every record under `paths` (tracelight.ingest.runner.ingest), then after each
    batch the default hooks (default_after_batch) unless others are given."""
    hooks = default_after_batch() if after_batch is None else after_batch
    return run_ingest(store, paths, default_source=default_source, options=options,
                      rejects_path=rejects_path, batch_size=batch_size, workers=workers,
                      progress=progress, after_batch=hooks)
