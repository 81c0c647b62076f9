"""Workspace accounts: users and roles, API tokens, browser sessions, the audit log, app secrets.

Passwords are hashed by the caller (the web layer owns argon2); this module only stores hashes.
API tokens and session ids are high-entropy random strings, so a plain SHA-256 of them is
stored (fast lookup, nothing reversible at rest). The audit log is append-only: this module
offers no update or delete, and migration 0002 adds database triggers that refuse both.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tracelight.errors import NotFoundError, UsageError
from tracelight.records import utcnow
from tracelight.store.schema import metadata

ROLES = ("admin", "analyst", "viewer")

users = Table(
    "users", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("must_change_password", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login", DateTime(timezone=True)),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("user_pk", Integer, ForeignKey("users.pk"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used", DateTime(timezone=True)),
    Column("revoked", Boolean, nullable=False, default=False),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("sid_hash", String(64), nullable=False, unique=True),
    Column("user_pk", Integer, ForeignKey("users.pk"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

app_secrets = Table(
    "app_secrets", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

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
    Index("ix_audit_at", "at"),
    Index("ix_audit_user", "username"),
)


@dataclass(frozen=True, slots=True)
class User:
    pk: int
    username: str
    role: str
    disabled: bool
    created_at: datetime
    last_login: datetime | None
    must_change_password: bool = False

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "disabled": self.disabled,
                "created_at": self.created_at, "last_login": self.last_login}


# What each role may do. Viewers read; analysts also act on leads; admins also manage.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "reveal", "case.edit", "export", "watch"}),
    "admin": frozenset({"read", "reveal", "case.edit", "export", "watch", "admin"}),
}


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def insert_unique(store: Any, table: Any, values: dict[str, Any]) -> bool:
    """Insert one row; False (nothing written) if it breaks a unique constraint.

    Runs on the engine directly: Store.transaction() turns every database error into a
    StoreError, and here a duplicate is an expected answer, not a failure.
    """
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _user(row: Any) -> User:
    m = row._mapping
    return User(pk=m["pk"], username=m["username"], role=m["role"], disabled=bool(m["disabled"]),
                created_at=_aware(m["created_at"]), last_login=_aware(m["last_login"]),
                must_change_password=bool(m["must_change_password"]))


USER_COLUMNS = [users.c.pk, users.c.username, users.c.role, users.c.disabled,
                users.c.created_at, users.c.last_login, users.c.must_change_password]


def validate_username(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise UsageError(f"invalid user name {name!r}",
                         hint="1-64 letters, digits, '.', '_', '-' or '@'")
    return name


class Accounts:
    """Account, session, token and audit storage over a Store's engine."""

    def __init__(self, store: Any) -> None:
        self.store = store

    # ---- users ---------------------------------------------------------------------------
    def add_user(self, username: str, password_hash: str, role: str, *,
                 must_change_password: bool = False) -> User:
        username = validate_username(username)
        if role not in ROLES:
            raise UsageError(f"unknown role {role!r}", hint="one of " + ", ".join(ROLES))
        if not insert_unique(self.store, users, dict(
                username=username, password_hash=password_hash, role=role, disabled=False,
                must_change_password=must_change_password, created_at=utcnow())):
            raise UsageError(f"user {username!r} already exists")
        return self.get_user(username)

    def get_user(self, username: str) -> User:
        with self.store.connect() as conn:
            row = conn.execute(select(*USER_COLUMNS).where(users.c.username == username)).first()
        if row is None:
            raise NotFoundError(f"no user {username!r}")
        return _user(row)

    def get_user_by_pk(self, pk: int) -> User:
        with self.store.connect() as conn:
            row = conn.execute(select(*USER_COLUMNS).where(users.c.pk == pk)).first()
        if row is None:
            raise NotFoundError(f"no user with key {pk}")
        return _user(row)

    def password_hash(self, username: str) -> tuple[User, str] | None:
        with self.store.connect() as conn:
            row = conn.execute(select(*USER_COLUMNS, users.c.password_hash)
                               .where(users.c.username == username)).first()
        return None if row is None else (_user(row), row.password_hash)

    def list_users(self) -> list[User]:
        with self.store.connect() as conn:
            return [_user(r) for r in conn.execute(select(*USER_COLUMNS)
                                                   .order_by(users.c.username))]

    def count_admins(self) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(users).where(
                users.c.role == "admin", users.c.disabled.is_(False))).scalar_one())

    def set_disabled(self, username: str, disabled: bool = True) -> User:
        user = self.get_user(username)
        with self.store.transaction() as conn:
            conn.execute(update(users).where(users.c.pk == user.pk).values(disabled=disabled))
            if disabled:  # a disabled user is logged out everywhere at once
                conn.execute(web_sessions.delete().where(web_sessions.c.user_pk == user.pk))
                conn.execute(update(api_tokens).where(api_tokens.c.user_pk == user.pk)
                             .values(revoked=True))
        return self.get_user(username)

    def set_password(self, username: str, password_hash: str) -> None:
        user = self.get_user(username)
        with self.store.transaction() as conn:
            conn.execute(update(users).where(users.c.pk == user.pk).values(
                password_hash=password_hash, must_change_password=False))

    def touch_login(self, user_pk: int) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(users).where(users.c.pk == user_pk).values(last_login=utcnow()))

    # ---- API tokens ------------------------------------------------------------------------
    def create_token(self, username: str, label: str = "") -> str:
        """A new API token for the user; only its hash is kept, so it is shown once."""
        user = self.get_user(username)
        if user.disabled:
            raise UsageError(f"user {username!r} is disabled")
        token = "tl_" + secrets.token_urlsafe(32)
        with self.store.transaction() as conn:
            conn.execute(insert(api_tokens).values(user_pk=user.pk, token_hash=sha256_hex(token),
                                                   label=label, created_at=utcnow(),
                                                   revoked=False))
        return token

    def user_for_token(self, token: str) -> User | None:
        with self.store.connect() as conn:
            row = conn.execute(select(*USER_COLUMNS).select_from(
                api_tokens.join(users, users.c.pk == api_tokens.c.user_pk)).where(
                api_tokens.c.token_hash == sha256_hex(token),
                api_tokens.c.revoked.is_(False))).first()
        if row is None:
            return None
        user = _user(row)
        return None if user.disabled else user

    # ---- sessions --------------------------------------------------------------------------
    def create_session(self, user_pk: int, lifetime: timedelta) -> tuple[str, str]:
        """(session id, CSRF token). The id goes in the cookie; only its hash is stored."""
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = utcnow()
        with self.store.transaction() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
            conn.execute(insert(web_sessions).values(sid_hash=sha256_hex(sid), user_pk=user_pk,
                                                     csrf_token=csrf, created_at=now,
                                                     expires_at=now + lifetime))
        return sid, csrf

    def session_user(self, sid: str) -> tuple[User, str] | None:
        """(user, CSRF token) for a live session of an enabled user, else None."""
        with self.store.connect() as conn:
            row = conn.execute(select(*USER_COLUMNS, web_sessions.c.csrf_token,
                                      web_sessions.c.expires_at).select_from(
                web_sessions.join(users, users.c.pk == web_sessions.c.user_pk)).where(
                web_sessions.c.sid_hash == sha256_hex(sid))).first()
        if row is None or _aware(row.expires_at) < utcnow():
            return None
        user = _user(row)
        return None if user.disabled else (user, row.csrf_token)

    def end_session(self, sid: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.sid_hash == sha256_hex(sid)))

    # ---- secrets ---------------------------------------------------------------------------
    def secret(self, name: str) -> str:
        """A random secret kept in the database (made on first use), e.g. the cookie key."""
        with self.store.connect() as conn:
            value = conn.execute(select(app_secrets.c.value)
                                 .where(app_secrets.c.name == name)).scalar()
        if value:
            return str(value)
        # if another process made it first, theirs is kept and used
        insert_unique(self.store, app_secrets, {"name": name, "value": secrets.token_urlsafe(48)})
        with self.store.connect() as conn:
            return str(conn.execute(select(app_secrets.c.value)
                                    .where(app_secrets.c.name == name)).scalar_one())

    # ---- audit log -------------------------------------------------------------------------
    def audit(self, username: str, action: str, target: str = "", *, reason: str | None = None,
              detail: dict[str, Any] | None = None, ip: str | None = None) -> None:
        with self.store.transaction() as conn:
            conn.execute(insert(audit_log).values(
                at=utcnow(), username=username, action=action, target=target[:2000],
                reason=(reason or None) and reason[:2000], detail=detail, ip=ip))

    def audit_query(self, *, username: str | None = None, action: str | None = None,
                    since: datetime | None = None, until: datetime | None = None) -> Any:
        stmt = select(audit_log)
        if username:
            stmt = stmt.where(audit_log.c.username == username)
        if action:
            stmt = stmt.where(audit_log.c.action.startswith(action, autoescape=True))
        if since:
            stmt = stmt.where(audit_log.c.at >= since)
        if until:
            stmt = stmt.where(audit_log.c.at < until)
        return stmt

    def audit_entries(self, *, limit: int | None = 100, offset: int = 0,
                      **filters: Any) -> tuple[int, list[dict[str, Any]]]:
        stmt = self.audit_query(**filters)
        with self.store.connect() as conn:
            total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            page = stmt.order_by(audit_log.c.pk.desc()).offset(offset)
            if limit is not None:
                page = page.limit(limit)
            rows = [_audit_row(r) for r in conn.execute(page)]
        return int(total), rows

    def iter_audit(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every matching entry, oldest first, streamed (for export)."""
        stmt = self.audit_query(**filters).order_by(audit_log.c.pk)
        with self.store.connect() as conn:
            for r in conn.execution_options(yield_per=1000).execute(stmt):
                yield _audit_row(r)


def _audit_row(r: Any) -> dict[str, Any]:
    m = dict(r._mapping)
    m["at"] = _aware(m["at"])
    m["id"] = m.pop("pk")
    return m
