"""Use case: analysts' verdicts teach the model. `tracelight risk train --from-reviews` fits a
candidate on the labels reviews left (escalated: 1, no concern: 0), compares it with the
scorer in force (the active model, else the catalogue's default weights) on the same labels
(cross-validated over all of them, and on one held-out split), and keeps it as a candidate
only when it is better on the held-out labels; `tracelight risk promote` (an admin) makes a
candidate the active model. Nothing replaces the active model by itself.

Feedback loops: labels come from what the queue showed, so they lean towards what the model
already ranks high; the queue keeps a random calibration slice of unreviewed ads
(services.queue.CALIBRATION_EVERY) so some labels come from outside its top.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracelight.errors import ForbiddenError, NotFoundError, UsageError
from tracelight.score import model as risk_model
from tracelight.score.catalogue import Catalogue
from tracelight.score.features import AdFeatures, extract_features
from tracelight.score.scorer import results_from_features
from tracelight.services.rescore import corpus_stats, iter_chunks
from tracelight.store import Store
from tracelight.store.audit import AuditLog

CANDIDATES = "candidates"  # sub-folder of the model folder (never loaded by rescore)
# a candidate is "better" only when the held-out labels hold at least this many of each kind:
# verdicts from the top of the queue are mostly escalations, and a handful of no-concern
# labels cannot tell two rankings apart
MIN_HELD_OUT_EACH = 10


@dataclass
class TrainReport:
    labels: int
    positives: int
    current: str  # the scorer in force
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per scorer and evaluation
    better: bool = False
    candidate: Path | None = None
    version: int | None = None

    def verdict(self) -> str:
        if self.rows and not enough_labels(self.rows):
            return (f"too few labels of each kind on the held-out split (at least "
                    f"{MIN_HELD_OUT_EACH} escalated and {MIN_HELD_OUT_EACH} no-concern needed) "
                    "to judge the candidate; nothing saved, the active model is unchanged")
        if self.candidate is not None:
            return (f"candidate v{self.version} is better than {self.current} on the held-out "
                    f"labels; saved {self.candidate}. An admin makes it active with "
                    f"`tracelight risk promote {self.version}`")
        return (f"the candidate is not better than {self.current} on the held-out labels; "
                "nothing saved, the active model is unchanged")


def review_features(store: Store, cat: Catalogue,
                    ) -> tuple[list[AdFeatures], list[int], list[int]]:
    """Features of every ad with a verdict, its label, its key (store order)."""
    labels = {lb.ad_pk: lb.label for lb in store.review_labels()}
    if not labels:
        raise UsageError("no review verdicts yet",
                         hint="mark ads escalated or no-concern with `tracelight review mark`")
    stats = corpus_stats(store)
    feats: list[AdFeatures] = []
    y: list[int] = []
    pks: list[int] = []
    for chunk in iter_chunks(store):
        for ad, rec, ms in chunk:
            if ad.pk in labels:
                feats.append(extract_features(rec, ms, catalogue=cat, stats=stats))
                y.append(labels[ad.pk])
                pks.append(ad.pk)
    return feats, y, pks


def compare(feats: list[AdFeatures], y: list[int], cat: Catalogue, current: Any, *,
            folds: int = 5, seed: int = 7, text: bool = True, test_size: float = 0.3,
            ) -> tuple[list[dict[str, Any]], bool]:
    """Candidate vs the scorer in force on the same labels: `folds`-fold cross-validated over
    all labels, and one held-out split. Returns (rows, candidate better on held-out)."""
    codes = list(cat.codes)
    tr, te = risk_model.split(y, test_size=test_size, seed=seed)
    vec, clf, w = risk_model._fit([feats[i] for i in tr], [y[i] for i in tr], codes,
                                  text=text, seed=seed)
    cand = risk_model.RiskModel(0, "", cat.digest, codes, vec, clf, w)
    te_feats = [feats[i] for i in te]
    te_y = [y[i] for i in te]
    held_cand = risk_model.metrics(te_y, cand.predict(te_feats))
    held_cur = risk_model.metrics(te_y, [r.risk for r in
                                         results_from_features(te_feats, cat, current)])
    rows = [{"scorer": "candidate", "evaluation": "held-out", **held_cand},
            {"scorer": "current", "evaluation": "held-out", **held_cur}]
    folds = min(folds, int(sum(y)), len(y) - int(sum(y)))  # each fold holds both labels
    if folds >= 2:
        oof = risk_model.out_of_fold_scores(feats, y, codes, folds=folds, text=text, seed=seed)
        rows.append({"scorer": "candidate", "evaluation": f"{folds}-fold CV",
                     **risk_model.metrics(y, oof)})
        rows.append({"scorer": "current", "evaluation": "all labels",
                     **risk_model.metrics(y, [r.risk for r in
                                              results_from_features(feats, cat, current)])})
    enough = min(held_cur["positives"], held_cur["n"] - held_cur["positives"]) \
        >= MIN_HELD_OUT_EACH
    better = enough and (held_cand["roc_auc"], held_cand["precision@50"]) > \
        (held_cur["roc_auc"], held_cur["precision@50"])
    return rows, better


def enough_labels(rows: list[dict[str, Any]]) -> bool:
    held = rows[1]
    return bool(min(held["positives"], held["n"] - held["positives"]) >= MIN_HELD_OUT_EACH)


def active_model(model_dir: Path) -> Any:
    return risk_model.load_model(model_dir) if risk_model.model_versions(model_dir) else None


def train_from_reviews(store: Store, cat: Catalogue, model_dir: Path, actor: str, *,
                       folds: int = 5, seed: int = 7, text: bool = True) -> TrainReport:
    feats, y, _pks = review_features(store, cat)
    current = active_model(model_dir)
    who = current.name if current is not None else f"default weights ({cat.digest})"
    rows, better = compare(feats, y, cat, current, folds=folds, seed=seed, text=text)
    report = TrainReport(len(y), int(sum(y)), who, rows, better)
    if better:
        cand_dir = model_dir / CANDIDATES
        version = max(risk_model.next_version(model_dir), risk_model.next_version(cand_dir))
        m = risk_model.train(feats, y, catalogue=cat, text=text, seed=seed, version=version,
                             data=f"review verdicts: {len(y)} ads ({sum(y)} escalated) "
                                  f"labelled by analysts in {store.safe_url}")
        m.card["compared_with"] = {"scorer": who, "rows": rows}
        report.candidate = risk_model.save_model(m, cand_dir)
        report.version = version
    AuditLog(store).append(actor, "risk.train_from_reviews", str(model_dir), detail={
        "labels": len(y), "positives": int(sum(y)), "current": who, "better": better,
        "candidate": report.version, "rows": rows, "cli": True})
    return report


def promote(store: Store, model_dir: Path, version: int, actor: str) -> Path:
    """Make candidate `version` the active model; only an admin of this store may."""
    from tracelight.store.accounts import Accounts

    try:
        user = Accounts(store).get_user(actor)
    except NotFoundError:
        raise ForbiddenError(f"{actor!r} is not a workspace user",
                             hint="promote --as ADMIN (see `tracelight user`)") from None
    if user.role != "admin" or user.disabled:
        raise ForbiddenError(f"only an admin may promote a model ({actor} is {user.role})")
    src = model_dir / CANDIDATES / f"risk-model-v{version}.joblib"
    if not src.is_file():
        raise NotFoundError(f"no candidate v{version} in {model_dir / CANDIDATES}")
    dst = model_dir / src.name
    if dst.exists():
        raise UsageError(f"{dst} already exists; models are never overwritten")
    newest = risk_model.model_versions(model_dir)
    if newest and newest[-1][0] > version:
        raise UsageError(f"v{version} is older than the active v{newest[-1][0]}",
                         hint="train again from reviews")
    for suffix in (".card.json", ".card.md", ".joblib"):  # the model file last
        part = src.with_name(f"risk-model-v{version}{suffix}")
        if part.exists():
            shutil.move(str(part), str(model_dir / part.name))
    AuditLog(store).append(actor, "risk.promote", str(dst), detail={"version": version,
                                                                    "cli": True})
    return dst
