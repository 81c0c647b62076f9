"""The platform API under /api/v1: check an ad at posting time, push ads.

Thin: each route reads a size-limited body, calls a service (services/check.py,
services/ingest.py) and audits the caller and the verdict, never the ad's content unless it
was stored. `tracelight serve --api-only` serves only these routes and /healthz.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import threading
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import to_json
from starlette.background import BackgroundTask

from tracelight import settings
from tracelight.errors import (
    BusyError,
    ForbiddenError,
    TooLargeError,
    TracelightError,
    UsageError,
)
from tracelight.services.check import Checker, CheckImage, alert, image_from_hashes
from tracelight.services.webhooks import deliver_due
from tracelight.store.accounts import MISS
from tracelight.web.auth import SECURITY_HEADERS, Principal, _header
from tracelight.web.deps import WebContext, audit, client_ip, ctx, principal

router = APIRouter(prefix="/api/v1", tags=["platform"])


CHECK_EXAMPLE: dict[str, Any] = {
    "title": "new in town", "body": "sweet girl, call 206 555 0143", "location": "Seattle",
    "images": [{"sha256": "0" * 64}]}


class ImageIn(BaseModel):
    """One picture: its bytes as base64 (`data`), or its hashes (hex)."""

    data: str | None = Field(None, description="the image bytes, base64")
    md5: str | None = None
    sha256: str | None = None
    pdq: str | None = Field(None, description="PDQ hash, 64 hex characters")


class CheckIn(BaseModel):
    """An ad in the input contract (docs/formats.md), about to be published."""

    title: str = ""
    body: str = ""
    location: str | None = None
    url: str | None = None
    id: str | None = Field(None, description="the platform's id; needed with store=true")
    source: str | None = Field(None, description="where it was posted (default 'check')")
    posted_at: str | None = None
    images: list[ImageIn] = Field(default_factory=list, max_length=10)
    store: bool = Field(False, description="keep the ad in the store (default: nothing kept)")

    model_config = {"json_schema_extra": {"examples": [CHECK_EXAMPLE]}}


class PolicyOut(BaseModel):
    action: str
    rule: str | None
    would_have: str
    dry_run: bool
    fired: list[str]


class CheckOut(BaseModel):
    """The verdict: risk with reasons and spans, identifiers, hash-bank hits, watchlist hits,
    known networks (with the evidence that matched) and the policy's action."""

    risk: float
    reasons: list[dict[str, Any]]
    identifiers: list[dict[str, Any]]
    images: list[dict[str, Any]]
    bank_hits: list[dict[str, Any]]
    watchlist_hits: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    action: str = Field(description="allow, review or block")
    policy: PolicyOut
    signals: dict[str, float]
    stored: dict[str, Any] | None

    model_config = {"json_schema_extra": {"examples": [{
        "risk": 0.81, "reasons": [{"code": "new_in_town", "weight": 0.6, "evidence": [
            {"field": "title", "start": 0, "end": 11, "text": "new in town"}]}],
        "identifiers": [{"kind": "phone", "value": "+12065550143", "field": "body",
                         "start": 17, "end": 29, "raw": "206 555 0143", "obfuscated": False}],
        "images": [], "bank_hits": [], "watchlist_hits": [],
        "networks": [{"id": "n-3f2a", "risk": 0.77, "size": 14, "label": "Seattle · 14 ads",
                      "matched": [{"kind": "phone", "value": "+12065550143"}]}],
        "action": "review", "policy": {"action": "review", "rule": "high-risk",
                                       "would_have": "review", "dry_run": False,
                                       "fired": ["high-risk-network", "high-risk"]},
        "signals": {"risk": 0.81, "network_risk": 0.77, "network_match": 1,
                    "watchlist_hit": 0, "bank_match": 0}, "stored": None}]}}


def add_schemas(app: Any) -> None:
    """Put the request models (read from a size-limited body, not by FastAPI) into the
    OpenAPI components, so the docs list their fields."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return dict(app.openapi_schema)
        schema: dict[str, Any] = base()
        found = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (CheckIn, ImageIn):
            one = model.model_json_schema(ref_template="#/components/schemas/{model}")
            one.pop("$defs", None)
            found.setdefault(model.__name__, one)
        return schema

    app.openapi = openapi


async def read_limited(request: Request) -> bytes:
    """The request body, refused (413) once it passes api_max_body_bytes, read no further."""
    limit = settings.get_int("api_max_body_bytes")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLargeError(f"request body over the {limit:,}-byte limit")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLargeError(f"request body over the {limit:,}-byte limit")
    return bytes(body)


def _make_checker(app: Any) -> Checker:
    from tracelight.score.policy import load_policy
    c: WebContext = app.state.ctx
    return Checker(c.store, policy=load_policy(settings.get("policy") or None), region=c.region)


def start_checker(app: Any) -> Checker:
    """At server start (create_app(warm=True)): a warmed Checker whose banks reload in the
    background when they change."""
    found = _make_checker(app)
    found.warm()
    found.start_refresh()
    app.state.checker = found
    return found


def checker_of(app: Any) -> Checker:
    found: Checker | None = getattr(app.state, "checker", None)
    if found is None:
        with _CHECKER_LOCK:
            found = getattr(app.state, "checker", None)
            if found is None:
                found = app.state.checker = _make_checker(app)
    return found


def checker(request: Request) -> Checker:
    return checker_of(request.app)


_CHECKER_LOCK = threading.Lock()


def _images(items: list[ImageIn]) -> list[CheckImage]:
    out: list[CheckImage] = []
    for i, item in enumerate(items):
        if item.data is not None:
            try:
                data = base64.b64decode(item.data, validate=True)
            except (binascii.Error, ValueError):
                raise UsageError(f"images[{i}].data is not valid base64") from None
            out.append(CheckImage(data=data))
        else:
            try:
                out.append(image_from_hashes(item.md5, item.sha256, item.pdq))
            except UsageError as exc:
                raise UsageError(f"images[{i}]: {exc.message}") from None
    return out


def parse_json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise UsageError("the body is not valid UTF-8 JSON") from None


def parse_check(raw: bytes) -> CheckIn:
    """The check's body, parsed and validated in one pass (pydantic's JSON parser); a
    UsageError naming the first bad field, or saying the body is not JSON."""
    try:
        return CheckIn.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first.get("type") in ("json_invalid", "json_type"):
            raise UsageError("the body is not valid UTF-8 JSON") from None
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise UsageError(f"invalid {where or 'body'}: {first.get('msg', 'bad value')}"
                         ) from None


@router.post("/check", summary="Check an ad before it is published",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/CheckIn"},
                                      "example": CHECK_EXAMPLE}}}},
             responses={200: {"model": CheckOut}, 400: {"description": "bad input"},
                        401: {"description": "no or unknown token"},
                        403: {"description": "token lacks the check scope"},
                        413: {"description": "body over api_max_body_bytes"}})
async def check(request: Request) -> Any:
    """Risk with reasons and spans, identifiers, hash-bank hits, watchlist hits, known
    networks and the recommended action of the policy. Nothing is stored unless
    `store` is true. Needs the `check` scope (or, for a person, the read permission)."""
    # A Bearer-token call is answered by FastCheck before it gets here; this route serves
    # people signed in to the workspace (session cookie, CSRF-checked) the same answer.
    from starlette.concurrency import run_in_threadpool
    p = principal(request)
    scope_error(p, "check")
    raw = await read_limited(request)
    # one trip to a worker thread: check, audit (committed before the answer), alerts
    answer, queued = await run_in_threadpool(
        check_audit_alert, request.app, p, raw, client_ip(request),
        request.headers.get("x-tracelight-reason") or None)
    # sent after the answer (the poster never waits on a receiver)
    return Response(answer, media_type="application/json",
                    background=BackgroundTask(deliver_soon, request.app) if queued else None)


def check_audit_alert(app: Any, p: Principal, raw: bytes, ip: str,
                      reason: str | None) -> tuple[bytes, int]:
    """Parse and validate the body, check the ad, audit the caller and the verdict (committed
    before this returns) and queue its webhooks: the answer's JSON and how many were queued."""
    body = parse_check(raw)
    if body.store:
        scope_error(p, "ingest")
    ad = body.model_dump(exclude={"images", "store"}, exclude_none=True)
    images = _images(body.images)
    result = checker_of(app).check(ad, images, store=body.store)
    detail = {"api": True, **result.verdict()}
    target = f"{result.stored['source']}/{result.stored['id']}" if result.stored else ""
    c: WebContext = app.state.ctx
    c.accounts.audit(p.user.username, "api.check", target, reason=reason, detail=detail,
                     ip=ip)
    queued = alert(c.store, result)
    return to_json(result.to_dict()), queued


def deliver_soon(app: Any) -> None:
    """After an answer that queued webhooks: wake the server's deliverer (services/webhooks
    Deliverer, what `tracelight serve` runs), else send what is due here."""
    found = getattr(app.state, "deliverer", None)
    if found is not None:
        found.wake()
    else:
        deliver_due(app.state.ctx.store)


def scope_error(p: Principal, scope: str) -> None:
    """A scoped (service-account) token must carry this scope, and its user (or a person)
    must hold the matching permission of their role."""
    if p.scope is not None and p.scope != scope:
        raise ForbiddenError(f"this token's scope is {p.scope!r}",
                             hint=f"this call needs a token with scope {scope!r}")
    permission = {"check": "read", "ingest": "ingest", "read": "read"}[scope]
    if not p.user.can(permission):
        raise ForbiddenError(f"your role ({p.user.role}) may not do this",
                             hint=f"needs the {permission!r} permission")


def require_scope(request: Request, scope: str) -> None:
    scope_error(principal(request), scope)


CHECK_PATH = "/api/v1/check"


class FastCheck:
    """`POST /api/v1/check` from a Bearer-token caller (a platform's service account),
    answered at the ASGI level, in front of FastAPI's routing, dependencies and request
    objects: the token from the per-process cache (store/accounts.py `_TokenCache`; a
    revocation is seen within a second), the body read up to api_max_body_bytes, then one
    trip to a worker thread (parse, check, audit, alerts) and the answer with the security
    headers. The same checks as the full stack: the token's scope and the role's permission,
    a refusal audited as `access.denied`, every call audited with caller and verdict before
    it answers. Anything else (another path, a session cookie, no or an unknown token, a
    one-time password) goes on to the full app, which answers as it always did."""

    def __init__(self, app: Any, web_app: Any) -> None:
        self.app = app
        self.web_app = web_app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != CHECK_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        auth = _header(scope, b"authorization")
        if not auth or auth[:7].lower() != "bearer ":
            await self.app(scope, receive, send)
            return
        c: WebContext = self.web_app.state.ctx
        token = auth[7:].strip()
        found = c.accounts.cached_token_holder(token)
        if found is MISS:
            found = await anyio.to_thread.run_sync(c.accounts.token_holder, token)
        if found is None or found[0].must_change_password:
            await self.app(scope, receive, send)  # 401 / 403, answered and audited there
            return
        p = Principal(found[0], "token", scope=found[1])
        scope.setdefault("state", {})["principal"] = p
        client = scope.get("client")
        ip = client[0] if client else "?"
        reason = _header(scope, b"x-tracelight-reason") or None
        queued = 0
        try:
            scope_error(p, "check")
            raw = await _read_body(scope, receive)
            answer, queued = await anyio.to_thread.run_sync(
                check_audit_alert, self.web_app, p, raw, ip, reason)
            status = 200
        except TracelightError as exc:
            if isinstance(exc, ForbiddenError):  # every refusal is on the record
                await anyio.to_thread.run_sync(functools.partial(
                    c.accounts.audit, p.user.username, "access.denied", CHECK_PATH,
                    reason=reason, detail={"method": "POST", "why": exc.message}, ip=ip))
            answer, status = to_json({"detail": str(exc)}), exc.http_status
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer)).encode()), *_ANSWER_HEADERS]})
        await send({"type": "http.response.body", "body": answer})
        if queued:  # after the answer: the poster never waits on a receiver
            deliverer = getattr(self.web_app.state, "deliverer", None)
            if deliverer is not None:
                deliverer.wake()
            else:
                await anyio.to_thread.run_sync(deliver_soon, self.web_app)


_ANSWER_HEADERS = [*SECURITY_HEADERS, (b"cache-control", b"no-store")]


async def _read_body(scope: dict[str, Any], receive: Any) -> bytes:
    """The request body from ASGI messages, refused (413) once it passes
    api_max_body_bytes, read no further."""
    limit = settings.get_int("api_max_body_bytes")
    declared = _header(scope, b"content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLargeError(f"request body over the {limit:,}-byte limit")
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise UsageError("the client went away before sending the whole body")
        body += message.get("body", b"")
        if len(body) > limit:
            raise TooLargeError(f"request body over the {limit:,}-byte limit")
        if not message.get("more_body", False):
            return bytes(body)


@router.post("/ads", summary="Push ads into the store (JSON Lines or a JSON array)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-ndjson": {"schema": {"type": "string"}, "example":
                                          '{"id": "a1", "source": "platform-x", "title": '
                                          '"hello", "body": "text"}\n'},
                 "application/json": {"schema": {"type": "array", "items": {
                     "type": "object"}}, "example": [{"id": "a1", "source": "platform-x",
                                                      "title": "hello", "body": "text"}]}}}},
             responses={200: {"description": "per-record results and the run's counts",
                              "content": {"application/json": {"example": {
                                  "summary": {"run": 7, "status": "done", "read": 2, "new": 1,
                                              "updated": 0, "unchanged": 0, "rejected": 1},
                                  "results": [{"line": 1, "id": "a1", "status": "accepted"},
                                              {"line": 2, "status": "rejected",
                                               "reason": "missing required field 'id'"}]}}}},
                        413: {"description": "body over api_max_body_bytes"},
                        503: {"description": "another push is being stored: retry later"}})
async def push(request: Request, source: str | None = None) -> Any:
    """Stores ads with the rules of `tracelight ingest` (rejects, idempotence: an ad sent
    twice is `unchanged`). Image references are not followed. One push at a time: a second
    answers 503 with Retry-After. Needs the `ingest` scope (or the ingest permission)."""
    from starlette.concurrency import run_in_threadpool

    from tracelight.services.push import push_ads
    require_scope(request, "ingest")
    lock = _push_lock(request)
    if not lock.acquire(blocking=False):
        raise BusyError("another push is being stored", hint="retry in a few seconds")
    try:
        raw = await read_limited(request)
        c = ctx(request)
        result = await run_in_threadpool(
            push_ads, c.store, raw, content_type=request.headers.get("content-type", ""),
            default_source=source, region=c.region)
    finally:
        lock.release()
    await run_in_threadpool(audit, request, "api.ads", detail={"api": True, **{
        k: result.summary.get(k) for k in ("run", "read", "new", "updated", "unchanged",
                                           "rejected")}})
    # webhooks the new ads raised (watchlist hits, bank matches, high-risk networks) are
    # sent after the answer
    return JSONResponse(result.to_dict(), background=BackgroundTask(deliver_soon, request.app))


def _push_lock(request: Request) -> Any:
    import threading
    lock = getattr(request.app.state, "push_lock", None)
    if lock is None:
        lock = request.app.state.push_lock = threading.Lock()
    return lock
