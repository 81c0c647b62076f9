"""Use case: what is ranking the queue, and on what data (`tracelight risk card`, the web's
About page). The model card of the active risk model (training labels, date, figures,
features), the candidates waiting for an admin (`tracelight risk promote`), or the default
weights of the indicator catalogue when no model was trained; and the data and version facts
of this store.

Cards are read from their JSON files (`risk-model-vN.card.json`), never by loading a model
(a model file is a pickle): a missing, oversized or broken card is named, not fatal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracelight import __version__
from tracelight.score import model as risk_model
from tracelight.score.catalogue import Catalogue
from tracelight.store import AdFilter, Store
from tracelight.store.audit import AuditLog

MAX_CARD_BYTES = 2_000_000
CANDIDATES = "candidates"  # services.review_train keeps candidates here

__all__ = ["about", "read_card"]


def read_card(model_path: Path) -> dict[str, Any]:
    """The card beside a model file, as a dict; {"name", "error"} when it cannot be read."""
    name = model_path.name.removesuffix(".joblib")
    card_path = model_path.with_name(f"{name}.card.json")
    try:
        if card_path.stat().st_size > MAX_CARD_BYTES:
            return {"name": name, "error": f"card larger than {MAX_CARD_BYTES:,} bytes"}
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"name": name, "error": "no model card beside the model"}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {"name": name, "error": f"unreadable model card ({type(exc).__name__})"}
    if not isinstance(card, dict):
        return {"name": name, "error": "the model card is not a JSON object"}
    card.setdefault("name", name)
    return card


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _summary(card: dict[str, Any], weights_shown: int) -> dict[str, Any]:
    """The card's facts in one flat, typed shape (whatever the card file held)."""
    data = _dict(card.get("data"))
    held = _dict(card.get("metrics_held_out"))
    weights = _dict(card.get("indicator_weights"))
    compared = _dict(card.get("compared_with"))
    rows = compared.get("rows")
    limits = card.get("limits")
    limits = limits if isinstance(limits, list) else []
    return {
        "name": str(card.get("name", "")), "error": card.get("error"),
        "created": card.get("created"), "model": card.get("model"),
        "purpose": card.get("purpose"),
        "labels": {"description": data.get("description"), "ads": data.get("ads"),
                   "positives": data.get("positives"),
                   "catalogue_digest": data.get("catalogue_digest")},
        "held_out": {k: held.get(k) for k in ("n", "positives", "roc_auc", "pr_auc",
                                              "precision@50", "precision@200") if k in held},
        "compared_with": compared.get("scorer"),
        "comparison": [_dict(r) for r in rows] if isinstance(rows, list) else [],
        "features": [{"feature": str(k), "weight": v} for k, v in
                     list(weights.items())[:weights_shown]],
        "features_total": len(weights),
        "text_features": "TF-IDF" in str(card.get("model", "")),
        "limits": [str(x) for x in limits],
    }


def _default_weights(cat: Catalogue, weights_shown: int) -> dict[str, Any]:
    inds = sorted(cat.indicators, key=lambda i: -abs(i.weight))
    return {
        "name": f"default weights (catalogue {cat.digest})", "error": None, "created": None,
        "model": f"indicator catalogue v{cat.version}: a fixed weight per indicator, "
                 f"bias {cat.bias}; no model trained in this folder",
        "purpose": "Rank ads for human review. A score is a lead for review, never a finding "
                   "about a person.",
        "labels": {"description": "none: the weights are set by hand in the catalogue",
                   "ads": 0, "positives": 0, "catalogue_digest": cat.digest},
        "held_out": {}, "compared_with": None, "comparison": [],
        "features": [{"feature": i.code, "weight": i.weight} for i in inds[:weights_shown]],
        "features_total": len(inds), "text_features": False, "limits": [],
    }


def about(store: Store, model_dir: Path, cat: Catalogue, actor: str, *,
          via_cli: bool = True, weights_shown: int = 15) -> dict[str, Any]:
    """The active model's card (or the default weights), the candidates, and this store's
    data and version facts. Audited (`about.view`)."""
    versions = risk_model.model_versions(model_dir)
    active = (_summary(read_card(versions[-1][1]), weights_shown) if versions
              else _default_weights(cat, weights_shown))
    active["active"] = True
    active["path"] = str(versions[-1][1]) if versions else None
    candidates = []
    for version, path in reversed(risk_model.model_versions(model_dir / CANDIDATES)):
        if versions and version <= versions[-1][0]:
            continue  # older than the active model: can no longer be promoted
        c = _summary(read_card(path), 0)
        candidates.append({"version": version, "name": c["name"], "created": c["created"],
                           "labels": c["labels"], "held_out": c["held_out"],
                           "compared_with": c["compared_with"], "error": c["error"]})
    from tracelight.store.db import schema_heads

    last_ingest = next(iter(store.runs(limit=1)), None)
    link = store.last_link_run()
    labels = store.review_labels()
    data = {
        "tracelight": __version__,
        "schema": ", ".join(sorted(schema_heads())),
        "database": store.dialect,
        "catalogue": f"v{cat.version} ({cat.digest}), {len(cat.indicators)} indicators",
        "ads": store.count_ads(),
        "scored_ads": store.count_ads(AdFilter(min_risk=0.0)),
        "last_ingest": last_ingest.get("finished_at") or last_ingest.get("started_at")
        if last_ingest else None,
        "last_link": link.finished_at or link.started_at if link else None,
        "networks": link.networks if link else 0,
        "reviews": store.review_counts(),
        "labels": len(labels),
        "labels_escalated": sum(1 for lb in labels if lb.label == 1),
        "labels_no_concern": sum(1 for lb in labels if lb.label == 0),
        "model_dir": str(model_dir),
    }
    AuditLog(store).append(actor, "about.view", "", detail={
        "model": active["name"], "candidates": len(candidates), "cli": via_cli})
    return {"model": active, "candidates": candidates, "data": data}
