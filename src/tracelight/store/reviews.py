"""Review state of ads and networks (shared by the team, one row per target) and the
verdicts analysts gave, kept as labels with who and when (tables in store/schema.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from tracelight.records import utcnow
from tracelight.store.accounts import _aware, insert_unique
from tracelight.store.base import StoreBase
from tracelight.store.schema import review_labels, reviews, visits


@dataclass(frozen=True, slots=True)
class Review:
    """The review state of one target: kind "ad" (ref: the ad's internal key as text) or
    "network" (ref: the network id)."""

    kind: str
    ref: str
    state: str
    assignee: str | None
    reason: str | None
    case_pk: int | None
    follow_up: datetime | None
    seen: int | None
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewLabel:
    """One verdict on one ad: label 1 (escalated) or 0 (no concern)."""

    ad_pk: int
    label: int
    state: str
    reason: str | None
    via: str | None
    labelled_by: str
    labelled_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewChange:
    """A new state for one target (`seen`: its revision or size now)."""

    kind: str
    ref: str
    seen: int | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    """What one user has seen of one page: `seen_at` (everything before it is seen; None:
    never marked) and `shown_until` (the newest time the page showed since then)."""

    username: str
    page: str
    seen_at: datetime | None
    shown_until: datetime | None
    updated_at: datetime


def _review(row: Any) -> Review:
    m = row._mapping
    return Review(kind=m["kind"], ref=m["ref"], state=m["state"], assignee=m["assignee"],
                  reason=m["reason"], case_pk=m["case_pk"], follow_up=_aware(m["follow_up"]),
                  seen=m["seen"], changed_by=m["changed_by"],
                  changed_at=_aware(m["changed_at"]))


class ReviewTables(StoreBase):
    """Repository: review states and verdict labels (ReviewRepo in store/interfaces.py)."""

    def set_reviews(self, changes: Sequence[ReviewChange], *, state: str, by: str,
                    reason: str | None = None, assignee: str | None = None,
                    keep_assignee: bool = True, case_pk: int | None = None,
                    follow_up: datetime | None = None) -> int:
        """Give every target the state (replacing its row), in one transaction. Returns how
        many targets were written. The assignee is kept unless `keep_assignee` is False."""
        now = utcnow()
        changes = list({(ch.kind, ch.ref): ch for ch in changes}.values())
        with self.transaction() as conn:
            # in slices: the old assignees (kept unless told otherwise), then one delete and
            # one multi-row insert per slice (a network of thousands of ads stays quick)
            for kind in {ch.kind for ch in changes}:
                mine = [ch for ch in changes if ch.kind == kind]
                for i in range(0, len(mine), 500):
                    part = mine[i:i + 500]
                    refs = [ch.ref for ch in part]
                    old: dict[str, str | None] = {}
                    if keep_assignee and assignee is None:
                        old = {r.ref: r.assignee for r in conn.execute(
                            select(reviews.c.ref, reviews.c.assignee).where(
                                reviews.c.kind == kind, reviews.c.ref.in_(refs)))}
                    conn.execute(delete(reviews).where(reviews.c.kind == kind,
                                                       reviews.c.ref.in_(refs)))
                    conn.execute(insert(reviews), [
                        {"kind": kind, "ref": ch.ref, "state": state,
                         "assignee": assignee if assignee is not None else old.get(ch.ref),
                         "reason": reason, "case_pk": case_pk, "follow_up": follow_up,
                         "seen": ch.seen, "changed_by": by, "changed_at": now}
                        for ch in part])
        return len(changes)

    def reviews_for(self, kind: str, refs: Sequence[str]) -> dict[str, Review]:
        out: dict[str, Review] = {}
        refs = list(dict.fromkeys(refs))
        with self.connect() as conn:
            for i in range(0, len(refs), 500):
                part = refs[i:i + 500]
                for row in conn.execute(select(reviews).where(reviews.c.kind == kind,
                                                              reviews.c.ref.in_(part))):
                    r = _review(row)
                    out[r.ref] = r
        return out

    def list_reviews(self, *, kind: str | None = None, state: str | None = None,
                     assignee: str | None = None, limit: int = 200,
                     offset: int = 0) -> list[Review]:
        q = select(reviews)
        if kind is not None:
            q = q.where(reviews.c.kind == kind)
        if state is not None:
            q = q.where(reviews.c.state == state)
        if assignee is not None:
            q = q.where(reviews.c.assignee == assignee)
        q = q.order_by(reviews.c.changed_at.desc(), reviews.c.pk.desc()).limit(limit)
        with self.connect() as conn:
            return [_review(r) for r in conn.execute(q.offset(offset))]

    def review_counts(self) -> dict[str, int]:
        q = select(reviews.c.state, func.count()).group_by(reviews.c.state)
        with self.connect() as conn:
            return {str(s): int(n) for s, n in conn.execute(q)}

    def add_labels(self, labels: Sequence[ReviewLabel]) -> int:
        if not labels:
            return 0
        with self.transaction() as conn:
            conn.execute(insert(review_labels), [
                {"ad_pk": lb.ad_pk, "label": lb.label, "state": lb.state, "reason": lb.reason,
                 "via": lb.via, "labelled_by": lb.labelled_by, "labelled_at": lb.labelled_at}
                for lb in labels])
        return len(labels)

    def review_labels(self) -> list[ReviewLabel]:
        """The newest verdict on each labelled ad, oldest ad key first."""
        q = select(review_labels).order_by(review_labels.c.ad_pk, review_labels.c.pk)
        newest: dict[int, ReviewLabel] = {}
        with self.connect() as conn:
            for row in conn.execute(q):
                m = row._mapping
                newest[m["ad_pk"]] = ReviewLabel(
                    ad_pk=m["ad_pk"], label=m["label"], state=m["state"], reason=m["reason"],
                    via=m["via"], labelled_by=m["labelled_by"],
                    labelled_at=_aware(m["labelled_at"]))
        return list(newest.values())


class DigestTables(StoreBase):
    """What a digest reads: ads first seen since a time (with their network), and watchlist
    hits raised since then."""

    def new_ads_since(self, since: datetime, *, limit: int = 100_000,
                      ) -> list[tuple[int, str | None]]:
        from tracelight.store.schema import ads, network_members, networks

        q = (select(ads.c.pk, networks.c.network_id)
             .select_from(ads.outerjoin(network_members, network_members.c.ad_pk == ads.c.pk)
                          .outerjoin(networks, networks.c.pk == network_members.c.network_pk))
             .where(ads.c.first_seen >= since).order_by(ads.c.pk).limit(limit))
        with self.connect() as conn:
            return [(int(pk), nid) for pk, nid in conn.execute(q)]

    def watch_hits_since(self, since: datetime, *, limit: int = 10_000) -> list[dict[str, Any]]:
        from tracelight.store.cases import notifications, watches

        q = (select(notifications.c.ad_pk, notifications.c.created_at,
                    notifications.c.username, watches.c.kind, watches.c.value,
                    watches.c.label, watches.c.watchlist)
             .join(watches, watches.c.pk == notifications.c.watch_pk)
             .where(notifications.c.created_at >= since)
             .order_by(notifications.c.pk).limit(limit))
        with self.connect() as conn:
            return [{"ad_pk": int(r.ad_pk), "at": _aware(r.created_at), "user": r.username,
                     "kind": r.kind, "value": r.value, "label": r.label,
                     "watchlist": r.watchlist or None} for r in conn.execute(q)]

    def get_visit(self, username: str, page: str) -> Visit | None:
        q = select(visits).where(visits.c.username == username, visits.c.page == page)
        with self.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return None
        m = row._mapping
        return Visit(m["username"], m["page"], _aware(m["seen_at"]), _aware(m["shown_until"]),
                     _aware(m["updated_at"]))

    def set_visit(self, username: str, page: str, *, seen_at: datetime | None = None,
                  shown_until: datetime | None = None, clear_shown: bool = False) -> None:
        """Write what is given (seen_at, shown_until; clear_shown empties shown_until),
        creating the row on first use."""
        values: dict[str, Any] = {"updated_at": utcnow()}
        if seen_at is not None:
            values["seen_at"] = seen_at
        if shown_until is not None:
            values["shown_until"] = shown_until
        elif clear_shown:
            values["shown_until"] = None
        where = (visits.c.username == username, visits.c.page == page)
        with self.transaction() as conn:
            done = conn.execute(update(visits).where(*where).values(**values)).rowcount
        if not done and not insert_unique(self, visits, {"username": username, "page": page,
                                                         **values}):
            with self.transaction() as conn:  # another request created it meanwhile
                conn.execute(update(visits).where(*where).values(**values))
