"""The same-room pairs of the last background search across ads, kept as JSON Lines under
the room index folder (index_dir/ads/pairs.jsonl), and their `room` edges for the linker.

Light on purpose (no OpenCV, no FAISS): `tracelight link` and the ad page read these.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelight.link.external import ExternalEdge
from tracelight.store import Store

ADS = "ads"


def _folder(index_dir: str | Path) -> Path:
    return Path(index_dir) / ADS


@dataclass(frozen=True)
class RoomPair:
    """Two ads whose photos show the same room (verified); refs are "source/ad_id"."""

    a_pk: int
    b_pk: int
    a_ref: str
    b_ref: str
    a_sha256: str
    b_sha256: str
    inliers: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a_ref, "b": self.b_ref, "a_pk": self.a_pk, "b_pk": self.b_pk,
                "a_sha256": self.a_sha256, "b_sha256": self.b_sha256,
                "verified_matches": self.inliers, "confidence": self.confidence}

    def flipped(self) -> RoomPair:
        return RoomPair(self.b_pk, self.a_pk, self.b_ref, self.a_ref, self.b_sha256,
                        self.a_sha256, self.inliers, self.confidence)


def room_edges(store: Store, pairs: Sequence[RoomPair]) -> list[ExternalEdge]:
    """The pairs as `room` edges between linker keys (ads no longer stored are dropped)."""
    pk_to_key = {pk: k for k, (pk, _h) in store.ad_versions().items()}
    out = []
    for p in pairs:
        a, b = pk_to_key.get(p.a_pk), pk_to_key.get(p.b_pk)
        if a is not None and b is not None:
            out.append(ExternalEdge(a, b, "room", p.confidence,
                                    f"photos show the same room ({p.inliers} verified "
                                    "matches, the person masked out)"))
    return out


def save_pairs(index_dir: str | Path, pairs: Sequence[RoomPair]) -> Path:
    folder = _folder(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pairs.jsonl"
    tmp = folder / "pairs.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(p.to_dict()) + "\n")
    tmp.replace(path)
    return path


def load_pairs(index_dir: str | Path) -> list[RoomPair]:
    """The pairs of the last background search (`tracelight rooms ads`); none before it."""
    path = _folder(index_dir) / "pairs.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
            out.append(RoomPair(int(d["a_pk"]), int(d["b_pk"]), str(d["a"]), str(d["b"]),
                                str(d["a_sha256"]), str(d["b_sha256"]),
                                int(d["verified_matches"]), float(d["confidence"])))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def same_room_for(index_dir: str | Path, ad_pk: int, limit: int = 20) -> list[RoomPair]:
    """The ads whose photos show the same room as this ad's (`a` is always this ad)."""
    best: dict[int, RoomPair] = {}
    for p in load_pairs(index_dir):
        q = p if p.a_pk == ad_pk else p.flipped() if p.b_pk == ad_pk else None
        if q is not None and (q.b_pk not in best or q.inliers > best[q.b_pk].inliers):
            best[q.b_pk] = q
    return sorted(best.values(), key=lambda p: (-p.inliers, p.b_ref))[:limit]


def stored_room_edges(store: Store, index_dir: str | Path) -> list[ExternalEdge]:
    """`room` edges from the last background search, for `tracelight link`."""
    return room_edges(store, load_pairs(index_dir))




# ---- ad photos matched to gallery hotels (kept beside the pairs) ---------------------------

@dataclass(frozen=True)
class AdHotel:
    """An ad whose photo matched a gallery hotel (verified), from `tracelight rooms ads`."""

    ad_pk: int
    ad_ref: str
    image_sha256: str
    hotel_id: str
    inliers: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"ad": self.ad_ref, "ad_pk": self.ad_pk, "image_sha256": self.image_sha256,
                "hotel_id": self.hotel_id, "verified_matches": self.inliers,
                "confidence": self.confidence}


def save_ad_hotels(index_dir: str | Path, found: Sequence[AdHotel]) -> Path:
    folder = _folder(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path, tmp = folder / "hotels.jsonl", folder / "hotels.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        for h in found:
            fh.write(json.dumps(h.to_dict()) + "\n")
    tmp.replace(path)
    return path


def load_ad_hotels(index_dir: str | Path) -> dict[int, AdHotel]:
    """Each ad's best gallery hotel of the last background search; none before it."""
    path = _folder(index_dir) / "hotels.jsonl"
    if not path.is_file():
        return {}
    out: dict[int, AdHotel] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
            h = AdHotel(int(d["ad_pk"]), str(d["ad"]), str(d["image_sha256"]),
                        str(d["hotel_id"]), int(d["verified_matches"]),
                        float(d["confidence"]))
        except (ValueError, KeyError, TypeError):
            continue
        if h.ad_pk not in out or h.inliers > out[h.ad_pk].inliers:
            out[h.ad_pk] = h
    return out


def ad_room_hotel(store: Store, index_dir: str | Path, ad_pk: int) -> dict[str, Any] | None:
    """The gallery hotel this ad's photos match (the last `tracelight rooms ads`), if any."""
    h = load_ad_hotels(index_dir).get(ad_pk)
    if h is None:
        return None
    hotel = store.hotels_by_id([h.hotel_id]).get(h.hotel_id)
    return {"hotel_id": h.hotel_id, "name": hotel.name if hotel else h.hotel_id,
            "city": hotel.city if hotel else None, "country": hotel.country if hotel else None,
            "verified_matches": h.inliers, "confidence": h.confidence}


def _room_letters(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA …"""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def network_rooms(store: Store, index_dir: str | Path, ads: Sequence[Any]) -> dict[str, Any]:
    """A network's movement through rooms: its member ads (StoredAd) whose photos show a room
    another member's photos show (`room` pairs) or a gallery hotel, grouped into rooms
    ("room A" …: connected by same-room pairs), in time order with their city, and the
    consecutive stays in one room. Empty lists before `tracelight rooms ads`."""
    by_pk = {a.pk: a for a in ads}
    pairs = [p for p in load_pairs(index_dir) if p.a_pk in by_pk and p.b_pk in by_pk]
    hotels_of = {pk: h for pk, h in load_ad_hotels(index_dir).items() if pk in by_pk}
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    mates: dict[int, dict[int, int]] = {}
    for p in pairs:
        parent[find(p.a_pk)] = find(p.b_pk)
        for a, b in ((p.a_pk, p.b_pk), (p.b_pk, p.a_pk)):
            mates.setdefault(a, {})[b] = max(p.inliers, mates.get(a, {}).get(b, 0))
    for pk in hotels_of:
        find(pk)
    if not parent:
        return {"ads": [], "stays": [], "rooms": []}

    def when(pk: int) -> tuple[int, Any, str]:
        a = by_pk[pk]
        return (0, a.posted_at, a.ad_id) if a.posted_at is not None else (1, None, a.ad_id)

    groups: dict[int, list[int]] = {}
    for pk in sorted(parent, key=lambda x: (when(x)[0], when(x)[1] or 0, when(x)[2])):
        groups.setdefault(find(pk), []).append(pk)
    hotel_rows = store.hotels_by_id([h.hotel_id for h in hotels_of.values()])
    rooms: list[dict[str, Any]] = []
    room_of: dict[int, dict[str, Any]] = {}
    for i, members in enumerate(groups.values()):  # lettered by first appearance
        best = max((hotels_of[m] for m in members if m in hotels_of),
                   key=lambda h: h.inliers, default=None)
        hotel = hotel_rows.get(best.hotel_id) if best else None
        room = {"room": f"room {_room_letters(i)}", "n_ads": len(members),
                "hotel": None if best is None else {
                    "hotel_id": best.hotel_id, "name": hotel.name if hotel else best.hotel_id,
                    "chain": hotel.chain if hotel else None,
                    "city": hotel.city if hotel else None,
                    "country": hotel.country if hotel else None,
                    "lat": hotel.lat if hotel else None, "lon": hotel.lon if hotel else None,
                    "verified_matches": best.inliers, "confidence": best.confidence}}
        rooms.append(room)
        for m in members:
            room_of[m] = room
    rows = []
    for pk in sorted(room_of, key=lambda x: (when(x)[0], when(x)[1] or 0, when(x)[2])):
        a, room = by_pk[pk], room_of[pk]
        h = hotels_of.get(pk)
        rows.append({"ad_pk": pk, "ad": f"{a.source}/{a.ad_id}", "source": a.source,
                     "id": a.ad_id, "title": a.title, "posted_at": a.posted_at,
                     "city": a.location, "room": room["room"], "hotel": room["hotel"],
                     "hotel_matches": h.inliers if h else 0,
                     "same_room_as": [f"{by_pk[m].source}/{by_pk[m].ad_id}" for m, _n in
                                      sorted(mates.get(pk, {}).items(),
                                             key=lambda kv: -kv[1])][:10]})
    stays: list[dict[str, Any]] = []
    for r in rows:
        if stays and stays[-1]["room"] == r["room"]:
            stays[-1]["last"] = r["posted_at"] or stays[-1]["last"]
            stays[-1]["n"] += 1
            if r["city"] and r["city"] not in stays[-1]["cities"]:
                stays[-1]["cities"].append(r["city"])
        else:
            stays.append({"room": r["room"], "hotel": r["hotel"], "first": r["posted_at"],
                          "last": r["posted_at"], "n": 1,
                          "cities": [r["city"]] if r["city"] else []})
    return {"ads": rows, "stays": stays, "rooms": rooms}
