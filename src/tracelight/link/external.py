"""Edges between ads found outside the linker (same author, same wallet owner, same room).

Shared contract: other stages (tracelight.authorship, tracelight.rooms through their
services) hand the linker pairs of ad keys with a calibrated score; `link_batch` /
`link_table` take them as `external_edges`, merge them under the same contradiction test as
wording edges, and list each used edge as medium evidence of its kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXTERNAL_KINDS = ("author", "wallet_owner", "room")


@dataclass(frozen=True)
class ExternalEdge:
    a: str        # ad key
    b: str        # ad key
    kind: str     # "author" | "wallet_owner" | "room"
    score: float  # calibrated 0..1
    detail: str   # human-readable why


def external_rows(keys: Sequence[str], edges: Sequence[ExternalEdge],
                  ) -> dict[tuple[int, int], tuple[str, str, float]]:
    """Edges between ads of the table, as rows (a < b) -> (kind, detail, score clipped to
    0..1); edges naming an unknown ad or one ad twice are dropped, the best per pair kept."""
    if not edges:
        return {}
    row = {k: i for i, k in enumerate(keys)}
    out: dict[tuple[int, int], tuple[str, str, float]] = {}
    for e in edges:
        a, b = row.get(e.a), row.get(e.b)
        if a is None or b is None or a == b:
            continue
        pair = (min(a, b), max(a, b))
        score = min(1.0, max(0.0, float(e.score)))
        if pair not in out or score > out[pair][2]:
            out[pair] = (e.kind, e.detail, score)
    return out
