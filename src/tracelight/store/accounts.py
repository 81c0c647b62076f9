"""Workspace accounts: users and roles, API tokens, browser sessions, app secrets, and the
front door to the audit log (kept in store/audit.py).

Passwords are hashed by the caller (the web layer owns argon2); this module only stores hashes.
API tokens and session ids are high-entropy random strings, so a plain SHA-256 of them is
stored (fast lookup, nothing reversible at rest). Tokens expire (`TRACELIGHT_TOKEN_DAYS`,
90 days by default) and can be revoked one by one. Changing a password ends every other
session of that user and revokes all of their tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tracelight import settings
from tracelight.errors import NotFoundError, UsageError
from tracelight.records import utcnow
from tracelight.store.audit import AuditLog
from tracelight.store.schema import metadata

ROLES = ("admin", "analyst", "viewer", "advocate")

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
    Column("expires_at", DateTime(timezone=True)),  # None (tokens from before 0006): expired
    Column("scope", String(16)),  # check, ingest, read; None: the user's full role (0009)
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
# Advocates do outreach to possible victims and nothing else; no other role may see outreach.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "reveal", "case.edit", "export", "watch", "ingest"}),
    "admin": frozenset({"read", "reveal", "case.edit", "export", "watch", "ingest", "admin"}),
    "advocate": frozenset({"outreach"}),
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


MAX_USERNAME = 64

# built once: every API call with a Bearer token runs it
_TOKEN_FINGERPRINT = select(func.count(), func.sum(case((api_tokens.c.revoked.is_(True), 1),
                                                     else_=0))).select_from(api_tokens)
_TOKEN_HOLDER = (select(*USER_COLUMNS, api_tokens.c.pk.label("token_pk"), api_tokens.c.expires_at,
                        api_tokens.c.last_used, api_tokens.c.scope)
                 .select_from(api_tokens.join(users, users.c.pk == api_tokens.c.user_pk))
                 .where(api_tokens.c.token_hash == bindparam("token_hash"),
                        api_tokens.c.revoked.is_(False)))


def validate_username(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_USERNAME or not all(c.isalnum() or c in "._-@" for c in name):
        shown = name if len(name) <= MAX_USERNAME else name[:MAX_USERNAME] + "…"
        raise UsageError(f"invalid user name {shown!r}",
                         hint="1-64 letters, digits, '.', '_', '-' or '@'")
    return name


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as listed (the token itself is never stored, only its hash)."""

    id: int
    username: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_used: datetime | None
    revoked: bool
    scope: str | None = None

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        if self.expires_at is None or self.expires_at <= utcnow():
            return "expired"
        return "active"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "label": self.label,
                "created_at": self.created_at, "expires_at": self.expires_at,
                "last_used": self.last_used, "status": self.status, "scope": self.scope}


# A service-account token's scope: what a platform's system may do with it (docs/platform.md).
TOKEN_SCOPES = ("check", "ingest", "read")
TOKEN_COLUMNS = [api_tokens.c.pk, users.c.username, api_tokens.c.label, api_tokens.c.created_at,
                 api_tokens.c.expires_at, api_tokens.c.last_used, api_tokens.c.revoked,
                 api_tokens.c.scope]
TOKEN_TOUCH = timedelta(minutes=5)  # last_used is refreshed at most this often
TOKEN_POLL_SECONDS = 1.0  # how often a process re-reads the tokens' fingerprint
MISS = object()  # `cached_token_holder`: not known here, ask `token_holder`


class _TokenCache:
    """The live tokens this process recently saw, by their SHA-256: (user, scope, expiry).
    An entry is used for at most `ttl` seconds; every change made through Accounts in this
    process empties it at once, and a change made by another process (a revocation by
    `tracelight token revoke`, a user disabled by another worker) is seen within
    TOKEN_POLL_SECONDS by the fingerprint of the tokens (count, revoked count): revoking a
    token, disabling a user, changing a password or resetting an admin all revoke tokens. An
    unknown token is never cached."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[User, str | None, datetime, float]] = {}
        self.fingerprint: tuple[int, int] | None = None
        self.polled = 0.0
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.entries = {}
            self.fingerprint = None
            self.polled = 0.0



def _token(row: Any) -> TokenInfo:
    return TokenInfo(id=row.pk, username=row.username, label=row.label,
                     created_at=_aware(row.created_at), expires_at=_aware(row.expires_at),
                     last_used=_aware(row.last_used), revoked=bool(row.revoked),
                     scope=row.scope)


class Accounts:
    """Account, session, token and audit storage over a Store's engine."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.log = AuditLog(store)

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
        if len(username) > MAX_USERNAME:
            return None
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
                _end_credentials(conn, user.pk)
        self._forget_tokens()
        return self.get_user(username)

    def set_password(self, username: str, password_hash: str, *,
                     keep_session: str | None = None) -> tuple[int, int]:
        """Store a new password; end every session of the user but `keep_session` (the one
        that made the change) and revoke all their tokens. Returns (sessions, tokens) ended."""
        user = self.get_user(username)
        with self.store.transaction() as conn:
            conn.execute(update(users).where(users.c.pk == user.pk).values(
                password_hash=password_hash, must_change_password=False))
            ended = _end_credentials(conn, user.pk, keep_session)
        self._forget_tokens()
        return ended

    def reset_one_time_admin(self, username: str, password_hash: str) -> User:
        """Make `username` an enabled admin whose (one-time) password must be changed before
        anything else works; every session and token they had ends. Creates the user if new."""
        if self.password_hash(username) is None:
            return self.add_user(username, password_hash, "admin", must_change_password=True)
        user = self.get_user(username)
        with self.store.transaction() as conn:
            conn.execute(update(users).where(users.c.pk == user.pk).values(
                password_hash=password_hash, must_change_password=True, role="admin",
                disabled=False))
            _end_credentials(conn, user.pk)
        self._forget_tokens()
        return self.get_user(username)

    def touch_login(self, user_pk: int) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(users).where(users.c.pk == user_pk).values(last_login=utcnow()))

    # ---- API tokens ------------------------------------------------------------------------
    def create_token(self, username: str, label: str = "", *, days: int | None = None,
                     scope: str | None = None) -> str:
        """A new API token for the user, valid `days` (default TRACELIGHT_TOKEN_DAYS); only its
        hash is kept, so it is shown once. A `scope` (TOKEN_SCOPES) limits it to the platform
        API's check, ingest or read calls (a service account's token)."""
        if scope is not None and scope not in TOKEN_SCOPES:
            raise UsageError(f"unknown token scope {scope!r}",
                             hint="one of " + ", ".join(TOKEN_SCOPES))
        days = settings.get_int("token_days") if days is None else days
        if not 1 <= days <= 3650:
            raise UsageError(f"a token lives 1 to 3650 days, not {days}")
        user = self.get_user(username)
        if user.disabled:
            raise UsageError(f"user {username!r} is disabled")
        token = "tl_" + secrets.token_urlsafe(32)
        now = utcnow()
        with self.store.transaction() as conn:
            conn.execute(insert(api_tokens).values(user_pk=user.pk, token_hash=sha256_hex(token),
                                                   label=label[:200], created_at=now,
                                                   expires_at=now + timedelta(days=days),
                                                   revoked=False, scope=scope))
        return token

    def user_for_token(self, token: str) -> User | None:
        """The enabled user behind a live (not revoked, not expired) token, else None."""
        found = self.token_holder(token)
        return found[0] if found else None

    def token_holder(self, token: str) -> tuple[User, str | None] | None:
        """(user, scope) behind a live token, else None; scope None: the user's full role.
        A token seen in the last `token_cache_seconds` is answered from memory (see
        _TokenCache for how a revocation reaches it); 0 looks every call up."""
        if len(token) > 200:
            return None
        digest = sha256_hex(token)
        cache, ttl = self._token_cache()
        if ttl > 0:
            self._poll_tokens(cache)
            got = self._cached(cache, digest, ttl)
            if got is not MISS:
                return got
        now = utcnow()
        with self.store.connect() as conn:
            row = conn.execute(_TOKEN_HOLDER, {"token_hash": digest}).first()
        if row is None or row.expires_at is None or _aware(row.expires_at) <= now:
            return None
        user = _user(row)
        if user.disabled:
            return None
        if row.last_used is None or _aware(row.last_used) < now - TOKEN_TOUCH:
            with self.store.transaction() as conn:
                conn.execute(update(api_tokens).where(api_tokens.c.pk == row.token_pk)
                             .values(last_used=now))
        if ttl > 0:
            with cache.lock:
                if len(cache.entries) >= 10_000:
                    cache.entries = {}
                cache.entries[digest] = (user, row.scope, _aware(row.expires_at),
                                         time.monotonic())
        return user, row.scope

    def cached_token_holder(self, token: str) -> Any:
        """What `token_holder` would answer, from memory only (no database, so an event loop
        may call it): (user, scope), or MISS when the token is not cached, its entry is old
        or the tokens' fingerprint is due to be read again (ask `token_holder` then)."""
        cache, ttl = self._token_cache()
        if ttl <= 0 or len(token) > 200 or \
                time.monotonic() - cache.polled > TOKEN_POLL_SECONDS:
            return MISS
        return self._cached(cache, sha256_hex(token), ttl)

    @staticmethod
    def _cached(cache: _TokenCache, digest: str, ttl: int) -> Any:
        got = cache.entries.get(digest)
        if got is None:
            return MISS
        user, scope, expires, at = got
        if time.monotonic() - at > ttl or expires <= utcnow():
            return MISS
        return user, scope

    def _token_cache(self) -> tuple[_TokenCache, int]:
        cache = self.store.__dict__.get("_token_cache")
        if cache is None:  # one per store: every Accounts over it shares (and clears) it
            cache = self.store.__dict__.setdefault("_token_cache", _TokenCache())
        return cache, settings.get_int("token_cache_seconds")

    def _poll_tokens(self, cache: _TokenCache) -> None:
        """Re-read the tokens' fingerprint when TOKEN_POLL_SECONDS have passed; forget every
        cached token when it changed (another process revoked one)."""
        if time.monotonic() - cache.polled <= TOKEN_POLL_SECONDS:
            return
        with self.store.connect() as conn:
            n, revoked = conn.execute(_TOKEN_FINGERPRINT).one()
        found = (int(n or 0), int(revoked or 0))
        with cache.lock:
            if found != cache.fingerprint:
                cache.entries = {}
                cache.fingerprint = found
            cache.polled = time.monotonic()

    def _forget_tokens(self) -> None:
        cache = self.store.__dict__.get("_token_cache")
        if cache is not None:
            cache.clear()

    def list_tokens(self, username: str | None = None) -> list[TokenInfo]:
        stmt = (select(*TOKEN_COLUMNS)
                .select_from(api_tokens.join(users, users.c.pk == api_tokens.c.user_pk))
                .order_by(api_tokens.c.pk))
        if username is not None:
            stmt = stmt.where(users.c.username == username)
        with self.store.connect() as conn:
            return [_token(r) for r in conn.execute(stmt)]

    def revoke_token(self, token_id: int, *, username: str | None = None) -> TokenInfo:
        """Revoke one token by its id (only among `username`'s tokens when given)."""
        found = [t for t in self.list_tokens(username) if t.id == token_id]
        if not found:
            raise NotFoundError(f"no token {token_id}" + (f" of {username!r}" if username else ""))
        with self.store.transaction() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.pk == token_id)
                         .values(revoked=True))
        self._forget_tokens()
        return replace(found[0], revoked=True)

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

    def count_sessions(self, username: str) -> int:
        user = self.get_user(username)
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(web_sessions).where(
                web_sessions.c.user_pk == user.pk,
                web_sessions.c.expires_at >= utcnow())).scalar_one())

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

    # ---- audit log (store/audit.py) --------------------------------------------------------
    def audit(self, username: str, action: str, target: str = "", *, reason: str | None = None,
              detail: dict[str, Any] | None = None, ip: str | None = None) -> None:
        self.log.append(username, action, target, reason=reason, detail=detail, ip=ip)

    def audit_entries(self, *, limit: int | None = 100, offset: int = 0,
                      **filters: Any) -> tuple[int, list[dict[str, Any]]]:
        return self.log.entries(limit=limit, offset=offset, **filters)

    def iter_audit(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every matching entry, oldest first, streamed (for export)."""
        return self.log.iter(**filters)


def _end_credentials(conn: Any, user_pk: int, keep_session: str | None = None) -> tuple[int, int]:
    """Delete the user's sessions (but `keep_session`) and revoke their tokens, in `conn`'s
    transaction. Returns how many of each ended."""
    stmt = web_sessions.delete().where(web_sessions.c.user_pk == user_pk)
    if keep_session is not None:
        stmt = stmt.where(web_sessions.c.sid_hash != sha256_hex(keep_session))
    sessions = conn.execute(stmt).rowcount
    tokens = conn.execute(update(api_tokens).where(api_tokens.c.user_pk == user_pk,
                                                   api_tokens.c.revoked.is_(False))
                          .values(revoked=True)).rowcount
    return int(sessions or 0), int(tokens or 0)
