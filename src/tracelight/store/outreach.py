"""Outreach storage, kept apart from everything enforcement reads.

These tables hold outreach batches, the messages of each, per-phone contact state (opt-outs,
cool-off, do-not-contact), conversations, referrals and the buyer-deterrence log. No other
repository joins them, and no query, search, case, export or sharing code imports this module
(tests/test_outreach.py proves both). Only services/outreach.py uses `Outreach(store)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
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

from tracelight.errors import NotFoundError
from tracelight.records import utcnow
from tracelight.store.accounts import _aware
from tracelight.store.schema import metadata

BATCH_STATUSES = ("planned", "approved", "sent")
MESSAGE_STATUSES = ("planned", "skipped", "sent", "failed", "delivered")

outreach_batches = Table(
    "outreach_batches", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("template", String(40), nullable=False),
    Column("status", String(16), nullable=False, default="planned"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
)

outreach_messages = Table(
    "outreach_messages", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("batch_pk", Integer, ForeignKey("outreach_batches.pk", ondelete="CASCADE"),
           nullable=False),
    Column("phone", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("provider_id", String(128)),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("batch_pk", "phone", name="uq_outreach_messages_batch_phone"),
    Index("ix_outreach_messages_phone", "phone"),
)

outreach_contacts = Table(
    "outreach_contacts", metadata,
    Column("phone", String(32), primary_key=True),
    Column("opted_out_at", DateTime(timezone=True)),
    Column("last_contacted_at", DateTime(timezone=True)),
    Column("do_not_contact", Text),  # the reason, or None
    Column("advocate", String(64)),  # who replies from this phone are routed to
)

outreach_conversations = Table(
    "outreach_conversations", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("phone", String(32), nullable=False),
    Column("direction", String(8), nullable=False),  # "in" or "out"
    Column("text", Text, nullable=False),
    Column("batch_pk", Integer),
    Column("advocate", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_outreach_conversations_phone", "phone"),
)

outreach_referrals = Table(
    "outreach_referrals", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("phone", String(32), nullable=False),
    Column("service", String(200), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

deterrence_log = Table(
    "deterrence_log", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("decoy", String(120), nullable=False),
    Column("buyer", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("dry_run", Integer, nullable=False, default=1),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_deterrence_log_buyer", "buyer"),
)

OUTREACH_TABLES = ("outreach_batches", "outreach_messages", "outreach_contacts",
                   "outreach_conversations", "outreach_referrals", "deterrence_log")


@dataclass(frozen=True, slots=True)
class Batch:
    pk: int
    template: str
    status: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Message:
    pk: int
    batch_pk: int
    phone: str
    region: str
    text: str
    status: str
    reason: str
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str
    opted_out_at: datetime | None
    last_contacted_at: datetime | None
    do_not_contact: str | None
    advocate: str | None


@dataclass(frozen=True, slots=True)
class Turn:
    phone: str
    direction: str
    text: str
    advocate: str | None
    at: datetime


def _batch(row: Any) -> Batch:
    m = row._mapping
    return Batch(m["pk"], m["template"], m["status"], m["created_by"], _aware(m["created_at"]),
                 m["approved_by"], _aware(m["approved_at"]), _aware(m["sent_at"]))


def _message(row: Any) -> Message:
    m = row._mapping
    return Message(m["pk"], m["batch_pk"], m["phone"], m["region"], m["text"], m["status"],
                   m["reason"], _aware(m["sent_at"]))


class Outreach:
    """The outreach repository over a store's engine (OutreachRepo in store/interfaces.py)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    # ---- batches and messages ----
    def create_batch(self, template: str, created_by: str,
                     messages: Sequence[tuple[str, str, str, str, str]]) -> Batch:
        """A planned batch with its messages: (phone, region, text, status, reason) each."""
        now = utcnow()
        with self.store.transaction() as conn:
            pk = conn.execute(insert(outreach_batches).values(
                template=template, status="planned", created_by=created_by,
                created_at=now)).inserted_primary_key[0]
            if messages:
                conn.execute(insert(outreach_messages), [
                    {"batch_pk": pk, "phone": p, "region": r, "text": t, "status": s,
                     "reason": why} for p, r, t, s, why in messages])
        return self.batch(int(pk))

    def batch(self, pk: int) -> Batch:
        with self.store.connect() as conn:
            row = conn.execute(select(outreach_batches).where(
                outreach_batches.c.pk == pk)).first()
        if row is None:
            raise NotFoundError(f"no outreach batch {pk}")
        return _batch(row)

    def batches(self, limit: int = 100) -> list[Batch]:
        with self.store.connect() as conn:
            rows = conn.execute(select(outreach_batches).order_by(
                outreach_batches.c.pk.desc()).limit(limit)).all()
        return [_batch(r) for r in rows]

    def messages(self, batch_pk: int) -> list[Message]:
        with self.store.connect() as conn:
            rows = conn.execute(select(outreach_messages).where(
                outreach_messages.c.batch_pk == batch_pk).order_by(
                outreach_messages.c.pk)).all()
        return [_message(r) for r in rows]

    def set_batch(self, pk: int, **values: Any) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(outreach_batches).where(outreach_batches.c.pk == pk)
                         .values(**values))

    def set_message(self, pk: int, **values: Any) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(outreach_messages).where(outreach_messages.c.pk == pk)
                         .values(**values))

    def sent_since(self, since: datetime) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outreach_messages).where(
                outreach_messages.c.status.in_(("sent", "delivered")),
                outreach_messages.c.sent_at >= since)).scalar_one())

    def message_counts(self) -> dict[str, int]:
        with self.store.connect() as conn:
            rows = conn.execute(select(outreach_messages.c.status, func.count()).group_by(
                outreach_messages.c.status)).all()
        return {r[0]: int(r[1]) for r in rows}

    # ---- per-phone state ----
    def contacts(self, phones: Sequence[str]) -> dict[str, Contact]:
        if not phones:
            return {}
        with self.store.connect() as conn:
            rows = conn.execute(select(outreach_contacts).where(
                outreach_contacts.c.phone.in_(list(phones)))).all()
        out = {}
        for r in rows:
            m = r._mapping
            out[m["phone"]] = Contact(m["phone"], _aware(m["opted_out_at"]),
                                      _aware(m["last_contacted_at"]), m["do_not_contact"],
                                      m["advocate"])
        return out

    def update_contact(self, phone: str, **values: Any) -> None:
        with self.store.transaction() as conn:
            done = conn.execute(update(outreach_contacts).where(
                outreach_contacts.c.phone == phone).values(**values)).rowcount
            if not done:
                conn.execute(insert(outreach_contacts).values(phone=phone, **values))

    def count_opted_out(self) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outreach_contacts).where(
                outreach_contacts.c.opted_out_at.is_not(None))).scalar_one())

    # ---- conversations and referrals ----
    def add_turn(self, phone: str, direction: str, text: str, *, batch_pk: int | None,
                 advocate: str | None, at: datetime | None = None) -> None:
        with self.store.transaction() as conn:
            conn.execute(insert(outreach_conversations).values(
                phone=phone, direction=direction, text=text, batch_pk=batch_pk,
                advocate=advocate, at=at or utcnow()))

    def thread(self, phone: str, limit: int = 500) -> list[Turn]:
        c = outreach_conversations.c
        with self.store.connect() as conn:
            rows = conn.execute(select(outreach_conversations).where(c.phone == phone)
                                .order_by(c.at, c.pk).limit(limit)).all()
        return [Turn(r.phone, r.direction, r.text, r.advocate, _aware(r.at)) for r in rows]

    def inbox(self, advocate: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """One row per phone that replied: its last reply time and number of replies."""
        c = outreach_conversations.c
        q = (select(c.phone, func.max(c.at).label("last_reply"),
                    func.count().label("replies"), func.max(c.advocate).label("advocate"))
             .where(c.direction == "in").group_by(c.phone)
             .order_by(func.max(c.at).desc()).limit(limit))
        if advocate is not None:
            q = q.where(c.advocate == advocate)
        with self.store.connect() as conn:
            rows = conn.execute(q).all()
        return [{"phone": r.phone, "last_reply": _aware(r.last_reply), "replies": int(r.replies),
                 "advocate": r.advocate} for r in rows]

    def count_replies(self) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outreach_conversations)
                                    .where(outreach_conversations.c.direction == "in"))
                       .scalar_one())

    def add_referral(self, phone: str, service: str, recorded_by: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(insert(outreach_referrals).values(
                phone=phone, service=service, recorded_by=recorded_by, at=utcnow()))

    def count_referrals(self) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outreach_referrals))
                       .scalar_one())

    # ---- buyer deterrence ----
    def log_deterrence(self, decoy: str, buyer: str, direction: str, text: str, *,
                       dry_run: bool = True) -> None:
        with self.store.transaction() as conn:
            conn.execute(insert(deterrence_log).values(
                decoy=decoy, buyer=buyer, direction=direction, text=text,
                dry_run=1 if dry_run else 0, at=utcnow()))

    def deterrence_counts(self) -> dict[str, int]:
        c = deterrence_log.c
        with self.store.connect() as conn:
            per = conn.execute(select(c.buyer, func.count()).where(c.direction == "in")
                               .group_by(c.buyer)).all()
            warned = int(conn.execute(select(func.count()).select_from(deterrence_log)
                                      .where(c.direction == "out")).scalar_one())
        return {"buyers": len(per), "repeat_buyers": sum(1 for _, n in per if n > 1),
                "buyer_messages": sum(int(n) for _, n in per), "warnings": warned}

    # ---- retention ----
    def purge(self, before: datetime) -> dict[str, int]:
        """Delete conversations, referrals, deterrence entries and batches (with their
        messages) older than `before`. Contact state is kept: an opt-out is never forgotten."""
        out: dict[str, int] = {}
        with self.store.transaction() as conn:
            out["conversation_turns"] = conn.execute(delete(outreach_conversations).where(
                outreach_conversations.c.at < before)).rowcount
            out["referrals"] = conn.execute(delete(outreach_referrals).where(
                outreach_referrals.c.at < before)).rowcount
            out["deterrence_entries"] = conn.execute(delete(deterrence_log).where(
                deterrence_log.c.at < before)).rowcount
            old = select(outreach_batches.c.pk).where(outreach_batches.c.created_at < before)
            out["messages"] = conn.execute(delete(outreach_messages).where(
                outreach_messages.c.batch_pk.in_(old))).rowcount
            out["batches"] = conn.execute(delete(outreach_batches).where(
                outreach_batches.c.created_at < before)).rowcount
        return out
