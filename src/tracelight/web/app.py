"""The FastAPI app factory: `create_app(store, ...)`.

Server-rendered Jinja2 pages with htmx for partial updates, a JSON API under /api/ behind the
same login, and nothing fetched from outside the machine (all assets vendored under static/).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracelight import __version__, settings
from tracelight.errors import ForbiddenError, StoreError, TracelightError
from tracelight.store.accounts import Accounts
from tracelight.store.cases import Cases, Watchlists
from tracelight.web.auth import AuthMiddleware, LoginLimiter
from tracelight.web.deps import WebContext, csrf_guard, render

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def _fmt_dt(value: Any, with_time: bool = True) -> str:
    if isinstance(value, str):  # an ISO time from a JSON record (network first/last seen)
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    return value.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


def _fmt_risk(value: Any) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def _risk_band(value: Any) -> str:
    if value is None:
        return "none"
    v = float(value)
    return "high" if v >= 0.7 else "mid" if v >= 0.4 else "low"


def _tojson_attr(value: Any) -> Markup:
    """JSON for a data-* attribute (read by static/app.js; no inline script needed)."""
    from markupsafe import escape
    return escape(json.dumps(value, default=str))


def _ad_href(ad: Any) -> str:
    """The workspace address of an ad (a StoredAd or an ad summary): /ads/SOURCE/ID."""
    from tracelight.services.adref import ad_url
    if isinstance(ad, dict):
        return ad.get("href") or ad_url(str(ad["source"]), str(ad["id"]))
    return ad_url(ad.source, ad.ad_id)


def _ad_ref(ad: Any) -> str:
    if isinstance(ad, dict):
        return ad.get("ref") or f"{ad['source']}/{ad['id']}"
    return f"{ad.source}/{ad.ad_id}"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.auto_reload = False  # templates ship with the package: no stat() per render
    env.filters["dt"] = _fmt_dt
    env.filters["risk"] = _fmt_risk
    env.filters["band"] = _risk_band
    env.filters["jsonattr"] = _tojson_attr
    env.filters["adurl"] = _ad_href
    env.filters["adref"] = _ad_ref
    env.globals["version"] = __version__
    return templates


def require_audit_protection(accounts: Accounts) -> None:
    """Refuse to serve when the audit log's append-only triggers are missing or disabled."""
    problems = accounts.log.protection_problems()
    if problems:
        raise StoreError("the audit log is not protected: " + "; ".join(problems),
                         hint="check `tracelight audit verify`, then restore the triggers with "
                              "`tracelight audit protect`")


def create_app(store: Any, *, region: str | None = None, image_dir: str | None = None,
               secret_key: str | None = None, secure_cookies: bool | None = None,
               limiter: LoginLimiter | None = None, api_only: bool = False,
               warm: bool = False) -> FastAPI:
    """The workspace over an open Store.

    secure_cookies: None marks cookies Secure only on HTTPS requests (so loopback HTTP
    works); True always. The cookie-signing key comes from `secret_key`, else
    TRACELIGHT_SECRET_KEY, else a random key kept in the database.

    api_only: serve only the platform API (/api/v1/*) and /healthz, still authenticated
    (`tracelight serve --api-only`).

    warm: at startup, before the server answers anything, load what `POST /api/v1/check`
    reuses (the hash banks as an in-memory index, the gazetteer, the policy), start the
    thread that reloads the banks when they change and the one that sends queued webhooks
    (`tracelight serve` sets it).

    Fails closed: refuses to build the app when the audit log's append-only triggers are
    missing or disabled (someone could then rewrite it unnoticed until `audit verify`).
    """
    accounts = Accounts(store)
    require_audit_protection(accounts)
    secret = secret_key or settings.get("secret_key") or accounts.secret("session_key")
    app = FastAPI(title="tracelight workspace API", version=__version__,
                  description="Every score is a lead for human review, never a finding about "
                              "a person. All routes but /healthz need a login or a Bearer "
                              "token from `tracelight token create USER`.",
                  docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json" if api_only else None,
                  dependencies=[Depends(csrf_guard)],
                  lifespan=_warm_lifespan if warm else None)
    app.state.ctx = WebContext(
        store=store, accounts=accounts, cases=Cases(store), watch=Watchlists(store),
        templates=make_templates(), region=region or settings.get("region"),
        image_dir=image_dir or settings.get("image_dir"), secure_cookies=secure_cookies,
        limiter=limiter or LoginLimiter(), secret=secret)
    if not api_only:
        app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from tracelight.web.routes import (
        admin,
        api,
        cases,
        finance,
        outreach,
        pages,
        platform,
        reporting,
        rooms,
        session,
        watch,
    )
    modules = (platform,) if api_only else (session, pages, cases, reporting, watch, admin,
                                            outreach, platform, api, finance, rooms)
    for module in modules:
        app.include_router(module.router)
    platform.add_schemas(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def _is_api(request: Request) -> bool:
        return api_only or request.url.path.startswith("/api/")

    @app.exception_handler(TracelightError)
    async def on_error(request: Request, exc: TracelightError) -> Response:
        if isinstance(exc, ForbiddenError):  # every refusal is on the record
            from starlette.concurrency import run_in_threadpool

            from tracelight.web.deps import audit
            await run_in_threadpool(audit, request, "access.denied", request.url.path,
                                    detail={"method": request.method, "why": exc.message})
        if _is_api(request) or request.headers.get("hx-request"):
            if request.headers.get("hx-request") and not _is_api(request):
                return HTMLResponse(f'<p class="error">{_esc(str(exc))}</p>',
                                    status_code=exc.http_status)
            from tracelight.errors import BusyError
            return JSONResponse({"detail": str(exc)}, status_code=exc.http_status,
                                headers={"retry-after": "5"} if isinstance(exc, BusyError)
                                else None)
        return render(request, "error.html", status_code=exc.http_status,
                      message=exc.message, hint=exc.hint, status=exc.http_status,
                      candidates=getattr(exc, "ads", None))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        message = ("There is no page at this address." if exc.status_code == 404
                   and exc.detail == "Not Found" else str(exc.detail))
        return render(request, "error.html", status_code=exc.status_code,
                      message=message, hint=None, status=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        msg = f"invalid {where or 'request'}: {first.get('msg', 'bad value')}"
        if _is_api(request):
            return JSONResponse({"detail": msg, "errors": exc.errors()}, status_code=422)
        return render(request, "error.html", status_code=422, message=msg, hint=None,
                      status=422)

    app.add_middleware(AuthMiddleware, accounts=accounts, secret=secret, api_only=api_only)
    # in front of it: Bearer-token checks, the platform's hot path (routes/platform.py)
    app.add_middleware(platform.FastCheck, web_app=app)
    return app


@asynccontextmanager
async def _warm_lifespan(app: FastAPI) -> AsyncIterator[None]:
    from starlette.concurrency import run_in_threadpool

    from tracelight.services.webhooks import Deliverer
    from tracelight.web.routes.platform import start_checker
    checker = await run_in_threadpool(start_checker, app)
    # queued webhooks (ingest, link, tx score, retries) go out without `webhook deliver`
    deliverer = app.state.deliverer = Deliverer(app.state.ctx.store)
    deliverer.start()
    try:
        yield
    finally:
        deliverer.stop()
        checker.stop()


def _esc(text: str) -> str:
    from markupsafe import escape
    return str(escape(text))


def app_from_env() -> FastAPI:
    """App factory for `tracelight serve --workers N` (each worker process builds its own
    app over TRACELIGHT_DB; sessions, audit and secrets are shared through the database)."""
    import os

    from tracelight.store import open_store
    secure = os.environ.get("TRACELIGHT_SECURE_COOKIES") == "1"
    return create_app(open_store(settings.get("db")), secure_cookies=True if secure else None,
                      api_only=os.environ.get("TRACELIGHT_API_ONLY") == "1", warm=True)
