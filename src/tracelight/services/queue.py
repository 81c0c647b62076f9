"""Use case: the review queue, what to look at first. One queue for `tracelight queue` and
the workspace: ads by risk with one filter type (tracelight.store.AdFilter), and networks by
the one network ranking (tracelight.services.networks).

The queue remembers (services.review): by default it hides what analysts closed (`no
concern`, `escalated`, a `needs follow-up` not yet due) and shows a closed ad again, as `new`
with the change named, once it was revised; `show_all` shows everything, `mine` only what is
assigned to that analyst. A calibration slice (CALIBRATION_EVERY) of randomly drawn unreviewed
ads is kept in the default queue so verdicts do not only ever confirm the model's own order;
those rows say so.

A risk is a lead for human review, never a finding about a person.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from tracelight.records import utcnow
from tracelight.services.review import QueueNote, annotate_ads
from tracelight.store import AdFilter, Store, StoredAd
from tracelight.store.workspace import COUNT_CAP

__all__ = ["CALIBRATION_EVERY", "COUNT_CAP", "AdFilter", "ChoicesCache", "QueuePage", "ad_queue",
           "filter_choices"]


@dataclass(frozen=True)
class QueuePage:
    """One page of the ad queue.

    total: matches, capped at COUNT_CAP + 1 (pages say "1,000+"); scored: whether any ad is
    scored (if none, the page lists the newest ads instead).
    """

    total: int
    ads: list[StoredAd] = field(default_factory=list)
    scored: bool = False
    notes: dict[int, QueueNote] = field(default_factory=dict)  # ad key -> review state shown
    hidden: int = 0  # closed ads skipped to fill this page
    calibration: frozenset[int] = frozenset()  # ad keys drawn at random for calibration

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP


CALIBRATION_EVERY = 20  # one queue row in this many is a random unreviewed ad
CALIBRATION_POOL = 1000  # drawn from this many open ads further down the queue


def ad_queue(store: Store, flt: AdFilter | None = None, *, limit: int = 50,
             offset: int = 0, show_all: bool = False, mine: str | None = None,
             calibration: bool = True, seed: int | None = None) -> QueuePage:
    """Scored ads by risk, highest first (ties: newest ingested first); newest first if no
    ad is scored yet. Closed ads are hidden unless `show_all` (see the module help)."""
    flt = flt or AdFilter()
    if mine is not None:
        return _mine(store, flt, mine, limit=limit, offset=offset)
    if show_all:
        total, ads, scored = store.queue_page(flt, limit=limit, offset=offset)
        return QueuePage(total, ads, scored, annotate_ads(store, ads))
    now = utcnow()
    # what is closed stays out in the store's own query (one outer join with the review rows)
    total, shown, scored = store.queue_page(flt, limit=limit, offset=offset, open_at=now)
    hidden = store.closed_count(flt, now)
    picked: frozenset[int] = frozenset()
    if calibration and offset == 0 and scored and len(shown) >= CALIBRATION_EVERY:
        # a pool of unreviewed ads further down the open queue, drawn at random and inserted
        # (the page grows by these rows), so no ad of the page is pushed out
        on_page = {a.pk for a in shown}
        _, pool, _ = store.queue_page(flt, limit=limit + CALIBRATION_POOL, open_at=now,
                                      unreviewed=True)
        rest = [a for a in pool if a.pk not in on_page][:CALIBRATION_POOL]
        if rest:
            rng = random.Random(seed)
            draws = rng.sample(rest, min(len(shown) // CALIBRATION_EVERY, len(rest)))
            for i, ad in enumerate(draws, start=1):
                shown.insert(i * CALIBRATION_EVERY - 1, ad)
            picked = frozenset(a.pk for a in draws)
    notes = annotate_ads(store, shown)
    return QueuePage(total, shown, scored, notes, hidden, picked)


def _mine(store: Store, flt: AdFilter, user: str, *, limit: int, offset: int) -> QueuePage:
    """Ads assigned to `user` (still open), riskiest first, the filters applied (the store's
    join with the review rows)."""
    total, ads, scored = store.queue_page(flt, limit=limit, offset=offset, assignee=user)
    return QueuePage(total, ads, scored, annotate_ads(store, ads))


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
