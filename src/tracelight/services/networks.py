"""Use case: networks ranked by risk, the one ranking `tracelight queue`, `tracelight
networks`, the workspace's queue and its network pages all use.

A network's risk is `score_network` over its member ads' risks and reasons, shifted by its
size and spread: a network is as worrying as its worst ads. A risk is a lead for human
review, never a finding about a person.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracelight.errors import NotFoundError, UsageError
from tracelight.link import Network
from tracelight.records import Reason
from tracelight.score.catalogue import Catalogue, load_catalogue
from tracelight.score.features import NetworkInfo
from tracelight.score.scorer import RiskResult, score_network
from tracelight.store import Store


@dataclass(frozen=True)
class RankedNetwork:
    """A network with its risk (score_network) and the reasons that risk came from."""

    network: Network
    risk: float
    reasons: list[Reason] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)  # what `risk` came from

    @property
    def id(self) -> str:
        return self.network.network_id

    @property
    def size(self) -> int:
        return self.network.size

    @property
    def city_names(self) -> list[str]:
        return sorted({loc["city"] for loc in self.network.locations if loc.get("city")})

    @property
    def location(self) -> str | None:
        """Up to three of its cities, for tables."""
        return ", ".join(self.city_names[:3]) or None

    @property
    def label(self) -> str:
        names = self.network.names
        return f"network {self.id}" + (f" ({', '.join(names[:2])})" if names else "")

    def risk_dict(self) -> dict[str, Any]:
        """The linker's risk summary of the members (max, mean, scored_ads) plus `score`,
        this ranking's risk, and `reasons`, the parts it came from."""
        return {**(self.network.risk or {}), "score": self.risk,
                "reasons": [r.to_dict() for r in self.reasons], "parts": self.parts}

    def summary(self) -> dict[str, Any]:
        """What the workspace shows of a network in lists and on its page."""
        net = self.network
        return {"id": self.id, "risk": self.risk, "risk_parts": self.parts,
                "size": self.size, "label": self.label,
                "reasons": [r.to_dict() for r in self.reasons], "cities": len(net.locations),
                "first_seen": net.first_seen, "last_seen": net.last_seen,
                "evidence": [e.to_dict() for e in net.evidence]}


def _usable(reasons: Sequence[Reason] | None) -> list[Reason]:
    # reasons stored by another scorer (or an older catalogue) may lack a weight: skip those
    return [r for r in reasons or [] if r.code and r.weight is not None]


def rank(store: Store, nets: Iterable[Network],
         catalogue: Catalogue | None = None) -> list[RankedNetwork]:
    """Each network scored from its member ads, in the order given."""
    cat = catalogue or load_catalogue()
    nets = list(nets)
    members = store.member_risks([n.network_id for n in nets])
    out = []
    for net in nets:
        scored = [(ad_id, RiskResult(risk=risk, reasons=_usable(reasons)))
                  for ad_id, risk, reasons in members.get(net.network_id, [])
                  if risk is not None]
        cities = {loc.get("city") for loc in net.locations if loc.get("city")}
        result = score_network(scored, NetworkInfo(net.network_id, net.size, len(cities) or 1),
                               cat)
        out.append(RankedNetwork(net, result.risk, result.reasons, result.parts))
    return out


def networks_built(store: Store) -> bool:
    return bool(store.count_networks())


def network_queue(store: Store, limit: int,
                  catalogue: Catalogue | None = None) -> list[RankedNetwork]:
    """The `limit` riskiest networks, riskiest first (ties by id)."""
    # a network's risk leans on its riskiest ads, so the top by member risk are the candidates
    candidates = [Network.from_dict(r) for r in store.network_records_by_member_risk(limit * 3)]
    ranked = sorted(rank(store, candidates, catalogue), key=lambda r: (-r.risk, r.id))
    return ranked[:limit]


def iter_ranked(store: Store, *, min_size: int = 2, limit: int | None = None,
                batch: int = 500) -> Iterable[RankedNetwork]:
    """Every network, biggest first (as `tracelight networks` lists them), each scored."""
    part: list[Network] = []
    for record in store.iter_network_records(min_size=min_size, limit=limit, batch=batch):
        part.append(Network.from_dict(record))
        if len(part) >= batch:
            yield from rank(store, part)
            part = []
    if part:
        yield from rank(store, part)


SORTS = ("risk", "size", "recent")


def list_ranked(store: Store, *, sort: str = "size", min_size: int = 2,
                limit: int | None = None) -> Iterable[RankedNetwork]:
    """Every network scored, in the order `sort` asks: `size` (biggest first, streamed),
    `risk` (riskiest first, the queue's order) or `recent` (latest posting first). Ties by
    network id. `risk` and `recent` rank every network before the first is returned."""
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r} (known: {', '.join(SORTS)})")
    if sort == "size":
        yield from iter_ranked(store, min_size=min_size, limit=limit)
        return
    every = list(iter_ranked(store, min_size=min_size))
    if sort == "risk":
        every.sort(key=lambda r: (-r.risk, r.id))
    else:
        every.sort(key=lambda r: r.id)
        every.sort(key=lambda r: r.network.last_seen or "", reverse=True)
    yield from every[:limit] if limit is not None else every


def get_network(store: Store, network_id: str) -> RankedNetwork:
    """One network, scored. NotFoundError says whether networks were built at all."""
    try:
        record = store.network_record(str(network_id))
    except NotFoundError:
        if not networks_built(store):
            raise NotFoundError("networks not built yet",
                                hint="run the linker (tracelight link) to build them") from None
        raise NotFoundError(f"no network {network_id!r}") from None
    return rank(store, [Network.from_dict(record)])[0]


def networks_for_ad(store: Store, ad_pk: int) -> list[RankedNetwork]:
    """The network this ad belongs to (none, or one), scored."""
    nid = store.network_id_of(ad_pk)
    return [get_network(store, nid)] if nid else []


class RankingCache:
    """The top networks kept for a while, so a queue page is not re-ranked on every view.

    One per workspace app (no module-global state); `ttl` seconds.
    """

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._hit: tuple[float, list[RankedNetwork]] | None = None

    def clear(self) -> None:
        self._hit = None

    def top(self, store: Store, limit: int = 20) -> list[RankedNetwork]:
        now = time.monotonic()
        if self._hit and now - self._hit[0] < self.ttl and (limit <= 100
                                                            or len(self._hit[1]) >= limit):
            return self._hit[1][:limit]
        nets = network_queue(store, max(limit, 100))
        self._hit = (now, nets)
        return nets[:limit]


def summaries(ranked: Sequence[RankedNetwork]) -> list[dict[str, Any]]:
    return [r.summary() for r in ranked]
