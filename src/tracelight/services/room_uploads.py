"""Use case: attach a photo an analyst uploaded to match (the workspace's "where was this
photo taken?") to a case, with the hotel candidates it was shown.

Until the analyst attaches it, the upload is matched in memory and kept nowhere. The result
page carries a signed ticket (HMAC-SHA256 with the workspace's secret) naming the photo's
SHA-256, its size, who matched it, when, the region left out and the top hotel candidates;
attaching sends the photo back (inline when small, or chosen again) with the ticket. Only a
photo whose SHA-256 is the ticket's is stored: content-addressed in the image store, like ad
images (never served as stored bytes), with a `room_photo` case item and a `room_uploads`
row holding the candidates. The route audits both steps.

Light on purpose (no OpenCV): nothing here matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelight.blobs import ImageStore
from tracelight.errors import UsageError
from tracelight.store import Store
from tracelight.store.cases import Cases
from tracelight.store.rooms import RoomUpload

TICKET_MAX_AGE_S = 4 * 3600  # a result page older than this must be matched again
ATTACH_CANDIDATES = 5  # the top hotels kept with an attached photo
INLINE_MAX = 600 * 1024  # photos up to this size ride back inline in the result page
_CANDIDATE_FIELDS = ("rank", "hotel_id", "name", "chain", "city", "country", "lat", "lon",
                     "verified_matches", "confidence")
_PURPOSE = b"tracelight rooms.attach v1\n"


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the server said about an upload when it matched it (signed)."""

    username: str
    sha256: str
    size: int
    issued: int
    exclude: str
    reason: str
    candidates: tuple[dict[str, Any], ...]


def _mac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), _PURPOSE + body, hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def top_candidates(rows: Sequence[dict[str, Any]], n: int = ATTACH_CANDIDATES
                   ) -> list[dict[str, Any]]:
    """The first `n` hotel candidates of a match, only the fields a case keeps."""
    return [{k: r.get(k) for k in _CANDIDATE_FIELDS} for r in list(rows)[:n]]


def sign_ticket(secret: str, *, username: str, sha256: str, size: int,
                candidates: Sequence[dict[str, Any]], exclude: str = "", reason: str = "",
                now: float | None = None) -> str:
    body = json.dumps({"u": username, "h": sha256, "s": size,
                       "t": int(now if now is not None else time.time()), "x": exclude[:100],
                       "r": reason[:500], "c": top_candidates(candidates)},
                      separators=(",", ":"), sort_keys=True).encode("utf-8")
    return f"{_b64(body)}.{_mac(secret, body)}"


def read_ticket(secret: str, token: str, *, username: str, now: float | None = None,
                max_age_s: int = TICKET_MAX_AGE_S) -> Ticket:
    """The ticket's content, or UsageError when it is malformed, forged, another user's or
    too old."""
    part, _, mac = (token or "").strip().partition(".")
    try:
        body = _unb64(part)
    except (binascii.Error, ValueError):
        body = b""
    if not body or not hmac.compare_digest(mac.encode("utf-8", "replace"),
                                           _mac(secret, body).encode("ascii")):
        raise UsageError("this match result cannot be attached (its ticket is not valid)",
                         hint="match the photo again, then attach it")
    d = json.loads(body)
    if d.get("u") != username:
        raise UsageError("this match result was made by another user",
                         hint="match the photo yourself, then attach it")
    age = (now if now is not None else time.time()) - int(d.get("t", 0))
    if age > max_age_s or age < -300:
        raise UsageError("this match result is too old to attach",
                         hint="match the photo again, then attach it")
    return Ticket(str(d["u"]), str(d["h"]), int(d["s"]), int(d["t"]), str(d.get("x") or ""),
                  str(d.get("r") or ""), tuple(c for c in d.get("c") or []
                                               if isinstance(c, dict)))


def inline_photo(data: bytes) -> str | None:
    """The photo as the result page may carry it back (base64), when small enough."""
    return base64.b64encode(data).decode("ascii") if len(data) <= INLINE_MAX else None


def decode_inline(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise UsageError("the photo sent back is not valid base64",
                         hint="choose the photo again") from None


def candidate_label(candidates: Sequence[dict[str, Any]]) -> str:
    """One line for the case's item list: the first hotel and how many more."""
    if not candidates:
        return "uploaded room photo (no hotel candidate)"
    c = candidates[0]
    place = ", ".join(str(x) for x in (c.get("city"), c.get("country")) if x)
    more = len(candidates) - 1
    return (f"uploaded room photo: 1. {c.get('name') or c.get('hotel_id')}"
            f"{f' ({place})' if place else ''}, {c.get('verified_matches') or 0} verified "
            f"matches{f' (+{more} more)' if more > 0 else ''}")[:500]


def attach_upload(store: Store, case_pk: int, data: bytes, ticket: Ticket, actor: str, *,
                  image_dir: str | Path) -> tuple[RoomUpload, bool]:
    """Store the photo (content-addressed) and attach it with its candidates to the case;
    (the upload row, False when the case already held this photo)."""
    if hashlib.sha256(data).hexdigest() != ticket.sha256 or len(data) != ticket.size:
        raise UsageError("this is not the photo that was matched (its SHA-256 differs)",
                         hint="choose the same photo, or match the new one first")
    cases = Cases(store)
    cases.get(case_pk)  # NotFoundError before anything is stored
    ImageStore(image_dir).put(data, ticket.sha256)
    row, added = store.add_room_upload(case_pk, ticket.sha256, len(data), actor,
                                       reason=ticket.reason, exclude=ticket.exclude,
                                       candidates=list(ticket.candidates))
    cases.add_item(case_pk, "room_photo", ticket.sha256, actor,
                   candidate_label(row.candidates))
    return row, added


def uploads_for_case(store: Store, case_pk: int) -> dict[str, RoomUpload]:
    """The case's attached room photos by SHA-256 (for its page and its export)."""
    return {u.sha256: u for u in store.room_uploads_for_case(case_pk)}
