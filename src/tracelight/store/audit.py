"""The audit log: append-only in the database, and hash-chained so that tampering shows.

Two defences, because either alone can be undone by someone with write access to the database:

- **Triggers** (migrations 0003 and 0006) refuse UPDATE, DELETE and, on PostgreSQL, TRUNCATE of
  `audit_log`. `protection_problems()` says which are missing; the web app refuses to start
  without them (fail closed) and `tracelight audit protect` puts them back.
- **A hash chain.** Entry number `seq` stores `prev_hash` (the `row_hash` of entry `seq - 1`,
  or 64 zeros for the first) and `row_hash` = SHA-256 of its own canonical content including
  `prev_hash`. Dropping a trigger and deleting, editing or re-ordering rows breaks a link that
  `verify()` (`tracelight audit verify`) reports. `audit_head` holds the newest `seq` and hash;
  appends update it first, which serialises concurrent writers on both backends. Cutting off the
  newest entries *and* rewriting the head is only caught against a head hash recorded elsewhere:
  `verify` prints it for that purpose.

The canonical content is compact, key-sorted, ASCII-only JSON of
`{seq, at (UTC, microseconds, "Z"), username, action, target, reason, detail, ip, prev}`.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from tracelight.records import utcnow
from tracelight.store.schema import metadata

GENESIS = "0" * 64
HEAD = "audit"
MAX_TEXT = 2000
MAX_DETAIL = 8000  # characters of JSON; a larger detail is replaced by a note saying so

audit_log = Table(
    "audit_log", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", String(64), nullable=False),  # kept as text: survives user changes
    Column("action", String(64), nullable=False),  # e.g. search, ad.view, image.reveal, export
    Column("target", Text, nullable=False, default=""),
    Column("reason", Text),
    Column("detail", JSON),
    Column("ip", String(64)),
    Column("seq", Integer, unique=True),
    Column("prev_hash", String(64)),
    Column("row_hash", String(64)),
    Index("ix_audit_at", "at"),
    Index("ix_audit_user", "username"),
)

audit_head = Table(
    "audit_head", metadata,
    Column("name", String(16), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Built once: an append runs these three statements (building them per call cost 3x the time).
_BUMP_HEAD = (update(audit_head).where(audit_head.c.name == bindparam("head"))
              .values(seq=audit_head.c.seq + 1).returning(audit_head.c.seq, audit_head.c.hash))
_BUMP_HEAD_BY = (update(audit_head).where(audit_head.c.name == bindparam("head"))
                 .values(seq=audit_head.c.seq + bindparam("n"))
                 .returning(audit_head.c.seq, audit_head.c.hash))
_INSERT = insert(audit_log)
_SET_HEAD = (update(audit_head).where(audit_head.c.name == bindparam("head"))
             .values(hash=bindparam("new_hash")))

# Triggers that make audit_log append-only, per backend, as (name, CREATE statement).
SQLITE_TRIGGERS = {
    f"audit_log_no_{verb.lower()}": f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} "
    "ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
}
PG_FUNCTION = ("CREATE OR REPLACE FUNCTION tracelight_audit_append_only() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               "RAISE EXCEPTION 'the audit log is append-only'; END $$")
PG_TRIGGERS = {
    "audit_log_append_only": "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON "
                             "audit_log FOR EACH ROW EXECUTE FUNCTION "
                             "tracelight_audit_append_only()",
    "audit_log_no_truncate": "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                             "FOR EACH STATEMENT EXECUTE FUNCTION "
                             "tracelight_audit_append_only()",
}


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """Storable on both backends: at most `limit` characters, no NUL, no lone surrogate."""
    value = value[:limit].replace("\x00", "\ufffd")
    return value.encode("utf-8", "replace").decode("utf-8")


def _plain(value: Any, depth: int = 0) -> Any:
    """A strict-JSON copy of `value` (NaN and infinities, odd types and deep nests as text)."""
    if depth > 20:
        return "…"
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k), 200): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return clean_text(str(value))


def clean_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    if detail is None:
        return None
    plain = _plain(detail)
    size = len(json.dumps(plain, ensure_ascii=False))
    if size > MAX_DETAIL:
        return {"truncated": True, "size": size}
    return dict(plain)


def canonical_at(at: datetime) -> str:
    return _aware(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(seq: int, at: datetime, username: str, action: str, target: str,
               reason: str | None, detail: dict[str, Any] | None, ip: str | None,
               prev_hash: str) -> str:
    """SHA-256 (hex) of one entry's canonical content; see the module docstring."""
    body = json.dumps({"seq": seq, "at": canonical_at(at), "username": username,
                       "action": action, "target": target, "reason": reason, "detail": detail,
                       "ip": ip, "prev": prev_hash},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(body.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int | None
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "the chain"
        if self.entry_id is not None:
            where += f" (id {self.entry_id})"
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    entries: int
    head_seq: int
    head_hash: str
    problems: list[str]  # missing protections (triggers)
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.problems


def entry_values(username: str, action: str, target: str = "", *, reason: str | None = None,
                 detail: dict[str, Any] | None = None, ip: str | None = None
                 ) -> dict[str, Any]:
    """One entry's columns, cleaned, stamped now (its seq and hashes come when written)."""
    return dict(at=utcnow(), username=clean_text(username, 64) or "?",
                action=clean_text(action, 64), target=clean_text(target or ""),
                reason=clean_text(reason) if reason else None, detail=clean_detail(detail),
                ip=clean_text(ip, 64) if ip else None)


class _Slot:
    __slots__ = ("done", "error", "seq", "values")

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.done = False
        self.seq = 0
        self.error: BaseException | None = None


class GroupCommit:
    """Appends from many threads of one process, written in as few transactions as can be:
    the first caller to find no write in progress writes every entry waiting (its own
    included) in one transaction; the others wait for it. Every caller returns once its own
    entry is committed (or raises the error that stopped the commit), so nothing is lost if
    the process dies after answering: durable as one append per call, with one write
    transaction (and one turn of SQLite's write lock) per batch instead of per entry."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self._cv = threading.Condition()
        self._pending: list[_Slot] = []
        self._writing = False

    def append(self, values: dict[str, Any]) -> int:
        slot = _Slot(values)
        with self._cv:
            self._pending.append(slot)
            while True:
                if slot.done:
                    if slot.error is not None:
                        raise slot.error
                    return slot.seq
                if not self._writing:
                    batch, self._pending = self._pending, []  # ours among them
                    self._writing = True
                    break
                self._cv.wait()
        try:
            seqs = self.log._write_values([s.values for s in batch])
            for s, seq in zip(batch, seqs, strict=True):
                s.seq = seq
        except BaseException as exc:
            for s in batch:
                s.error = exc
        finally:
            with self._cv:
                for s in batch:
                    s.done = True
                self._writing = False
                self._cv.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.seq


class AuditLog:
    """Append, read and verify the audit log of a Store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    # ---- writing -----------------------------------------------------------------------------
    def _ensure_head(self) -> None:
        """Make the head row when it is missing (a log emptied outside tracelight)."""
        with self.store.connect() as conn:
            if conn.execute(select(audit_head.c.seq).where(audit_head.c.name == HEAD)).first():
                return
            last = conn.execute(select(audit_log.c.seq, audit_log.c.row_hash)
                                .where(audit_log.c.seq.is_not(None))
                                .order_by(audit_log.c.seq.desc()).limit(1)).first()
        try:  # on the engine: a duplicate (another writer made it first) is fine
            with self.store.engine.begin() as conn:
                conn.execute(insert(audit_head).values(
                    name=HEAD, seq=last.seq if last else 0,
                    hash=last.row_hash if last else GENESIS))
        except IntegrityError:
            pass

    def append(self, username: str, action: str, target: str = "", *,
               reason: str | None = None, detail: dict[str, Any] | None = None,
               ip: str | None = None) -> int:
        """Write one entry at the end of the chain; return its seq. Calls from many threads
        at once are written together, in one transaction (group commit): each call returns
        only once its own entry is committed."""
        values = entry_values(username, action, target, reason=reason, detail=detail, ip=ip)
        return self._group.append(values)

    def _write_values(self, entries: Sequence[dict[str, Any]]) -> list[int]:
        """Write these entries (from `entry_values`) at the end of the chain, in order, in one
        transaction; return their seqs."""
        n = len(entries)
        if not n:
            return []
        for attempt in (1, 2):
            with self.store.transaction() as conn:
                # the head's row lock (PostgreSQL) / the write lock (SQLite) is taken first,
                # so no two writers can read the same previous hash
                row = conn.execute(_BUMP_HEAD_BY, {"head": HEAD, "n": n}).first()
                if row is not None:
                    last, prev = int(row.seq), str(row.hash)
                    rows, seqs = [], []
                    for seq, values in enumerate(entries, start=last - n + 1):
                        digest = entry_hash(seq, prev_hash=prev, **values)
                        rows.append({**values, "seq": seq, "prev_hash": prev,
                                     "row_hash": digest})
                        seqs.append(seq)
                        prev = digest
                    conn.execute(_INSERT, rows)
                    conn.execute(_SET_HEAD, {"head": HEAD, "new_hash": prev})
                    return seqs
            if attempt == 1:
                self._ensure_head()
        raise AssertionError("unreachable: the audit head row could not be made")

    def append_many(self, entries: Sequence[Mapping[str, Any]]) -> list[int]:
        """Write several entries at the end of the chain in one transaction, each with its own
        seq and hash, chained in order (keys as `append`'s: username, action, target, reason,
        detail, ip). A bulk action on thousands of targets stays one commit."""
        return self._write_values([
            entry_values(e.get("username") or "", e["action"], e.get("target") or "",
                         reason=e.get("reason"), detail=e.get("detail"), ip=e.get("ip"))
            for e in entries])
    @property
    def _group(self) -> GroupCommit:
        group = self.store.__dict__.get("_audit_group")
        if group is None:  # one per store: every AuditLog over it shares the batching
            group = self.store.__dict__.setdefault("_audit_group", GroupCommit(self))
        return group

    # ---- reading -----------------------------------------------------------------------------
    def query(self, *, username: str | None = None, action: str | None = None,
              since: datetime | None = None, until: datetime | None = None) -> Any:
        stmt = select(audit_log.c.pk, audit_log.c.at, audit_log.c.username, audit_log.c.action,
                      audit_log.c.target, audit_log.c.reason, audit_log.c.detail,
                      audit_log.c.ip, audit_log.c.seq)
        if username:
            stmt = stmt.where(audit_log.c.username == username)
        if action:
            stmt = stmt.where(audit_log.c.action.startswith(action, autoescape=True))
        if since:
            stmt = stmt.where(audit_log.c.at >= since)
        if until:
            stmt = stmt.where(audit_log.c.at < until)
        return stmt

    def entries(self, *, limit: int | None = 100, offset: int = 0,
                **filters: Any) -> tuple[int, list[dict[str, Any]]]:
        stmt = self.query(**filters)
        with self.store.connect() as conn:
            total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            page = stmt.order_by(audit_log.c.pk.desc()).offset(offset)
            if limit is not None:
                page = page.limit(limit)
            rows = [_row(r) for r in conn.execute(page)]
        return int(total), rows

    def iter(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every matching entry, oldest first, streamed (for export)."""
        stmt = self.query(**filters).order_by(audit_log.c.pk)
        with self.store.connect() as conn:
            for r in conn.execution_options(yield_per=1000).execute(stmt):
                yield _row(r)

    def chain_for(self, targets: Sequence[str], prefixes: Sequence[str] = (),
                  ) -> list[dict[str, Any]]:
        """Entries whose target is one of `targets` or starts with one of `prefixes`, oldest
        first, each with its seq, prev_hash and row_hash (a chain of custody that can be
        checked entry by entry against the chain)."""
        cols = (audit_log.c.pk, audit_log.c.at, audit_log.c.username, audit_log.c.action,
                audit_log.c.target, audit_log.c.reason, audit_log.c.detail, audit_log.c.ip,
                audit_log.c.seq, audit_log.c.prev_hash, audit_log.c.row_hash)
        found: dict[int, dict[str, Any]] = {}
        exact = sorted(set(targets))
        starts = sorted(set(prefixes))
        with self.store.connect() as conn:
            for i in range(0, len(exact), 500):
                for r in conn.execute(select(*cols).where(
                        audit_log.c.target.in_(exact[i:i + 500]))):
                    found[r.pk] = _row(r)
            for i in range(0, len(starts), 100):
                cond = or_(*[audit_log.c.target.startswith(p, autoescape=True)
                             for p in starts[i:i + 100]])
                for r in conn.execute(select(*cols).where(cond)):
                    found[r.pk] = _row(r)
        return sorted(found.values(), key=lambda e: (e["seq"] is None, e["seq"] or 0, e["id"]))

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest entry: what a recipient checks the chain against."""
        with self.store.connect() as conn:
            row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                               .where(audit_head.c.name == HEAD)).first()
        return (int(row.seq), str(row.hash)) if row else (0, GENESIS)

    # ---- checking ----------------------------------------------------------------------------
    def verify(self) -> VerifyResult:
        """Walk the whole chain; report missing triggers and the first broken link."""
        problems = self.protection_problems()
        expected_seq, prev = 1, GENESIS
        broken: ChainBreak | None = None
        count = 0
        stmt = select(audit_log).order_by(audit_log.c.seq.is_(None).desc(), audit_log.c.seq)
        with self.store.connect() as conn:
            head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                                .where(audit_head.c.name == HEAD)).first()
            for r in conn.execution_options(yield_per=1000).execute(stmt):
                count += 1
                if broken is not None:
                    continue
                if r.seq is None:
                    broken = ChainBreak(None, r.pk, "entry has no place in the hash chain")
                elif r.seq != expected_seq:
                    gap = (f"entries {expected_seq}..{r.seq - 1} are missing"
                           if r.seq > expected_seq else "entry number repeats")
                    broken = ChainBreak(r.seq, r.pk, gap)
                elif r.prev_hash != prev:
                    broken = ChainBreak(r.seq, r.pk, "does not link to the previous entry")
                elif entry_hash(r.seq, r.at, r.username, r.action, r.target, r.reason,
                                r.detail, r.ip, r.prev_hash) != r.row_hash:
                    broken = ChainBreak(r.seq, r.pk, "content changed after it was written")
                else:
                    expected_seq, prev = r.seq + 1, r.row_hash
        head_seq, head_hash = (int(head.seq), str(head.hash)) if head else (0, GENESIS)
        if broken is None and (head_seq, head_hash) != (expected_seq - 1, prev):
            broken = ChainBreak(head_seq, None,
                                f"the head says {head_seq} entries ending in "
                                f"{head_hash[:12]}, the log has {expected_seq - 1} ending in "
                                f"{prev[:12]} (newest entries removed or head rewritten)")
        return VerifyResult(entries=count, head_seq=head_seq, head_hash=head_hash,
                            problems=problems, broken=broken)

    def protection_problems(self) -> list[str]:
        """What is missing of the append-only triggers (empty: all in place)."""
        dialect = self.store.engine.dialect.name
        with self.store.connect() as conn:
            if dialect == "sqlite":
                have = {r[0] for r in conn.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'audit_log'"))}
                return [f"trigger {name} is missing" for name in SQLITE_TRIGGERS
                        if name not in have]
            if dialect == "postgresql":
                found = {r[0]: r[1] for r in conn.execute(text(
                    "SELECT tgname, tgenabled FROM pg_trigger WHERE "
                    "tgrelid = 'audit_log'::regclass AND NOT tgisinternal"))}
                out = []
                for name in PG_TRIGGERS:
                    if name not in found:
                        out.append(f"trigger {name} is missing")
                    elif found[name] not in ("O", "A"):
                        out.append(f"trigger {name} is disabled")
                return out
        return [f"no append-only protection known for {dialect}"]

    def install_protection(self) -> list[str]:
        """Create the missing append-only triggers; return what was made."""
        missing = {p.split()[1] for p in self.protection_problems()}
        dialect = self.store.engine.dialect.name
        made = []
        with self.store.transaction() as conn:
            if dialect == "sqlite":
                for name, ddl in SQLITE_TRIGGERS.items():
                    if name in missing:
                        conn.execute(text(ddl))
                        made.append(name)
            elif dialect == "postgresql":
                conn.execute(text(PG_FUNCTION))
                for name, ddl in PG_TRIGGERS.items():
                    if name in missing:
                        conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON audit_log"))
                        conn.execute(text(ddl))
                        made.append(name)
        return made


def _row(r: Any) -> dict[str, Any]:
    m = dict(r._mapping)
    m["at"] = _aware(m["at"])
    m["id"] = m.pop("pk")
    return m
