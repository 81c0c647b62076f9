"""Turning an identifier typed by a user into the normalised values the store keys on.

The normalisers live with the kinds they clean (tracelight.kinds, declared in kinds.yaml).
"""

from __future__ import annotations

from tracelight.kinds import normalize_lookup

__all__ = ["normalize_lookup"]
