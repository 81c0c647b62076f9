"""What every route uses: the current user, permission checks, CSRF, audit, rendering."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tracelight.errors import AuthError, ForbiddenError
from tracelight.services.networks import RankingCache
from tracelight.services.queue import ChoicesCache
from tracelight.store import Store
from tracelight.store.accounts import Accounts, User
from tracelight.store.cases import Cases, Watchlists
from tracelight.web.auth import CSRF_FIELD, CSRF_HEADER, Principal

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class WebContext:
    """Everything the app holds, on `app.state.ctx`."""

    store: Store
    accounts: Accounts
    cases: Cases
    watch: Watchlists
    templates: Jinja2Templates
    region: str
    image_dir: str | None
    secure_cookies: bool | None
    limiter: Any
    secret: str
    network_ranking: RankingCache = field(default_factory=RankingCache)
    filter_choices: ChoicesCache = field(default_factory=ChoicesCache)


def ctx(request: Request) -> WebContext:
    return request.app.state.ctx


def principal(request: Request) -> Principal:
    p = request.scope.get("state", {}).get("principal")
    if p is None:
        raise AuthError("authentication required")
    return p


def current_user(request: Request) -> User:
    return principal(request).user


def require(request: Request, permission: str) -> User:
    user = current_user(request)
    if not user.can(permission):
        raise ForbiddenError(f"your role ({user.role}) may not do this",
                             hint=f"needs the {permission!r} permission")
    return user


async def csrf_guard(request: Request) -> None:
    """Every state-changing request made with a session cookie must carry the session's CSRF
    token (form field or X-CSRF-Token header). Bearer-token calls carry no ambient cookie, so
    they cannot be forged cross-site and need none."""
    if request.method not in UNSAFE or request.url.path == "/login":
        return
    p = request.scope.get("state", {}).get("principal")
    if p is None or p.via != "session":
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not p.csrf_token or not hmac.compare_digest(sent, p.csrf_token):
        raise ForbiddenError("missing or wrong CSRF token",
                             hint="reload the page and try again")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def audit(request: Request, action: str, target: str = "", *, reason: str | None = None,
          detail: dict[str, Any] | None = None) -> None:
    p = request.scope.get("state", {}).get("principal")
    who = p.user.username if p else "anonymous"
    reason = reason or request.headers.get("x-tracelight-reason") or None
    ctx(request).accounts.audit(who, action, target, reason=reason, detail=detail,
                                ip=client_ip(request))


def render(request: Request, template: str, status_code: int = 200,
           **values: Any) -> HTMLResponse:
    p = request.scope.get("state", {}).get("principal")
    user = p.user if p else None
    c = ctx(request)
    unread = c.watch.unread_count(user.username) if user else 0
    return c.templates.TemplateResponse(request, template, {
        "user": user, "csrf_token": p.csrf_token if p else "", "unread": unread,
        "path": request.url.path, **values}, status_code=status_code)
