"""Logging in and out, and changing one's own password."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tracelight.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_password_strength,
    hash_password,
    sign,
    verify_password,
)
from tracelight.web.deps import audit, client_ip, ctx, principal, render

router = APIRouter(include_in_schema=False)

SESSION_LIFETIME = timedelta(hours=12)


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


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""),
          csrf_token: str = Form(""), next: str = Form("/")) -> Response:
    c = ctx(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        return _login_page(request, next, "Your login form expired. Please try again.", 403)
    ip = client_ip(request)
    username = username.strip()
    if c.limiter.blocked(ip, username):
        c.accounts.audit(username or "?", "login.blocked", ip=ip)
        return _login_page(request, next, "Too many failed attempts. Wait 15 minutes and "
                           "try again.", 429)
    found = c.accounts.password_hash(username) if username else None
    ok = verify_password(found[1] if found else None, password)
    if not ok or found is None or found[0].disabled:
        c.limiter.failed(ip, username)
        why = "disabled" if found and found[0].disabled and ok else "bad credentials"
        c.accounts.audit(username or "?", "login.failed", detail={"why": why}, ip=ip)
        return _login_page(request, next, "Wrong user name or password, or the account is "
                           "disabled.", 401)
    user = found[0]
    c.limiter.succeeded(username)
    c.accounts.touch_login(user.pk)
    sid, _csrf = c.accounts.create_session(user.pk, SESSION_LIFETIME)
    c.accounts.audit(user.username, "login", ip=ip)
    dest = "/account" if user.must_change_password else _safe_next(next)
    resp = RedirectResponse(dest, status_code=303)
    resp.set_cookie(SESSION_COOKIE, sign(c.secret, sid), httponly=True, samesite="lax",
                    secure=_secure(request), max_age=int(SESSION_LIFETIME.total_seconds()),
                    path="/")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(request: Request) -> Response:
    p = principal(request)
    if p.session_id:
        ctx(request).accounts.end_session(p.session_id)
    audit(request, "logout")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/account")
def account(request: Request) -> Response:
    return render(request, "account.html", message=None, error=None)


@router.post("/account/password")
def change_password(request: Request, current: str = Form(""), new: str = Form(""),
                    repeat: str = Form("")) -> Response:
    c = ctx(request)
    user = principal(request).user
    found = c.accounts.password_hash(user.username)
    if not found or not verify_password(found[1], current):
        return render(request, "account.html", status_code=400, message=None,
                      error="The current password is wrong.")
    if new != repeat:
        return render(request, "account.html", status_code=400, message=None,
                      error="The new passwords differ.")
    problem = check_password_strength(new)
    if problem:
        return render(request, "account.html", status_code=400, message=None,
                      error=problem[0].upper() + problem[1:] + ".")
    c.accounts.set_password(user.username, hash_password(new))
    audit(request, "user.password_changed", user.username)
    return render(request, "account.html", message="Password changed.", error=None)

