"""Evidence from outside the linker that may join ads into networks: ads one person probably
wrote (`author`, tracelight.authorship), ads paid for by one Bitcoin owner (`wallet_owner`),
ads of one chat room (`room`).

The service layer collects these edges from the store and passes them to `link_batch` /
`link_table` (`external_edges=`). They are medium edges: fed to the constrained merge together
with the wording edges, under the same contradiction test, and each one used is listed in its
network as `Evidence(kind, detail, MEDIUM, (a, b), score=score)`. Edges naming an ad the linker
does not know are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

EXTERNAL_KINDS = ("author", "wallet_owner", "room")


@dataclass(frozen=True)
class ExternalEdge:
    a: str  # ad key
    b: str  # ad key
    kind: str  # "author" | "wallet_owner" | "room"
    score: float  # calibrated 0..1
    detail: str  # human-readable why (features that agree, owner id, ...)


def edge_rows(edges: Sequence[ExternalEdge], row_of: Mapping[str, int],
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[ExternalEdge]]:
    """(rows a, rows b, scores, the edges kept) for the edges whose two keys are known, not
    the same ad, and whose score is a number; scores are clipped to 0..1."""
    ra: list[int] = []
    rb: list[int] = []
    rs: list[float] = []
    kept: list[ExternalEdge] = []
    for e in edges:
        a, b = row_of.get(e.a), row_of.get(e.b)
        if a is None or b is None or a == b:
            continue
        try:
            s = float(e.score)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(s):
            continue
        s = min(max(s, 0.0), 1.0)
        if a > b:
            a, b = b, a
        ra.append(a)
        rb.append(b)
        rs.append(s)
        kept.append(e)
    return (np.asarray(ra, np.int64), np.asarray(rb, np.int64), np.asarray(rs, np.float32),
            kept)


__all__ = ["EXTERNAL_KINDS", "ExternalEdge", "edge_rows"]
