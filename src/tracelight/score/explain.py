"""How a risk score came about, in words: the one explanation the CLI and the web both show.

Pure: given a risk and its reasons (and the catalogue's bias), `explain_ad` / `explain_network`
return an `Explanation` whose strings are printed as they are by `tracelight show` and
rendered as they are by the workspace's "Why this is a lead" box, so both say the same.

The arithmetic (tracelight.score.scorer): without a trained model an ad's risk is
logistic(bias + the sum of the weights of the indicators that fired, each once), kept in the
minor band (a stated age under 18: at least 0.95; every other ad: at most 0.949). Weights are
log-odds. With a trained model the risk is the model's calibrated probability; the reasons
carry its learned log-odds weights, and the ad's words count too, so the parts only
approximately add up (the explanation says so). A network's risk is logistic(logit(mean of
its three riskiest ads' risks) + its size and spread weights), in the same band.

Only reasons with a positive weight are listed under "why this is a lead"; weight 0 is
context, a negative weight lowers the score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tracelight.records import Reason
from tracelight.score.scorer import (
    MINOR_CODE,
    MINOR_FLOOR,
    NETWORK_TOP_MEMBERS,
    NON_MINOR_CAP,
    logit,
    sigmoid,
)

LEAD_HEADING = "Why this is a lead"
CONTEXT_HEADING = "Context only (does not raise the score)"
LOWER_HEADING = "Lowers the score"
STRUCTURAL = ("network_size", "network_spread")
# how far a recomputed risk may sit from the stored one and still be "these parts exactly"
# (stored risks have 4 decimals, weights 3)
_TOLERANCE = 0.002

Effect = Literal["raises", "context", "lowers"]


def _num(x: float) -> str:
    """A signed number the same way everywhere: +1.30, −0.50 (a real minus sign), 0."""
    if abs(x) < 0.005:
        return "0"
    return f"{'+' if x > 0 else '−'}{abs(x):.2f}"


def _odds(x: float) -> str:
    return f"odds ×{math.exp(x):.2g}"


@dataclass(frozen=True)
class Part:
    """One reason and what it did to the number."""

    code: str
    label: str
    weight: float | None
    effect: Effect
    contribution: str  # in the score's units: "+1.30 log-odds (odds ×3.7)"
    detail: str = ""  # what was matched
    description: str = ""  # what the indicator means (indicators.yaml)
    without: float | None = None  # the risk this ad would have without it (exact formula only)

    @property
    def line(self) -> str:
        """The one line shown for this part (CLI and web alike)."""
        text = f"{self.label}: {self.contribution}"
        if self.without is not None:
            text += f"; without it the risk would be {self.without:.2f}"
        if self.detail:
            text += f" — {self.detail}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "weight": self.weight,
                "effect": self.effect, "contribution": self.contribution,
                "without": self.without, "detail": self.detail,
                "description": self.description, "line": self.line}


@dataclass(frozen=True)
class Explanation:
    """A score in words: the formula, the sum, and each part under its heading."""

    risk: float | None
    formula: str
    arithmetic: str = ""  # this score's own sum, or why it cannot be summed exactly
    lead: tuple[Part, ...] = ()
    context: tuple[Part, ...] = ()
    lowering: tuple[Part, ...] = ()
    notes: tuple[str, ...] = field(default=())
    exact: bool = True  # the parts add up to the number (default weights)

    lead_heading: str = LEAD_HEADING
    context_heading: str = CONTEXT_HEADING
    lowering_heading: str = LOWER_HEADING

    def lines(self) -> list[str]:
        """The whole explanation as plain lines (what `tracelight show` prints)."""
        out = [self.formula]
        if self.arithmetic:
            out.append(self.arithmetic)
        out += list(self.notes)
        for heading, parts in ((self.lead_heading, self.lead),
                               (self.lowering_heading, self.lowering),
                               (self.context_heading, self.context)):
            if parts:
                out.append(f"{heading}:")
                out += [f"  - {p.line}" for p in parts]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"risk": self.risk, "formula": self.formula, "arithmetic": self.arithmetic,
                "exact": self.exact, "notes": list(self.notes),
                "lead": [p.to_dict() for p in self.lead],
                "lowering": [p.to_dict() for p in self.lowering],
                "context": [p.to_dict() for p in self.context]}


def _band(risk: float, minor: bool) -> float:
    return max(risk, MINOR_FLOOR) if minor else min(risk, NON_MINOR_CAP)


def _effect(weight: float | None) -> Effect:
    if weight is None or abs(weight) < 1e-9:
        return "context"
    return "raises" if weight > 0 else "lowers"


def _split(parts: Sequence[Part]) -> tuple[tuple[Part, ...], tuple[Part, ...],
                                           tuple[Part, ...]]:
    """(raise it, lower it, context only)."""
    return (tuple(p for p in parts if p.effect == "raises"),
            tuple(p for p in parts if p.effect == "lowers"),
            tuple(p for p in parts if p.effect == "context"))


def _band_notes(risk: float | None, computed: float, minor: bool) -> tuple[str, ...]:
    if risk is None:
        return ()
    if minor and computed < MINOR_FLOOR:
        return (f"A stated age under 18 lifts the risk from {computed:.2f} to at least "
                f"{MINOR_FLOOR:.2f}, so possible minors are always reviewed first.",)
    if not minor and computed > NON_MINOR_CAP:
        return (f"The sum gives {computed:.3f}; every ad without a stated age under 18 is "
                f"held at {NON_MINOR_CAP} or below.",)
    return ()


def explain_ad(risk: float | None, reasons: Sequence[Reason] | None, *,
               bias: float | None = None) -> Explanation:
    """An ad's score in words. `bias` is the catalogue's (default: the loaded catalogue's)."""
    if bias is None:
        from tracelight.score.catalogue import load_catalogue
        bias = load_catalogue().bias
    reasons = list(reasons or [])
    minor = any(r.code == MINOR_CODE for r in reasons)
    weights = [r.weight for r in reasons if r.weight is not None]
    total = bias + sum(weights)
    computed = sigmoid(total)
    exact = risk is not None and abs(_band(computed, minor) - risk) <= _TOLERANCE
    if risk is None:
        return Explanation(risk=None, formula="Not scored yet: run `tracelight rescore`.",
                           exact=False)
    if exact:
        formula = (f"How the number is made: start at {_num(bias)} (an ad with no indicator "
                   f"scores {sigmoid(bias):.2f}), add the weight of each indicator found, "
                   "each counted once however often it appears, and turn the sum into a risk "
                   "between 0 and 1 with the logistic function, 1 / (1 + e^(−sum)). Weights "
                   "are log-odds: +1.00 multiplies the odds by 2.7; 0 is context and changes "
                   "nothing; a negative weight lowers the risk.")
        terms = " ".join([_num(bias) + " (start)"] + [_num(w) for w in weights if abs(w) >= 0.005])
        arithmetic = (f"This ad: {terms} = {_num(total)} log-odds; "
                      f"logistic({_num(total)}) = {computed:.2f}" +
                      (f", shown as {risk:.2f}." if abs(computed - risk) > 0.005 else "."))
    else:
        formula = ("How the number is made: a trained model's calibrated probability. Each "
                   "reason shows the model's learned weight for that indicator in log-odds "
                   "(+1.00 multiplies the odds by 2.7; a negative weight lowers the risk); "
                   "the ad's words also count, so the weights do not add up to the number "
                   "exactly.")
        arithmetic = f"This ad: risk {risk:.2f}; the listed weights sum to {_num(sum(weights))}."
    parts: list[Part] = []
    for r in reasons:
        eff = _effect(r.weight)
        if r.weight is None:
            contribution = "weight not recorded (context only)"
        elif eff == "context":
            contribution = "0 (context only: shown, not counted)"
        else:
            contribution = f"{_num(r.weight)} log-odds ({_odds(r.weight)})"
        without = None
        if exact and r.weight is not None and eff != "context":
            without = round(_band(sigmoid(total - r.weight),
                                  minor and r.code != MINOR_CODE), 2)
        parts.append(Part(code=r.code, label=r.title, weight=r.weight, effect=eff,
                          contribution=contribution, detail=r.detail,
                          description=r.description, without=without))
    lead, lowering, context = _split(parts)
    return Explanation(risk=risk, formula=formula, arithmetic=arithmetic, lead=lead,
                       lowering=lowering, context=context,
                       notes=_band_notes(risk, computed, minor) if exact else (), exact=exact)


def explain_network(risk: float | None, reasons: Sequence[Reason] | None) -> Explanation:
    """A network's score (tracelight.score.scorer.score_network) in words."""
    reasons = list(reasons or [])
    if risk is None:
        return Explanation(risk=None, formula="Not scored: none of its ads has a risk yet.",
                           exact=False)
    minor = any(r.code == MINOR_CODE for r in reasons)
    structural = [r for r in reasons if r.code in STRUCTURAL and r.weight is not None]
    shift = sum(r.weight or 0.0 for r in structural)
    formula = (f"How the number is made: take the mean risk of the network's "
               f"{NETWORK_TOP_MEMBERS} riskiest ads, as log-odds, add the network's size and "
               "spread weights, and turn the sum back into a risk with the logistic function. "
               "Its ads' reasons count through their ads' risks, not again here.")
    arithmetic = ""
    if not (minor and risk <= MINOR_FLOOR + 1e-9) and risk < NON_MINOR_CAP:
        base = sigmoid(logit(risk) - shift)
        arithmetic = (f"This network: mean of its riskiest ads about {base:.2f} "
                      f"({_num(logit(base))} log-odds)"
                      + "".join(f" {_num(r.weight or 0.0)} ({r.title.lower()})"
                                for r in structural)
                      + f" = {_num(logit(risk))} log-odds; risk {risk:.2f}.")
    parts: list[Part] = []
    for r in reasons:
        eff = _effect(r.weight)
        if r.code in STRUCTURAL:
            contribution = f"{_num(r.weight or 0.0)} log-odds ({_odds(r.weight or 0.0)})"
        elif r.weight is None:
            contribution = "weight not recorded (context only)"
        elif eff == "context":
            contribution = (f"0 (context only) in {r.count} of its ads")
        else:
            contribution = (f"{_num(r.weight)} log-odds in each of {r.count} of its ads "
                            "(counted through their risks)")
        parts.append(Part(code=r.code, label=r.title, weight=r.weight, effect=eff,
                          contribution=contribution,
                          detail=(r.detail + (f" (ad {r.ad_id})" if r.ad_id else "")).strip(),
                          description=r.description))
    notes: tuple[str, ...] = ()
    if minor:
        notes = (f"An ad in it states an age under 18: the network's risk is at least "
                 f"{MINOR_FLOOR:.2f}, so it is reviewed first.",)
    lead, lowering, context = _split(parts)
    return Explanation(risk=risk, formula=formula, arithmetic=arithmetic, notes=notes,
                       lead=lead, lowering=lowering, context=context, exact=True)
