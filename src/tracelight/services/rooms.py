"""Use cases of hotel-room matching: the room gallery, matching a photo, background search.

- `ingest_gallery`: hotels from a CSV, room photos from folders per hotel (DIR/<hotel_id>/*)
  or listed in DIR/images.csv (hotel_id,path); each photo read safely (a regular file inside
  DIR, under the size cap), deduplicated on SHA-256, kept in the content-addressed image
  store, its features added to the room index (trained on the gallery the first time).
- `match_photo`: a photo's bytes (or an ad's stored image) to the best hotels, with the
  verified matches, and the side-by-side drawings on request.
- `ad_room_edges`: for every stored ad image, the other ads' images that show the same room
  (verified), as `room` edges for networks (tracelight.link.external.ExternalEdge).

The matching itself is pure (tracelight.rooms); this module reads and writes the store, the
image store and the index folder (setting rooms_index_dir).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracelight.blobs import ImageRefused, ImageStore, read_regular_file
from tracelight.images.refs import resolve_reference
from tracelight.rooms import (
    Features,
    HotelMatch,
    Region,
    RoomImageError,
    RoomIndex,
    decode,
    draw_pair,
    extract,
    rank,
    train_codebook,
    verify,
)
from tracelight.rooms.verify import MIN_INLIERS, confidence
from tracelight.services.room_pairs import (  # noqa: F401  (re-exported)
    ADS,
    AdHotel,
    RoomPair,
    load_ad_hotels,
    load_pairs,
    room_edges,
    same_room_for,
    save_ad_hotels,
    save_pairs,
    stored_room_edges,
)
from tracelight.store import Store
from tracelight.store.rooms import Hotel, RoomImage

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
MAX_CSV_BYTES = 50 * 1024 * 1024
MAX_FIELD = 2000
GALLERY = "gallery"
ROOM_EDGE_MIN_INLIERS = 25  # verified matches for two ad photos to count as the same room
Progress = Callable[[int], None]


class RoomsError(ValueError):
    """A problem with the analyst's input (hotels CSV, folder, query) in plain words."""


def _clip(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:MAX_FIELD] if value else None


def _coord(value: str | None, lo: float, hi: float) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        v = float(value)
    except ValueError:
        return None
    return v if math.isfinite(v) and lo <= v <= hi else None


def read_hotels_csv(path: Path) -> tuple[list[Hotel], list[str]]:
    """Hotels of a CSV (hotel_id,name,chain,address,city,country,lat,lon); (hotels, problems).

    A row without a hotel id or name is reported, never fatal; lat/lon out of range are
    dropped. `-` reads stdin."""
    if str(path) == "-":
        import sys

        text = sys.stdin.read(MAX_CSV_BYTES + 1)
    else:
        try:
            text = read_regular_file(path, MAX_CSV_BYTES).decode("utf-8-sig", errors="replace")
        except ImageRefused as exc:
            raise RoomsError(f"hotels CSV {path}: {exc.reason}") from None
    if len(text) > MAX_CSV_BYTES:
        raise RoomsError(f"hotels CSV is over {MAX_CSV_BYTES:,} bytes")
    try:
        return _hotels_from(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RoomsError(f"hotels CSV is not valid CSV: {exc}") from None


def _hotels_from(reader: csv.DictReader[str]) -> tuple[list[Hotel], list[str]]:
    fields = {f.strip().lower() for f in (reader.fieldnames or [])}
    if not {"hotel_id", "name"} <= fields:
        raise RoomsError("hotels CSV needs a header with at least hotel_id and name "
                         "(and chain, address, city, country, lat, lon)")
    out: dict[str, Hotel] = {}
    problems: list[str] = []
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): v for k, v in row.items() if isinstance(v, str)}
        hid, name = _clip(row.get("hotel_id")), _clip(row.get("name"))
        if not hid or not name or len(hid) > 64:
            problems.append(f"line {n}: no hotel_id (at most 64 characters) or no name: skipped")
            continue
        out[hid] = Hotel(hid, name, _clip(row.get("chain")), _clip(row.get("address")),
                         _clip(row.get("city")), (_clip(row.get("country")) or "")[:8] or None,
                         _coord(row.get("lat"), -90, 90), _coord(row.get("lon"), -180, 180))
    return list(out.values()), problems


def _gallery_files(folder: Path, known_hotels: set[str]) -> tuple[list[tuple[str, str]],
                                                                   list[str]]:
    """(hotel_id, reference inside folder) of every photo; problems."""
    problems: list[str] = []
    listing = folder / "images.csv"
    refs: list[tuple[str, str]] = []
    if listing.is_file():
        try:
            text = read_regular_file(listing, MAX_CSV_BYTES).decode("utf-8-sig", "replace")
        except ImageRefused as exc:
            raise RoomsError(f"{listing}: {exc.reason}") from None
        try:
            for n, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
                hid = (row.get("hotel_id") or "").strip()
                ref = (row.get("path") or "").strip()
                if not hid or not ref:
                    problems.append(f"images.csv line {n}: needs hotel_id and path: skipped")
                    continue
                refs.append((hid, ref))
        except csv.Error as exc:
            raise RoomsError(f"{listing}: not valid CSV: {exc}") from None
    else:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
            for f in sorted(sub.iterdir()):
                if f.suffix.lower() in IMAGE_SUFFIXES:
                    refs.append((sub.name, f"{sub.name}/{f.name}"))
    out = []
    for hid, ref in refs:
        if hid not in known_hotels:
            problems.append(f"{ref}: hotel {hid[:64]!r} is not in the hotels CSV: skipped")
            continue
        out.append((hid, ref))
    return out, problems


@dataclass
class IngestSummary:
    hotels_added: int = 0
    hotels_updated: int = 0
    photos_seen: int = 0
    photos_added: int = 0
    duplicates: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)
    indexed: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"hotels_added": self.hotels_added, "hotels_updated": self.hotels_updated,
                "photos_seen": self.photos_seen, "photos_added": self.photos_added,
                "duplicates": self.duplicates, "refused": self.refused,
                "indexed": self.indexed, "seconds": round(self.seconds, 2),
                "problems": self.problems[:200]}


def _index_dir(index_dir: str | Path, name: str) -> Path:
    return Path(index_dir) / name


def load_index(index_dir: str | Path, name: str = GALLERY) -> RoomIndex | None:
    folder = _index_dir(index_dir, name)
    if not (folder / "meta.json").is_file():
        return None
    return RoomIndex.load(folder)


def ingest_gallery(store: Store, folder: Path, hotels_csv: Path, *, image_dir: str | Path,
                   index_dir: str | Path, max_bytes: int, words: int = 32768,
                   progress: Progress | None = None,
                   on_total: Callable[[int], None] | None = None) -> IngestSummary:
    """Add a folder of room photos (and their hotels) to the gallery and its index."""
    import time

    t0 = time.perf_counter()
    if not folder.is_dir():
        raise RoomsError(f"{folder} is not a folder")
    hotels, problems = read_hotels_csv(hotels_csv)
    s = IngestSummary(problems=problems)
    s.hotels_added, s.hotels_updated = store.upsert_hotels(hotels)
    known = {h.hotel_id for h in hotels}
    known.update(store.hotels_by_id([hid.name for hid in folder.iterdir() if hid.is_dir()]))
    files, more = _gallery_files(folder, known)
    s.problems.extend(more)
    if on_total:
        on_total(len(files))
    blobs = ImageStore(image_dir)
    index = load_index(index_dir)
    pending: list[tuple[str, str, Features]] = []  # sha, hotel, features (when no index yet)
    rows: list[RoomImage] = []
    seen: set[str] = set()
    for hid, ref in files:
        s.photos_seen += 1
        try:
            data = read_regular_file(resolve_reference(ref, folder), max_bytes)
            sha = hashlib.sha256(data).hexdigest()
            if sha in seen or (index is not None and sha in index._seen):
                s.duplicates += 1
                continue
            rgb = decode(data)
            feats = extract(rgb)
        except ImageRefused as exc:
            s.refused += 1
            s.problems.append(f"{ref[:200]}: {exc.reason}")
            continue
        except RoomImageError as exc:
            s.refused += 1
            s.problems.append(f"{ref[:200]}: {exc.reason}")
            continue
        finally:
            if progress:
                progress(1)
        seen.add(sha)
        blobs.put(data, sha)
        rows.append(RoomImage(sha, hid, int(rgb.shape[1]), int(rgb.shape[0]), len(feats),
                              ref[:500]))
        if index is None:
            pending.append((sha, hid, feats))
        else:
            index.add(sha, hid, feats)
    known_rows = store.room_images_known([r.sha256 for r in rows])
    s.duplicates += len(known_rows)
    s.photos_added = store.add_room_images(rows)
    if index is None and pending:
        index = RoomIndex(train_codebook([f.desc for _, _, f in pending], words))
        for sha, hid, feats in pending:
            index.add(sha, hid, feats)
    if index is not None:
        index.save(_index_dir(index_dir, GALLERY))
        s.indexed = len(index)
    s.seconds = time.perf_counter() - t0
    return s


@dataclass(frozen=True)
class RoomResult:
    """One hotel proposed for a photo, with why."""

    rank: int
    hotel: Hotel
    image_sha256: str
    inliers: int
    word_score: float
    confidence: float
    drawing: str | None = None  # path of the side-by-side image, when drawn

    def to_dict(self) -> dict[str, Any]:
        h = self.hotel
        return {"rank": self.rank, "hotel_id": h.hotel_id, "name": h.name, "chain": h.chain,
                "city": h.city, "country": h.country, "lat": h.lat, "lon": h.lon,
                "verified_matches": self.inliers, "confidence": self.confidence,
                "word_score": round(self.word_score, 4), "image_sha256": self.image_sha256,
                "drawing": self.drawing}


def query_features(data: bytes, *, regions: Sequence[Region] = (), auto_mask: bool = True,
                   ) -> tuple[np.ndarray, Features]:
    rgb = decode(data)
    return rgb, extract(rgb, auto_mask=auto_mask, regions=regions)


def match_photo(store: Store, data: bytes, *, index_dir: str | Path, k: int = 20,
                regions: Sequence[Region] = (), auto_mask: bool = True,
                index: RoomIndex | None = None) -> tuple[list[RoomResult], Features,
                                                         np.ndarray]:
    """The `k` best hotels for a photo's bytes; RoomImageError for a photo that is no use."""
    index = index or load_index(index_dir)
    if index is None or len(index) == 0:
        raise RoomsError("the room gallery is empty: add photos with `tracelight rooms ingest`")
    rgb, feats = query_features(data, regions=regions, auto_mask=auto_mask)
    if len(feats) == 0:
        raise RoomsError("no keypoints in the photo (outside the masked regions): "
                         "nothing to match")
    best: list[HotelMatch] = rank(index, feats, k=k)
    hotels = store.hotels_by_id([m.hotel_id for m in best])
    out = []
    for i, m in enumerate(best, start=1):
        h = hotels.get(m.hotel_id) or Hotel(m.hotel_id, m.hotel_id)
        out.append(RoomResult(i, h, m.image_id, m.inliers, m.word_score, m.confidence))
    return out, feats, rgb


def side_by_side(data_q: bytes, feats_q: Features, gallery_sha: str, *,
                 image_dir: str | Path, max_bytes: int, blur: float = 0.0,
                 ) -> tuple[np.ndarray, int]:
    """The query and a gallery photo side by side with the verified matches; (rgb, count).
    blur > 0: the photos blurred (not reviewed), the matches drawn sharp on top."""
    import cv2

    g_bytes = ImageStore(image_dir).get(gallery_sha, max_bytes)
    rgb_q = decode(data_q)
    rgb_g = decode(g_bytes)
    v = verify(feats_q, extract(rgb_g))
    if blur > 0:
        rgb_q = np.asarray(cv2.GaussianBlur(rgb_q, (0, 0), blur), np.uint8)
        rgb_g = np.asarray(cv2.GaussianBlur(rgb_g, (0, 0), blur), np.uint8)
    return draw_pair(rgb_q, rgb_g, v.pairs), v.inliers


def png_bytes(rgb: np.ndarray) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:  # pragma: no cover
        raise RoomsError("the drawing could not be encoded")
    return buf.tobytes()


def ad_image_bytes(store: Store, ad_pk: int, *, image_dir: str | Path, max_bytes: int
                   ) -> list[tuple[int, str, bytes]]:
    """(position, sha256, bytes) of an ad's kept images."""
    blobs = ImageStore(image_dir)
    out = []
    for im in store.images_for(ad_pk):
        if not im.sha256 or im.error:
            continue
        try:
            out.append((im.position, im.sha256, blobs.get(im.sha256, max_bytes)))
        except ImageRefused:
            continue
    return out


# ---- background search across ads ---------------------------------------------------------

def build_ad_index(store: Store, *, image_dir: str | Path, index_dir: str | Path,
                   max_bytes: int, words: int = 1024, progress: Progress | None = None,
                   auto_mask: bool = True) -> tuple[RoomIndex | None, dict[int, str]]:
    """An index of every stored ad image by background (the foreground masked), saved under
    index_dir/ads; each photo's "hotel" is the comma-joined pks of the ads carrying it.
    Returns (index or None when no ad photo has keypoints, ad pk -> "source/ad_id")."""
    keys = store.iter_image_keys()
    hits, _ = store.ads_with_images([pk for pk, _, _ in keys])
    ads_of: dict[str, set[int]] = {}
    refs: dict[int, str] = {}
    for h in hits:
        ads_of.setdefault(h.image_sha256, set()).add(h.ad_pk)
        refs[h.ad_pk] = f"{h.source}/{h.ad_id}"
    blobs = ImageStore(image_dir)
    feats: list[tuple[str, Features]] = []
    for _pk, sha, _path in keys:
        if progress:
            progress(1)
        if sha not in ads_of:
            continue
        try:
            f = extract(decode(blobs.get(sha, max_bytes)), auto_mask=auto_mask)
        except (ImageRefused, RoomImageError):
            continue
        if len(f) >= 8:
            feats.append((sha, f))
    if not feats:
        return None, refs
    gallery = load_index(index_dir)
    codebook = gallery.codebook if gallery is not None else \
        train_codebook([f.desc for _, f in feats], words)
    index = RoomIndex(codebook)
    for sha, f in feats:
        index.add(sha, ",".join(str(p) for p in sorted(ads_of[sha])), f)
    folder = _index_dir(index_dir, ADS)
    index.save(folder)
    return index, refs


def same_room_pairs(index: RoomIndex, refs: dict[int, str], *,
                    min_inliers: int = ROOM_EDGE_MIN_INLIERS, per_image: int = 10,
                    progress: Progress | None = None) -> list[RoomPair]:
    """Pairs of ads whose photos in `index` show the same room, strongest first."""
    seen: set[tuple[str, str]] = set()
    best: dict[tuple[int, int], RoomPair] = {}
    for row in range(len(index)):
        if progress:
            progress(1)
        f = index.features(row)
        me = index.image_ids[row]
        my_ads = {int(x) for x in index.hotel_ids[row].split(",")}
        for c in index.candidates(f, per_image + 1):
            theirs = {int(x) for x in c.hotel_id.split(",")} - my_ads
            if c.row == row or not theirs:
                continue
            key = (min(me, c.image_id), max(me, c.image_id))
            if key in seen:
                continue
            seen.add(key)
            v = verify(f, index.features(c.row))
            if v.inliers < max(min_inliers, MIN_INLIERS):
                continue
            for a in my_ads:
                for b in theirs:
                    p = RoomPair(a, b, refs.get(a, str(a)), refs.get(b, str(b)), me,
                                 c.image_id, v.inliers, confidence(v.inliers))
                    if a > b:
                        p = p.flipped()
                    k2 = (p.a_pk, p.b_pk)
                    if k2 not in best or p.inliers > best[k2].inliers:
                        best[k2] = p
    return sorted(best.values(), key=lambda p: (-p.inliers, p.a_ref, p.b_ref))


def ad_hotel_matches(index: RoomIndex, gallery: RoomIndex, refs: dict[int, str], *,
                     min_inliers: int = ROOM_EDGE_MIN_INLIERS,
                     progress: Progress | None = None) -> list[AdHotel]:
    """Each ad's photos (rows of the ads' background index) against the room gallery: the
    best hotel of each ad whose photo it verifies with at least `min_inliers` matches (for
    a network's movement through rooms)."""
    best: dict[int, AdHotel] = {}
    for row in range(len(index)):
        if progress:
            progress(1)
        found = rank(gallery, index.features(row), k=1)
        if not found or found[0].inliers < max(min_inliers, MIN_INLIERS):
            continue
        m = found[0]
        for pk in (int(x) for x in index.hotel_ids[row].split(",")):
            if pk not in best or m.inliers > best[pk].inliers:
                best[pk] = AdHotel(pk, refs.get(pk, str(pk)), index.image_ids[row],
                                   m.hotel_id, m.inliers, m.confidence)
    return sorted(best.values(), key=lambda h: (-h.inliers, h.ad_ref))


def iter_hotels_near(store: Store, *, city: str | None, country: str | None,
                     text: str | None = None, limit: int = 200) -> Iterator[Hotel]:
    yield from store.search_hotels(city=city, country=country, text=text, limit=limit)
