"""`tracelight bench review`: a simulated analyst works the queue on the demo corpus.

The corpus is generated with network labels (truth.jsonl), ingested into a scratch SQLite
store, linked and rescored (default weights, network-aware) as `tracelight demo` would. The
analyst then reads the top N of the queue and marks each ad by the ground truth (escalated /
no concern through services.review; ads with no ground-truth label are set to needs
follow-up). Reported, on held-out ads only (labelled, not among the N reviewed):

- ROC AUC and precision@200 of the next queue before (the stored risk) and after training on
  the N verdicts (services.review_train: the candidate vs the scorer in force);
- how many queue items an analyst reads to find 90% of the positive networks (truth
  networks with a positive ad), reading ad by ad, and closing a whole linked network at
  once when one of its ads is read.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracelight.bench.measure import say, timed
from tracelight.errors import UsageError


def _reads_to_find(order: Sequence[tuple[int, ...]], found_by: dict[int, set[str]],
                   targets: set[str], share: float = 0.9) -> int | None:
    """Queue items read (each a tuple of ad keys closed together) until `share` of
    `targets` were seen."""
    need = share * len(targets)
    seen: set[str] = set()
    for i, item in enumerate(order, start=1):
        for pk in item:
            seen |= found_by.get(pk, set()) & targets
        if len(seen) >= need:
            return i
    return None


def run(n_ads: int = 2000, seed: int = 7, top: int = 200,
        calibration: bool = True) -> dict[str, Any]:
    from tracelight.demo import generate
    from tracelight.score import model as risk_model
    from tracelight.score.catalogue import load_catalogue
    from tracelight.score.features import extract_features
    from tracelight.services import review
    from tracelight.services.ingest import ingest
    from tracelight.services.link import update_networks
    from tracelight.services.queue import ad_queue
    from tracelight.services.rescore import corpus_stats, iter_chunks, network_context, rescore
    from tracelight.services.review_train import compare, review_features, train_from_reviews
    from tracelight.store import open_store

    cat = load_catalogue()
    out: dict[str, Any] = {"ads": n_ads, "seed": seed, "reviewed": top,
                           "calibration_slice": calibration}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        with timed() as t:
            generate(d / "corpus", n_ads=n_ads, seed=seed, images=False, network_labels=True)
            truth = {}
            with (d / "corpus" / "truth.jsonl").open(encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    truth[row["id"]] = row
            store = open_store(f"sqlite:///{d / 'bench.db'}")
            ingest(store, [str(d / "corpus" / "ads.jsonl")], after_batch=[])
            update_networks(store)
            rescore(store, catalogue=cat)
            network_context(store, catalogue=cat)
        say(f"generated, ingested, linked and rescored {n_ads} ads in {t.seconds:.1f} s",
            err=True)
        try:
            ads = {a.pk: a for a in store.iter_ads()}
            label = {pk: truth[a.ad_id]["label"] for pk, a in ads.items()
                     if a.ad_id in truth}
            truth_net = {pk: truth[a.ad_id]["network_id"] for pk, a in ads.items()
                         if a.ad_id in truth}
            by_risk = sorted(ads.values(),
                             key=lambda a: (-(a.risk if a.risk is not None else -1), -a.pk))
            # the analyst reads the top of the queue as it shows (with its calibration rows:
            # one in CALIBRATION_EVERY, random unreviewed ads from further down)
            page = ad_queue(store, limit=top, calibration=calibration, seed=seed)
            first = [a.pk for a in page.ads]
            with timed() as t_mark:
                pos = [f"{ads[p].source}/{ads[p].ad_id}" for p in first if label.get(p) == 1]
                neg = [f"{ads[p].source}/{ads[p].ad_id}" for p in first if label.get(p) == 0]
                unk = [f"{ads[p].source}/{ads[p].ad_id}" for p in first
                       if label.get(p) is None]
                if pos:
                    review.mark(store, pos, "escalated", "bench", via_cli=False)
                if neg:
                    review.mark(store, neg, "no concern", "bench", reason="ground truth",
                                via_cli=False)
                if unk:
                    review.mark(store, unk, "needs follow-up", "bench",
                                follow_up=review.parse_follow_up("2999-01-01"), via_cli=False)
            out["read"] = len(first)
            out["marked"] = {"escalated": len(pos), "no_concern": len(neg),
                             "follow_up": len(unk), "seconds": round(t_mark.seconds, 2)}
            nxt = ad_queue(store, limit=n_ads, calibration=False)
            out["next_queue_hides"] = nxt.hidden
            reviewed = set(first)
            held = [p for p in (a.pk for a in by_risk)
                    if p not in reviewed and label.get(p) is not None]
            y_held = [int(label[p]) for p in held]
            before = risk_model.metrics(y_held, [ads[p].risk or 0.0 for p in held])
            # what train --from-reviews does, then the candidate on the held-out ads
            feats, y, _pks = review_features(store, cat)
            tfr: dict[str, Any] = {"labels": len(y), "positives": int(sum(y))}
            out["train_from_reviews"] = tfr
            rep = None
            try:
                rows, better = compare(feats, y, cat, None, folds=5)
                tfr.update({"candidate_better_on_its_held_out": better, "rows": rows})
                with timed() as t_train:
                    rep = train_from_reviews(store, cat, d / "models", "bench", folds=0)
                tfr["seconds"] = round(t_train.seconds, 2)
                tfr["verdict"] = rep.verdict()
            except UsageError as exc:  # too few labels of one kind to split
                tfr["verdict"] = f"not trained: {exc}"
            m: risk_model.RiskModel | None = None
            if rep is not None and rep.candidate is not None:
                m = risk_model.load_model(rep.candidate)
            elif min(sum(y), len(y) - sum(y)) >= 2:  # what the candidate would have been
                m = risk_model.RiskModel(0, "", cat.digest, list(cat.codes),
                                         *risk_model._fit(feats, y, list(cat.codes),
                                                          text=True, seed=seed))
            stats = corpus_stats(store)
            held_set = set(held)
            hf: dict[int, Any] = {}
            for chunk in iter_chunks(store):
                for ad, rec, ms in chunk:
                    if ad.pk in held_set:
                        hf[ad.pk] = extract_features(rec, ms, catalogue=cat, stats=stats)
            # no candidate at all when the verdicts hold fewer than two of a kind: "after" is
            # then the scorer before, unchanged
            after = (risk_model.metrics(y_held, m.predict([hf[p] for p in held])) if m
                     else before)
            keys = ("n", "positives", "roc_auc", "precision@200")
            saved = rep is not None and rep.candidate is not None
            # "after": the candidate trained on the verdicts, measured whether or not the guard
            # kept it; "in_force_after": what the next queue really ranks by (the candidate
            # only once saved and promoted, else the scorer before)
            out["held_out_next_queue"] = {"before": {k: before[k] for k in keys},
                                          "after": {k: after[k] for k in keys},
                                          "candidate_saved": saved,
                                          "in_force_after": "candidate (once promoted)"
                                          if saved else "unchanged (the stored risk)"}
            # reads to find 90% of positive networks (truth networks with a positive ad)
            found_by: dict[int, set[str]] = {}
            for p in ads:
                nid = truth_net.get(p)
                if nid and label.get(p) == 1:
                    found_by[p] = {nid}
            targets = set().union(*found_by.values()) if found_by else set()
            order_ads = [(a.pk,) for a in by_risk]
            linked = store.network_ids_of(list(ads))
            members: dict[str, list[int]] = {}
            for p, nid in linked.items():
                members.setdefault(nid, []).append(p)
            closed: set[int] = set()
            order_nets: list[tuple[int, ...]] = []
            for a in by_risk:
                if a.pk in closed:
                    continue
                nid = linked.get(a.pk)
                item = tuple(members[nid]) if nid else (a.pk,)
                closed.update(item)
                order_nets.append(item)
            out["positive_networks"] = len(targets)
            out["reads_to_90pct_positive_networks"] = {
                "ad_by_ad": _reads_to_find(order_ads, found_by, targets),
                "closing_whole_networks": _reads_to_find(order_nets, found_by, targets),
                "linked_networks": len(members)}
        finally:
            store.close()
    return out
