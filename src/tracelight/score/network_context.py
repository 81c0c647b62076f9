"""Risk that sees the network: an ad's score from its own evidence and its network mates'.

Pure: plain inputs (member ads with their ad-only risks and reasons, the linker's evidence as
hyperedges, a few network facts), plain outputs. The store, the linker and the CLI are not
imported; tracelight.services.rescore feeds this from the store.

For each member ad *i*:

    link(j -> i) = product of the strengths of the evidence on the strongest path from j to i
                   (strong 1.0, medium 0.6, weak 0.3) * 0.8 ** (steps - 1)
    share(i, c)  = min(1, (share of i's mates showing indicator c) / 0.5)
    lift(i, c)   = max(0, w_c * share(i, c) * max over mates j showing c of link(j -> i)
                          - the weight of c in ad i itself)
    z1(i)        = logit(own risk of i) + sum over c of lift(i, c)
                   + the weights of the network indicators that fired
    consensus(i) = mean of z1 over i's mates
    tie(i)       = strength factor of the strongest evidence item i shares with a mate
    raw(i)       = sigmoid(z1(i) + max(0, consensus(i) - z1(i)) * tie(i))

then, when a calibration was fitted on labels (tracelight.score.calibration), the calibrated
probability, and last the minor band (a stated age under 18 in the ad itself keeps >= 0.95;
a mate's stated minor age lifts an ad, but not into that band). Network indicators (many
names on one contact, movement between cities, one picture across several names) are
catalogue entries (indicators.yaml) with their weights. A risk is a lead for human review,
never a finding about a person.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from tracelight.records import Evidence, Reason
from tracelight.score.catalogue import Catalogue, load_catalogue
from tracelight.score.scorer import MINOR_CODE, _band, logit, sigmoid

CONTEXT_CODE = "network_context"
NETWORK_INDICATORS = ("network_many_names", "network_movement", "network_shared_images")
STRENGTH_FACTOR = {"strong": 1.0, "medium": 0.6, "weak": 0.3}
HOP_DECAY = 0.8
UNLINKED_FACTOR = 0.3  # members no kept evidence item connects (the linker joined them anyway)
SHARE_FULL = 0.5       # share of mates from which a mate indicator counts in full
CONSENSUS_SHARE = 1.0  # how far the network's consensus pulls a member below it (x its tie)
# In a network, these ad-level corpus facts about an ad's contact are facts about the
# network, measured there once by their twin (one contact with many names; movement between
# cities; posting volume, which the network's own risk counts as network_size): counted on
# every member as well, one network's structure would outweigh what its ads say.
SUPERSEDED = {"phone_many_names": "network_many_names",
              "many_cities_short_time": "network_movement",
              "high_posting_volume": "network_size"}
MIN_LIFT = 0.02        # a context that lifts the risk by less is not shown as a reason
MANY_NAMES = 3
MOVEMENT_CITIES = 3
MOVEMENT_DAYS = 30


class Calibrator(Protocol):
    def apply(self, p: float) -> float: ...


@dataclass(frozen=True)
class Member:
    """One member ad: its key (as in the linker's evidence), ad-only risk and reasons."""

    key: str
    ad_id: str
    risk: float
    reasons: Sequence[Reason] = ()


@dataclass(frozen=True)
class Link:
    """One evidence item of the linker: every ad in `keys` shares `kind`/`value`."""

    kind: str
    value: str
    strength: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class NetworkFacts:
    network_id: str
    links: Sequence[Link] = ()
    names: Sequence[str] = ()
    # (city, first seen) of each city of the network
    cities: Sequence[tuple[str, datetime | None]] = ()


@dataclass
class ContextResult:
    """A member ad's network-aware risk, its reasons (own + network) and what it came from."""

    key: str
    risk: float
    raw: float
    reasons: list[Reason] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)


def _odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return p / (1 - p)


def _spread(seeds: Mapping[str, float], links: Sequence[Link],
            by_key: Mapping[str, list[int]]) -> dict[str, tuple[float, int, int, str]]:
    """Each seed's value carried along the strongest paths: key -> (value, steps, link index
    of the last step, seed key). Multi-source max-product Dijkstra over hyperedges; a link is
    expanded once (the first time is with its best value, since factors are <= 1)."""
    best: dict[str, tuple[float, int, int, str]] = {k: (v, 0, -1, k) for k, v in seeds.items()}
    heap: list[tuple[float, int, str]] = [(-v, 0, k) for k, v in seeds.items()]
    heapq.heapify(heap)
    used: set[int] = set()
    done: set[str] = set()
    while heap:
        neg, steps, key = heapq.heappop(heap)
        if key in done:
            continue
        done.add(key)
        origin = best[key][3]
        for li in by_key.get(key, []):
            if li in used:
                continue
            used.add(li)
            link = links[li]
            v = -neg * STRENGTH_FACTOR.get(link.strength, UNLINKED_FACTOR) \
                * (HOP_DECAY if steps else 1.0)
            for other in link.keys:
                if other not in done and v > best.get(other, (0.0, 0, -1, ""))[0]:
                    best[other] = (v, steps + 1, li, origin)
                    heapq.heappush(heap, (-v, steps + 1, other))
    return best


def share_weight(share: float) -> float:
    """How much of an indicator's weight the mates' share showing it carries: full from
    SHARE_FULL of the mates on (a network-wide trait is written on most of its ads, not all:
    some ads are short, some rewritten), proportionally below it (a stray phrase on one ad of
    forty carries a twentieth)."""
    return min(1.0, max(0.0, share) / SHARE_FULL)


def network_indicators(facts: NetworkFacts, catalogue: Catalogue,
                       size: int) -> list[Reason]:
    """The network-level indicators that fire for this network (catalogue entries)."""
    out: list[Reason] = []
    names = sorted({n.strip().lower() for n in facts.names if n and n.strip()})

    def add(code: str, text: str) -> None:
        ind = catalogue.by_code.get(code)
        if ind is None:
            return
        out.append(Reason(code=code, weight=ind.weight,
                          evidence=(Evidence("network", 0, 0,
                                             f"network {facts.network_id}: {text}"),),
                          description=ind.description, strength=ind.evidence,
                          category=ind.category, detail=text, count=1))

    contacts = [lk for lk in facts.links if lk.kind in ("phone", "email")
                and len(lk.keys) * 2 >= size]
    if len(names) >= MANY_NAMES and contacts:
        c = max(contacts, key=lambda lk: len(lk.keys))
        add("network_many_names",
            f"{c.kind} {c.value} on {len(c.keys)} of {size} ads with {len(names)} names: "
            + ", ".join(names[:5]))
    dated = sorted((when, city) for city, when in facts.cities if when is not None)
    for i in range(len(dated)):
        window = {c.lower() for w, c in dated[i:]
                  if (w - dated[i][0]).total_seconds() <= MOVEMENT_DAYS * 86400}
        if len(window) >= MOVEMENT_CITIES:
            add("network_movement", f"first seen in {len(window)} cities within "
                                    f"{MOVEMENT_DAYS} days")
            break
    images = [lk for lk in facts.links if lk.kind in ("image", "image_near")]
    if images and len(names) >= 2:
        add("network_shared_images",
            f"{len(images)} shared picture(s) across {len(names)} names: "
            + ", ".join(names[:5]))
    return out


def _phrase(reason: Reason, catalogue: Catalogue) -> str:
    ind = catalogue.by_code.get(reason.code)
    phrase = ind.network_phrase if ind is not None else ""
    return phrase or f"show '{reason.code.replace('_', ' ')}'"


def score_members(members: Sequence[Member], facts: NetworkFacts,
                  catalogue: Catalogue | None = None,
                  calibration: Calibrator | None = None) -> list[ContextResult]:
    """Network-aware risks of every member ad, in the order given.

    For each indicator (code) with a positive weight shown by some member, the member ads
    without it receive its weight discounted by the strongest link path from a member that
    shows it (the network's strongest indicators, discounted by link strength and distance).
    The same indicator counts once however many mates show it: a template repeated on forty
    ads is one piece of evidence, not forty.
    """
    cat = catalogue or load_catalogue()
    if not members:
        return []
    keys = {m.key for m in members}
    by_member = {m.key: m for m in members}
    links = [lk for lk in facts.links if len(set(lk.keys) & keys) >= 2]
    by_key: dict[str, list[int]] = {}
    for i, lk in enumerate(links):
        for k in set(lk.keys):
            if k in keys:
                by_key.setdefault(k, []).append(i)
    skip = (CONTEXT_CODE, *NETWORK_INDICATORS)
    own_w: dict[str, dict[str, float]] = {}
    code_w: dict[str, float] = {}
    superseded: dict[str, float] = {}  # member key -> weight of its ad-level twins
    for m in members:
        ws = own_w.setdefault(m.key, {})
        for r in m.reasons:
            if r.code in skip or r.weight is None or r.weight <= 0:
                continue
            if r.code in SUPERSEDED and len(members) >= 2:
                superseded[m.key] = superseded.get(m.key, 0.0) + float(r.weight)
                continue
            ws[r.code] = max(ws.get(r.code, 0.0), float(r.weight))
            code_w[r.code] = max(code_w.get(r.code, 0.0), float(r.weight))
    counts = {c: sum(1 for ws in own_w.values() if c in ws) for c in code_w}
    spread: dict[str, dict[str, tuple[float, int, int, str]]] = {}
    for code in code_w:
        seeds = {k: ws[code] for k, ws in own_w.items() if code in ws}
        got = _spread(seeds, links, by_key)
        top = max(seeds.items(), key=lambda kv: (kv[1], kv[0]))
        for k in keys - got.keys():  # joined by evidence the network record did not keep
            got[k] = (top[1] * UNLINKED_FACTOR, 0, -1, top[0])
        spread[code] = got
    net_reasons = network_indicators(facts, cat, len(members))
    net_weight = sum(r.weight or 0.0 for r in net_reasons)
    # first pass: own evidence plus the lifts of the mates' indicators
    firsts: dict[str, tuple[float, list[tuple[float, str]]]] = {}
    for m in members:
        own = min(max(m.risk, 0.0), 1.0)
        base = logit(own) - superseded.get(m.key, 0.0)
        lifts: list[tuple[float, str]] = []
        for code, got in spread.items():
            mine = own_w[m.key].get(code, 0.0)
            others = share_weight((counts[code] - (mine > 0)) / max(1, len(members) - 1))
            lift = got[m.key][0] * others - mine
            if lift > 1e-9:
                lifts.append((lift, code))
        firsts[m.key] = (base + sum(v for v, _ in lifts) + net_weight, lifts)
    # second pass: the network's consensus for an ad (the mean of its mates' first-pass
    # log-odds) lifts an ad below it, discounted by how strongly the ad is tied to the network
    total = sum(z for z, _ in firsts.values())
    tie = _ties(keys, links)
    out = []
    for m in members:
        own = min(max(m.risk, 0.0), 1.0)
        z1, lifts = firsts[m.key]
        consensus = (total - z1) / (len(firsts) - 1) if len(firsts) > 1 else z1
        pull = max(0.0, (consensus - z1) * CONSENSUS_SHARE * tie[m.key])
        lift_total = sum(v for v, _ in lifts) + pull
        raw = sigmoid(z1 + pull)
        risk = alone(raw, m.reasons, calibration)
        reasons = [_as_network_fact(r) if r.code in SUPERSEDED and len(members) >= 2 else r
                   for r in m.reasons if r.code not in skip]
        parts: dict[str, Any] = {"own": round(own, 4), "lift": round(lift_total, 4),
                                 "superseded": round(superseded.get(m.key, 0.0), 4),
                                 "consensus": round(sigmoid(consensus), 4),
                                 "consensus_lift": round(pull, 4), "tie": tie[m.key],
                                 "network_indicators": [r.code for r in net_reasons],
                                 "raw": round(raw, 4), "calibrated": calibration is not None}
        ind = cat.by_code.get(CONTEXT_CODE)
        if (lifts or pull > 1e-9) and ind is not None \
                and raw - sigmoid(logit(own) - superseded.get(m.key, 0.0) + net_weight) \
                >= MIN_LIFT:
            reasons.append(_context_reason(
                m, lifts, pull, lift_total, own, raw, consensus, spread, links, by_member,
                counts, code_w, own_w, len(members), cat, ind, parts))
        reasons += net_reasons
        reasons.sort(key=lambda r: (r.code != MINOR_CODE, -(r.weight or 0.0), r.code))
        out.append(ContextResult(m.key, risk, raw, reasons, parts))
    return out


def _as_network_fact(reason: Reason) -> Reason:
    """An ad-level corpus fact the network measures itself: shown, weight 0 (counted once, on
    the network, by its twin)."""
    if not reason.weight or reason.weight <= 0:
        return reason
    twin = SUPERSEDED[reason.code]
    note = f"counted once on the network ({twin}), not on each of its ads"
    return replace(reason, weight=0.0,
                   detail=f"{reason.detail}; {note}" if reason.detail else note)


def _ties(keys: set[str], links: Sequence[Link]) -> dict[str, float]:
    """How strongly each member is tied to its network: the strength factor of the strongest
    evidence item it shares with a mate (members no kept item connects: UNLINKED_FACTOR)."""
    tie = dict.fromkeys(keys, UNLINKED_FACTOR)
    for lk in links:
        f = STRENGTH_FACTOR.get(lk.strength, UNLINKED_FACTOR)
        for k in lk.keys:
            if k in tie and f > tie[k]:
                tie[k] = f
    return tie


def _context_reason(m: Member, lifts: list[tuple[float, str]], pull: float,
                    lift_total: float, own: float, raw: float, consensus: float,
                    spread: Mapping[str, Mapping[str, tuple[float, int, int, str]]],
                    links: Sequence[Link], by_member: Mapping[str, Member],
                    counts: Mapping[str, int], code_w: Mapping[str, float],
                    own_w: Mapping[str, Mapping[str, float]], size: int, cat: Catalogue,
                    ind: Any, parts: dict[str, Any]) -> Reason:
    """The `network_context` reason of one member: what the network added, in words, with
    the member ad that shows its strongest indicator."""
    tail = (f"; network consensus {sigmoid(consensus):.2f} (tie {parts['tie']:.1f}): "
            f"{pull:+.2f}" if pull > 1e-9 else "") + f"; own {own:.2f} -> {raw:.2f}"
    if not lifts:
        detail = ("its network's ads together score higher than its own evidence"
                  + tail)
        parts.update({"from_network": []})
        return Reason(code=CONTEXT_CODE, weight=round(lift_total, 3),
                      evidence=(Evidence("network", 0, 0,
                                         f"{size} ads, consensus {sigmoid(consensus):.2f}"),),
                      description="in a network whose other ads score higher than it does",
                      strength=ind.evidence, category=ind.category, detail=detail,
                      count=1, ad_id=None)
    lifts.sort(key=lambda t: (t[1] != MINOR_CODE, -t[0], t[1]))
    lift, code = lifts[0]
    value, steps, li, origin = spread[code][m.key]
    src = by_member[origin]
    src_reason = next(r for r in src.reasons if r.code == code)
    what = _phrase(src_reason, cat)
    link = links[li] if li >= 0 else None
    via = (f"{link.kind} {link.value} ({link.strength})" if link is not None
           else "evidence the network record does not list")
    step_text = f"{steps} step{'s' if steps != 1 else ''}" if steps else "unlinked"
    also = ", ".join(c for _, c in lifts[1:4])
    n_with = counts[code] - (own_w[m.key].get(code, 0.0) > 0)
    detail = (f"ad {src.ad_id} shows {code}, linked by {via}, {step_text} (link "
              f"{value / code_w[code]:.2f}); {n_with} of {size - 1} mates "
              f"show it: {lift:+.2f} of its {code_w[code]:+.2f}"
              + (f"; also from the network: {also}" if also else "") + tail)
    text = f"ad {src.ad_id}" + (f": {src_reason.evidence[0].text}"
                                if src_reason.evidence else "")
    parts.update({"source_ad": src.ad_id, "source_code": code,
                  "link": round(value / code_w[code], 4), "steps": steps,
                  "via": None if link is None else {"kind": link.kind, "value": link.value,
                                                    "strength": link.strength},
                  "from_network": [c for _, c in lifts]})
    return Reason(
        code=CONTEXT_CODE, weight=round(lift_total, 3),
        evidence=(Evidence("network", 0, 0, text[:200]),),
        description=f"in a network whose other ads {what}", strength=ind.evidence,
        category=ind.category, detail=detail, count=len(lifts) + (pull > 1e-9),
        ad_id=src.ad_id)


def alone(risk: float, reasons: Sequence[Reason],
          calibration: Calibrator | None = None) -> float:
    """A raw risk in the minor band, then calibrated when a calibration is given (the map is
    fitted on banded scores: tracelight.score.calibration), then banded again. For an ad in
    no network the raw risk is its own."""
    minor = any(r.code == MINOR_CODE for r in reasons)
    p = calibration.apply(_band(risk, minor)) if calibration is not None else risk
    return round(min(max(_band(p, minor), 0.0), 1.0), 4)
