"""Scoring helpers the shells share: the labels file and reason summaries.

Jobs over a whole store (corpus statistics, rescoring, training data) are use cases:
tracelight.services.rescore. This module keeps no store import.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from tracelight.errors import InputError
from tracelight.records import Reason


def read_labels(path: str | Path) -> dict[str, int]:
    """labels.csv (header `ad_id,label`, label 0 or 1) -> {ad_id: label}."""
    p = Path(path)
    try:
        fh = p.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{p}: cannot read labels ({exc.strerror})") from None
    labels: dict[str, int] = {}
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:2]] != ["ad_id", "label"]:
            raise InputError(f"{p}:1: labels file must start with the header 'ad_id,label'")
        for line, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise InputError(f"{p}:{line}: expected 'ad_id,label'")
            ad_id, label = row[0].strip(), row[1].strip()
            if label not in ("0", "1"):
                raise InputError(f"{p}:{line}: label must be 0 or 1, got {label!r}")
            labels[ad_id] = int(label)
    if not labels:
        raise InputError(f"{p}: no labels in the file")
    return labels


def reason_summary(reasons: Sequence[Reason] | None, top: int = 3) -> str:
    """'code (weight): "evidence"; ...' for the top reasons that raise the score, for tables
    (context-only and lowering reasons are not why an ad is a lead: tracelight.score.explain)."""
    parts = []
    for r in [r for r in reasons or [] if (r.weight or 0.0) > 0][:top]:
        text = " ".join(r.evidence[0].text.split()) if r.evidence else ""
        if len(text) > 30:
            text = text[:29] + "…"
        weight = f"{r.weight:+g}" if r.weight is not None else "?"
        parts.append(f"{r.code} ({weight}): \"{text}\"")
    return "; ".join(parts)
