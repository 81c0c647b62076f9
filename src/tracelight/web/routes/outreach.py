"""The advocate-only outreach pages: batches, a batch's preview, and its approval.

Every route needs the `outreach` permission (the advocate role only), and every view and
approval is audited by the service (services/outreach.py), marked `via: web`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tracelight.services import outreach as svc
from tracelight.web.deps import ctx, render, require

router = APIRouter(include_in_schema=False)


@router.get("/outreach")
def outreach_page(request: Request) -> Response:
    user = require(request, "outreach")
    batches = svc.list_batches(ctx(request).store, user.username, via="web")
    return render(request, "outreach.html", batches=batches)


@router.get("/outreach/batches/{pk}")
def batch_page(request: Request, pk: int) -> Response:
    user = require(request, "outreach")
    batch, messages = svc.preview(ctx(request).store, user.username, pk, via="web")
    return render(request, "outreach_batch.html", batch=batch, messages=messages)


@router.post("/outreach/batches/{pk}/approve")
def approve_batch(request: Request, pk: int) -> Response:
    user = require(request, "outreach")
    svc.approve(ctx(request).store, user.username, pk, via="web")
    return RedirectResponse(f"/outreach/batches/{pk}", status_code=303)
