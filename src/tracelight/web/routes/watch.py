"""Watchlists and the notifications they raise when newly ingested ads match."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tracelight.errors import UsageError
from tracelight.store.cases import WATCH_KINDS
from tracelight.values import normalize_phone
from tracelight.web.deps import audit, ctx, current_user, render, require

router = APIRouter(include_in_schema=False)


def normalize_watch(kind: str, value: str, region: str) -> str:
    if kind == "phone":
        e164 = normalize_phone(value, region)
        if e164 is None:
            raise UsageError(f"{value!r} is not a phone number tracelight can read")
        return e164
    if kind in ("email", "image", "text"):
        return value.strip().lower()
    return value.strip()


@router.get("/watchlists")
def watchlists_page(request: Request) -> Response:
    c = ctx(request)
    user = current_user(request)
    notes = c.watch.notifications(user.username)
    ads = {a.pk: a for a in c.store.get_ads_by_pks([n["ad_pk"] for n in notes])}
    return render(request, "watchlists.html", watches=c.watch.list_watches(user.username),
                  notifications=notes, ads=ads, kinds=WATCH_KINDS)


@router.post("/watchlists")
def add_watch(request: Request, kind: str = Form(...), value: str = Form(...),
              label: str = Form("")) -> Response:
    user = require(request, "watch")
    c = ctx(request)
    norm = normalize_watch(kind, value, c.region)
    c.watch.add(user.username, kind, norm, label)
    audit(request, "watch.add", f"{kind}:{norm}")
    return RedirectResponse("/watchlists", status_code=303)


@router.post("/watchlists/{pk}/remove")
def remove_watch(request: Request, pk: int) -> Response:
    user = require(request, "watch")
    ctx(request).watch.remove(user.username, pk)
    audit(request, "watch.remove", f"watch {pk}")
    return RedirectResponse("/watchlists", status_code=303)


@router.post("/notifications/read")
def mark_read(request: Request) -> Response:
    user = current_user(request)
    ctx(request).watch.mark_read(user.username)
    return RedirectResponse("/watchlists", status_code=303)
