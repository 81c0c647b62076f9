"""Authentication for the workspace: password hashing, signed session cookies, API tokens,
CSRF tokens, device cookies (web/throttle.py has the login rate limit), and the middleware that
lets nothing through without a login, nor anything but the account page before a one-time
password is changed.

Sessions live in the database (store.accounts.web_sessions), so disabling a user or logging
out ends them at once; the cookie carries only a random session id, HMAC-signed so that a
forged or truncated cookie is rejected before any database look-up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tracelight.store.accounts import MAX_USERNAME, Accounts, User
from tracelight.web.throttle import LoginLimiter

__all__ = [
    "MAX_PASSWORD",
    "MAX_USERNAME",
    "LoginLimiter",
    "create_demo_admin",
    "hash_password",
    "verify_password",
]

SESSION_COOKIE = "tl_session"
LOGIN_CSRF_COOKIE = "tl_login_csrf"
DEVICE_COOKIE = "tl_device"  # "this browser has logged in as NAME before" (web/throttle.py)
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"

# Paths reachable without a login. Static files are the vendored JS/CSS only (no data).
PUBLIC_PATHS = frozenset({"/healthz", "/login", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)

_hasher = PasswordHasher()
# A fixed hash to verify against when the user does not exist, so that a missing user and a
# wrong password take the same time (no user-name probing by timing).
_DUMMY_HASH = _hasher.hash("tracelight-dummy-password")

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # characters; longer ones are refused before any hashing
# Paths a user with a one-time password may reach (everything else: change it first).
ONE_TIME_PATHS = frozenset({"/account", "/account/password", "/logout"})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> str | None:
    """Why this password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a password may have at most {MAX_PASSWORD} characters"
    return None


def generate_password(length: int = 20) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def sign(secret: str, value: str) -> str:
    mac = hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{value}.{mac}"


def unsign(secret: str, signed: str) -> str | None:
    value, _, mac = signed.rpartition(".")
    if not value or not mac:
        return None
    good = hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
    return value if hmac.compare_digest(good, mac) else None


def _name_tag(username: str) -> str:
    return hashlib.sha256(username.lower().encode()).hexdigest()[:16]


def device_cookie(secret: str, username: str) -> str:
    """A signed mark that this browser logged in as `username` (the name itself is not in it)."""
    return sign(secret, f"d1:{_name_tag(username)}:{secrets.token_urlsafe(12)}")


def device_trusted(secret: str, cookie: str | None, username: str) -> bool:
    value = unsign(secret, cookie) if cookie and len(cookie) < 200 else None
    return value is not None and value.split(":")[:2] == ["d1", _name_tag(username)]


@dataclass
class Principal:
    """Who is making a request, and how they proved it."""

    user: User
    via: str  # "session" or "token"
    csrf_token: str | None = None
    session_id: str | None = None
    scope: str | None = None  # a service-account token's scope (check, ingest, read)


def _cookies(scope: dict[str, Any]) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


def _header(scope: dict[str, Any], wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


def resolve_principal(accounts: Accounts, secret: str, scope: dict[str, Any]) -> Principal | None:
    auth = _header(scope, b"authorization")
    if auth and auth.lower().startswith("bearer "):
        found = accounts.token_holder(auth[7:].strip())
        return Principal(found[0], "token", scope=found[1]) if found else None
    raw = _cookies(scope).get(SESSION_COOKIE)
    if raw:
        sid = unsign(secret, raw)
        if sid:
            found = accounts.session_user(sid)
            if found:
                return Principal(found[0], "session", csrf_token=found[1], session_id=sid)
    return None


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")

SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[Any]],
                    Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]


def _scope_allows(token_scope: str, path: str, method: str) -> bool:
    """Where a scoped (service-account) token may go: the platform API under /api/v1/ (each
    route checks the scope itself), and with `read` the read-only (GET) JSON API."""
    if path.startswith("/api/v1/"):
        return True
    return token_scope == "read" and path.startswith("/api/") and method in ("GET", "HEAD")


class AuthMiddleware:
    """Fail closed: every path but PUBLIC_PATHS needs a user. Pages redirect to the login
    page, /api/ answers 401. Adds the security headers to every response."""

    def __init__(self, app: ASGIApp, accounts: Accounts, secret: str,
                 api_only: bool = False) -> None:
        self.api_only = api_only  # every refusal answers JSON (no login page to send to)
        self.app = app
        self.accounts = accounts
        self.secret = secret

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        principal = await anyio.to_thread.run_sync(resolve_principal, self.accounts,
                                                   self.secret, scope)
        scope.setdefault("state", {})["principal"] = principal
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in have]
                if not path.startswith("/static/") and b"cache-control" not in have:
                    # pages hold possible victims' details: never keep them in a cache
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        if principal is None and not public:
            if path.startswith("/api/") or self.api_only:
                body = b'{"detail":"authentication required"}'
                await send_with_headers({"type": "http.response.start", "status": 401,
                                         "headers": [(b"content-type", b"application/json"),
                                                     (b"www-authenticate", b"Bearer"),
                                                     (b"content-length",
                                                      str(len(body)).encode())]})
                await send_with_headers({"type": "http.response.body", "body": body})
                return
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + ("?" + query if query else "")
            from urllib.parse import quote
            location = "/login?next=" + quote(target, safe="")
            await send_with_headers({"type": "http.response.start", "status": 303,
                                     "headers": [(b"location", location.encode()),
                                                 (b"content-length", b"0")]})
            await send_with_headers({"type": "http.response.body", "body": b""})
            return
        if principal is not None and principal.scope is not None and not public \
                and not _scope_allows(principal.scope, path, scope.get("method", "")):
            body = (b'{"detail":"this token is scoped to the platform API (' +
                    principal.scope.encode() + b')"}')
            await send_with_headers({"type": "http.response.start", "status": 403,
                                     "headers": [(b"content-type", b"application/json"),
                                                 (b"content-length",
                                                  str(len(body)).encode())]})
            await send_with_headers({"type": "http.response.body", "body": body})
            return
        if (principal is not None and principal.user.must_change_password and not public
                and path not in ONE_TIME_PATHS):
            await anyio.to_thread.run_sync(self._audit_one_time, principal, scope)
            if path.startswith("/api/"):
                body = (b'{"detail":"change your one-time password first (at /account)"}')
                await send_with_headers({"type": "http.response.start", "status": 403,
                                         "headers": [(b"content-type", b"application/json"),
                                                     (b"content-length",
                                                      str(len(body)).encode())]})
                await send_with_headers({"type": "http.response.body", "body": body})
                return
            await send_with_headers({"type": "http.response.start", "status": 303,
                                     "headers": [(b"location", b"/account"),
                                                 (b"content-length", b"0")]})
            await send_with_headers({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send_with_headers)

    def _audit_one_time(self, principal: Principal, scope: dict[str, Any]) -> None:
        client = scope.get("client")
        self.accounts.audit(principal.user.username, "access.denied", scope.get("path", ""),
                            detail={"method": scope.get("method"), "why": "one-time password"},
                            ip=client[0] if client else None)


def create_demo_admin(store: Any, username: str = "admin") -> tuple[str, str]:
    """Make (or reset) an admin with a fresh random one-time password; return both.

    `tracelight demo` calls this before serving and prints the password once. Until the user
    chooses a new password, every page but the account page and every API call is refused
    (AuthMiddleware), and any session or token the user had before is ended.
    """
    accounts = Accounts(store)
    password = generate_password()
    accounts.reset_one_time_admin(username, hash_password(password))
    accounts.audit("system", "user.demo_admin", username)
    return username, password
