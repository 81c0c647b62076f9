"""Use case: bring the stored networks up to date with the stored ads (`tracelight link`).

Feeds the pure linker (tracelight.link) ads read from the store and saves what it produced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from tracelight import settings
from tracelight.link import Hub, LinkAd, LinkConfig, LinkResult, LinkState, Network, link_batch
from tracelight.link.external import ExternalEdge
from tracelight.link.features import FeatureTable
from tracelight.records import Mention, utcnow
from tracelight.store import Store, StoredAd
from tracelight.store.networks import LinkRunRow, NetworkRow, StoredHub

Progress = Callable[[str, int, int], None]


def _parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def to_link_ad(ad: StoredAd, key: str, ments: Sequence[Mention],
               imgs: Sequence[dict[str, Any]]) -> LinkAd:
    return LinkAd.build(key, ad.title, ad.body, ad.posted_at, ad.location, ments, imgs,
                        ad.risk)


def link_ads_of(store: Store, stored: Sequence[StoredAd],
                keys: Mapping[int, str]) -> list[LinkAd]:
    """LinkAds for ads already read (their mentions and image hashes are fetched)."""
    part = [ad.pk for ad in stored]
    ments = store.mentions_for(part)
    imgs = store.image_hashes_for(part)
    return [to_link_ad(ad, keys[ad.pk], ments.get(ad.pk, []), imgs.get(ad.pk, []))
            for ad in stored]


def link_ads(store: Store, pks: Sequence[int], keys: Mapping[int, str],
             batch: int = 1000) -> Iterator[LinkAd]:
    """The ads with these pks as LinkAds (text, mentions, image hashes, risk)."""
    for i in range(0, len(pks), batch):
        yield from link_ads_of(store, store.get_ads_by_pks(list(pks[i:i + batch])), keys)


def hub_of(h: StoredHub) -> Hub:
    return Hub(h.kind, h.value, h.ads, h.groups, h.reason, h.example)


def stored_networks(store: Store, *, min_size: int = 2,
                    limit: int | None = None) -> Iterator[Network]:
    """The stored networks as the linker's Networks, biggest first."""
    for record in store.iter_network_records(min_size=min_size, limit=limit):
        yield Network.from_dict(record)


def stored_network(store: Store, network_id: str) -> Network:
    return Network.from_dict(store.network_record(network_id))


def stored_hubs(store: Store) -> list[Hub]:
    return [hub_of(h) for h in store.hubs()]


def load_state(store: Store) -> tuple[LinkState | None, dict[str, str]]:
    """The last run's state and the content hash each ad had then (None: never linked,
    or linked by a tracelight whose features differ: then a full rebuild follows)."""
    blobs = store.link_blobs(["features", "assignment", "hashes"])
    feats, assign, hashes = blobs["features"], blobs["assignment"], blobs["hashes"]
    if feats is None or assign is None or hashes is None:
        return None, {}
    table_ = FeatureTable.from_bytes(feats)
    if table_ is None:
        return None, {}
    return LinkState(table=table_, assignment=json.loads(assign)), json.loads(hashes)


def previous_assignment(store: Store) -> dict[str, str]:
    assign = store.link_blobs(["assignment"])["assignment"]
    return json.loads(assign) if assign else {}


def collected_edges(store: Store, pk_to_key: Mapping[int, str], *,
                   tau: float = 0.5) -> list[ExternalEdge]:
    """Medium evidence from outside the linker: stored author links at or over the model's
    <= 1%-FPR threshold, and ads paid for by one specific Bitcoin owner (weak attributions
    never link). Pair links chain, so only the author links inside an average-linkage group
    (tracelight.authorship.consensus, mean score >= tau) are passed, and an owner joins its
    ads only where author evidence does not say two writers (an ad in another author group,
    or whose author links all lead away from the owner's ads)."""
    from tracelight.authorship.consensus import average_linkage, link_map, owner_joins, within
    from tracelight.services.authorship import author_edges
    from tracelight.services.btc import wallet_owner_ads

    authors = author_edges(store, pk_to_key)
    triples = [(e.a, e.b, e.score) for e in authors]
    groups = average_linkage(triples, tau)
    kept = [authors[i] for i in within(triples, groups)]
    owned, detail = wallet_owner_ads(store, pk_to_key)
    wallets = [ExternalEdge(anchor, k, "wallet_owner", detail[(owner, k)][0],
                            detail[(owner, k)][1])
               for owner, anchor, k in owner_joins(owned, groups, link_map(triples))]
    return kept + wallets


def edges_fingerprint(edges: Sequence[ExternalEdge]) -> str:
    """What changed in the external evidence since the last run ("" for none at all)."""
    if not edges:
        return ""
    h = hashlib.sha256()
    for e in sorted(edges, key=lambda e: (e.kind, e.a, e.b, e.detail)):
        h.update(json.dumps([e.kind, e.a, e.b, round(float(e.score), 6), e.detail]).encode())
    return h.hexdigest()


def save_result(store: Store, result: LinkResult, key_to_pk: Mapping[str, int],
                hashes: Mapping[str, str], *, mode: str, started: datetime,
                min_size: int = 2, external_fp: str = "") -> None:
    """Replace the stored networks, evidence, hubs and state with this run's."""
    rows = []
    for net in result.networks:
        if net.size < min_size:
            continue
        record = net.to_dict()
        evidence = record.pop("evidence")
        rows.append(NetworkRow(
            network_id=net.network_id, size=net.size, first_seen=_parse_ts(net.first_seen),
            last_seen=_parse_ts(net.last_seen), risk_max=(net.risk or {}).get("max"),
            record=record, member_pks=[key_to_pk[k] for k in net.ad_ids if k in key_to_pk],
            evidence=evidence))
    hubs = [StoredHub(h.kind, h.value, h.ads, h.groups, h.reason, h.example)
            for h in result.hubs]
    blobs = {"features": result.state.table.to_bytes(),
             "assignment": result.state.assignment_bytes(),
             "hashes": json.dumps(dict(hashes), separators=(",", ":")).encode(),
             "external": external_fp.encode()}
    store.save_link_run(rows, hubs, blobs, LinkRunRow(
        started=started, mode=mode, ads=len(result.state.table),
        new_ads=int(result.stats.get("new_ads", 0)), stats=result.stats))


def update_networks(store: Store, *, rebuild: bool = False, config: LinkConfig | None = None,
                    progress: Progress | None = None,
                    external_edges: Sequence[ExternalEdge] | None = None,
                    ) -> tuple[LinkResult, str]:
    """Bring the stored networks up to date with the stored ads; return (result, mode).

    Incremental by default: only ads that are new or changed since the last run are read and
    featurised; removed ads are dropped. `rebuild` featurises every ad again. Both give the
    same networks, and both keep network ids stable against the previous run.
    progress: called with (phase, done, total) while ads are read.
    external_edges: pairs from other stages (tracelight.link.external) added to the stored
    author and wallet-owner edges; None: the `room` pairs of the last background search
    (`tracelight rooms ads`), if any.
    """
    started = utcnow()
    versions = store.ad_versions()
    state, old_hashes = (None, {}) if rebuild else load_state(store)
    previous = previous_assignment(store) if state is None else state.assignment
    if state is None:
        todo = list(versions)
        removed: list[str] = []
        mode = "rebuild"
    else:
        todo = [k for k, (_pk, h) in versions.items() if old_hashes.get(k) != h]
        removed = [k for k in old_hashes if k not in versions]
        mode = "incremental"
    key_to_pk = {k: pk for k, (pk, _h) in versions.items()}
    pk_to_key = {pk: k for k, pk in key_to_pk.items()}
    edges = collected_edges(store, pk_to_key)
    if external_edges is None:
        from tracelight.services.room_pairs import stored_room_edges

        edges += stored_room_edges(store, settings.get("rooms_index_dir"))
    else:
        edges += list(external_edges)
    fp = edges_fingerprint(edges)
    same_edges = (store.link_blobs(["external"])["external"] or b"").decode() == fp
    if state is not None and not todo and not removed and same_edges:
        # nothing was ingested, changed or deleted since the last run, and no author or
        # wallet evidence changed: nothing to recompute
        last = store.last_link_run()
        stats = {**(last.stats if last else {}), "new_ads": 0}
        return (LinkResult(networks=[], hubs=stored_hubs(store), state=state, stats=stats),
                "unchanged")
    pks = sorted(key_to_pk[k] for k in todo)
    done = [0]

    def on_batch(n: int) -> None:
        done[0] += n
        if progress:
            progress("featurise", done[0], len(pks))

    result = link_batch(link_ads(store, pks, pk_to_key), state=state, removed=removed,
                        previous=previous, config=config, progress=on_batch,
                        external_edges=edges)
    if progress:
        progress("save", 0, 0)
    from tracelight.services.alerts import HIGH_RISK_BLOB, new_high_risk_networks_event
    announced = store.link_blobs([HIGH_RISK_BLOB])[HIGH_RISK_BLOB]  # the save replaces it
    save_result(store, result, key_to_pk, {k: h for k, (_pk, h) in versions.items()},
                mode=mode, started=started, external_fp=fp)
    new_high_risk_networks_event(store, announced)  # queued for the webhooks, if any
    return result, mode
