"""Hotel-room matching in the workspace: upload a photo, see hotel candidates on a list and a
map, and the side-by-side views with the matched points.

The upload is matched in memory and never stored (its SHA-256 goes to the audit log with the
reason); the drawings are sent inline in the page and kept nowhere. The photos in them are
blurred unless the analyst asks to see them (the `reveal` permission; audited).

Attach to case (`case.edit`): the result page carries a signed ticket (services.room_uploads)
and, when small, the photo itself; attaching stores the photo content-addressed with the top
hotel candidates in the chosen case, audited. Until then nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tracelight import settings
from tracelight.errors import UsageError
from tracelight.web.deps import audit, ctx, render, require

router = APIRouter(include_in_schema=False)

MAX_UPLOAD = 20 * 1024 * 1024
DRAWN = 3  # side-by-side views drawn per search (the best verified hotels)
MAP_W, MAP_H = 640, 320


def _dirs(request: Request) -> tuple[str, str]:
    return (ctx(request).image_dir or settings.get("image_dir"),
            settings.get("rooms_index_dir"))


def _frame(have: list[dict[str, Any]]) -> tuple[float, float, float]:
    """(west edge, north edge, degrees of longitude across) framing the points."""
    lons, lats = [r["lon"] for r in have], [r["lat"] for r in have]
    span = max(20.0, (max(lons) - min(lons)) * 1.2, (max(lats) - min(lats)) * 2.4)
    cx, cy = (max(lons) + min(lons)) / 2, (max(lats) + min(lats)) / 2
    return cx - span / 2, cy + span / 4, span  # the plot is twice as wide as high


def _located(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if all(isinstance(r.get(k), (int, float))
                                   and math.isfinite(r[k]) for k in ("lat", "lon"))]


def map_points(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Candidates with coordinates as points of an equirectangular SVG plot (no tiles),
    framed on the candidates (at least 20 degrees of longitude wide)."""
    have = _located(rows)
    if not have:
        return []
    x0, y0, span = _frame(have)
    return [{"x": round((r["lon"] - x0) / span * MAP_W, 1),
             "y": round((y0 - r["lat"]) / (span / 2) * MAP_H, 1),
             "rank": r["rank"], "label": f"{r['rank']}. {r['name']} ({r.get('city') or ''})",
             "verified": r["verified_matches"] > 0} for r in have]


def map_grid(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plot's graticule: lines every 1, 2, 5, 10 or 20 degrees (about 6 across), each
    with its label ("40°N", "105°W")."""
    have = _located(rows)
    if not have:
        return []
    x0, y0, span = _frame(have)
    step = next(s for s in (1, 2, 5, 10, 20, 30, 45) if span / s <= 8)
    out = []
    lon = math.ceil(x0 / step) * step
    while lon <= x0 + span:
        x = round((lon - x0) / span * MAP_W, 1)
        out.append({"x1": x, "y1": 0, "x2": x, "y2": MAP_H,
                    "label": f"{abs(lon)}°{'E' if lon > 0 else 'W' if lon < 0 else ''}"})
        lon += step
    lat = math.floor(y0 / step) * step
    while lat >= y0 - span / 2:
        y = round((y0 - lat) / (span / 2) * MAP_H, 1)
        if -90 <= lat <= 90:
            out.append({"x1": 0, "y1": y, "x2": MAP_W, "y2": y,
                        "label": f"{abs(lat)}°{'N' if lat > 0 else 'S' if lat < 0 else ''}"})
        lat -= step
    return out


@router.get("/rooms")
def rooms_page(request: Request, city: str = "", country: str = "") -> Response:
    require(request, "read")
    c = ctx(request)
    hotels, searched = [], bool(city.strip() or country.strip())
    if searched:
        hotels = c.store.search_hotels(city=city or None, country=country or None, limit=200)
        audit(request, "rooms.search", f"{city.strip()}|{country.strip()}"[:200],
              detail={"hotels": len(hotels)})
    n_hotels, n_photos = c.store.room_counts()
    return render(request, "rooms.html", hotels=hotels, searched=searched, city=city,
                  country=country, n_hotels=n_hotels, n_photos=n_photos, results=None,
                  drawings=[], points=[], grid=[], map_w=MAP_W, map_h=MAP_H, error=None,
                  reason="",
                  revealed=False, attach=None)


def _match(store: Any, data: bytes, image_dir: str, index_dir: str, exclude: str,
           reveal: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from tracelight.rooms import Region
    from tracelight.services.rooms import match_photo, png_bytes, side_by_side

    regions = [Region.parse(exclude, keep=False)] if exclude.strip() else []
    found, feats, _rgb = match_photo(store, data, index_dir=index_dir, k=20, regions=regions)
    rows = [r.to_dict() for r in found]
    drawings = []
    for r in found[:DRAWN]:
        if r.inliers <= 0:
            continue
        # not reviewed: both photos blurred, the matched points drawn sharp on top
        pic, n = side_by_side(data, feats, r.image_sha256, image_dir=image_dir,
                              max_bytes=settings.get_int("image_max_bytes"),
                              blur=0.0 if reveal else 6.0)
        drawings.append({"rank": r.rank, "name": r.hotel.name, "inliers": n,
                         "src": "data:image/png;base64,"
                                + base64.b64encode(png_bytes(pic)).decode("ascii")})
    return rows, drawings


@router.post("/rooms/match")
async def rooms_match(request: Request) -> Response:
    """Match an uploaded photo against the room gallery (in memory, never stored)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import UploadFile

    from tracelight.rooms import RoomImageError
    from tracelight.services.rooms import RoomsError

    user = require(request, "read")
    c = ctx(request)
    form = await request.form()
    try:
        photo = form.get("photo")
        reason = str(form.get("reason") or "")[:500]
        exclude = str(form.get("exclude") or "")[:100]
        reveal = form.get("reveal") == "1"
        if reveal:
            require(request, "reveal")
        if not isinstance(photo, UploadFile):
            raise UsageError("choose a photo to match")
        data = await photo.read(MAX_UPLOAD + 1)
        await photo.close()
    finally:
        await form.close()
    if not data or len(data) > MAX_UPLOAD:
        raise UsageError("the photo is empty or larger than 20 MB")
    digest = hashlib.sha256(data).hexdigest()
    image_dir, index_dir = _dirs(request)
    error = None
    rows: list[dict[str, Any]] = []
    drawings: list[dict[str, Any]] = []
    try:
        rows, drawings = await run_in_threadpool(_match, c.store, data, image_dir, index_dir,
                                                 exclude, reveal)
    except (RoomsError, RoomImageError, ValueError) as exc:
        error = str(exc)
    await run_in_threadpool(audit, request, "rooms.match", f"image:{digest}",
                            reason=reason or None,
                            detail={"hotels": len(rows), "revealed": reveal,
                                    "error": error, "stored": False})
    n_hotels, n_photos = c.store.room_counts()
    attach = None
    if error is None and user.can("case.edit"):
        from tracelight.services.room_uploads import inline_photo, sign_ticket, top_candidates

        attach = {"ticket": sign_ticket(c.secret, username=user.username, sha256=digest,
                                        size=len(data), candidates=rows, exclude=exclude,
                                        reason=reason),
                  "inline": inline_photo(data), "sha256": digest,
                  "kept": top_candidates(rows),
                  "cases": c.cases.list_cases(status=None, limit=50)}
    return render(request, "rooms.html", hotels=[], searched=False, city="", country="",
                  n_hotels=n_hotels, n_photos=n_photos, results=rows, drawings=drawings,
                  points=map_points(rows), grid=map_grid(rows), map_w=MAP_W, map_h=MAP_H,
                  error=error, reason=reason, revealed=reveal, attach=attach,
                  status_code=400 if error else 200)


@router.post("/rooms/attach")
async def rooms_attach(request: Request) -> Response:
    """Store a matched photo (content-addressed) and attach it with its top hotel candidates
    to a case. The photo must be the one the signed ticket names (same SHA-256)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import UploadFile

    from tracelight.services import room_uploads as ru

    user = require(request, "case.edit")
    c = ctx(request)
    form = await request.form()
    try:
        ticket_text = str(form.get("ticket") or "")[:20_000]
        case = str(form.get("case") or "").strip()
        new_title = str(form.get("new_title") or "").strip()[:300]
        photo, inline = form.get("photo"), form.get("photo_b64")
        data = b""
        if isinstance(photo, UploadFile) and photo.filename:  # chosen again
            data = await photo.read(MAX_UPLOAD + 1)
            await photo.close()
        elif isinstance(inline, str) and inline.strip():
            data = ru.decode_inline(inline)
    finally:
        await form.close()
    digest = hashlib.sha256(data).hexdigest() if data else None
    try:
        ticket = ru.read_ticket(c.secret, ticket_text, username=user.username)
        if not data or len(data) > MAX_UPLOAD:
            raise UsageError("the photo is missing (or larger than 20 MB)",
                             hint="choose the same photo again")
        if digest != ticket.sha256:
            raise UsageError("this is not the photo that was matched (its SHA-256 differs)",
                             hint="choose the same photo, or match the new one first")
        if case in ("", "new"):
            if not new_title:
                raise UsageError("choose a case, or give a title for a new one")
            pk = None
        else:
            try:
                pk = int(case)
            except ValueError:
                raise UsageError(f"not a case: {case[:40]!r}") from None
            c.cases.get(pk)  # NotFoundError before anything is stored
    except UsageError as exc:
        audit(request, "rooms.attach_refused", f"image:{digest}" if digest else "",
              detail={"error": str(exc), "stored": False})
        raise
    if pk is None:
        pk = c.cases.create(new_title, user.username).pk
        audit(request, "case.create", f"case {pk}", detail={"title": new_title})
    row, added = await run_in_threadpool(ru.attach_upload, c.store, pk, data, ticket,
                                         user.username, image_dir=_dirs(request)[0])
    audit(request, "rooms.attach", f"case {pk}", reason=ticket.reason or None,
          detail={"sha256": ticket.sha256, "size": len(data), "stored": True,
                  "added": added, "exclude": ticket.exclude or None,
                  "candidates": [h.get("hotel_id") for h in row.candidates],
                  "matched_at": ticket.issued})
    audit(request, "case.add_item", f"case {pk}",
          detail={"kind": "room_photo", "ref": ticket.sha256, "added": added})
    return RedirectResponse(f"/cases/{pk}#room-photos", status_code=303)
