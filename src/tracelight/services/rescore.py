"""Use cases: score every stored ad again, corpus statistics, training data from the store.

`tracelight rescore`, `train` and `evaluate` call these; the scoring itself is pure
(tracelight.score).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from tracelight.errors import UsageError
from tracelight.link import Network
from tracelight.records import AdRecord, Mention, Reason
from tracelight.score.calibration import Calibration
from tracelight.score.catalogue import Catalogue, load_catalogue
from tracelight.score.features import AdFeatures, NetworkInfo, extract_features
from tracelight.score.network_context import Link, Member, NetworkFacts, alone, score_members
from tracelight.score.scorer import Model, results_from_features
from tracelight.score.stats import CorpusStats
from tracelight.store import Store, StoredAd

CHUNK = 1000
Progress = Callable[[int], None]
Chunk = list[tuple[StoredAd, AdRecord, list[Mention]]]


def iter_chunks(store: Store, chunk: int = CHUNK) -> Iterator[Chunk]:
    """(stored ad, record, mentions) in chunks, in insertion order; memory stays flat."""
    batch: list[StoredAd] = []
    for ad in store.iter_ads(sort="ingested"):
        batch.append(ad)
        if len(batch) >= chunk:
            yield _with_mentions(store, batch)
            batch = []
    if batch:
        yield _with_mentions(store, batch)


def _with_mentions(store: Store, ads: list[StoredAd]) -> Chunk:
    mentions = store.mentions_for([a.pk for a in ads])
    return [(a, a.to_record(), mentions.get(a.pk, [])) for a in ads]


def corpus_stats(store: Store, progress: Progress | None = None) -> CorpusStats:
    stats = CorpusStats()
    for chunk in iter_chunks(store):
        for _ad, record, mentions in chunk:
            stats.add(record, mentions)
        if progress:
            progress(len(chunk))
    return stats


def rescore(store: Store, *, model: Model | None = None, catalogue: Catalogue | None = None,
            stats: CorpusStats | None = None, networks: dict[str, NetworkInfo] | None = None,
            progress: Progress | None = None) -> int:
    """Score every stored ad again (with corpus statistics and, if given, a model)."""
    cat = catalogue or load_catalogue()
    if stats is None:
        stats = corpus_stats(store)
    n = 0
    for chunk in iter_chunks(store):
        feats = [extract_features(rec, ms, catalogue=cat, stats=stats,
                                  network=(networks or {}).get(rec.id))
                 for _ad, rec, ms in chunk]
        results = results_from_features(feats, cat, model=model)
        store.set_risk([(ad.pk, res.risk, res.reasons)
                        for (ad, _r, _m), res in zip(chunk, results, strict=True)])
        n += len(chunk)
        if progress:
            progress(len(chunk))
    return n


def labelled_features(store: Store, labels: dict[str, int], *, catalogue: Catalogue,
                      stats: CorpusStats, progress: Progress | None = None,
                      ) -> tuple[list[AdFeatures], list[int], list[str]]:
    """Features and labels of the labelled ads found in the store (in store order)."""
    feats: list[AdFeatures] = []
    y: list[int] = []
    ids: list[str] = []
    seen: set[str] = set()
    for chunk in iter_chunks(store):
        for _ad, rec, ms in chunk:
            if rec.id in labels and rec.id not in seen:
                seen.add(rec.id)
                feats.append(extract_features(rec, ms, catalogue=catalogue, stats=stats))
                y.append(labels[rec.id])
                ids.append(rec.id)
        if progress:
            progress(len(chunk))
    if not feats:
        raise UsageError("none of the labelled ad ids is in the database",
                         hint="ingest the ads first, then train")
    return feats, y, ids


def _when(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def facts_of(net: Network) -> NetworkFacts:
    """What score.network_context needs of a linker network."""
    return NetworkFacts(
        network_id=net.network_id,
        links=[Link(e.kind, e.value, e.strength, tuple(e.ad_ids)) for e in net.evidence],
        names=list(net.names),
        cities=[(str(loc["city"]), _when(loc.get("first_seen"))) for loc in net.locations
                if loc.get("city")])


def network_context(store: Store, *, catalogue: Catalogue | None = None,
                    calibration: Calibration | None = None,
                    progress: Progress | None = None) -> tuple[int, int]:
    """Rewrite the risk of every ad in a network with its network context (run right after
    the ad-only pass, which leaves each ad's own risk in the store); with a calibration, the
    ads in no network are calibrated too. Returns (network ads rescored, networks)."""
    cat = catalogue or load_catalogue()
    if not store.count_networks():
        if calibration is not None:
            _calibrate_rest(store, calibration, set())
        return 0, 0
    key_pk = {k: pk for k, (pk, _h) in store.ad_versions().items()}
    done: set[int] = set()
    n_ads = n_nets = 0
    for record in store.iter_network_records(min_size=2):
        net = Network.from_dict(record)
        pks = [key_pk[k] for k in net.ad_ids if k in key_pk]
        stored = {a.pk: a for a in store.get_ads_by_pks(pks)}
        pk_key = {key_pk[k]: k for k in net.ad_ids if k in key_pk}
        members = [Member(pk_key[pk], a.ad_id, a.risk, tuple(a.reasons or ()))
                   for pk, a in stored.items() if a.risk is not None]
        results = score_members(members, facts_of(net), cat, calibration)
        store.set_risk([(key_pk[r.key], r.risk, r.reasons) for r in results])
        done.update(key_pk[r.key] for r in results)
        n_ads += len(results)
        n_nets += 1
        if progress:
            progress(len(results))
    if calibration is not None:
        _calibrate_rest(store, calibration, done)
    return n_ads, n_nets


def _calibrate_rest(store: Store, calibration: Calibration, skip: set[int]) -> None:
    part: list[tuple[int, float | None, list[Reason] | None]] = []
    for ad in store.iter_ads(sort="ingested"):
        if ad.pk in skip or ad.risk is None:
            continue
        part.append((ad.pk, alone(ad.risk, ad.reasons or [], calibration), ad.reasons))
        if len(part) >= CHUNK:
            store.set_risk(part)
            part = []
    if part:
        store.set_risk(part)


def labelled_risks(store: Store, labels: dict[str, int]) -> tuple[list[float], list[int]]:
    """The stored risks of the labelled ads (for fitting a calibration)."""
    scores: list[float] = []
    y: list[int] = []
    for ad in store.iter_ads(sort="ingested"):
        if ad.ad_id in labels and ad.risk is not None:
            scores.append(float(ad.risk))
            y.append(labels[ad.ad_id])
    return scores, y


def recalibrate(store: Store, calibration: Calibration) -> None:
    """Apply a calibration fitted on the stored (uncalibrated) risks to every stored risk."""
    _calibrate_rest(store, calibration, set())
