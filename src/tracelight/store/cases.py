"""Cases (ads, networks and identifiers gathered for one investigation) and watchlists.

A case item is (kind, ref): kind "ad" refs an ad's internal key, "network" a network id,
"identifier" a "kind:value" string such as "phone:+12065550143", "room_photo" the SHA-256
of a photo uploaded to match (its hotel candidates in room_uploads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)

from tracelight.errors import NotFoundError, UsageError
from tracelight.kinds import WATCHABLE
from tracelight.records import utcnow
from tracelight.store.accounts import _aware, insert_unique
from tracelight.store.schema import ad_images, ads, entities, images, mentions, metadata
from tracelight.values import ad_text_hash

CASE_STATUSES = ("open", "in review", "referred", "closed")
ITEM_KINDS = ("ad", "network", "identifier", "room_photo")
# watchable entity kinds (kinds.yaml), images (SHA-256, MD5 or PDQ hex), URLs, and ad-text
# hashes (tracelight.values.ad_text_hash), the last two from shared signals
WATCH_KINDS = (*WATCHABLE, "image", "url", "text")

cases = Table(
    "cases", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("status", String(32), nullable=False, default="open"),
    Column("assignee", String(64)),
    Column("tags", JSON, nullable=False, default=list),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

case_items = Table(
    "case_items", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("case_pk", Integer, ForeignKey("cases.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref", String(600), nullable=False),
    Column("label", Text, nullable=False, default=""),
    Column("added_by", String(64), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_pk", "kind", "ref", name="uq_case_items"),
)

case_notes = Table(
    "case_notes", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("case_pk", Integer, ForeignKey("cases.pk", ondelete="CASCADE"), nullable=False),
    Column("author", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("text", Text, nullable=False),
)

watches = Table(
    "watches", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(512), nullable=False),
    Column("label", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # shared signals (migration 0006): the named watchlist ("" for watches made by hand),
    # where it came from, its TLP marking
    Column("watchlist", String(120), nullable=False, server_default="", default=""),
    Column("source", Text),
    Column("tlp", String(16)),
    UniqueConstraint("username", "kind", "value", "watchlist", name="uq_watches"),
    Index("ix_watches_kind_value", "kind", "value"),
    Index("ix_watches_watchlist", "watchlist"),
)

notifications = Table(
    "notifications", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("watch_pk", Integer, ForeignKey("watches.pk", ondelete="CASCADE"), nullable=False),
    Column("ad_pk", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    UniqueConstraint("watch_pk", "ad_pk", name="uq_notifications"),
    Index("ix_notifications_user", "username", "read_at"),
)


@dataclass
class Case:
    pk: int
    title: str
    description: str
    status: str
    assignee: str | None
    tags: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    items: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.pk, "title": self.title, "description": self.description,
                "status": self.status, "assignee": self.assignee, "tags": self.tags,
                "created_by": self.created_by, "created_at": self.created_at,
                "updated_at": self.updated_at, "items": self.items, "notes": self.notes}


def _case(row: Any) -> Case:
    m = row._mapping
    return Case(pk=m["pk"], title=m["title"], description=m["description"], status=m["status"],
                assignee=m["assignee"], tags=list(m["tags"] or []), created_by=m["created_by"],
                created_at=_aware(m["created_at"]), updated_at=_aware(m["updated_at"]))


def clean_tags(tags: Sequence[str] | str) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    out: list[str] = []
    for t in tags:
        t = " ".join(t.split())[:60]
        if t and t not in out:
            out.append(t)
    return out[:30]


class Cases:
    def __init__(self, store: Any) -> None:
        self.store = store

    def create(self, title: str, created_by: str, *, description: str = "",
               tags: Sequence[str] | str = (), assignee: str | None = None) -> Case:
        title = title.strip()
        if not title:
            raise UsageError("a case needs a title")
        now = utcnow()
        with self.store.transaction() as conn:
            pk = conn.execute(insert(cases).returning(cases.c.pk).values(
                title=title[:300], description=description, status="open", assignee=assignee,
                tags=clean_tags(tags), created_by=created_by, created_at=now,
                updated_at=now)).scalar_one()
        return self.get(int(pk))

    def list_cases(self, *, status: str | None = None,
                   limit: int = 200) -> list[dict[str, Any]]:
        n_items = (select(func.count()).select_from(case_items)
                   .where(case_items.c.case_pk == cases.c.pk).scalar_subquery())
        stmt = select(cases, n_items.label("n_items")).order_by(cases.c.updated_at.desc())
        if status:
            stmt = stmt.where(cases.c.status == status)
        with self.store.connect() as conn:
            out = []
            for r in conn.execute(stmt.limit(limit)):
                d = _case(r).to_dict()
                d.pop("items")
                d.pop("notes")
                d["n_items"] = r.n_items
                out.append(d)
            return out

    def get(self, pk: int) -> Case:
        with self.store.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.pk == pk)).first()
            if row is None:
                raise NotFoundError(f"no case {pk}")
            case = _case(row)
            case.items = [
                {"id": r.pk, "kind": r.kind, "ref": r.ref, "label": r.label,
                 "added_by": r.added_by, "added_at": _aware(r.added_at)}
                for r in conn.execute(select(case_items).where(case_items.c.case_pk == pk)
                                      .order_by(case_items.c.pk))]
            case.notes = [
                {"id": r.pk, "author": r.author, "at": _aware(r.at), "text": r.text}
                for r in conn.execute(select(case_notes).where(case_notes.c.case_pk == pk)
                                      .order_by(case_notes.c.pk))]
        return case

    def update(self, pk: int, **values: Any) -> Case:
        allowed = {"title", "description", "status", "assignee", "tags"}
        bad = set(values) - allowed
        if bad:
            raise UsageError(f"cannot change {', '.join(sorted(bad))} of a case")
        if "status" in values and values["status"] not in CASE_STATUSES:
            raise UsageError(f"unknown case status {values['status']!r}",
                             hint="one of " + ", ".join(CASE_STATUSES))
        if "tags" in values:
            values["tags"] = clean_tags(values["tags"])
        if "title" in values and not str(values["title"]).strip():
            raise UsageError("a case needs a title")
        self.get(pk)
        with self.store.transaction() as conn:
            conn.execute(update(cases).where(cases.c.pk == pk)
                         .values(**values, updated_at=utcnow()))
        return self.get(pk)

    def add_item(self, pk: int, kind: str, ref: str, added_by: str, label: str = "") -> bool:
        """Add an item; False if the case already holds it."""
        if kind not in ITEM_KINDS:
            raise UsageError(f"unknown case item kind {kind!r}",
                             hint="one of " + ", ".join(ITEM_KINDS))
        ref = ref.strip()
        if not ref:
            raise UsageError("nothing to add: the reference is empty")
        self.get(pk)
        if not insert_unique(self.store, case_items, dict(
                case_pk=pk, kind=kind, ref=ref[:600], label=label[:500], added_by=added_by,
                added_at=utcnow())):
            return False
        with self.store.transaction() as conn:
            conn.execute(update(cases).where(cases.c.pk == pk).values(updated_at=utcnow()))
        return True

    def remove_item(self, pk: int, item_pk: int) -> None:
        with self.store.transaction() as conn:
            conn.execute(delete(case_items).where(case_items.c.case_pk == pk,
                                                  case_items.c.pk == item_pk))

    def add_note(self, pk: int, author: str, text: str) -> None:
        text = text.strip()
        if not text:
            raise UsageError("the note is empty")
        self.get(pk)
        with self.store.transaction() as conn:
            conn.execute(insert(case_notes).values(case_pk=pk, author=author, at=utcnow(),
                                                   text=text[:20000]))
            conn.execute(update(cases).where(cases.c.pk == pk).values(updated_at=utcnow()))


WATCH_POLL_SECONDS = 1.0  # how often a process re-reads the watches' fingerprint
_WATCH_FINGERPRINT = select(func.count(), func.max(watches.c.pk), func.max(watches.c.created_at))


class _WatchIndex:
    """Every watch, by (kind, compared form of its value), for `Watchlists.matching`: loaded
    once, emptied by every add or remove made in this process, and reloaded when the
    watches' fingerprint (count, newest key, newest time; re-read every WATCH_POLL_SECONDS)
    shows another process changed them."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], list[dict[str, Any]]] | None = None
        self.fingerprint: tuple[Any, ...] | None = None
        self.polled = 0.0
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.by_key = None
            self.fingerprint = None


class Watchlists:
    def __init__(self, store: Any) -> None:
        self.store = store

    def _index(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        index = self.store.__dict__.get("_watch_index")
        if index is None:  # one per store: every Watchlists over it shares (and clears) it
            index = self.store.__dict__.setdefault("_watch_index", _WatchIndex())
        now = time.monotonic()
        found = index.by_key
        if found is not None and now - index.polled <= WATCH_POLL_SECONDS:
            return found
        with index.lock:
            with self.store.connect() as conn:
                fingerprint = tuple(conn.execute(_WATCH_FINGERPRINT).one())
                if index.by_key is None or fingerprint != index.fingerprint:
                    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
                    for r in conn.execute(select(watches).order_by(watches.c.pk)):
                        by_key.setdefault((r.kind, _key(r.kind, r.value)), []).append(
                            {"id": r.pk, "watchlist": r.watchlist or None, "kind": r.kind,
                             "value": r.value, "label": r.label})
                    index.by_key, index.fingerprint = by_key, fingerprint
            index.polled = time.monotonic()
            assert index.by_key is not None
            return index.by_key

    def _changed(self) -> None:
        index = self.store.__dict__.get("_watch_index")
        if index is not None:
            index.clear()

    def add(self, username: str, kind: str, value: str, label: str = "", *,
            watchlist: str | None = None, source: str | None = None,
            tlp: str | None = None) -> bool:
        if kind not in WATCH_KINDS:
            raise UsageError(f"cannot watch {kind!r}", hint="one of " + ", ".join(WATCH_KINDS))
        value = value.strip()
        if not value:
            raise UsageError("nothing to watch: the value is empty")
        added = insert_unique(self.store, watches, dict(
            username=username, kind=kind, value=value[:512], label=label[:300],
            created_at=utcnow(), watchlist=(watchlist or "")[:120],
            source=source[:2000] if source else None, tlp=tlp[:16] if tlp else None))
        self._changed()
        return added

    def watchlist(self, name: str) -> list[dict[str, Any]]:
        """Every watch in the named watchlist (any user's), oldest first."""
        if not name:
            return []  # "" holds watches made by hand: not a shared list
        with self.store.connect() as conn:
            return [{"id": r.pk, "username": r.username, "kind": r.kind, "value": r.value,
                     "label": r.label, "source": r.source, "tlp": r.tlp,
                     "created_at": _aware(r.created_at)}
                    for r in conn.execute(select(watches).where(watches.c.watchlist == name)
                                          .order_by(watches.c.pk))]

    def watchlist_names(self) -> list[tuple[str, int]]:
        """(name, watches) of every named watchlist."""
        with self.store.connect() as conn:
            return [(str(r[0]), int(r[1])) for r in conn.execute(
                select(watches.c.watchlist, func.count()).where(watches.c.watchlist != "")
                .group_by(watches.c.watchlist).order_by(watches.c.watchlist))]

    def hits(self, name: str) -> dict[int, list[int]]:
        """watch id -> stored ad pks it matches, for the named watchlist, over every stored
        ad (a pass over the store; ingest matches new ads as they arrive)."""
        if not name:
            return {}
        with self.store.connect() as conn:
            rows = list(conn.execute(select(watches.c.pk, watches.c.username, watches.c.kind,
                                            watches.c.value)
                                     .where(watches.c.watchlist == name)))
            pks = [int(r[0]) for r in conn.execute(select(ads.c.pk).order_by(ads.c.pk))]
        out: dict[int, list[int]] = {int(r.pk): [] for r in rows}
        for watch_pk, _user, ad_pk in sorted(_match(self.store, pks, rows)):
            out[watch_pk].append(ad_pk)
        return out

    def matching(self, pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """Every watch (any user's) that one of these (kind, value) pairs matches, compared
        as ingest compares them (phones E.164, emails lower-case, handles bare, image hashes
        lower-case hex). For a check of an ad that is not stored: nothing is written."""
        wanted = {(k, _key(k, v)): (k, v) for k, v in pairs if v}
        if not wanted:
            return []
        index = self._index()  # in memory (see _WatchIndex)
        out = [{**w, "matched": hit[1]} for key, hit in wanted.items()
               for w in index.get(key, ())]
        return sorted(out, key=lambda w: w["id"])

    def list_watches(self, username: str) -> list[dict[str, Any]]:
        n_hits = (select(func.count()).select_from(notifications)
                  .where(notifications.c.watch_pk == watches.c.pk).scalar_subquery())
        with self.store.connect() as conn:
            return [{"id": r.pk, "kind": r.kind, "value": r.value, "label": r.label,
                     "created_at": _aware(r.created_at), "hits": r.hits,
                     "watchlist": r.watchlist or None, "source": r.source, "tlp": r.tlp}
                    for r in conn.execute(select(watches, n_hits.label("hits"))
                                          .where(watches.c.username == username)
                                          .order_by(watches.c.pk))]

    def remove(self, username: str, watch_pk: int) -> None:
        with self.store.transaction() as conn:
            conn.execute(delete(notifications).where(notifications.c.watch_pk == watch_pk,
                                                     notifications.c.username == username))
            conn.execute(delete(watches).where(watches.c.pk == watch_pk,
                                               watches.c.username == username))
        self._changed()

    def notifications(self, username: str, *, unread_only: bool = False,
                      limit: int = 100) -> list[dict[str, Any]]:
        stmt = (select(notifications.c.pk, notifications.c.ad_pk, notifications.c.created_at,
                       notifications.c.read_at, watches.c.kind, watches.c.value,
                       watches.c.label)
                .join(watches, watches.c.pk == notifications.c.watch_pk)
                .where(notifications.c.username == username)
                .order_by(notifications.c.pk.desc()).limit(limit))
        if unread_only:
            stmt = stmt.where(notifications.c.read_at.is_(None))
        with self.store.connect() as conn:
            return [{"id": r.pk, "ad_pk": r.ad_pk, "created_at": _aware(r.created_at),
                     "read": r.read_at is not None, "kind": r.kind, "value": r.value,
                     "label": r.label} for r in conn.execute(stmt)]

    def unread_count(self, username: str) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(notifications).where(
                notifications.c.username == username,
                notifications.c.read_at.is_(None))).scalar_one())

    def mark_read(self, username: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(notifications).where(notifications.c.username == username,
                                                     notifications.c.read_at.is_(None))
                         .values(read_at=utcnow()))


def _handle(value: str) -> str:
    """'instagram:Name', '@name' and 'name' all compare as 'name'."""
    return value.rsplit(":", 1)[-1].lstrip("@$").lower()


def _key(kind: str, value: str) -> str:
    """The form a watched value and a stored value are compared in."""
    if kind == "social":
        return _handle(value)
    if kind in ("email", "image", "text"):
        return value.lower()
    if kind == "crypto":
        # stored as "BTC:address" (ETH lower-cased); watched as typed, with or without it
        return value.rsplit(":", 1)[-1].lower()
    return value


def check_watchlists(store: Any, ad_pks: Sequence[int]) -> int:
    """Raise an in-app notification for every watch the given (newly ingested) ads match.

    Ingest calls this after each batch. Matching is exact on normalised values (phones as
    E.164, emails lower-case, handles without platform or '@', image SHA-256 or PDQ hex).
    Returns how many new notifications were made; a watch never notifies twice for one ad.
    """
    return len(new_watch_hits(store, ad_pks))


def new_watch_hits(store: Any, ad_pks: Sequence[int]) -> list[dict[str, Any]]:
    """check_watchlists, returning each new notification (watch pk, watchlist, kind, ad
    pk): what an ingest-time webhook reports."""
    if not ad_pks:
        return []
    with store.connect() as conn:
        watch_rows = list(conn.execute(select(watches.c.pk, watches.c.username, watches.c.kind,
                                              watches.c.value, watches.c.watchlist)))
    if not watch_rows:
        return []
    by_pk = {w.pk: w for w in watch_rows}
    hits = _match(store, ad_pks, watch_rows)
    made: list[dict[str, Any]] = []
    now = utcnow()
    for watch_pk, username, ad_pk in sorted(hits):
        # a duplicate means this watch already notified for this ad
        if insert_unique(store, notifications, dict(watch_pk=watch_pk, username=username,
                                                    ad_pk=ad_pk, created_at=now)):
            w = by_pk[watch_pk]
            made.append({"id": watch_pk, "watchlist": w.watchlist or None, "kind": w.kind,
                         "ad_pk": ad_pk})
    return made


def _match(store: Any, ad_pks: Sequence[int],
           watch_rows: Sequence[Any]) -> set[tuple[int, str, int]]:
    """(watch pk, username, ad pk) for every watch (rows of pk, username, kind, value) that
    one of the ads matches."""
    by_key: dict[tuple[str, str], list[Any]] = {}
    for w in watch_rows:
        by_key.setdefault((w.kind, _key(w.kind, w.value)), []).append(w)
    hits: set[tuple[int, str, int]] = set()
    if not by_key:
        return hits
    entity_kinds = [k for k in WATCH_KINDS if k not in ("image", "text")]
    want = {k for k, _ in by_key}
    with store.connect() as conn:
        for i in range(0, len(ad_pks), 500):
            part = list(ad_pks[i:i + 500])
            for r in conn.execute(select(mentions.c.ad_pk, entities.c.kind, entities.c.value)
                                  .join(entities, entities.c.pk == mentions.c.entity_pk)
                                  .where(mentions.c.ad_pk.in_(part),
                                         entities.c.kind.in_(entity_kinds))):
                for w in by_key.get((r.kind, _key(r.kind, r.value)), []):
                    hits.add((w.pk, w.username, r.ad_pk))
            if "image" in want:
                for r in conn.execute(select(ad_images.c.ad_pk, images.c.sha256, images.c.md5,
                                             images.c.pdq)
                                      .join(images, images.c.pk == ad_images.c.image_pk)
                                      .where(ad_images.c.ad_pk.in_(part))):
                    for h in (r.sha256, r.md5, r.pdq):
                        for w in by_key.get(("image", (h or "").lower()), []):
                            hits.add((w.pk, w.username, r.ad_pk))
            if "text" in want or "url" in want:
                for r in conn.execute(select(ads.c.pk, ads.c.url, ads.c.title, ads.c.body)
                                      .where(ads.c.pk.in_(part))):
                    found = by_key.get(("url", r.url or ""), [])  # the ad's own address
                    if "text" in want:
                        found = found + by_key.get(("text", ad_text_hash(r.title, r.body)), [])
                    for w in found:
                        hits.add((w.pk, w.username, r.pk))
    return hits


def watchlist_hook(store: Any, ad_pks: list[int]) -> None:
    """check_watchlists as an ingest after-batch hook (tracelight.ingest.runner.AfterBatch)."""
    check_watchlists(store, ad_pks)
