"""The JSON API: the same data and the same authorisation as the pages.

Integrations send `Authorization: Bearer TOKEN` (from `tracelight token create USER`); a
browser session works too, with its CSRF token in `X-CSRF-Token` on writes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tracelight.errors import UsageError
from tracelight.services.adref import ref_of, resolve_ad
from tracelight.services.queue import ad_queue
from tracelight.services.search import search
from tracelight.web import api_models, views
from tracelight.web.deps import audit, ctx, current_user, render, require
from tracelight.web.routes.admin import audit_filters, audit_stream
from tracelight.web.routes.cases import export_response, item_ref
from tracelight.web.routes.pages import queue_filter
from tracelight.web.routes.watch import normalize_watch

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/me", summary="Who am I")
def me(request: Request) -> dict[str, Any]:
    return current_user(request).to_dict()


@router.get("/search", summary="Search ads by text or identifier",
            responses={200: {"model": api_models.SearchOut}})
def api_search(request: Request, q: str = "", phone: str = "", email: str = "",
               handle: str = "", crypto: str = "", image_hash: str = "",
               limit: int = Query(25, ge=1, le=500), offset: int = Query(0, ge=0),
               reason: str = "") -> dict[str, Any]:
    """Give exactly one of q (full text), phone (E.164 or as written), email, handle, crypto
    or image_hash. Answers {"total": N, "results": [ad summaries]}."""
    given = {k: v for k, v in {"q": q, "phone": phone, "email": email, "handle": handle,
                               "crypto": crypto, "image_hash": image_hash}.items() if v.strip()}
    if len(given) != 1:
        raise UsageError("give exactly one of q, phone, email, handle, crypto, image_hash")
    kind, value = next(iter(given.items()))
    audit(request, "search", f"{kind}:{value.strip()}"[:500], reason=reason or None,
          detail={"kind": kind, "api": True})
    return views.search_json(search(ctx(request).store, kind, value,
                                    region=ctx(request).region, limit=limit, offset=offset))


@router.get("/queue", summary="Leads for review, highest risk first",
            responses={200: {"model": api_models.QueueOut}})
def api_queue(request: Request, since: str = "", until: str = "", city: str = "",
              source: str = "", category: str = "", limit: int = Query(50, ge=1, le=500),
              offset: int = Query(0, ge=0)) -> dict[str, Any]:
    c = ctx(request)
    # the API keeps the plain risk order (no calibration rows); closed ads stay hidden
    page = ad_queue(c.store, queue_filter(since, until, city, source, category),
                    limit=limit, offset=offset, calibration=False)
    audit(request, "queue.view", detail={"api": True})
    return {"total": page.total, "scored": page.scored,
            "results": [views.ad_summary(a) for a in page.ads],
            "networks": views.top_networks(c.store, c.network_ranking, limit=20)}


@router.get("/ads/{ref:path}", summary="One ad with its evidence")
def api_ad(request: Request, ref: str, source: str | None = None) -> dict[str, Any]:
    """REF is the ad as SOURCE/ID (each part percent-encoded), or its bare id when only one
    source has it (or give `source`). An ambiguous id answers 400 listing the candidates."""
    c = ctx(request)
    ad = resolve_ad(c.store, ref, source)
    detail = views.ad_detail(c.store, ad)
    audit(request, "ad.view", ref_of(ad), detail={"api": True})
    return views.ad_json(detail)


@router.get("/networks", summary="Networks, riskiest first (or by size, or most recent)",
            responses={200: {"model": api_models.NetworksOut}})
def api_networks(request: Request, sort: str = Query("risk", pattern="^(risk|size|recent)$"),
                 limit: int = Query(50, ge=1, le=500),
                 offset: int = Query(0, ge=0)) -> dict[str, Any]:
    """Answers {"built", "total", "sort", "order", "results": [network summaries]}; `sort` is
    risk (the queue's ranking), size (most ads first) or recent (latest posting first)."""
    c = ctx(request)
    found = views.network_list(c.store, c.network_ranking, sort=sort, limit=limit,
                               offset=offset)
    audit(request, "network.list", detail={"sort": sort, "offset": offset, "api": True,
                                           "shown": len(found["results"]) if found else 0})
    if found is None:
        return {"built": False, "total": 0, "results": []}
    return {"built": True, **found}


@router.get("/networks/{network_id}", summary="One network: ads, identifiers, timeline")
def api_network(request: Request, network_id: str) -> dict[str, Any]:
    detail = views.network_detail(ctx(request).store, network_id)
    audit(request, "network.view", network_id, detail={"api": True})
    return views.network_json(detail)


class CaseIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    tags: list[str] = []


class CasePatch(BaseModel):
    title: str | None = None
    description: str | None = None
    status: str | None = None
    assignee: str | None = None
    tags: list[str] | None = None


class ItemIn(BaseModel):
    kind: str
    ref: str
    label: str = ""


class NoteIn(BaseModel):
    text: str


class WatchIn(BaseModel):
    kind: str
    value: str
    label: str = ""


@router.get("/cases", summary="Cases")
def api_cases(request: Request, status: str = "") -> dict[str, Any]:
    found = ctx(request).cases.list_cases(status=status or None)
    audit(request, "case.list", detail={"status": status or None, "shown": len(found),
                                        "api": True})
    return {"results": found}


@router.post("/cases", summary="Create a case", status_code=201)
def api_create_case(request: Request, body: CaseIn) -> dict[str, Any]:
    user = require(request, "case.edit")
    case = ctx(request).cases.create(body.title, user.username, description=body.description,
                                     tags=body.tags)
    audit(request, "case.create", f"case {case.pk}", detail={"title": case.title, "api": True})
    return case.to_dict()


@router.get("/cases/{pk}", summary="One case")
def api_case(request: Request, pk: int) -> dict[str, Any]:
    case = ctx(request).cases.get(pk)
    audit(request, "case.view", f"case {pk}", detail={"api": True})
    return case.to_dict()


@router.patch("/cases/{pk}", summary="Change status, assignee, tags, title, description")
def api_update_case(request: Request, pk: int, body: CasePatch) -> dict[str, Any]:
    require(request, "case.edit")
    values = body.model_dump(exclude_none=True)
    c = ctx(request)
    if values.get("assignee") and values["assignee"] not in {u.username for u in
                                                             c.accounts.list_users()}:
        raise UsageError(f"no user {values['assignee']!r} to assign")
    case = c.cases.update(pk, **values)
    audit(request, "case.update", f"case {pk}", detail={**values, "api": True})
    return case.to_dict()


@router.post("/cases/{pk}/items", summary="Add an ad, network or identifier to a case",
            responses={200: {"model": api_models.Added}})
def api_add_item(request: Request, pk: int, body: ItemIn) -> dict[str, Any]:
    user = require(request, "case.edit")
    ref = item_ref(request, body.kind, body.ref)
    added = ctx(request).cases.add_item(pk, body.kind, ref, user.username, body.label)
    audit(request, "case.add_item", f"case {pk}", detail={"kind": body.kind, "ref": ref,
                                                         "api": True})
    return {"added": added}


@router.post("/cases/{pk}/notes", summary="Add a note to a case",
            responses={200: {"model": api_models.Ok}})
def api_add_note(request: Request, pk: int, body: NoteIn) -> dict[str, Any]:
    user = require(request, "case.edit")
    ctx(request).cases.add_note(pk, user.username, body.text)
    audit(request, "case.note", f"case {pk}", detail={"api": True})
    return {"ok": True}


@router.get("/cases/{pk}/export", summary="Export a case: zip of CSV, JSON evidence, SHA-256 "
            "manifest", response_class=Response)
def api_export_case(request: Request, pk: int) -> Response:
    return export_response(request, pk)


@router.get("/watchlist", summary="My watches")
def api_watches(request: Request) -> dict[str, Any]:
    return {"results": ctx(request).watch.list_watches(current_user(request).username)}


@router.post("/watchlist", summary="Watch a phone, email, handle, crypto address or image hash",
             status_code=201)
def api_add_watch(request: Request, body: WatchIn) -> dict[str, Any]:
    user = require(request, "watch")
    c = ctx(request)
    value = normalize_watch(body.kind, body.value, c.region)
    added = c.watch.add(user.username, body.kind, value, body.label)
    audit(request, "watch.add", f"{body.kind}:{value}", detail={"api": True})
    return {"added": added, "kind": body.kind, "value": value}


@router.delete("/watchlist/{pk}", summary="Stop watching",
            responses={200: {"model": api_models.Ok}})
def api_remove_watch(request: Request, pk: int) -> dict[str, Any]:
    user = require(request, "watch")
    ctx(request).watch.remove(user.username, pk)
    audit(request, "watch.remove", f"watch {pk}", detail={"api": True})
    return {"ok": True}


@router.get("/notifications", summary="Ads that matched my watches")
def api_notifications(request: Request, unread: bool = False) -> dict[str, Any]:
    return {"results": ctx(request).watch.notifications(current_user(request).username,
                                                        unread_only=unread)}


@router.get("/audit", summary="Audit log (admins)")
def api_audit(request: Request, user: str = "", action: str = "", since: str = "",
              until: str = "", limit: int = Query(100, ge=1, le=1000),
              offset: int = Query(0, ge=0)) -> dict[str, Any]:
    require(request, "admin")
    total, rows = ctx(request).accounts.audit_entries(
        limit=limit, offset=offset, **audit_filters(user, action, since, until))
    return {"total": total, "results": rows}


@router.get("/audit/export", summary="Audit log export, jsonl or csv (admins)",
            response_class=Response)
def api_audit_export(request: Request, format: str = "jsonl", user: str = "",
                     action: str = "", since: str = "", until: str = "") -> Response:
    require(request, "admin")
    return audit_stream(request, format, audit_filters(user, action, since, until))


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict[str, Any]:
    return request.app.openapi()


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> Response:
    """The OpenAPI schema rendered by our own template: no Swagger UI from a CDN."""
    schema = request.app.openapi()
    return render(request, "api_docs.html", schema=schema, docs=api_models.describe(schema))
