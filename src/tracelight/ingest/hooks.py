"""Work that follows each committed ingest batch: bank matches, watchlists, linking.

One list, used by every command that ingests (`ingest`, `demo`), so none of them forgets a step.
"""

from __future__ import annotations

from tracelight.ingest.runner import AfterBatch


def default_after_batch() -> list[AfterBatch]:
    from tracelight.store.cases import watchlist_hook
    from tracelight.store.image_banks import BankHook

    # watchlists after banks: a notification never points at an ad whose bank check is pending
    return [BankHook(), watchlist_hook]
