"""`tracelight bench score`: scoring time against extraction time on the demo corpus, and risk
quality (ROC AUC, PR AUC, precision@50/@200) for the default weights and a trained model."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tracelight.bench.measure import report, say, timed
from tracelight.errors import InputError, RecordError
from tracelight.records import AdRecord, Mention


def read_corpus(directory: Path) -> tuple[list[AdRecord], dict[str, int]]:
    """The records of a demo corpus folder (ads.jsonl) and its labels.csv, when there is one."""
    from tracelight.records import record_from_mapping
    from tracelight.score.runs import read_labels

    ads_path = directory / "ads.jsonl"
    if not ads_path.is_file():
        raise InputError(f"{ads_path}: no ads.jsonl here (a demo corpus folder is expected)")
    records = []
    with ads_path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise InputError(f"{ads_path}:{line_no}: not JSON ({exc})") from None
            try:
                records.append(record_from_mapping(data, default_source="demo",
                                                   origin=f"{ads_path}:{line_no}"))
            except RecordError as exc:
                raise InputError(f"{exc.origin}: {exc}") from None
    labels_path = directory / "labels.csv"
    labels = read_labels(labels_path) if labels_path.is_file() else {}
    return records, labels


def _pct(seconds: float, base: float) -> str:
    """Scoring time as a share of extraction time (the issue's budget: at most 20%)."""
    return f"{100 * seconds / max(base, 1e-9):.1f}%_of_extraction"


def run(n_ads: int = 3000, seed: int = 7, corpus: Path | None = None) -> list[dict[str, Any]]:
    """Print the timing lines; return the quality rows (empty without labels.csv), which the
    CLI prints as a table or JSON Lines. `corpus`: a demo corpus folder to use instead of
    generating one."""
    from tracelight import settings
    from tracelight.cli.score_cmd import evaluate_features
    from tracelight.extract import extract_record
    from tracelight.score import model as risk_model
    from tracelight.score.catalogue import load_catalogue
    from tracelight.score.features import extract_features
    from tracelight.score.scorer import result_from_features, results_from_features
    from tracelight.score.stats import CorpusStats

    cat = load_catalogue(settings.get("catalogue") or None)
    _ = cat.matcher  # compile outside the timed part, as a long-running process would
    with tempfile.TemporaryDirectory() as tmp:
        directory = corpus if corpus else Path(tmp)
        if not corpus:
            from tracelight.demo import generate

            with timed() as t:
                generate(directory, n_ads=n_ads, seed=seed, images=False)
            say(f"generated {n_ads} demo ads in {t.seconds:.1f} s", err=True)
        records, labels = read_corpus(directory)
    # Extraction and scoring are timed ad by ad, interleaved, in CPU time of this process,
    # so both are measured under the same conditions (cache, other load on the machine):
    # the ratio is what scoring adds to extraction per ad.
    mentions: list[list[Mention]] = []
    t_ext = t_score = 0.0
    clock = time.process_time
    for rec in records:
        t0 = clock()
        ms = list(extract_record(rec).mentions)
        t1 = clock()
        result_from_features(extract_features(rec, ms, catalogue=cat), cat)
        t_score += clock() - t1
        t_ext += t1 - t0
        mentions.append(ms)
    report("extract (CPU time)", len(records), t_ext, "ads")
    report("score at ingest (default weights, CPU time)", len(records), t_score, "ads",
           overhead=_pct(t_score, t_ext))
    pairs = list(zip(records, mentions, strict=True))
    c0 = clock()
    stats = CorpusStats.build(pairs)
    t_stats = clock() - c0
    report("corpus stats (CPU time)", len(records), t_stats, "ads")
    c0 = clock()
    feats = [extract_features(r, m, catalogue=cat, stats=stats) for r, m in pairs]
    results_from_features(feats, cat)
    t_full = clock() - c0
    report("rescore: stats + default weights (CPU time)", len(records), t_full + t_stats, "ads",
           overhead=_pct(t_full + t_stats, t_ext))
    if not labels:
        say("no labels.csv: quality not measured")
        return []
    idx = [i for i, r in enumerate(records) if r.id in labels]
    y = [labels[records[i].id] for i in idx]
    lab_feats = [feats[i] for i in idx]
    rows = evaluate_features(lab_feats, y, cat, folds=5)
    rows[0]["scorer"] = "trained (held-out 30%)"
    rows[1]["scorer"] = "default-weights (held-out 30%)"
    m = risk_model.train(lab_feats, y, catalogue=cat, data="bench", version=0)
    c0 = clock()
    m.predict(feats)
    t_model = clock() - c0
    report("rescore: stats + trained model, batch (CPU time)", len(records),
           t_full + t_stats + t_model, "ads", overhead=_pct(t_full + t_stats + t_model, t_ext))
    return rows


NETWORK_COLUMNS = ["scorer", "n", "positives", "roc_auc", "precision@50", "precision@200",
                   "precision@1000", "brier"]


def run_network(n_ads: int = 3000, seed: int = 7, folds: int = 5,
                label_rule: str = "drawn") -> dict[str, Any]:
    """Risk on network labels (`generate(network_labels=True)`: every ad of a risky network
    is positive, about 20% of positive ads carry no indicator of their own): ROC AUC,
    precision@200 and Brier of the ad-only and the network-aware score, side by side.

    Ad-only: default weights with corpus statistics (what `tracelight rescore` writes
    without a model). Network-aware: tracelight.score.network_context over the networks the
    real linker builds from extracted mentions. "calibrated": isotonic, out of fold (each
    labelled ad calibrated by a map fitted on the other folds). Returns the rows and the
    reliability table of the calibrated network-aware score. `label_rule`: the demo's
    label rule (tracelight.demo.ads.LABEL_RULES).
    """
    from tracelight.demo import generate
    from tracelight.extract import extract_record
    from tracelight.link import link_batch
    from tracelight.link.features import LinkAd
    from tracelight.score import model as risk_model
    from tracelight.score.calibration import brier, out_of_fold, reliability
    from tracelight.score.catalogue import load_catalogue
    from tracelight.score.features import extract_features
    from tracelight.score.network_context import Member, alone, score_members
    from tracelight.score.scorer import results_from_features
    from tracelight.score.stats import CorpusStats
    from tracelight.services.rescore import facts_of

    cat = load_catalogue()
    with tempfile.TemporaryDirectory() as tmp:
        with timed() as t:
            generate(Path(tmp), n_ads=n_ads, seed=seed, images=False, network_labels=True,
                     label_rule=label_rule)
        say(f"generated {n_ads} demo ads with network labels ({label_rule} rule) in "
            f"{t.seconds:.1f} s", err=True)
        records, labels = read_corpus(Path(tmp))
        with (Path(tmp) / "truth.jsonl").open(encoding="utf-8") as fh:
            truth = {d["id"]: d for d in map(json.loads, fh)}
    bare = {k for k, d in truth.items() if d.get("no_own_indicator")}
    with timed() as t:
        mentions = [list(extract_record(r).mentions) for r in records]
        pairs = list(zip(records, mentions, strict=True))
        stats = CorpusStats.build(pairs)
        feats = [extract_features(r, m, catalogue=cat, stats=stats) for r, m in pairs]
        own = results_from_features(feats, cat)
    report("extract + ad-only score", len(records), t.seconds, "ads")
    with timed() as t:
        result = link_batch(LinkAd(key=r.id, title=r.title, body=r.body,
                                   posted_at=r.posted_at, location=r.location,
                                   mentions=tuple(m)) for r, m in pairs)
    report("link", len(records), t.seconds, "ads")
    by_id = {r.id: i for i, r in enumerate(records)}
    raw = [alone(o.risk, o.reasons) for o in own]
    in_net = 0
    with timed() as t:
        for net in result.networks:
            if net.size < 2:
                continue
            members = [Member(k, k, own[by_id[k]].risk, own[by_id[k]].reasons)
                       for k in net.ad_ids if k in by_id]
            for res in score_members(members, facts_of(net), cat):
                raw[by_id[res.key]] = res.risk
                in_net += 1
    report("network context", in_net, t.seconds, "ads")
    idx = [i for i, r in enumerate(records) if r.id in labels]
    y = [labels[records[i].id] for i in idx]
    pos = [i for i in idx if labels[records[i].id]]
    no_own = [i for i in pos if not any((r.weight or 0) > 0 for r in
                                        results_from_features(
                                            [extract_features(records[i], mentions[i],
                                                              catalogue=cat)], cat)[0].reasons)]
    say(f"labelled {len(y)}, positive {len(pos)}; positive ads with no indicator of their own "
        f"in their text: {len(no_own)} ({len(no_own) / max(1, len(pos)):.1%}; planted bare: "
        f"{sum(1 for i in pos if records[i].id in bare)})")

    def row(name: str, scores: list[float]) -> dict[str, Any]:
        m = risk_model.metrics(y, scores, ks=(50, 200, 1000))
        return {"scorer": name, "n": m["n"], "positives": m["positives"],
                "roc_auc": m["roc_auc"], "precision@50": m["precision@50"],
                "precision@200": m["precision@200"],
                "precision@1000": m["precision@1000"], "brier": brier(y, scores)}

    own_y = [own[i].risk for i in idx]
    net_y = [raw[i] for i in idx]
    own_cal = out_of_fold(own_y, y, folds=folds, seed=seed)
    net_cal = out_of_fold(net_y, y, folds=folds, seed=seed)
    ceiling = _label_rule(truth, label_rule)
    rows = [row("ceiling: label rule on true traits", [ceiling[records[i].id] for i in idx]),
            row("ad-only (default weights)", own_y),
            row("ad-only, isotonic (out of fold)", own_cal),
            row("network-aware (uncalibrated)", net_y),
            row("network-aware, isotonic (out of fold)", net_cal)]
    return {"rows": rows, "reliability": reliability(y, net_cal),
            "reliability_ad_only": reliability(y, own_cal),
            "label_rule": label_rule, "ads": len(records), "labelled": len(y),
            "positive": len(pos), "positive_no_own_indicator": len(no_own)}


def _label_rule(truth: dict[str, dict[str, Any]], rule: str = "drawn") -> dict[str, float]:
    """The probability the generator drew each label with, from the true traits (a network's
    from its members, as `network_label` does): no score can rank much better than this.
    Under the "evidence" rule an independent advertiser's label is its own (one person's ads:
    its traits are in every ad it writes; a hidden phone now and then is not a trait)."""
    from collections import defaultdict

    from tracelight.demo.ads import EVIDENCE_BIAS, EVIDENCE_W, LABEL_BIAS, LABEL_W
    from tracelight.score.scorer import sigmoid

    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in truth.values():
        if t["network_id"]:
            members[t["network_id"]].append(t)
    out = {}
    for key, t in truth.items():
        if t.get("label_p") is not None:  # kept by the generator: exact
            out[key] = float(t["label_p"])
            continue
        group = members[t["network_id"]] if t["network_id"] else [t]
        traits = {k for m in group for k in m["indicators"] if k in ("trust", "youth",
                                                                    "ethnicity")}
        if t["network_id"]:
            obscured = sum(m["obfuscated_phone"] for m in group) * 2 > len(group)
        else:
            obscured = bool(t["obfuscated_phone"]) and rule == "drawn"
        minor = any(a < 18 for m in group for a in m["ages"])
        bias, w = (EVIDENCE_BIAS, EVIDENCE_W) if rule == "evidence" else (LABEL_BIAS, LABEL_W)
        z = bias + sum(w[k] for k in traits) + (w["obscured_phone"] if obscured else 0.0)
        out[key] = 1.0 if minor else sigmoid(z)
    return out
