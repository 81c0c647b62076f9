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


