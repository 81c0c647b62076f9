"""Audit log browsing and export, for admins."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from tracelight.errors import UsageError
from tracelight.report.csvsafe import SafeCsvWriter
from tracelight.web.deps import audit, ctx, render, require
from tracelight.web.routes.pages import parse_day

router = APIRouter(include_in_schema=False)
PAGE = 100
AUDIT_COLUMNS = ["id", "at", "username", "action", "target", "reason", "ip", "detail"]


def audit_filters(user: str, action: str, since: str, until: str) -> dict[str, object]:
    from datetime import timedelta
    end = parse_day(until, "until")
    return {"username": user or None, "action": action or None,
            "since": parse_day(since, "since"), "until": end + timedelta(days=1) if end else None}


@router.get("/audit")
def audit_page(request: Request, user: str = "", action: str = "", since: str = "",
               until: str = "", page: int = 1) -> Response:
    require(request, "admin")
    c = ctx(request)
    page = max(1, page)
    total, rows = c.accounts.audit_entries(limit=PAGE, offset=(page - 1) * PAGE,
                                           **audit_filters(user, action, since, until))
    return render(request, "audit.html", rows=rows, total=total, page=page,
                  pages=max(1, -(-total // PAGE)),
                  filters={"user": user, "action": action, "since": since, "until": until},
                  users=c.accounts.list_users())


def audit_stream(request: Request, fmt: str, filters: dict[str, object]) -> Response:
    if fmt not in ("jsonl", "csv"):
        raise UsageError("format must be jsonl or csv")
    c = ctx(request)
    audit(request, "export.audit", detail={"format": fmt, **{k: str(v) for k, v in
                                                              filters.items() if v}})

    def rows() -> Iterator[str]:
        if fmt == "csv":
            buf = io.StringIO()
            w = SafeCsvWriter(buf)
            w.writerow(AUDIT_COLUMNS)
            yield buf.getvalue()
        for r in c.accounts.iter_audit(**filters):
            r = {**r, "at": r["at"].isoformat()}
            if fmt == "jsonl":
                yield json.dumps(r, default=str, ensure_ascii=False) + "\n"
            else:
                buf.seek(0)
                buf.truncate()
                w.writerow([json.dumps(r[k]) if k == "detail" and r[k] else r.get(k) or ""
                            for k in AUDIT_COLUMNS])
                yield buf.getvalue()

    media = "application/x-ndjson" if fmt == "jsonl" else "text/csv"
    return StreamingResponse(rows(), media_type=media, headers={
        "content-disposition": f'attachment; filename="tracelight-audit.{fmt}"'})


@router.get("/audit/export")
def audit_export(request: Request, format: str = "jsonl", user: str = "", action: str = "",
                 since: str = "", until: str = "") -> Response:
    require(request, "admin")
    return audit_stream(request, format, audit_filters(user, action, since, until))
