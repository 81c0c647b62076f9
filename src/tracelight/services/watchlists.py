"""Use case: notify users whose watched identifiers appear in newly stored ads."""

from __future__ import annotations

from collections.abc import Sequence

from tracelight.store import Store
from tracelight.store.cases import check_watchlists


def notify_watchers(store: Store, ad_pks: Sequence[int]) -> int:
    """Notifications made for watches matched by these ads (see store.cases.check_watchlists)."""
    return check_watchlists(store, ad_pks)


def watchlist_hook(store: Store, ad_pks: list[int]) -> None:
    """notify_watchers as an ingest after-batch hook (tracelight.ingest.runner.AfterBatch)."""
    notify_watchers(store, ad_pks)
