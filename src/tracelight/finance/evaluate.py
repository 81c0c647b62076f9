"""Precision and recall per typology against the generator's truth (truth.json)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelight.errors import InputError
from tracelight.finance.records import Alert


@dataclass(frozen=True)
class TypologyScore:
    typology: str
    planted: int
    alerted: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.alerted if self.alerted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"typology": self.typology, "planted": self.planted, "alerted": self.alerted,
                "true_positives": self.true_positives, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4)}


def load_truth(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read truth file {path.name}: {type(exc).__name__}") from None
    if not isinstance(data, dict) or not isinstance(data.get("planted"), dict):
        raise InputError(f"{path.name} is not a tracelight tx generate truth file")
    return data


def evaluate(alerts: Iterable[Alert], truth: dict[str, Any]) -> list[TypologyScore]:
    planted: dict[str, set[str]] = {t: set(v) for t, v in truth["planted"].items()}
    alerted: dict[str, set[str]] = {t: set() for t in planted}
    for alert in alerts:
        for t in alert.typologies:
            alerted.setdefault(t, set()).add(alert.account)
    return [TypologyScore(t, len(planted.get(t, set())), len(alerted[t]),
                          len(alerted[t] & planted.get(t, set()))) for t in sorted(alerted)]
