"""Calibrated probabilities: isotonic regression of labels on a score, fitted on held-out folds.

`fit_calibration(scores, labels)` (isotonic regression, see `_fit_map`) reports the Brier
score and the reliability table of out-of-fold calibrated scores (every labelled ad
calibrated by a map fitted without it), then fits the map on all labels. The map is a
monotone piecewise-linear function kept as plain numbers (`to_dict` / `from_dict`, JSON next
to the model: no pickle), so applying it needs no scikit-learn and always gives a value in
[0, 1] that never decreases with the score.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from tracelight.errors import ConfigError, UsageError

CALIBRATION_FILE = "risk-calibration.json"
CALIBRATION_FORMAT = 1
BINS = 10


@dataclass(frozen=True)
class Calibration:
    x: tuple[float, ...]
    y: tuple[float, ...]
    method: str = "isotonic"
    fitted: dict[str, Any] = field(default_factory=dict)  # data, counts, Brier, reliability

    def apply(self, p: float) -> float:
        if not self.x:
            return min(max(float(p), 0.0), 1.0)
        return float(min(max(np.interp(float(p), self.x, self.y), 0.0), 1.0))

    def apply_many(self, ps: Sequence[float]) -> list[float]:
        return [self.apply(p) for p in ps]

    def to_dict(self) -> dict[str, Any]:
        return {"format": CALIBRATION_FORMAT, "method": self.method,
                "x": [round(v, 6) for v in self.x], "y": [round(v, 6) for v in self.y],
                "fitted": self.fitted}

    @classmethod
    def from_dict(cls, data: Any, where: str = "calibration") -> Calibration:
        if not isinstance(data, dict) or data.get("format") != CALIBRATION_FORMAT:
            raise ConfigError(f"{where}: not a tracelight calibration (format "
                              f"{CALIBRATION_FORMAT})")
        x, y = data.get("x"), data.get("y")
        if not isinstance(x, list) or not isinstance(y, list) or len(x) != len(y) \
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           for v in [*x, *y]):
            raise ConfigError(f"{where}: x and y must be lists of numbers of equal length")
        xs, ys = [float(v) for v in x], [float(v) for v in y]
        if any(b < a for a, b in pairwise(xs)) or \
                any(b < a for a, b in pairwise(ys)) or \
                any(not 0.0 <= v <= 1.0 for v in ys) or any(v != v for v in xs):
            raise ConfigError(f"{where}: x and y must be non-decreasing, y within [0, 1]")
        return cls(tuple(xs), tuple(ys), str(data.get("method", "isotonic")),
                   dict(data.get("fitted") or {}))


def brier(labels: Sequence[int], scores: Sequence[float]) -> float:
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    return round(float(np.mean((s - y) ** 2)), 4) if len(y) else 0.0


def reliability(labels: Sequence[int], scores: Sequence[float],
                bins: int = BINS) -> list[dict[str, Any]]:
    """Equal-width bins of the score: ads, mean score, observed share of positives."""
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    idx = np.minimum((s * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        rows.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "ads": n,
                     "mean_score": round(float(s[mask].mean()), 3) if n else None,
                     "observed": round(float(y[mask].mean()), 3) if n else None})
    return rows


TIE_BREAK = 0.001  # how far a step of the map may tilt to keep the raw score's order


def _fit_map(scores: np.ndarray, labels: np.ndarray) -> tuple[tuple[float, ...],
                                                            tuple[float, ...]]:
    """Isotonic regression (scikit-learn, pool adjacent violators) as (x, y) knots, each flat
    step tilted by at most TIE_BREAK (and never past its neighbours) so that the map is
    strictly increasing inside the data: plain steps tie every ad of a step, and the queue
    could no longer order ads the score ranks apart (at the top of the queue that costs
    precision@k). The Brier score moves by less than 1e-5."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(scores, labels)
    xs = [float(v) for v in iso.X_thresholds_]
    ys = [float(v) for v in iso.y_thresholds_]
    out = list(ys)
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and ys[j + 1] == ys[i]:
            j += 1
        if j > i and xs[j] > xs[i]:
            lo = ys[i - 1] if i > 0 else 0.0
            hi = ys[j + 1] if j + 1 < len(ys) else 1.0
            down = min(TIE_BREAK, (ys[i] - lo) / 4)
            up = min(TIE_BREAK, (hi - ys[i]) / 4)
            for k in range(i, j + 1):
                out[k] = ys[i] - down + (down + up) * (xs[k] - xs[i]) / (xs[j] - xs[i])
        i = j + 1
    return tuple(xs), tuple(min(max(v, 0.0), 1.0) for v in out)


def out_of_fold(scores: Sequence[float], labels: Sequence[int], *, folds: int = 5,
                seed: int = 7) -> list[float]:
    """Each score calibrated by a map fitted on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=int)
    if len(y) < 2 * folds or min(int(y.sum()), int(len(y) - y.sum())) < folds:
        raise UsageError(f"calibration needs at least {folds} labelled ads of each label, got "
                         f"{int(y.sum())} positive of {len(y)}")
    out = np.zeros(len(y))
    for tr, te in StratifiedKFold(n_splits=folds, shuffle=True,
                                  random_state=seed).split(s.reshape(-1, 1), y):
        x, v = _fit_map(s[tr], y[tr].astype(float))
        out[te] = np.clip(np.interp(s[te], x, v), 0.0, 1.0)
    return out.tolist()


def fit_calibration(scores: Sequence[float], labels: Sequence[int], *, data: str = "",
                    folds: int = 5, seed: int = 7) -> tuple[Calibration, list[float]]:
    """(the map fitted on every label, the out-of-fold calibrated scores it was judged by)."""
    oof = out_of_fold(scores, labels, folds=folds, seed=seed)
    x, y = _fit_map(np.asarray(scores, dtype=float), np.asarray(labels, dtype=float))
    fitted = {"data": data, "ads": len(labels), "positives": int(sum(labels)),
              "folds": folds, "created": datetime.now(UTC).isoformat(timespec="seconds"),
              "brier_raw": brier(labels, scores), "brier_out_of_fold": brier(labels, oof),
              "reliability_out_of_fold": reliability(labels, oof)}
    return Calibration(x, y, "isotonic", fitted), oof


def save_calibration(cal: Calibration, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CALIBRATION_FILE
    path.write_text(json.dumps(cal.to_dict(), indent=1, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def load_calibration(directory: Path) -> Calibration | None:
    """The calibration kept in the model folder, or None when none was fitted."""
    path = directory / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"{path}: not readable JSON") from None
    return Calibration.from_dict(data, str(path))


def reliability_table(rows: Sequence[dict[str, Any]]) -> str:
    """The reliability rows as a Markdown table with a bar of the observed share."""
    out = ["| score bin | ads | mean score | observed positive share | |", "|---|---|---|---|---|"]
    for r in rows:
        if not r["ads"]:
            out.append(f"| {r['bin']} | 0 | | | |")
            continue
        bar = "#" * round(20 * r["observed"])
        out.append(f"| {r['bin']} | {r['ads']} | {r['mean_score']:.3f} | "
                   f"{r['observed']:.3f} | `{bar:<20}` |")
    return "\n".join(out)
