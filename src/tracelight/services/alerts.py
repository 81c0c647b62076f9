"""Use case: the webhook events raised when ads arrive, not only when one is checked.

`tracelight ingest` and `POST /api/v1/ads` run the same after-batch hooks
(services/ingest.default_after_batch); with `via` set, they queue:

- `watchlist.hit`: a new ad matched a watch (the in-app notification is made as before);
- `bank.match`: a new ad's picture matched a hash bank (the bank-match alert is stored as
  before);
- `network.high_risk`: a new ad shares a phone, email, handle, wallet or payment id with a
  known network whose risk is at least HIGH_RISK_NETWORK;

`tracelight link` (services/link.update_networks) queues `network.high_risk` for each network
of risk >= HIGH_RISK_NETWORK that was not one after the previous link run (a new network, or
one that ads joined), and `tracelight tx score` queues `money.alert` for each money-flow alert
that was not there after the last run. Nothing is queued (and no extra work is done) unless a
webhook subscribed to that event. Payloads hold verdicts and ids (ad source/id, watch ids, bank
names, network ids, alert ids), never an ad's text. Delivery is services/webhooks.deliver_due:
`tracelight serve` sends them in the background (services/webhooks.Deliverer), and
`tracelight webhook deliver` from cron where no server runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracelight.images.banks import BankMatch
from tracelight.store import Store

HIGH_RISK_NETWORK = 0.7
NETWORK_KINDS = ("phone", "email", "social", "crypto", "payment")


def _refs(store: Store, pks: Sequence[int]) -> dict[int, str]:
    return {pk: f"{src}/{ad_id}" for pk, (src, ad_id) in store.ad_refs(list(pks)).items()}


def watch_hits_event(store: Store, hits: Sequence[dict[str, Any]], via: str) -> int:
    """Queue `watchlist.hit` for these new notifications (new_watch_hits rows)."""
    from tracelight.services.webhooks import emit_items
    if not hits:
        return 0
    refs = _refs(store, sorted({h["ad_pk"] for h in hits}))
    items = [{"id": h["id"], "watchlist": h["watchlist"], "kind": h["kind"],
              "ad": refs.get(h["ad_pk"])} for h in hits]
    return emit_items(store, "watchlist.hit", "watches", items, {"via": via})


def bank_matches_event(store: Store, matches: Sequence[BankMatch], via: str) -> int:
    """Queue `bank.match` for these new bank matches of stored pictures, each with the ads
    (source/id, up to 20) that carry the picture."""
    from tracelight.services.webhooks import emit_items
    if not matches:
        return 0
    holders: dict[str, list[str]] = {}
    items = []
    for m in matches:
        sha = m.image_sha256 or ""
        if sha and sha not in holders:
            _total, found = store.ads_with_image_hash(sha, limit=20)
            holders[sha] = [f"{a.source}/{a.ad_id}" for a in found]
        items.append({"bank": m.bank, "kind": m.kind, "distance": m.distance,
                      "image_sha256": sha or None, "ads": holders.get(sha, [])})
    return emit_items(store, "bank.match", "matches", items, {"via": via})


class WatchAlertHook:
    """After-batch hook: in-app notifications for watches the new ads match (as before), and
    `watchlist.hit` for them when someone subscribed."""

    def __init__(self, via: str | None = "ingest") -> None:
        self.via = via

    def __call__(self, store: Store, ad_pks: list[int]) -> None:
        from tracelight.store.cases import new_watch_hits
        hits = new_watch_hits(store, ad_pks)
        if hits and self.via and _wanted(store, "watchlist.hit"):
            watch_hits_event(store, hits, self.via)


class NetworkAlertHook:
    """After-batch hook: `network.high_risk` for new ads that share an identifier with a
    known network of risk >= HIGH_RISK_NETWORK (each network scored once per run)."""

    def __init__(self, via: str = "ingest") -> None:
        self.via = via
        self._risk: dict[str, dict[str, Any]] = {}

    def __call__(self, store: Store, ad_pks: list[int]) -> None:
        if not ad_pks or not _wanted(store, "network.high_risk") or not store.count_networks(1):
            return
        from tracelight.services.networks import get_network
        per_ad: dict[int, set[tuple[str, str]]] = {}
        for pk, found in store.mentions_for(ad_pks).items():
            per_ad[pk] = {(m.kind, m.value) for m in found if m.kind in NETWORK_KINDS}
        hubs = {(h.kind, h.value) for h in store.hubs()}  # they join no ads: no tie
        wanted = sorted({p for pairs in per_ad.values() for p in pairs} - hubs)
        if not wanted:
            return
        nets = store.networks_for_entities(wanted)
        for nid in nets:
            if nid not in self._risk:
                r = get_network(store, nid)
                self._risk[nid] = {"id": r.id, "risk": r.risk, "size": r.size}
        risky = {nid for nid in nets if self._risk[nid]["risk"] >= HIGH_RISK_NETWORK}
        if not risky:
            return
        refs = _refs(store, sorted(per_ad))
        items = []
        for pk in sorted(per_ad):
            tied = [{**self._risk[nid], "matched": sorted({k for k, v in nets[nid]
                                                          if (k, v) in per_ad[pk]})}
                    for nid in sorted(risky) if set(nets[nid]) & per_ad[pk]]
            if tied:
                items.append({"ad": refs.get(pk), "networks": tied})
        from tracelight.services.webhooks import emit_items
        emit_items(store, "network.high_risk", "ads", items, {"via": self.via})


HIGH_RISK_BLOB = "high_risk"  # the link run's blob: ids of the networks announced as high-risk


def new_high_risk_networks_event(store: Store, previous: bytes | None) -> int:
    """After a link run: queue `network.high_risk` (via `link`) for each network of risk >=
    HIGH_RISK_NETWORK that was not among `previous` (the ids kept after the last run; None:
    none kept, so every high-risk network is new), and keep this run's ids. Nothing is done
    unless someone subscribed. Returns how many deliveries were queued."""
    if not _wanted(store, "network.high_risk"):
        return 0
    import json

    from tracelight.services.networks import iter_ranked
    from tracelight.services.webhooks import emit_items
    before = set(json.loads(previous)) if previous else set()
    high = sorted((r for r in iter_ranked(store, min_size=1) if r.risk >= HIGH_RISK_NETWORK),
                  key=lambda r: (-r.risk, r.id))
    store.save_link_blob(HIGH_RISK_BLOB, json.dumps(sorted(r.id for r in high)).encode())
    new = [{"id": r.id, "risk": round(r.risk, 4), "size": r.size}
           for r in high if r.id not in before]
    return emit_items(store, "network.high_risk", "networks", new, {"via": "link"})


def money_alerts_event(store: Store, alerts: Sequence[Any], before: set[str]) -> int:
    """Queue `money.alert` for the alerts (services.finance Alert) not among `before` (the
    alert ids after the last run)."""
    from tracelight.services.webhooks import emit_items
    new = [a for a in alerts if a.alert_id not in before]
    if not new:
        return 0
    items = [{"alert_id": a.alert_id, "account": a.account, "typologies": list(a.typologies),
              "score": round(float(a.score), 4), "linked_ads": list(a.linked_ads)[:50],
              "linked_networks": list(a.linked_networks)[:50]} for a in new]
    return emit_items(store, "money.alert", "alerts", items, {"via": "tx score"})


def _wanted(store: Store, event: str) -> bool:
    from tracelight.services.webhooks import subscribed
    return subscribed(store, event)
