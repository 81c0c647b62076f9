"""Use case: the review queue, what to look at first. One queue for `tracelight queue` and
the workspace: ads by risk with one filter type (tracelight.store.AdFilter), and networks by
the one network ranking (tracelight.services.networks).

A risk is a lead for human review, never a finding about a person.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tracelight.store import AdFilter, Store, StoredAd
from tracelight.store.workspace import COUNT_CAP

__all__ = ["COUNT_CAP", "AdFilter", "ChoicesCache", "QueuePage", "ad_queue", "filter_choices"]


@dataclass(frozen=True)
class QueuePage:
    """One page of the ad queue.

    total: matches, capped at COUNT_CAP + 1 (pages say "1,000+"); scored: whether any ad is
    scored (if none, the page lists the newest ads instead).
    """

    total: int
    ads: list[StoredAd] = field(default_factory=list)
    scored: bool = False

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP


def ad_queue(store: Store, flt: AdFilter | None = None, *, limit: int = 50,
             offset: int = 0) -> QueuePage:
    """Scored ads by risk, highest first (ties: newest ingested first); newest first if no
    ad is scored yet."""
    total, ads, scored = store.queue_page(flt or AdFilter(), limit=limit, offset=offset)
    return QueuePage(total, ads, scored)


def scored_ads(store: Store, flt: AdFilter | None = None, *, limit: int = 50) -> list[StoredAd]:
    """The top of the queue, scored ads only (nothing when no ad is scored yet)."""
    page = ad_queue(store, flt, limit=limit)
    return page.ads if page.scored else []


def filter_choices(store: Store) -> dict[str, list[str]]:
    """Sources and categories present, for the queue's drop-downs."""
    return store.filter_choices()


class ChoicesCache:
    """filter_choices kept `ttl` seconds (finding them scans every ad). One per web app."""

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._hit: tuple[float, dict[str, list[str]]] | None = None

    def get(self, store: Store) -> dict[str, list[str]]:
        now = time.monotonic()
        if self._hit and now - self._hit[0] < self.ttl:
            return self._hit[1]
        value = filter_choices(store)
        self._hit = (now, value)
        return value
