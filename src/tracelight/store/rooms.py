"""The room gallery's tables: hotels and their room photos (migration 0016).

Only storage: features, the index and matching live in tracelight.rooms, the use cases in
services/rooms.py. Photo bytes are in the content-addressed image store, keyed on SHA-256.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update

from tracelight.records import utcnow
from tracelight.store.base import StoreBase
from tracelight.store.schema import room_hotels, room_images, room_uploads


@dataclass(frozen=True, slots=True)
class Hotel:
    hotel_id: str
    name: str
    chain: str | None = None
    address: str | None = None
    city: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class RoomImage:
    sha256: str
    hotel_id: str
    width: int | None
    height: int | None
    keypoints: int | None
    source: str | None


@dataclass(frozen=True, slots=True)
class RoomUpload:
    """A photo uploaded to match, attached to a case with the candidates shown then."""

    pk: int
    case_pk: int
    sha256: str
    size: int
    uploaded_by: str
    attached_at: datetime
    reason: str = ""
    exclude: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.pk, "case": self.case_pk, "sha256": self.sha256, "size": self.size,
                "uploaded_by": self.uploaded_by, "attached_at": self.attached_at.isoformat(),
                "reason": self.reason, "exclude": self.exclude,
                "candidates": list(self.candidates)}


def _upload(r: Any) -> RoomUpload:
    from tracelight.store.accounts import _aware

    return RoomUpload(r.pk, r.case_pk, r.sha256, r.size, r.uploaded_by, _aware(r.attached_at),
                      r.reason or "", r.exclude or "",
                      list(r.candidates) if isinstance(r.candidates, list) else [])


def _hotel(r: object) -> Hotel:
    return Hotel(r.hotel_id, r.name, r.chain, r.address, r.city, r.country,  # type: ignore[attr-defined]
                 r.lat, r.lon)  # type: ignore[attr-defined]


class RoomTables(StoreBase):
    """room_hotels and room_images."""

    def upsert_hotels(self, hotels: Sequence[Hotel]) -> tuple[int, int]:
        """Add new hotels, update known ones (by hotel_id); returns (added, updated)."""
        added = updated = 0
        with self.transaction() as conn:
            ids = [h.hotel_id for h in hotels]
            known: set[str] = set()
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                known.update(r[0] for r in conn.execute(
                    select(room_hotels.c.hotel_id).where(room_hotels.c.hotel_id.in_(part))))
            for h in hotels:
                row = {"name": h.name, "chain": h.chain, "address": h.address, "city": h.city,
                       "country": h.country, "lat": h.lat, "lon": h.lon}
                if h.hotel_id in known:
                    conn.execute(update(room_hotels).where(room_hotels.c.hotel_id == h.hotel_id)
                                 .values(**row))
                    updated += 1
                else:
                    conn.execute(insert(room_hotels).values(hotel_id=h.hotel_id, **row))
                    known.add(h.hotel_id)
                    added += 1
        return added, updated

    def hotels_by_id(self, ids: Sequence[str]) -> dict[str, Hotel]:
        out: dict[str, Hotel] = {}
        ids = list(dict.fromkeys(ids))
        with self.connect() as conn:
            for i in range(0, len(ids), 500):
                for r in conn.execute(select(room_hotels)
                                      .where(room_hotels.c.hotel_id.in_(ids[i:i + 500]))):
                    out[r.hotel_id] = _hotel(r)
        return out

    def search_hotels(self, *, city: str | None = None, country: str | None = None,
                      text: str | None = None, limit: int = 200) -> list[Hotel]:
        """Hotels by place (case-insensitive city, country code) or a word of name/chain."""
        stmt = select(room_hotels)
        if city:
            stmt = stmt.where(func.lower(room_hotels.c.city) == city.strip().lower())
        if country:
            stmt = stmt.where(func.upper(room_hotels.c.country) == country.strip().upper())
        if text:
            pat = "%" + text.strip().lower().replace("%", "").replace("_", "") + "%"
            stmt = stmt.where(or_(func.lower(room_hotels.c.name).like(pat),
                                  func.lower(room_hotels.c.chain).like(pat)))
        stmt = stmt.order_by(room_hotels.c.country, room_hotels.c.city, room_hotels.c.hotel_id)
        with self.connect() as conn:
            return [_hotel(r) for r in conn.execute(stmt.limit(limit))]

    def room_images_known(self, sha256s: Sequence[str]) -> set[str]:
        out: set[str] = set()
        with self.connect() as conn:
            for i in range(0, len(sha256s), 500):
                out.update(r[0] for r in conn.execute(
                    select(room_images.c.sha256)
                    .where(room_images.c.sha256.in_(list(sha256s[i:i + 500])))))
        return out

    def add_room_images(self, images: Sequence[RoomImage]) -> int:
        """Add room photos not stored yet (keyed on SHA-256); returns how many were new."""
        now = utcnow()
        new = 0
        with self.transaction() as conn:
            known: set[str] = set()
            shas = [im.sha256 for im in images]
            for i in range(0, len(shas), 500):
                known.update(r[0] for r in conn.execute(
                    select(room_images.c.sha256).where(room_images.c.sha256.in_(shas[i:i + 500]))))
            rows = []
            for im in images:
                if im.sha256 in known:
                    continue
                known.add(im.sha256)
                rows.append({"sha256": im.sha256, "hotel_id": im.hotel_id, "width": im.width,
                             "height": im.height, "keypoints": im.keypoints,
                             "source": im.source, "added_at": now})
            if rows:
                conn.execute(insert(room_images), rows)
            new = len(rows)
        return new

    def iter_room_images(self) -> Iterator[RoomImage]:
        with self.connect() as conn:
            stmt = select(room_images).order_by(room_images.c.pk)
            for r in conn.execution_options(yield_per=5000).execute(stmt):
                yield RoomImage(r.sha256, r.hotel_id, r.width, r.height, r.keypoints, r.source)

    def room_images_of(self, hotel_id: str) -> list[RoomImage]:
        with self.connect() as conn:
            return [RoomImage(r.sha256, r.hotel_id, r.width, r.height, r.keypoints, r.source)
                    for r in conn.execute(select(room_images)
                                          .where(room_images.c.hotel_id == hotel_id)
                                          .order_by(room_images.c.pk))]

    def room_counts(self) -> tuple[int, int]:
        """(hotels, room photos) in the gallery."""
        with self.connect() as conn:
            h = conn.execute(select(func.count()).select_from(room_hotels)).scalar_one()
            i = conn.execute(select(func.count()).select_from(room_images)).scalar_one()
        return int(h), int(i)

    def add_room_upload(self, case_pk: int, sha256: str, size: int, uploaded_by: str, *,
                        reason: str = "", exclude: str = "",
                        candidates: Sequence[dict[str, Any]] = ()) -> tuple[RoomUpload, bool]:
        """Record an uploaded photo attached to a case; (the row, False when the case
        already held that photo: the first attachment is kept)."""
        with self.transaction() as conn:
            row = conn.execute(select(room_uploads).where(room_uploads.c.case_pk == case_pk,
                                                          room_uploads.c.sha256 == sha256)
                               ).first()
            if row is not None:
                return _upload(row), False
            res = conn.execute(insert(room_uploads).values(
                case_pk=case_pk, sha256=sha256, size=size, uploaded_by=uploaded_by[:64],
                attached_at=utcnow(), reason=reason[:500], exclude=exclude[:100],
                candidates=list(candidates)))
            pk = res.inserted_primary_key[0]  # type: ignore[index]
            row = conn.execute(select(room_uploads).where(room_uploads.c.pk == pk)).one()
        return _upload(row), True

    def room_uploads_for_case(self, case_pk: int) -> list[RoomUpload]:
        with self.connect() as conn:
            return [_upload(r) for r in conn.execute(
                select(room_uploads).where(room_uploads.c.case_pk == case_pk)
                .order_by(room_uploads.c.pk))]
