"""Geometric verification and ranking: which gallery photos really show the query's room.

A candidate from the visual words is checked by matching ORB descriptors (Hamming,
Lowe's ratio test, mutual best) and fitting a homography with RANSAC (OpenCV's USAC
MAGSAC++): the matches that agree with one geometric transform are the *verified matches*.
A different room of the same chain shares the wallpaper and the bedding, but its matches
do not agree on one geometry once the occluder, the art and the layout differ, so its
verified count stays low.

Hotels are ranked by their *evidence*: the query keypoints verified on any of the hotel's
photos, weighted by how distinctive their visual word is and split between the hotels that
verify the same keypoint (see `rank`); hotels found by words but not verified follow.
`confidence` maps verified matches to 0..1 (a saturating curve: 0 at `MIN_INLIERS`, 0.5
at 30, toward 1 beyond).

`draw_pair` puts the two photos side by side with the verified matches drawn, so an analyst
sees why a hotel was proposed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from tracelight.rooms.features import Features
from tracelight.rooms.index import RoomIndex

MIN_INLIERS = 10
RATIO = 0.85
VERIFY_TOP = 80  # candidates verified per query


@dataclass(frozen=True)
class Verified:
    inliers: int
    matches: int
    pairs: np.ndarray = field(repr=False)  # (m, 4) float32: query x,y, gallery x,y of inliers
    query_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)


def confidence(inliers: int) -> float:
    if inliers < MIN_INLIERS:
        return 0.0
    x = inliers - MIN_INLIERS
    return round(x / (x + 20.0), 3)


_BF: cv2.BFMatcher | None = None


def _matcher() -> cv2.BFMatcher:
    global _BF
    if _BF is None:
        _BF = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=False)
    return _BF


def verify(q: Features, g: Features, ratio: float = RATIO) -> Verified:
    """Matches between two photos that agree with one homography (RANSAC)."""
    empty = Verified(0, 0, np.zeros((0, 4), np.float32))
    if len(q) < 4 or len(g) < 4:
        return empty
    knn = _matcher().knnMatch(q.desc, np.ascontiguousarray(g.desc), k=2)
    good = [m[0] for m in knn if len(m) == 2 and m[0].distance < ratio * m[1].distance]
    if len(good) < 8:
        return Verified(0, len(good), empty.pairs)
    # one query point per gallery point (the best)
    best: dict[int, cv2.DMatch] = {}
    for m in good:
        if m.trainIdx not in best or m.distance < best[m.trainIdx].distance:
            best[m.trainIdx] = m
    good = list(best.values())
    if len(good) < 8:
        return Verified(0, len(good), empty.pairs)
    src = q.xy[[m.queryIdx for m in good]]
    dst = np.asarray(g.xy)[[m.trainIdx for m in good]]
    h, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 8.0, maxIters=500,
                                 confidence=0.99)
    if h is None or mask is None:
        return Verified(0, len(good), empty.pairs)
    sel = mask.ravel().astype(bool)
    pairs = np.hstack([src[sel], dst[sel]]).astype(np.float32)
    qidx = np.array([m.queryIdx for m in good], np.int64)[sel]
    return Verified(int(sel.sum()), len(good), pairs, qidx)


@dataclass(frozen=True)
class HotelMatch:
    hotel_id: str
    image_id: str  # the gallery photo that matched best
    inliers: int  # verified matches of that photo
    word_score: float
    confidence: float
    row: int = -1
    evidence: float = 0.0  # the ranking score: distinctive verified query points (see rank)


def rank(index: RoomIndex, q: Features, *, k: int = 20, shortlist: int = 100,
         verify_top: int = VERIFY_TOP) -> list[HotelMatch]:
    """The `k` best hotels for a query photo's features.

    The `verify_top` best photos by visual words are verified. A hotel's evidence is the
    set of query keypoints verified on any of its photos (two photos of the room from other
    sides verify other parts of the query), each weighted by its word's idf (a match on
    the hotel's own art counts more than one on the chain's wallpaper) and divided by the
    number of hotels that verify the same query keypoint: the chain's shared wallpaper
    and bedding verify on every sibling and so split their weight, the hotel's own art
    verifies on one. Hotels are ranked by evidence, then by word score; hotels found by
    words but not verified follow by word score."""
    cands = index.candidates(q, shortlist)
    weights = index.word_weights(q.desc)  # idf of each query keypoint's word
    best: dict[str, HotelMatch] = {}  # per hotel: its best photo by verified matches
    points: dict[str, list[np.ndarray]] = {}  # per hotel: query keypoints verified
    for i, c in enumerate(cands):
        inl = 0
        if i < verify_top:
            v = verify(q, index.features(c.row))
            if v.inliers >= MIN_INLIERS:
                inl = v.inliers
                points.setdefault(c.hotel_id, []).append(v.query_idx)
        cur = best.get(c.hotel_id)
        if cur is None or (inl, c.score) > (cur.inliers, cur.word_score):
            best[c.hotel_id] = HotelMatch(c.hotel_id, c.image_id, inl, c.score,
                                          confidence(inl), c.row)
    sets = {h: np.unique(np.concatenate(p)) for h, p in points.items()}
    shared = np.zeros(len(q), np.float32)
    for s in sets.values():
        shared[s] += 1.0
    evidence = {h: float((weights[s] / shared[s]).sum()) for h, s in sets.items()}
    for h, e in evidence.items():
        m = best[h]
        best[h] = HotelMatch(m.hotel_id, m.image_id, m.inliers, m.word_score, m.confidence,
                             m.row, round(e, 4))
    ordered = sorted(best.values(), key=lambda m: (-m.evidence, -m.word_score, m.hotel_id))
    return ordered[:k]


def draw_pair(query_rgb: np.ndarray, gallery_rgb: np.ndarray, pairs: np.ndarray,
              max_lines: int = 80) -> np.ndarray:
    """The two photos side by side (RGB) with lines between the verified matches."""
    h = max(query_rgb.shape[0], gallery_rgb.shape[0])
    w1 = query_rgb.shape[1]
    canvas = np.full((h, w1 + 8 + gallery_rgb.shape[1], 3), 255, np.uint8)
    canvas[:query_rgb.shape[0], :w1] = query_rgb
    canvas[:gallery_rgb.shape[0], w1 + 8:] = gallery_rgb
    rng = np.random.default_rng(0)
    step = max(1, len(pairs) // max_lines)
    for qx, qy, gx, gy in pairs[::step]:
        c = tuple(int(v) for v in rng.integers(40, 255, 3))
        p1 = (int(qx), int(qy))
        p2 = (int(gx) + w1 + 8, int(gy))
        cv2.circle(canvas, p1, 4, c, 2)
        cv2.circle(canvas, p2, 4, c, 2)
        cv2.line(canvas, p1, p2, c, 1, cv2.LINE_AA)
    return canvas
