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
    def places(self) -> list[str]:
        """Its places in the order they first appeared (the linker's itinerary order)."""
        return list(dict.fromkeys(loc["city"] for loc in self.network.locations
                                  if loc.get("city")))

    @property
    def contact(self) -> str | None:
        """The identifier most of its ads share, shortened for a name: "phone 206…0143"."""
        hubs = {(h.get("kind"), h.get("value")) for h in self.network.hubs_excluded}
        shared = sorted((e for e in self.network.evidence if (e.kind, e.value) not in hubs
                         and e.kind in ("phone", "email", "social", "crypto")),
                        key=lambda e: (-len(e.ad_ids), e.kind != "phone", e.value))
        if shared:
            return short_identifier(shared[0].kind, shared[0].value)
        if self.network.phones:
            return short_identifier("phone", self.network.phones[0])
        return None

    @property
    def label(self) -> str:
        """A readable name: "Seattle, WA → Portland, OR · 12 ads · phone 206…0143"."""
        places = self.places
        route = " → ".join(places[:3]) + (f" +{len(places) - 3} more" if len(places) > 3
                                           else "")
        parts = [route or "no place given", f"{self.size} ads"]
        if self.contact:
            parts.append(self.contact)
        return " · ".join(parts)

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
                "reasons": [{**r.to_dict(), "label": r.title} for r in self.reasons],
                "cities": len(net.locations), "places": self.places,
                "first_seen": net.first_seen, "last_seen": net.last_seen,
                "evidence": [e.to_dict() for e in net.evidence]}


def short_identifier(kind: str, value: str) -> str:
    """An identifier shortened for a name: phones as "206…0143" (national digits), other
    values cut in the middle."""
    if kind == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        if value.startswith("+1") and len(digits) == 11:  # North America: the 10 digits
            return f"phone {digits[1:4]}…{digits[-4:]}"
        return f"phone +{digits[:3]}…{digits[-4:]}" if len(digits) > 7 else f"phone {value}"
    word = {"social": "handle", "crypto": "wallet"}.get(kind, kind)
    return f"{word} {value if len(value) <= 24 else value[:12] + '…' + value[-8:]}"


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


def network_queue(store: Store, limit: int, catalogue: Catalogue | None = None, *,
                  show_all: bool = False, mine: str | None = None) -> list[RankedNetwork]:
    """The `limit` riskiest networks, riskiest first (ties by id). With `show_all=False`
    networks analysts closed are left out unless they gained ads since (services.review);
    with `mine`, only networks assigned to that analyst."""
    from tracelight.services.review import annotate_networks

    if mine is not None:
        ids = [r.ref for r in store.list_reviews(kind="network", assignee=mine, limit=10_000)
               if r.state not in ("no concern", "escalated")]
        got = [Network.from_dict(store.network_record(i)) for i in ids]
        return sorted(rank(store, got, catalogue), key=lambda r: (-r.risk, r.id))[:limit]
    want = limit if show_all else limit * 3
    # a network's risk leans on its riskiest ads, so the top by member risk are the candidates
    candidates = [Network.from_dict(r) for r in store.network_records_by_member_risk(want * 3)]
    ranked = sorted(rank(store, candidates, catalogue), key=lambda r: (-r.risk, r.id))
    if not show_all:
        notes = annotate_networks(store, [(r.id, r.size) for r in ranked])
        ranked = [r for r in ranked if not notes[r.id].hidden]
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
    every = sort_networks(list(iter_ranked(store, min_size=min_size)), sort)
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


# how a list of networks may be ordered: sort word -> what the page says
SORTS: dict[str, str] = {
    "risk": "highest risk first",
    "size": "most ads first",
    "recent": "most recently seen first",
}


def rank_all(store: Store) -> list[RankedNetwork]:
    """Every network (of 2+ ads), scored, riskiest first (ties by id): the one ranking."""
    return sorted(iter_ranked(store, min_size=2), key=lambda r: (-r.risk, r.id))


def sort_networks(ranked: Sequence[RankedNetwork], sort: str) -> list[RankedNetwork]:
    """`ranked` in the order `sort` (a key of SORTS) names; ties by risk, then by id."""
    if sort not in SORTS:
        raise UsageError(f"unknown network order {sort!r}", hint="one of " + ", ".join(SORTS))
    if sort == "risk":
        return sorted(ranked, key=lambda r: (-r.risk, r.id))
    if sort == "size":
        return sorted(ranked, key=lambda r: (-r.size, -r.risk, r.id))
    # recent: the latest posting first; networks without dates last
    dated = sorted((r for r in ranked if r.network.last_seen),
                   key=lambda r: (str(r.network.last_seen), r.risk), reverse=True)
    return dated + sorted((r for r in ranked if not r.network.last_seen),
                          key=lambda r: (-r.risk, r.id))


@dataclass(frozen=True)
class NetworkPage:
    """One page of the network list: `total` networks in all, these in `sort` order."""

    total: int
    networks: list[RankedNetwork]
    sort: str
    offset: int
    limit: int

    @property
    def first(self) -> int:
        """1-based position of the first network shown (0 when none)."""
        return self.offset + 1 if self.networks else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.networks)


class RankingCache:
    """Every network ranked, kept for a while, so a page is not re-ranked on every view.

    One per workspace app (no module-global state). A new link run (another `tracelight
    link`) makes the next call rank again at once; otherwise the ranking is kept `ttl`
    seconds, so a `tracelight rescore` shows within five minutes. Ranking every network reads
    every member ad's risk and reasons (about 10,000 member ads a second on the development
    machine), which is why it is kept rather than redone per page.
    """

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._hit: tuple[float, Any, list[RankedNetwork]] | None = None

    def clear(self) -> None:
        self._hit = None

    def ranked(self, store: Store) -> list[RankedNetwork]:
        """Every network, riskiest first."""
        now = time.monotonic()
        run = store.last_link_run()
        run_key = run.pk if run is not None else None
        if self._hit and now - self._hit[0] < self.ttl and self._hit[1] == run_key:
            return self._hit[2]
        nets = rank_all(store)
        self._hit = (now, run_key, nets)
        return nets

    def top(self, store: Store, limit: int = 20) -> list[RankedNetwork]:
        return self.ranked(store)[:limit]

    def page(self, store: Store, *, sort: str = "risk", limit: int = 50,
             offset: int = 0) -> NetworkPage:
        return network_page(store, sort=sort, limit=limit, offset=offset, ranked=self.ranked)


def network_page(store: Store, *, sort: str = "risk", limit: int = 50, offset: int = 0,
                 ranked: Any = None) -> NetworkPage:
    """One page of every network, in `sort` order (SORTS), with the total.

    `ranked` (store -> every network, riskiest first) lets a cache supply the ranking."""
    everything = ranked(store) if ranked is not None else rank_all(store)
    ordered = sort_networks(everything, sort)
    offset = max(0, offset)
    return NetworkPage(len(ordered), ordered[offset:offset + max(0, limit)], sort, offset,
                       limit)


def summaries(ranked: Sequence[RankedNetwork]) -> list[dict[str, Any]]:
    return [r.summary() for r in ranked]
