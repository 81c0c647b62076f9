"""Use case: which stored ads carry a picture like this one (`tracelight images search`, the
workspace's photo search). Hashing and the PDQ index are pure (tracelight.images)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracelight.images.hashing import hash_bytes
from tracelight.images.pdqindex import PdqIndex, pack_hashes
from tracelight.records import ImageInfo
from tracelight.store import Store
from tracelight.store.image_banks import MIN_PDQ_QUALITY


@dataclass(frozen=True)
class SimilarAd:
    """One ad image resembling a searched photo."""

    ad_pk: int
    ad_id: str
    source: str
    title: str
    position: int
    image_sha256: str
    distance: int
    exact: bool
    bank_matched: bool

    def to_dict(self) -> dict[str, Any]:
        return {"ref": f"{self.source}/{self.ad_id}", "ad_id": self.ad_id,
                "source": self.source, "title": self.title,
                "position": self.position, "image_sha256": self.image_sha256,
                "distance": self.distance, "exact": self.exact,
                "bank_matched": self.bank_matched}


def search_similar_ads(store: Store, query: ImageInfo, *, max_distance: int = 31,
                       limit: int = 50) -> list[SimilarAd]:
    """Ads whose images match (same SHA-256/MD5) or resemble (PDQ within max_distance) the
    query image, closest first. Low-quality PDQ hashes (< 50) on either side only match
    exactly."""
    distance: dict[int, tuple[int, bool]] = {}  # image pk -> (distance, exact)
    for pk in store.image_pks_with_digest(query.sha256, query.md5):
        distance[pk] = (0, True)
    if query.pdq and (query.quality or 0) >= MIN_PDQ_QUALITY:
        pks, hexes = store.pdq_hashes(MIN_PDQ_QUALITY)
        if pks:
            found = PdqIndex(pack_hashes(hexes)).search(pack_hashes([query.pdq]),
                                                        max_distance)[0]
            for j, d in found:
                distance.setdefault(pks[j], (d, False))
    if not distance:
        return []
    found_ads, matched = store.ads_with_images(sorted(distance))
    hits = []
    for h in found_ads:
        d, exact = distance[h.image_pk]
        hits.append(SimilarAd(ad_pk=h.ad_pk, ad_id=h.ad_id, source=h.source, title=h.title,
                              position=h.position, image_sha256=h.image_sha256, distance=d,
                              exact=exact, bank_matched=h.image_pk in matched))
    best: dict[int, SimilarAd] = {}
    for s in sorted(hits, key=lambda h: (h.distance, not h.exact, h.position)):
        best.setdefault(s.ad_pk, s)  # one row per ad: its closest image
    return sorted(best.values(), key=lambda h: (h.distance, not h.exact, h.source,
                                                h.ad_id))[:limit]


def search_photo(store: Store, data: bytes, limit: int = 50) -> list[SimilarAd]:
    """Ads with a picture like the uploaded photo's bytes, closest first."""
    return search_similar_ads(store, hash_bytes(data, original="upload"), limit=limit)
