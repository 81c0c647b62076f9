"""Scoring jobs over a whole store: corpus statistics, rescoring, training data, the queue.

The store is taken as a duck-typed object (`AdStore` below) so this package keeps no database
import: the CLI and the web app pass in `tracelight.store.Store`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from tracelight.errors import InputError, UsageError
from tracelight.records import AdRecord, Mention, Reason
from tracelight.score.catalogue import Catalogue, load_catalogue
from tracelight.score.features import AdFeatures, NetworkInfo, extract_features
from tracelight.score.scorer import Model, RiskResult, results_from_features, score_network
from tracelight.score.stats import CorpusStats

CHUNK = 1000
Progress = Callable[[int], None]


class StoredAdLike(Protocol):
    pk: int
    ad_id: str
    risk: float | None
    reasons: list[Reason] | None

    def to_record(self) -> AdRecord: ...


class AdStore(Protocol):
    def count_ads(self) -> int: ...

    def iter_ads(self, flt: Any = None, *, sort: str = "posted", limit: int | None = None,
                 offset: int = 0) -> Iterator[Any]: ...

    def mentions_for(self, ad_pks: Sequence[int]) -> dict[int, list[Mention]]: ...

    def set_risk(self, scores: Sequence[tuple[int, float | None,
                                              list[Reason] | None]]) -> None: ...


def iter_chunks(store: AdStore, chunk: int = CHUNK,
                ) -> Iterator[list[tuple[Any, AdRecord, list[Mention]]]]:
    """(stored ad, record, mentions) in chunks, in insertion order; memory stays flat."""
    batch: list[Any] = []
    for ad in store.iter_ads(sort="ingested"):
        batch.append(ad)
        if len(batch) >= chunk:
            yield _with_mentions(store, batch)
            batch = []
    if batch:
        yield _with_mentions(store, batch)


def _with_mentions(store: AdStore, ads: list[Any]) -> list[tuple[Any, AdRecord, list[Mention]]]:
    mentions = store.mentions_for([a.pk for a in ads])
    return [(a, a.to_record(), mentions.get(a.pk, [])) for a in ads]


def corpus_stats(store: AdStore, progress: Progress | None = None) -> CorpusStats:
    stats = CorpusStats()
    for chunk in iter_chunks(store):
        for _ad, record, mentions in chunk:
            stats.add(record, mentions)
        if progress:
            progress(len(chunk))
    return stats


def rescore(store: AdStore, *, model: Model | None = None, catalogue: Catalogue | None = None,
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


def read_labels(path: str | Path) -> dict[str, int]:
    """labels.csv (header `ad_id,label`, label 0 or 1) -> {ad_id: label}."""
    p = Path(path)
    try:
        fh = p.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{p}: cannot read labels ({exc.strerror})") from None
    labels: dict[str, int] = {}
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:2]] != ["ad_id", "label"]:
            raise InputError(f"{p}:1: labels file must start with the header 'ad_id,label'")
        for line, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise InputError(f"{p}:{line}: expected 'ad_id,label'")
            ad_id, label = row[0].strip(), row[1].strip()
            if label not in ("0", "1"):
                raise InputError(f"{p}:{line}: label must be 0 or 1, got {label!r}")
            labels[ad_id] = int(label)
    if not labels:
        raise InputError(f"{p}: no labels in the file")
    return labels


def labelled_features(store: AdStore, labels: dict[str, int], *, catalogue: Catalogue,
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


def network_result(members: Sequence[tuple[str, RiskResult]], info: NetworkInfo,
                   catalogue: Catalogue | None = None) -> RiskResult:
    return score_network(members, info, catalogue)


def reason_summary(reasons: Sequence[Reason] | None, top: int = 3) -> str:
    """'code (weight): "evidence"; ...' for the top reasons, for tables."""
    parts = []
    for r in (reasons or [])[:top]:
        text = " ".join(r.evidence[0].text.split()) if r.evidence else ""
        if len(text) > 30:
            text = text[:29] + "…"
        weight = f"{r.weight:+g}" if r.weight is not None else "?"
        parts.append(f"{r.code} ({weight}): \"{text}\"")
    return "; ".join(parts)


def rank_networks(candidates: Sequence[Any],
                  members: Callable[[Any], Sequence[tuple[str, float | None,
                                                          Sequence[Reason] | None]]],
                  limit: int, catalogue: Catalogue | None = None) -> list[dict[str, Any]]:
    """Networks by risk (`score_network`: their worst ads plus size and spread), best first.

    candidates: link.Network objects; members(network) -> (ad_id, risk, reasons) per member.
    """
    cat = catalogue or load_catalogue()
    ranked = []
    for net in candidates:
        # reasons stored by another scorer (or an older catalogue) may lack a weight: skip those
        scored = [(ad_id, RiskResult(risk=risk, reasons=[
                      r for r in reasons or [] if r.code and r.weight is not None]))
                  for ad_id, risk, reasons in members(net) if risk is not None]
        cities = {loc.get("city") for loc in net.locations if loc.get("city")}
        result = score_network(scored, NetworkInfo(net.network_id, net.size, len(cities) or 1),
                               cat)
        ranked.append({"id": net.network_id, "risk": result.risk, "size": net.size,
                       "location": ", ".join(sorted(cities)[:3]) or None,
                       "reasons": result.reasons, "network": net})
    ranked.sort(key=lambda r: (-r["risk"], r["id"]))
    return ranked[:limit]


def network_queue(store: Any, network_store: Any, limit: int) -> list[dict[str, Any]]:
    """The `limit` riskiest networks (see rank_networks), for the CLI queue and the workspace.

    network_store: tracelight.store.networks.NetworkStore over `store`.
    """
    def members(net: Any) -> list[tuple[str, float | None, list[Reason] | None]]:
        ads = store.get_ads_by_pks(network_store.member_pks(net.network_id))
        return [(a.ad_id, a.risk, a.reasons) for a in ads]

    # a network's risk leans on its riskiest ads, so the top by member risk are the candidates
    return rank_networks(network_store.top_by_member_risk(limit * 3), members, limit)
