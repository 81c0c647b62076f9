"""From evidence edges to networks: connected components, stable ids, network records.

Network ids are stable across re-runs: a network keeps the id of the previous network most of
whose members it still holds (growing, or merging with a smaller one, keeps the id); a new
network's id is derived from its smallest member key, so it does not depend on run order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from tracelight.link.evidence import Evidence


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label of each node 0..n-1 under undirected edges (a[i], b[i])."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if a.size == 0:
        return np.arange(n, dtype=np.int64)
    g = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, labels = connected_components(g, directed=False)
    return labels.astype(np.int64)


def derived_id(min_key: str) -> str:
    return "net-" + blake2b(min_key.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def assign_ids(groups: Sequence[Sequence[str]],
               previous: Mapping[str, str] | None = None) -> list[str]:
    """A network id for each group of member keys (each group sorted, smallest key first).

    previous: member key -> network id from the last run. A group inherits the previous id
    whose network it holds the majority of (largest overlap first, then the id, so the
    outcome never depends on input order); other groups get an id derived from their
    smallest key.
    """
    ids: list[str | None] = [None] * len(groups)
    taken: set[str] = set()
    if previous:
        prev_sizes = Counter(previous.values())
        proposals: list[tuple[int, str, int]] = []
        for gi, members in enumerate(groups):
            overlap = Counter(previous[k] for k in members if k in previous)
            for old, count in overlap.items():
                if 2 * count >= prev_sizes[old]:  # holds at least half the old network
                    proposals.append((-count, old, gi))
        for _neg, old, gi in sorted(proposals, key=lambda p: (p[0], p[1], groups[p[2]][0])):
            if ids[gi] is None and old not in taken:
                ids[gi] = old
                taken.add(old)
    for gi, members in enumerate(groups):
        if ids[gi] is not None:
            continue
        base = derived_id(members[0])
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        ids[gi] = candidate
        taken.add(candidate)
    return [i for i in ids if i is not None]


def _iso(ts: float) -> str | None:
    if ts != ts:  # NaN: no date
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat()


@dataclass
class Network:
    """One network: member ads, what they share, where and when they were posted."""

    network_id: str
    ad_ids: list[str]
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)
    first_seen: str | None = None
    last_seen: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    identifiers: dict[str, list[str]] = field(default_factory=dict)  # social, payment, ...
    hubs_excluded: list[dict[str, Any]] = field(default_factory=list)
    risk: dict[str, Any] | None = None

    @property
    def size(self) -> int:
        return len(self.ad_ids)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "network_id": self.network_id, "ad_ids": self.ad_ids, "phones": self.phones,
            "emails": self.emails, "names": self.names, "locations": self.locations,
            "first_seen": self.first_seen, "last_seen": self.last_seen,
            "evidence": [e.to_dict() for e in self.evidence], "size": self.size,
            "identifiers": self.identifiers, "hubs_excluded": self.hubs_excluded,
        }
        if self.risk is not None:
            out["risk"] = self.risk
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Network:
        ev = [Evidence(e["kind"], e["value"], e.get("strength", ""), tuple(e["ad_ids"]),
                       e.get("score")) for e in d.get("evidence", [])]
        return cls(network_id=d["network_id"], ad_ids=list(d["ad_ids"]),
                   phones=list(d.get("phones", [])), emails=list(d.get("emails", [])),
                   names=list(d.get("names", [])), locations=list(d.get("locations", [])),
                   first_seen=d.get("first_seen"), last_seen=d.get("last_seen"), evidence=ev,
                   identifiers=dict(d.get("identifiers", {})),
                   hubs_excluded=list(d.get("hubs_excluded", [])), risk=d.get("risk"))


def itinerary(cities: Sequence[str | None], posted: Sequence[float]) -> list[dict[str, Any]]:
    """Cities with first/last posting dates, in order of first appearance."""
    spans: dict[str, list[Any]] = {}
    for city, ts in zip(cities, posted, strict=True):
        if not city:
            continue
        key = city.casefold()
        span = spans.get(key)
        if span is None:
            spans[key] = [city, ts, ts, 1]
            continue
        span[3] += 1
        if ts == ts:
            span[1] = ts if span[1] != span[1] else min(span[1], ts)
            span[2] = ts if span[2] != span[2] else max(span[2], ts)
    rows = sorted(spans.values(), key=lambda s: (s[1] != s[1], s[1], s[0]))
    return [{"city": c, "first_seen": _iso(f), "last_seen": _iso(last), "ads": n}
            for c, f, last, n in rows]


def risk_summary(risks: np.ndarray) -> dict[str, Any] | None:
    scored = risks[~np.isnan(risks)]
    if scored.size == 0:
        return None
    return {"max": round(float(scored.max()), 4), "mean": round(float(scored.mean()), 4),
            "scored_ads": int(scored.size)}


def group_rows(labels: np.ndarray) -> list[np.ndarray]:
    """Rows of each label, labels in order of their smallest row."""
    order = np.argsort(labels, kind="stable")
    ls = labels[order]
    brk = np.nonzero(np.diff(ls))[0] + 1
    groups = np.split(order, brk) if order.size else []
    groups.sort(key=lambda g: int(g[0]))
    return groups


def evidence_by_group(labels: np.ndarray, items: Sequence[tuple[np.ndarray, Evidence]],
                      ) -> dict[int, list[Evidence]]:
    out: dict[int, list[Evidence]] = defaultdict(list)
    for rows, ev in items:
        out[int(labels[rows[0]])].append(ev)
    return out
