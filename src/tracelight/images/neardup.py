"""Near-duplicate images across ads: the strong evidence the linking stage builds networks from.

Two ads whose pictures are the same photo, or an edited copy of it (re-encoded, resized,
cropped a little, brightness shifted), very likely share an advertiser. PDQ distance <= 31 is
the ThreatExchange match threshold; both images need quality >= 50, because flat or tiny
pictures (solid colours, logos) hash alike without being the same photo.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from tracelight.images.pdqindex import PdqIndex, pack_hashes
from tracelight.records import ImageInfo

NEAR_DUP_DISTANCE = 31
MIN_QUALITY = 50


@dataclass(frozen=True, slots=True)
class ImagePair:
    """Two ads sharing a (near-)identical image. `a` < `b` by ad key; one pair per ad pair
    keeps the closest image match."""

    a: Hashable  # ad key as given (ad id, store pk...)
    b: Hashable
    a_position: int
    b_position: int
    a_sha256: str | None
    b_sha256: str | None
    distance: int
    exact: bool  # byte-identical files (same SHA-256)

    def to_dict(self) -> dict[str, object]:
        return {"a": self.a, "b": self.b, "a_position": self.a_position,
                "b_position": self.b_position, "a_sha256": self.a_sha256,
                "b_sha256": self.b_sha256, "distance": self.distance, "exact": self.exact}


def near_duplicate_pairs(images: Iterable[tuple[Hashable, ImageInfo]], *,
                         max_distance: int = NEAR_DUP_DISTANCE,
                         min_quality: int = MIN_QUALITY) -> list[ImagePair]:
    """Pairs of different ads with images within `max_distance` PDQ bits, both of quality
    >= `min_quality`. Input: (ad key, ImageInfo) for every image of every ad.

    Sorted by distance, then ad keys. Images without a PDQ hash are skipped.
    """
    keys: list[Hashable] = []
    infos: list[ImageInfo] = []
    for key, info in images:
        if info.pdq and not info.error and (info.quality or 0) >= min_quality:
            keys.append(key)
            infos.append(info)
    if len(infos) < 2:
        return []
    # Identical hashes are searched once: a network reusing one photo in 40 ads would
    # otherwise cost 40 queries with 40 answers each.
    unique_hex: dict[str, int] = {}
    members: list[list[int]] = []
    for i, info in enumerate(infos):
        u = unique_hex.setdefault(info.pdq or "", len(unique_hex))
        if u == len(members):
            members.append([])
        members[u].append(i)
    hexes = list(unique_hex)
    packed = pack_hashes(hexes)
    hits = PdqIndex(packed).search(packed, max_distance)
    best: dict[tuple[Hashable, Hashable], ImagePair] = {}
    for u, found in enumerate(hits):
        for v, dist in found:
            if v < u:
                continue  # each unordered hash pair once (v == u: same hash, distance 0)
            for i in members[u]:
                for j in members[v]:
                    if keys[i] == keys[j] or (u == v and j <= i):
                        continue
                    _keep(best, keys[i], keys[j], infos[i], infos[j], dist)
    return sorted(best.values(), key=lambda p: (p.distance, str(p.a), str(p.b)))


def _keep(best: dict[tuple[Hashable, Hashable], ImagePair], ka: Hashable, kb: Hashable,
          ia: ImageInfo, ib: ImageInfo, dist: int) -> None:
    if _before(kb, ka):
        ka, kb, ia, ib = kb, ka, ib, ia
    pair = ImagePair(a=ka, b=kb, a_position=ia.position, b_position=ib.position,
                     a_sha256=ia.sha256, b_sha256=ib.sha256, distance=dist,
                     exact=bool(ia.sha256) and ia.sha256 == ib.sha256)
    old = best.get((ka, kb))
    if old is None or (pair.distance, not pair.exact) < (old.distance, not old.exact):
        best[(ka, kb)] = pair


def _before(x: Hashable, y: Hashable) -> bool:
    try:
        return bool(x < y)  # type: ignore[operator]
    except TypeError:  # mixed key types: any fixed order will do
        return (type(x).__name__, str(x)) < (type(y).__name__, str(y))


__all__ = ["ImagePair", "near_duplicate_pairs"]
