"""Edges between ads found outside the linker (same author, same wallet owner, same room).

Shared contract: other stages (tracelight.authorship, tracelight.rooms through their
services) hand the linker pairs of ad keys with a calibrated score; `link_batch` /
`link_table` take them as `external_edges`, merge them under the same contradiction test as
wording edges, and list each used edge as medium evidence of its kind.
"""

from __future__ import annotations

from dataclasses import dataclass

EXTERNAL_KINDS = ("author", "wallet_owner", "room")


@dataclass(frozen=True)
class ExternalEdge:
    a: str        # ad key
    b: str        # ad key
    kind: str     # "author" | "wallet_owner" | "room"
    score: float  # calibrated 0..1
    detail: str   # human-readable why
