"""Webhook subscriptions and their deliveries (tables of migration 0009).

Only stores: which URL wants which events, and each payload with its attempts until it is sent
or dead-lettered. Sending, signing and URL checks live in services/webhooks.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from tracelight.errors import NotFoundError
from tracelight.records import utcnow
from tracelight.store.accounts import _aware
from tracelight.store.schema import metadata

webhooks = Table(
    "webhooks", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # JSON list of event names
    Column("secret", String(128), nullable=False),  # HMAC key: the receiver must know it
    Column("created_by", String(120), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("webhook_pk", Integer, ForeignKey("webhooks.pk", ondelete="CASCADE"), nullable=False),
    Column("event", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(12), nullable=False),  # pending, sent, dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    events: tuple[str, ...]
    secret: str
    created_by: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:  # never the secret
        return {"id": self.id, "url": self.url, "events": ",".join(self.events),
                "created_by": self.created_by, "created_at": self.created_at}


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook_id: int
    event: str
    payload: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "webhook": self.webhook_id, "event": self.event,
                "status": self.status, "attempts": self.attempts,
                "last_error": self.last_error, "created_at": self.created_at,
                "next_at": self.next_at}


def _hook(r: Any) -> Webhook:
    return Webhook(int(r.pk), r.url, tuple(json.loads(r.events)), r.secret, r.created_by,
                   _aware(r.created_at))


def _delivery(r: Any) -> Delivery:
    return Delivery(int(r.pk), int(r.webhook_pk), r.event, r.payload, r.status,
                    int(r.attempts), r.last_error, _aware(r.created_at), _aware(r.next_at))


class Webhooks:
    def __init__(self, store: Any) -> None:
        self.store = store

    def add(self, url: str, events: list[str], secret: str, created_by: str) -> Webhook:
        with self.store.transaction() as conn:
            pk = conn.execute(insert(webhooks).values(
                url=url, events=json.dumps(sorted(set(events))), secret=secret,
                created_by=created_by[:120], created_at=utcnow())).inserted_primary_key[0]
        return self.get(int(pk))

    def get(self, webhook_id: int) -> Webhook:
        with self.store.connect() as conn:
            r = conn.execute(select(webhooks).where(webhooks.c.pk == webhook_id)).first()
        if r is None:
            raise NotFoundError(f"no webhook {webhook_id}")
        return _hook(r)

    def all(self) -> list[Webhook]:
        with self.store.connect() as conn:
            return [_hook(r) for r in conn.execute(select(webhooks).order_by(webhooks.c.pk))]

    def remove(self, webhook_id: int) -> Webhook:
        found = self.get(webhook_id)
        with self.store.transaction() as conn:
            conn.execute(delete(webhook_deliveries)
                         .where(webhook_deliveries.c.webhook_pk == webhook_id))
            conn.execute(delete(webhooks).where(webhooks.c.pk == webhook_id))
        return found

    def enqueue(self, event: str, payload: str) -> int:
        """A pending delivery of `payload` for every webhook subscribed to `event`."""
        hooks = [h for h in self.all() if event in h.events]
        if not hooks:
            return 0
        now = utcnow()
        with self.store.transaction() as conn:
            conn.execute(insert(webhook_deliveries), [
                dict(webhook_pk=h.id, event=event, payload=payload, status="pending",
                     attempts=0, created_at=now, next_at=now) for h in hooks])
        return len(hooks)

    def due(self, now: datetime | None = None, limit: int = 100) -> list[Delivery]:
        now = now or utcnow()
        with self.store.connect() as conn:
            return [_delivery(r) for r in conn.execute(
                select(webhook_deliveries).where(webhook_deliveries.c.status == "pending",
                                                 webhook_deliveries.c.next_at <= now)
                .order_by(webhook_deliveries.c.pk).limit(limit))]

    def claim(self, delivery: Delivery, until: datetime, now: datetime | None = None) -> bool:
        """Take this due delivery for one attempt: its next_at moves to `until` unless another
        sender (a second server worker, `tracelight webhook deliver`) took it first. True: it
        is ours to send, then `mark`; a sender that dies meanwhile leaves it due again at
        `until`."""
        now = now or utcnow()
        with self.store.transaction() as conn:
            done = conn.execute(update(webhook_deliveries).where(
                webhook_deliveries.c.pk == delivery.id,
                webhook_deliveries.c.status == "pending",
                webhook_deliveries.c.attempts == delivery.attempts,
                webhook_deliveries.c.next_at <= now).values(next_at=until))
        return bool(done.rowcount == 1)

    def deliveries(self, status: str | None = None, limit: int = 200) -> list[Delivery]:
        stmt = select(webhook_deliveries).order_by(webhook_deliveries.c.pk.desc()).limit(limit)
        if status:
            stmt = stmt.where(webhook_deliveries.c.status == status)
        with self.store.connect() as conn:
            return [_delivery(r) for r in conn.execute(stmt)]

    def mark(self, delivery_id: int, *, status: str, attempts: int,
             error: str | None = None, next_at: datetime | None = None) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(webhook_deliveries)
                         .where(webhook_deliveries.c.pk == delivery_id)
                         .values(status=status, attempts=attempts,
                                 last_error=error[:500] if error else None, next_at=next_at,
                                 sent_at=utcnow() if status == "sent" else None))
