"""Follow the money in the workspace: the alert queue, an alert (red flags, transactions in
time order, linked ads and networks, the SAR draft), an account. Every page needs a login,
the read permission (the SAR text download: export), and is audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from tracelight.finance.catalogue import load_redflags
from tracelight.services import btc as btc_service
from tracelight.services import finance
from tracelight.web.deps import audit, ctx, render, require

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/tx/alerts")
def alert_queue(request: Request, typology: str = "", page: int = 1) -> Response:
    require(request, "read")
    c = ctx(request)
    page = max(1, min(page, 10_000))
    rf = load_redflags()
    names = {t.code: t.name for t in rf.typologies}
    chosen = typology if typology in names else None
    items = finance.alerts(c.store, limit=PAGE + 1, offset=(page - 1) * PAGE, typology=chosen)
    audit(request, "tx.alerts.view", chosen or "", detail={"page": page, "shown": len(items)})
    return render(request, "tx_alerts.html", alerts=items[:PAGE], more=len(items) > PAGE,
                  page=page, typology=chosen or "", typologies=names,
                  total=c.store.count_fin_alerts())


@router.get("/tx/alerts/{alert_id}")
def alert_page(request: Request, alert_id: str) -> Response:
    require(request, "read")
    view = finance.alert_view(ctx(request).store, alert_id[:64])
    audit(request, "tx.alert.view", view.alert.alert_id, detail={"account": view.alert.account})
    rf = load_redflags()
    return render(request, "tx_alert.html", v=view,
                  flags={f.code: f for f in rf.flags},
                  typologies={t.code: t for t in rf.typologies})


@router.get("/tx/alerts/{alert_id}/sar.txt")
def alert_sar(request: Request, alert_id: str) -> Response:
    require(request, "export")
    text = finance.sar_text(ctx(request).store, alert_id[:64])
    audit(request, "tx.sar.export", alert_id[:64])
    return PlainTextResponse(text, headers={
        "content-disposition": 'attachment; filename="sar-draft.txt"',
        "cache-control": "no-store", "x-content-type-options": "nosniff"})


@router.get("/tx/accounts/{account_id}")
def account_page(request: Request, account_id: str) -> Response:
    require(request, "read")
    view = finance.account_view(ctx(request).store, account_id[:128])
    audit(request, "tx.account.view", view.account.account_id)
    return render(request, "tx_account.html", v=view)


@router.get("/btc/owners/{owner:path}")
def btc_owner_page(request: Request, owner: str) -> Response:
    """A Bitcoin owner (addresses grouped by common inputs): its addresses, the payments and
    ads attributed to it, and their networks."""
    require(request, "read")
    view = btc_service.owner_view(ctx(request).store, owner[:130])
    audit(request, "btc.owner.view", view.owner, detail={"ads": len(view.ads)})
    return render(request, "btc_owner.html", v=view)
