"""Logging in and out (throttled: web/throttle.py), changing one's own password (which ends
every other session and token), and listing and revoking one's own API tokens."""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tracelight.web.auth import (
    DEVICE_COOKIE,
    LOGIN_CSRF_COOKIE,
    MAX_PASSWORD,
    MAX_USERNAME,
    SESSION_COOKIE,
    check_password_strength,
    device_cookie,
    device_trusted,
    hash_password,
    sign,
    verify_password,
)
from tracelight.web.deps import audit, client_ip, ctx, principal, render

router = APIRouter(include_in_schema=False)

SESSION_LIFETIME = timedelta(hours=12)
DEVICE_LIFETIME = timedelta(days=180)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login is a phishing aid."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _secure(request: Request) -> bool:
    flag = ctx(request).secure_cookies
    return request.url.scheme == "https" if flag is None else flag


def _login_page(request: Request, next_url: str, error: str | None = None,
                status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", status_code=status_code, login_csrf=token,
                  next_url=_safe_next(next_url), error=error)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                    secure=_secure(request), max_age=3600, path="/login")
    return resp


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next)


LOGIN_BODY_LIMIT = 8 * 1024  # bytes: a user name, a password, two short fields


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


async def _small_form(request: Request, limit: int) -> dict[str, str]:
    """The urlencoded form of a request whose body is at most `limit` bytes, read no further
    (a 1 MB user name is refused before it is parsed, stored or hashed)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _Refused(413, "The login form was too large.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _Refused(413, "The login form was too large.")
    if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        raise _Refused(400, "The login form was not sent as a form.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10,
                          strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise _Refused(400, "The login form could not be read.") from None
    return dict(pairs)


def _audit_refusal(request: Request, action: str, username: str, **detail: object) -> None:
    """Audit a refused login attempt, bounded per address (web/throttle.py AuditThrottle)."""
    c = ctx(request)
    ip = client_ip(request)
    single, summary = c.limiter.audit.admit(ip)
    valid = 0 < len(username) <= MAX_USERNAME
    if single is not None:
        extra = {} if valid else {"name_length": len(username), "name_start": username[:32]}
        c.accounts.audit(username if valid else "?", action, ip=ip,
                         detail={**detail, **extra, "attempts_from_address": single})
    if summary is not None:
        c.accounts.audit("?", "login.refused_summary", ip=None,
                         detail={"refusals_in_window": summary})


@router.post("/login")
async def login(request: Request) -> Response:
    try:
        form = await _small_form(request, LOGIN_BODY_LIMIT)
    except _Refused as exc:
        await run_in_threadpool(_audit_refusal, request, "login.refused", "",
                                why=f"form refused ({exc.status})")
        return await run_in_threadpool(_login_page, request, "/", exc.message, exc.status)
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: dict[str, str]) -> Response:
    c = ctx(request)
    next_url = form.get("next", "/")[:2000]
    csrf_token = form.get("csrf_token", "")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    username = form.get("username", "").strip()
    password = form.get("password", "")
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        _audit_refusal(request, "login.refused", username, why="login form expired")
        return _login_page(request, next_url, "Your login form expired. Please try again.", 403)
    if not username or len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        _audit_refusal(request, "login.refused", username, why="field too long or empty")
        return _login_page(request, next_url, "Wrong user name or password, or the account is "
                           "disabled.", 400)
    ip = client_ip(request)
    trusted = device_trusted(c.secret, request.cookies.get(DEVICE_COOKIE), username)
    wait = c.limiter.wait_s(ip, username, trusted=trusted)
    if wait > 0:
        _audit_refusal(request, "login.throttled", username, wait_s=round(wait, 1))
        resp = _login_page(request, next_url, "Too many failed attempts. Wait "
                           f"{_duration(wait)} and try again.", 429)
        resp.headers["retry-after"] = str(max(1, math.ceil(wait)))
        return resp
    found = c.accounts.password_hash(username)
    ok = verify_password(found[1] if found else None, password)
    if not ok or found is None or found[0].disabled:
        c.limiter.failed(ip, username, trusted=trusted)
        why = "disabled" if found and found[0].disabled and ok else "bad credentials"
        _audit_refusal(request, "login.failed", username, why=why)
        return _login_page(request, next_url, "Wrong user name or password, or the account is "
                           "disabled.", 401)
    user = found[0]
    c.limiter.succeeded(username, trusted=trusted)
    c.accounts.touch_login(user.pk)
    sid, _csrf = c.accounts.create_session(user.pk, SESSION_LIFETIME)
    c.accounts.audit(user.username, "login", ip=ip)
    _end_visit(c.store, user.username, "next login")  # the last visit ran out unmarked
    dest = "/account" if user.must_change_password else _safe_next(next_url)
    resp = RedirectResponse(dest, status_code=303)
    resp.set_cookie(SESSION_COOKIE, sign(c.secret, sid), httponly=True, samesite="lax",
                    secure=_secure(request), max_age=int(SESSION_LIFETIME.total_seconds()),
                    path="/")
    resp.set_cookie(DEVICE_COOKIE, device_cookie(c.secret, user.username), httponly=True,
                    samesite="strict", secure=_secure(request),
                    max_age=int(DEVICE_LIFETIME.total_seconds()), path="/login")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, math.ceil(seconds))} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def _end_visit(store: Any, username: str, how: str) -> None:
    """What "since my last visit" showed this visit now counts as seen (services.digest)."""
    from tracelight.services.digest import end_visit

    end_visit(store, username, how=how)


@router.post("/logout")
def logout(request: Request) -> Response:
    p = principal(request)
    if p.session_id:
        ctx(request).accounts.end_session(p.session_id)
    audit(request, "logout")
    if p.session_id:
        _end_visit(ctx(request).store, p.user.username, "logout")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


def _account_page(request: Request, status_code: int = 200, message: str | None = None,
                  error: str | None = None) -> Response:
    user = principal(request).user
    tokens = ctx(request).accounts.list_tokens(user.username)
    # why the password form is shown: a one-time password that must go, else the user's choice
    # (tracelight has no password expiry, so there is no third reason)
    why = "one_time" if user.must_change_password else "voluntary"
    return render(request, "account.html", status_code=status_code, message=message,
                  error=error, tokens=tokens, why=why)


@router.get("/account")
def account(request: Request) -> Response:
    return _account_page(request)


@router.post("/account/password")
def change_password(request: Request, current: str = Form(""), new: str = Form(""),
                    repeat: str = Form("")) -> Response:
    c = ctx(request)
    p = principal(request)
    user = p.user
    if max(len(current), len(new), len(repeat)) > MAX_PASSWORD:
        return _account_page(request, 400, error=f"A password may have at most {MAX_PASSWORD} "
                             "characters.")
    found = c.accounts.password_hash(user.username)
    if not found or not verify_password(found[1], current):
        audit(request, "user.password_change_refused", user.username,
              detail={"why": "current password wrong"})
        return _account_page(request, 400, error="The current password is wrong.")
    if new != repeat:
        return _account_page(request, 400, error="The new passwords differ.")
    if new == current:
        return _account_page(request, 400, error="The new password must differ from the "
                             "current one.")
    problem = check_password_strength(new)
    if problem:
        return _account_page(request, 400, error=problem[0].upper() + problem[1:] + ".")
    sessions, tokens = c.accounts.set_password(user.username, hash_password(new),
                                               keep_session=p.session_id)
    audit(request, "user.password_changed", user.username,
          detail={"other_sessions_ended": sessions, "tokens_revoked": tokens})
    ended = []
    if sessions:
        ended.append(f"{sessions} other session{'s' * (sessions != 1)} logged out")
    if tokens:
        ended.append(f"{tokens} API token{'s' * (tokens != 1)} revoked")
    return _account_page(request, message="Password changed." + (
        " " + "; ".join(ended).capitalize() + "." if ended else ""))


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int) -> Response:
    user = principal(request).user
    token = ctx(request).accounts.revoke_token(token_id, username=user.username)
    audit(request, "token.revoke", user.username, detail={"token": token.id,
                                                          "label": token.label})
    return _account_page(request, message=f"Token {token.id} revoked.")
