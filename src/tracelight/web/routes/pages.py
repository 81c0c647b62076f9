"""Queue, search, ad, image and network pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tracelight import settings
from tracelight.errors import ForbiddenError, NotFoundError, UsageError
from tracelight.images import render as imgrender
from tracelight.images.refs import ImageRefused
from tracelight.services import btc as btc_service
from tracelight.services import image_search
from tracelight.services import networks as network_service
from tracelight.services import search as search_service
from tracelight.services.adref import ad_url, format_ref, ref_of, resolve_legacy
from tracelight.services.finance import network_accounts
from tracelight.services.queue import CALIBRATION_EVERY, COUNT_CAP, AdFilter, ad_queue
from tracelight.store import blobs
from tracelight.store.ads import AdImage
from tracelight.web import views
from tracelight.web.deps import audit, ctx, render, require

router = APIRouter(include_in_schema=False)

PAGE = 50


def parse_day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"{name} must be a date like 2026-11-23, got {value!r}") from None


def queue_filter(since: str | None, until: str | None, city: str | None, source: str | None,
                 category: str | None) -> AdFilter:
    end = parse_day(until, "until")
    return AdFilter(since=parse_day(since, "since"),
                    until=end + timedelta(days=1) if end else None,
                    location=(city or "").strip() or None, source=source or None,
                    category=category or None)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(request: Request, since: str = "", until: str = "", city: str = "",
               source: str = "", category: str = "", page: int = 1, view: str = "",
               done: str = "") -> Response:
    c = ctx(request)
    user = require(request, "read")
    page = max(1, min(page, 10_000))
    view = view if view in ("mine", "all") else ""
    flt = queue_filter(since, until, city, source, category)
    # the open queue's first page holds CALIBRATION_EVERY's random rows within its PAGE rows
    first = PAGE - PAGE // CALIBRATION_EVERY if not view else PAGE
    limit, offset = (first, 0) if page == 1 else (PAGE, first + (page - 2) * PAGE)
    found = ad_queue(c.store, flt, limit=limit, offset=offset,
                     show_all=view == "all", mine=user.username if view == "mine" else None)
    total, ads, scored = found.total, found.ads, found.scored
    networks = views.top_networks(c.store, c.network_ranking, limit=45)
    if networks:  # what analysts closed stays out of the side list too; changes are named
        from tracelight.services.review import annotate_networks

        nnotes = annotate_networks(c.store, [(n["id"], n.get("size") or 0) for n in networks])
        networks = [{**n, "review": nnotes[n["id"]].state, "review_note": nnotes[n["id"]].note}
                    for n in networks if view == "all" or not nnotes[n["id"]].hidden][:15]
    net_of = c.store.network_ids_of([a.pk for a in ads]) if ads else {}
    audit(request, "queue.view", detail={"filters": {k: v for k, v in {
        "since": since, "until": until, "city": city, "source": source,
        "category": category}.items() if v}, "page": page, "view": view or "open"})
    capped = total > COUNT_CAP  # more than the count goes to: page on while pages fill
    pages = max(1, -(-total // PAGE))
    if capped and len(ads) == PAGE:
        pages = max(pages, page + 1)
    rows = []
    for a in ads:
        row = views.ad_summary(a)
        note = found.notes.get(a.pk)
        row["review"] = note.state if note else "new"
        row["review_note"] = note.note if note else ""
        row["calibration"] = a.pk in found.calibration
        row["network"] = net_of.get(a.pk)
        rows.append(row)
    from tracelight.services.review import REASONS

    return render(request, "queue.html", total=total, ads=rows,
                  capped=capped, scored=scored, networks=networks, page=page, pages=pages,
                  filters={"since": since, "until": until, "city": city, "source": source,
                           "category": category}, choices=c.filter_choices.get(c.store),
                  view=view, hidden=found.hidden, count_cap=COUNT_CAP, done=done[:300],
                  reasons=REASONS)


@router.post("/queue/review")
async def queue_review(request: Request) -> Response:
    """The bulk-action bar: mark or assign every selected ad and network (a network's ads
    too), or add them to a case; audited through services.review / services.cases."""
    from tracelight.services import review

    user = require(request, "case.edit")
    c = ctx(request)
    form = await request.form()
    refs = list(dict.fromkeys(str(v) for v in form.getlist("ref")
                              if isinstance(v, str) and v.strip()))
    action = str(form.get("action") or "")
    if not refs:
        raise UsageError("select at least one ad or network first")
    if action == "assign":
        res = review.assign(c.store, refs, str(form.get("to") or user.username), user.username,
                            via_cli=False)
        done = f"assigned: {res.ads} ad(s)" + (f" in {res.networks} network(s)"
                                              if res.networks else "") + " touched"
    elif action == "mark":
        follow = str(form.get("follow_up") or "").strip()
        case_text = str(form.get("case") or "").strip()
        try:
            case_pk = int(case_text) if case_text else None
        except ValueError:
            raise UsageError(f"not a case number: {case_text[:20]!r}") from None
        reason = str(form.get("reason_text") or "").strip() or str(form.get("reason") or "")
        res = review.mark(c.store, refs, str(form.get("state") or ""), user.username,
                          reason=reason or None, case_pk=case_pk,
                          follow_up=review.parse_follow_up(follow) if follow else None,
                          via_cli=False)
        done = res.summary()
    else:
        raise UsageError(f"unknown action {action[:30]!r}", hint="mark or assign")
    from urllib.parse import urlencode

    view = str(form.get("view") or "")
    return RedirectResponse("/queue?" + urlencode({"done": done, "view": view}),
                            status_code=303)


@router.get("/search")
def search_page(request: Request, kind: str = "q", q: str = "", reason: str = "",
                page: int = 1) -> Response:
    c = ctx(request)
    page = max(1, min(page, 10_000))
    result = None
    error = None
    if q.strip():
        audit(request, "search", f"{kind}:{q.strip()}"[:500], reason=reason or None,
              detail={"kind": kind, "page": page})
        try:
            result = search_service.search(c.store, kind, q, region=c.region, limit=PAGE,
                                  offset=(page - 1) * PAGE)
        except UsageError as exc:
            error = str(exc)
    capped = bool(result and result.kind == "q" and result.total > search_service.TEXT_CAP)
    rows = [views.ad_summary(a) for a in result.ads] if result else []
    if result and result.kind == "q":  # the searched words, marked in a passage of each ad
        terms = search_service.query_terms(q)
        for row, ad in zip(rows, result.ads, strict=True):
            row["title_marked"] = search_service.highlight_terms(row["title"], terms)
            row["snippet"] = search_service.snippet(ad.body, terms)
    return render(request, "search.html", kind=kind, q=q, reason=reason, result=result,
                  capped=capped, results=rows,
                  error=error, page=page, first=(page - 1) * PAGE + 1,
                  pages=(max(1, -(-result.total // PAGE)) if not capped else page + 1)
                  if result else 1,
                  kinds=search_service.SEARCH_KINDS, image_search=True,
                  region=c.region)


MAX_UPLOAD = 20 * 1024 * 1024


@router.post("/search/image")
async def search_image(request: Request) -> Response:
    """Photo search: hash the upload in memory (never stored) and find ads with the same or
    a similar image."""
    import hashlib

    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import UploadFile
    c = ctx(request)
    form = await request.form()
    photo = form.get("photo")
    reason = str(form.get("reason") or "")
    if not isinstance(photo, UploadFile):
        raise UsageError("choose a photo to search with")
    data = await photo.read(MAX_UPLOAD + 1)
    if not data or len(data) > MAX_UPLOAD:
        raise UsageError("the photo is empty or larger than 20 MB")
    digest = hashlib.sha256(data).hexdigest()
    hits = await run_in_threadpool(image_search.search_photo, c.store, data)
    await run_in_threadpool(audit, request, "search", f"image:{digest}", reason=reason or None,
                            detail={"kind": "photo", "hits": len(hits)})
    ads = {a.pk: a for a in await run_in_threadpool(c.store.get_ads_by_pks,
                                                    [h.ad_pk for h in hits])}
    rows = []
    for h in hits:
        if h.ad_pk in ads:
            rows.append({**views.ad_summary(ads[h.ad_pk]),
                         "match": "identical" if h.exact else f"PDQ distance {h.distance}"})
    return render(request, "search.html", kind="image_hash", q="", reason=reason,
                  result=search_service.SearchResult(len(rows), [], "photo", digest, [],
                                                     "photo"),
                  results=rows, error=None, page=1, pages=1, first=1,
                  kinds=search_service.SEARCH_KINDS,
                  image_search=True, region=c.region)


def _ad_page(request: Request, ref: str) -> Response:
    """One ad, at /ads/SOURCE/ID (or a bare id when unambiguous); an old /ads/PK address
    redirects to it."""
    c = ctx(request)
    ad, was_key = resolve_legacy(c.store, ref)
    if was_key:  # an address from before SOURCE/ID
        return RedirectResponse(ad_url(ad.source, ad.ad_id), status_code=308)
    detail = views.ad_detail(c.store, ad)
    audit(request, "ad.view", ref_of(ad))
    from tracelight.services.room_pairs import ad_room_hotel, same_room_for

    same_room = same_room_for(settings.get("rooms_index_dir"), ad.pk)
    return render(request, "ad.html", d=detail, cases=c.cases.list_cases(status=None, limit=50),
                  paid=btc_service.ad_evidence(c.store, ad.pk), same_room=same_room,
                  room_hotel=ad_room_hotel(c.store, settings.get("rooms_index_dir"), ad.pk))


def _target(request: Request, pk: int, position: int) -> str:
    """An image's audit target: the ad as SOURCE/ID and the image's position."""
    refs = ctx(request).store.ad_refs([pk])
    return f"{format_ref(*refs[pk]) if pk in refs else f'ad {pk}'} image {position}"


def _image(request: Request, pk: int, position: int) -> AdImage:
    c = ctx(request)
    for img in c.store.images_for(pk):
        if img.position == position:
            if img.sha256 and c.store.is_bank_matched(img.sha256):
                raise ForbiddenError("this image matches a known-abuse hash bank and is "
                                     "never shown")
            return img
    raise NotFoundError(f"{_target(request, pk, position)} does not exist")


def _image_bytes(request: Request, img: AdImage) -> bytes:
    """The checked bytes of an ad image, from tracelight's own image store and nowhere else.

    A stored path that is not a content key (a store made before the image store, or a
    reference that failed a check) is never followed."""
    if img.error:
        raise NotFoundError(f"image not available: {img.error}")
    if not img.sha256 or not blobs.is_key(img.stored_path):
        raise NotFoundError("the image bytes were not kept in the image store")
    store = blobs.ImageStore(ctx(request).image_dir or settings.get("image_dir"))
    try:
        return store.get(img.sha256, settings.get_int("image_max_bytes"))
    except ImageRefused as exc:
        raise NotFoundError(f"image not available: {exc.reason}") from None


def _image_response(rendered: imgrender.Rendered) -> Response:
    return Response(rendered.data, media_type=rendered.media_type, headers={
        "cache-control": "no-store", "content-disposition": "inline",
        "x-content-type-options": "nosniff"})


def _render(fn: Any, data: bytes) -> imgrender.Rendered:
    try:
        result: imgrender.Rendered = fn(data)
    except ImageRefused as exc:
        raise UsageError(f"image not shown: {exc.reason}") from None
    return result


@router.get("/ads/{pk:int}/images/{position:int}/blurred")
def image_blurred(request: Request, pk: int, position: int) -> Response:
    """A heavily blurred preview: enough to tell images apart, not to see a person."""
    img = _image(request, pk, position)
    data = _image_bytes(request, img)
    audit(request, "image.thumbnail", _target(request, pk, position),
          detail={"sha256": img.sha256})
    return _image_response(_render(imgrender.blurred_preview, data))


@router.post("/ads/{pk:int}/images/{position:int}/reveal")
def image_reveal(request: Request, pk: int, position: int, reason: str = Form("")) -> Response:
    require(request, "reveal")
    _image(request, pk, position)
    audit(request, "image.reveal", _target(request, pk, position), reason=reason or None)
    # the whole picture scaled to fit (never cropped), and a link to it at full size
    return HTMLResponse(f'<a class="revealed-link" href="/ads/{pk}/images/{position}/view">'
                        f'<img class="revealed" src="/ads/{pk}/images/{position}/full" '
                        f'alt="image {position} of the ad, revealed"></a>'
                        f'<a class="small" href="/ads/{pk}/images/{position}/view">'
                        'full size (audited)</a>')


@router.get("/ads/{pk:int}/images/{position:int}/view")
def image_view_page(request: Request, pk: int, position: int) -> Response:
    """The revealed image at its full size on a page of its own (analysts; audited). Its bytes
    come from the image store through /full, like every revealed image; a bank-matched image
    is refused here as there."""
    require(request, "reveal")
    img = _image(request, pk, position)
    _image_bytes(request, img)  # refuse now, with the reason, what /full would refuse
    ad = ctx(request).store.get_ad_by_pk(pk)
    audit(request, "image.view", _target(request, pk, position),
          detail={"sha256": img.sha256, "page": "full size"})
    return render(request, "image.html", ad=ad, img=img, position=position)


@router.get("/ads/{pk:int}/images/{position:int}/full")
def image_full(request: Request, pk: int, position: int) -> Response:
    require(request, "reveal")
    img = _image(request, pk, position)
    data = _image_bytes(request, img)
    rendered = _render(imgrender.reencode, data)  # re-encoded: never the stored bytes as such
    audit(request, "image.view", _target(request, pk, position),
          detail={"sha256": img.sha256})
    return _image_response(rendered)


# after the image routes: the reference may itself contain "/" (tracelight.services.adref)
@router.get("/ads/{ref:path}")
def ad_page(request: Request, ref: str) -> Response:
    return _ad_page(request, ref)


@router.get("/networks")
def networks_page(request: Request, sort: str = "risk", page: int = 1) -> Response:
    c = ctx(request)
    if sort not in network_service.SORTS:
        raise UsageError(f"unknown order {sort!r}",
                         hint="one of " + ", ".join(network_service.SORTS))
    page = max(1, min(page, 10_000))
    found = views.network_list(c.store, c.network_ranking, sort=sort, limit=PAGE,
                               offset=(page - 1) * PAGE)
    audit(request, "network.list", detail={"sort": sort, "page": page,
                                           "shown": len(found["results"]) if found else 0})
    pages = max(1, -(-found["total"] // PAGE)) if found else 1
    return render(request, "networks.html", found=found, sort=sort, sorts=network_service.SORTS,
                  page=page, pages=pages)


@router.get("/networks/{network_id}")
def network_page(request: Request, network_id: str) -> Response:
    c = ctx(request)
    detail = views.network_detail(c.store, network_id)
    audit(request, "network.view", network_id)
    return render(request, "network.html", d=detail, cases=c.cases.list_cases(limit=50),
                  bank_accounts=network_accounts(c.store, network_id),
                  btc_owners=btc_service.network_owners(c.store, network_id))


@router.get("/new")
def whats_new(request: Request, since: str = "last") -> Response:
    """What's new since the user's last visit (default; refreshing keeps it) or a fixed
    window back from now: new ads in watched networks, networks that grew, watchlist hits
    (services.digest, audited there)."""
    from tracelight.services import digest as digest_service

    user = require(request, "read")
    store = ctx(request).store
    since = since if since in ("last", "24h", "7d", "30d") else "last"
    known = True
    if since == "last":
        _when, known = digest_service.last_seen(store, user.username)
        found = digest_service.since_last_visit(store, user.username)
    else:
        found = digest_service.digest(store, digest_service.parse_since(since), user.username,
                                      via_cli=False)
    return render(request, "new.html", d=found, since=since, known=known)


@router.post("/new/seen")
def whats_new_seen(request: Request, until: str = Form("")) -> Response:
    """Mark the visit seen up to what the page showed (`until`, its own time)."""
    from tracelight.services import digest as digest_service

    user = require(request, "read")
    try:
        when = datetime.fromisoformat(until) if until else None
    except ValueError:
        raise UsageError(f"not a time: {until[:40]!r}") from None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    digest_service.mark_seen(ctx(request).store, user.username, when, how="button")
    return RedirectResponse("/new", status_code=303)


@router.get("/about")
def about_page(request: Request) -> Response:
    """What ranks the queue: the active model's card (training labels, date, figures,
    features) or the default weights, candidates, and this store's data and versions."""
    from pathlib import Path

    from tracelight.score.catalogue import load_catalogue
    from tracelight.services.about import about

    user = require(request, "read")
    cat = load_catalogue(settings.get("catalogue") or None)
    found = about(ctx(request).store, Path(settings.get("model_dir")), cat, user.username,
                  via_cli=False)
    return render(request, "about.html", m=found["model"], candidates=found["candidates"],
                  data=found["data"])
