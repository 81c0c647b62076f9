"""Risk of one ad (and of a network) with the reasons behind it.

A risk is a lead for human review, never a finding about a person.

Without a trained model: risk = sigmoid(bias + sum of the default weights of the indicators
that fired), each indicator counted once however often it appears (one "young" or five
make the same contribution: repetition is style, not evidence). With a trained model: the
model's calibrated probability, and reason weights are the model's learned weights.
Either way a stated age under 18 is always the first reason and lifts the risk to at least
MINOR_FLOOR (0.95); every other ad is held below it, so possible minors head the queue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from tracelight.records import AdRecord, Evidence, Mention, Reason
from tracelight.score.catalogue import Catalogue, load_catalogue
from tracelight.score.features import AdFeatures, NetworkInfo, extract_features
from tracelight.score.stats import CorpusStats

MINOR_CODE = "stated_age_under_18"
MINOR_FLOOR = 0.95
NON_MINOR_CAP = 0.949
NETWORK_TOP_MEMBERS = 3


class Model(Protocol):
    """What the scorer needs from a trained model (tracelight.score.model.RiskModel)."""

    @property
    def name(self) -> str: ...

    def predict(self, feats: Sequence[AdFeatures]) -> Sequence[float]: ...

    def weight(self, code: str) -> float: ...


@dataclass
class RiskResult:
    risk: float
    reasons: list[Reason] = field(default_factory=list)
    scorer: str = "default-weights"
    parts: dict[str, Any] = field(default_factory=dict)  # what the risk was computed from

    def to_dict(self) -> dict[str, Any]:
        out = {"risk": self.risk, "reasons": [r.to_dict() for r in self.reasons],
               "scorer": self.scorer}
        if self.parts:
            out["parts"] = self.parts
        return out

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


@dataclass
class ScoreContext:
    """Everything optional the scorer can use beyond the ad itself."""

    catalogue: Catalogue | None = None
    stats: CorpusStats | None = None
    network: NetworkInfo | None = None
    model: Model | None = None


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _band(risk: float, minor: bool) -> float:
    """The band [MINOR_FLOOR, 1] is kept for stated minors, so they always head the queue:
    a stated minor is lifted into it, every other ad is held just below it."""
    return max(risk, MINOR_FLOOR) if minor else min(risk, NON_MINOR_CAP)


def score_ad(record: AdRecord, mentions: Sequence[Mention],
             context: ScoreContext | None = None) -> RiskResult:
    """Score one ad. `mentions` come from extraction; `context` adds corpus/network/model."""
    ctx = context or ScoreContext()
    cat = ctx.catalogue or load_catalogue()
    feats = extract_features(record, mentions, catalogue=cat, stats=ctx.stats,
                             network=ctx.network)
    prob = ctx.model.predict([feats])[0] if ctx.model is not None else None
    return result_from_features(feats, cat, model=ctx.model, probability=prob)


def score_batch(items: Iterable[tuple[AdRecord, Sequence[Mention]]],
                context: ScoreContext | None = None,
                networks: dict[str, NetworkInfo] | None = None) -> list[RiskResult]:
    """Score many ads; a trained model predicts them in one call (much faster than per ad)."""
    ctx = context or ScoreContext()
    cat = ctx.catalogue or load_catalogue()
    feats = [extract_features(r, m, catalogue=cat, stats=ctx.stats,
                              network=(networks or {}).get(r.id, ctx.network))
             for r, m in items]
    return results_from_features(feats, cat, model=ctx.model)


def results_from_features(feats: Sequence[AdFeatures], catalogue: Catalogue,
                          model: Model | None = None) -> list[RiskResult]:
    probs: Sequence[float | None]
    probs = model.predict(feats) if (model is not None and feats) else [None] * len(feats)
    return [result_from_features(f, catalogue, model=model, probability=p)
            for f, p in zip(feats, probs, strict=True)]


def default_logit(feats: AdFeatures, catalogue: Catalogue) -> float:
    total = catalogue.bias
    for code in feats.hits:
        ind = catalogue.by_code.get(code)
        if ind is not None:
            total += ind.weight
    return total


def result_from_features(feats: AdFeatures, catalogue: Catalogue, *, model: Model | None = None,
                         probability: float | None = None) -> RiskResult:
    if model is not None:
        if probability is None:
            probability = model.predict([feats])[0]
        risk = float(probability)
        weight_of = model.weight
        scorer = model.name
    else:
        risk = sigmoid(default_logit(feats, catalogue))
        scorer = f"default-weights:{catalogue.digest}"

        def weight_of(code: str) -> float:
            return catalogue.by_code[code].weight

    reasons: list[Reason] = []
    for code, hits in feats.hits.items():
        ind = catalogue.by_code.get(code)
        if ind is None:
            continue  # a detector the loaded catalogue does not list: not scored, not shown
        first = hits[0]
        reasons.append(Reason(code=code, weight=round(float(weight_of(code)), 3),
                              evidence=(first.evidence,), description=ind.description,
                              strength=ind.evidence, category=ind.category,
                              detail=first.detail, count=len(hits)))
    risk = _band(risk, MINOR_CODE in feats.hits)
    # the minor first, then by weight, context (0) and negative weights last
    reasons.sort(key=lambda r: (r.code != MINOR_CODE, -(r.weight or 0.0), r.code))
    return RiskResult(risk=round(min(max(risk, 0.0), 1.0), 4), reasons=reasons, scorer=scorer)


def score_network(members: Sequence[tuple[str, RiskResult]], network: NetworkInfo,
                  catalogue: Catalogue | None = None) -> RiskResult:
    """Risk of a network from its member ads' risks and its structure (size, spread).

    The mean of the top three member risks (a network is as worrying as its worst ads, but one
    noisy ad should not carry it alone), shifted by the network_size / network_spread weights.
    Member reasons are merged by code, with the ad that shows each one best.
    """
    cat = catalogue or load_catalogue()
    if not members:
        return RiskResult(risk=0.0, reasons=[], scorer="network")
    ranked = sorted(members, key=lambda m: -m[1].risk)
    top = [r.risk for _, r in ranked[:NETWORK_TOP_MEMBERS]]
    mean_top = sum(top) / len(top)
    base = logit(mean_top)
    reasons: list[Reason] = []
    structural = []
    if network.size >= 5 and "network_size" in cat.by_code:
        structural.append(("network_size", f"{network.size} ads"))
    if network.cities >= 3 and "network_spread" in cat.by_code:
        structural.append(("network_spread", f"{network.cities} cities"))
    for code, text in structural:
        ind = cat.by_code[code]
        base += ind.weight
        reasons.append(Reason(
            code=code, weight=ind.weight,
            evidence=(Evidence("network", 0, 0, f"network {network.network_id}: {text}"),),
            description=ind.description, strength=ind.evidence, category=ind.category,
            detail=text, count=1))
    risk = sigmoid(base)
    merged: dict[str, Reason] = {}
    counts: dict[str, int] = {}
    for ad_id, result in ranked:
        for reason in result.reasons:
            if reason.code in ("network_size", "network_spread", "network_context"):
                continue  # structure is counted once above; a member's context is its mates
            merged.setdefault(reason.code, replace(reason, ad_id=ad_id))
            counts[reason.code] = counts.get(reason.code, 0) + 1
    raw = risk
    risk = _band(risk, MINOR_CODE in merged)
    parts = {
        "definition": f"mean of the top {NETWORK_TOP_MEMBERS} member risks, plus the "
                      "network_size / network_spread weights (log-odds), in the minor band",
        "members_scored": len(members),
        "top_members": [{"ad_id": a, "risk": round(r.risk, 4)}
                        for a, r in ranked[:NETWORK_TOP_MEMBERS]],
        "mean_top": round(mean_top, 4),
        "structure": [{"code": c, "weight": cat.by_code[c].weight, "detail": t}
                      for c, t in structural],
        "before_band": round(raw, 4),
        "minor_band": MINOR_CODE in merged,
    }
    member_reasons = sorted((replace(r, count=counts[c]) for c, r in merged.items()),
                            key=lambda r: (r.code != MINOR_CODE, -(r.weight or 0.0), -r.count))
    all_reasons = [r for r in member_reasons if r.code == MINOR_CODE] + reasons + \
        [r for r in member_reasons if r.code != MINOR_CODE]
    return RiskResult(risk=round(risk, 4), reasons=all_reasons, scorer="network", parts=parts)
