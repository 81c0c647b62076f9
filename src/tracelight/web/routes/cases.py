"""Cases: create, gather ads/networks/identifiers, notes, tags, status, assignee, export."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tracelight.errors import UsageError
from tracelight.services.adref import ref_of, resolve_legacy
from tracelight.store.cases import CASE_STATUSES
from tracelight.web import views
from tracelight.web.deps import audit, ctx, current_user, render, require
from tracelight.web.export import case_bundle

router = APIRouter(include_in_schema=False)


def item_ref(request: Request, kind: str, ref: str) -> str:
    """An ad item is kept as its public reference, SOURCE/ID (a bare id or an old internal
    key is resolved to it; an ad that does not exist is refused)."""
    if kind == "room_photo":  # only with its photo and candidates, from the Rooms page
        raise UsageError("room photos are attached from the Rooms page after a match",
                         hint="open Rooms, match the photo, then attach it")
    if kind != "ad":
        return ref
    ad, _ = resolve_legacy(ctx(request).store, ref)
    return ref_of(ad)


@router.get("/cases")
def cases_page(request: Request, status: str = "") -> Response:
    c = ctx(request)
    found = c.cases.list_cases(status=status or None)
    audit(request, "case.list", detail={"status": status or None, "shown": len(found)})
    return render(request, "cases.html", cases=found, status=status, statuses=CASE_STATUSES)


@router.post("/cases")
def create_case(request: Request, title: str = Form(""), description: str = Form(""),
                tags: str = Form("")) -> Response:
    user = require(request, "case.edit")
    case = ctx(request).cases.create(title, user.username, description=description, tags=tags)
    audit(request, "case.create", f"case {case.pk}", detail={"title": case.title})
    return RedirectResponse(f"/cases/{case.pk}", status_code=303)


@router.post("/cases/add")
def add_to_case(request: Request, case: str = Form(""), new_title: str = Form(""),
                kind: str = Form(...), ref: str = Form(...), label: str = Form("")) -> Response:
    """From an ad, network or search page: add to an existing case or a new one."""
    user = require(request, "case.edit")
    c = ctx(request)
    if case in ("", "new"):
        if not new_title.strip():
            raise UsageError("choose a case, or give a title for a new one")
        pk = c.cases.create(new_title, user.username).pk
        audit(request, "case.create", f"case {pk}", detail={"title": new_title})
    else:
        try:
            pk = int(case)
        except ValueError:
            raise UsageError(f"not a case: {case!r}") from None
    ref = item_ref(request, kind, ref)
    added = c.cases.add_item(pk, kind, ref, user.username, label)
    audit(request, "case.add_item", f"case {pk}", detail={"kind": kind, "ref": ref,
                                                         "added": added})
    return RedirectResponse(f"/cases/{pk}", status_code=303)


@router.get("/cases/{pk}")
def case_page(request: Request, pk: int) -> Response:
    c = ctx(request)
    case = c.cases.get(pk)
    audit(request, "case.view", f"case {pk}")
    from tracelight.services.room_uploads import uploads_for_case

    return render(request, "case.html", case=case, items=views.case_items(c.store, case.items),
                  room_photos=uploads_for_case(c.store, pk),
                  statuses=CASE_STATUSES,
                  users=[u.username for u in c.accounts.list_users() if not u.disabled])


@router.post("/cases/{pk}")
def update_case(request: Request, pk: int, title: str = Form(...), status: str = Form(...),
                assignee: str = Form(""), tags: str = Form(""),
                description: str = Form("")) -> Response:
    require(request, "case.edit")
    c = ctx(request)
    if assignee and assignee not in {u.username for u in c.accounts.list_users()}:
        raise UsageError(f"no user {assignee!r} to assign")
    c.cases.update(pk, title=title, status=status, assignee=assignee or None, tags=tags,
                   description=description)
    audit(request, "case.update", f"case {pk}",
          detail={"status": status, "assignee": assignee or None, "tags": tags})
    return RedirectResponse(f"/cases/{pk}", status_code=303)


@router.post("/cases/{pk}/items")
def add_item(request: Request, pk: int, kind: str = Form(...), ref: str = Form(...),
             label: str = Form("")) -> Response:
    user = require(request, "case.edit")
    ref = item_ref(request, kind, ref)
    added = ctx(request).cases.add_item(pk, kind, ref, user.username, label)
    audit(request, "case.add_item", f"case {pk}", detail={"kind": kind, "ref": ref,
                                                         "added": added})
    return RedirectResponse(f"/cases/{pk}", status_code=303)


@router.post("/cases/{pk}/items/{item_pk}/remove")
def remove_item(request: Request, pk: int, item_pk: int) -> Response:
    require(request, "case.edit")
    ctx(request).cases.remove_item(pk, item_pk)
    audit(request, "case.remove_item", f"case {pk}", detail={"item": item_pk})
    return RedirectResponse(f"/cases/{pk}", status_code=303)


@router.post("/cases/{pk}/notes")
def add_note(request: Request, pk: int, text: str = Form("")) -> Response:
    user = require(request, "case.edit")
    ctx(request).cases.add_note(pk, user.username, text)
    audit(request, "case.note", f"case {pk}")
    return RedirectResponse(f"/cases/{pk}#notes", status_code=303)


def export_response(request: Request, pk: int) -> Response:
    user = require(request, "export")
    c = ctx(request)
    case = c.cases.get(pk)
    data, name = case_bundle(c.store, case, user.username)
    import hashlib
    audit(request, "export.case", f"case {pk}",
          detail={"file": name, "sha256": hashlib.sha256(data).hexdigest(),
                  "items": len(case.items)})
    return Response(data, media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/cases/{pk}/export")
def export_case(request: Request, pk: int) -> Response:
    current_user(request)
    return export_response(request, pk)
