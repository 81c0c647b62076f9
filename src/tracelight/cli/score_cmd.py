"""Risk commands: train, evaluate, rescore and queue (`tracelight bench score` is in bench/).

Every risk is a lead for human review, never a finding about a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracelight import settings
from tracelight.bench.measure import timed
from tracelight.cli.app import actor_option, cli, db_option, format_option
from tracelight.cli.common import progress_bar, store_from
from tracelight.cli.output import (
    Col,
    Columns,
    columns_option,
    day_text,
    dumps,
    emit,
    no_results,
    risk_text,
    stderr,
)
from tracelight.score.runs import read_labels, reason_summary

if TYPE_CHECKING:  # the model and the store load when a command needs them, not on --help
    from tracelight.records import Reason
    from tracelight.score.catalogue import Catalogue
    from tracelight.score.features import AdFeatures


def _catalogue() -> Catalogue:
    from tracelight.score.catalogue import load_catalogue

    path = settings.get("catalogue")
    return load_catalogue(path or None)


def model_dir_option(func: Any) -> Any:
    return click.option(
        "--model-dir", default=lambda: settings.get("model_dir"), metavar="DIR",
        show_default="TRACELIGHT_MODEL_DIR or " + settings.SETTINGS["model_dir"].default,
        help=settings.SETTINGS["model_dir"].help)(func)


def labels_option(func: Any) -> Any:
    return click.option(
        "--labels", "labels_path", required=True, metavar="FILE",
        type=click.Path(dir_okay=False),
        help="CSV with header 'ad_id,label' (label 1 = reviewed as a concern, 0 = not).")(func)


def _features_from_store(db_url: str, labels_path: str,
                         cat: Catalogue) -> tuple[list[AdFeatures], list[int], int]:
    from tracelight.services.rescore import corpus_stats, labelled_features

    labels = read_labels(labels_path)
    with store_from(db_url) as store:
        total = store.count_ads()
        with progress_bar(total=total * 2) as bar:
            task = bar.add_task("reading ads", total=total * 2, info="")
            stats = corpus_stats(store, progress=lambda n: bar.advance(task, n))
            feats, y, _ids = labelled_features(store, labels, catalogue=cat, stats=stats,
                                               progress=lambda n: bar.advance(task, n))
    missing = len(labels) - len(feats)
    if missing:
        stderr.print(f"{missing} labelled ad ids are not in the database; ignored")
    return feats, y, total


def _metrics_rows(named: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"scorer": name, **m} for name, m in named]


METRIC_COLUMNS = ["scorer", "n", "positives", "roc_auc", "pr_auc", "precision@50",
                  "precision@200"]


@cli.command("train")
@labels_option
@db_option
@model_dir_option
@click.option("--text/--no-text", default=True, show_default=True,
              help="Also learn from the words of the text (not only from indicators).")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Seed of the held-out split reported in the model card.")
@format_option("table", "jsonl")
def train_cmd(labels_path: str, db_url: str, model_dir: str, text: bool, seed: int,
              fmt: str) -> None:
    """Train a risk model on labelled ads in the database and save it as a new version.

    The model card (data, date, held-out metrics, limits) is written next to it. Later
    `rescore` runs use the newest version.
    """
    from tracelight.score import model as risk_model

    cat = _catalogue()
    feats, y, total = _features_from_store(db_url, labels_path, cat)
    directory = Path(model_dir)
    with timed() as t:
        m = risk_model.train(feats, y, catalogue=cat, text=text, seed=seed,
                             version=risk_model.next_version(directory),
                             data=f"{Path(labels_path).name}: {len(y)} labelled of "
                                  f"{total} ads in the database")
    path = risk_model.save_model(m, directory)
    held = m.card["metrics_held_out"]
    if fmt == "jsonl":
        click.echo(dumps({"model": str(path), "version": m.version, "seconds": t.seconds,
                          **{k: held[k] for k in METRIC_COLUMNS[1:] if k in held}}))
        return
    emit(_metrics_rows([(f"{m.name} (held-out)", held)]), fmt, METRIC_COLUMNS)
    stderr.print(f"saved {path} and its card ({path.with_suffix('').name}.card.md) "
                 f"in {t.seconds:.1f} s; run `tracelight rescore` to apply it")


@cli.command("evaluate")
@labels_option
@db_option
@click.option("--test-size", type=click.FloatRange(0.05, 0.95), default=0.3,
              show_default=True, help="Share of the labelled ads held out for testing.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the split.")
@click.option("--text/--no-text", default=True, show_default=True,
              help="Let the trained model use the words of the text.")
@click.option("--folds", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Also score every labelled ad with k-fold models (precision@k over all "
                   "labels); 0 to skip.")
@format_option()
def evaluate_cmd(labels_path: str, db_url: str, test_size: float, seed: int, text: bool,
                 folds: int, fmt: str) -> None:
    """Print ROC AUC, PR AUC and precision@50/@200 on a held-out split.

    Compares a model trained on the rest of the labels with the catalogue's default weights,
    both on the same held-out ads.
    """
    cat = _catalogue()
    feats, y, _total = _features_from_store(db_url, labels_path, cat)
    rows = evaluate_features(feats, y, cat, test_size=test_size, seed=seed, text=text,
                             folds=folds if folds >= 2 else 0)
    emit(rows, fmt, METRIC_COLUMNS)


def evaluate_features(feats: Sequence[AdFeatures], y: Sequence[int], cat: Catalogue, *,
                      test_size: float = 0.3, seed: int = 7, text: bool = True,
                      folds: int = 0) -> list[dict[str, Any]]:
    from tracelight.score import model as risk_model
    from tracelight.score.scorer import results_from_features

    tr, te = risk_model.split(y, test_size=test_size, seed=seed)
    test_feats = [feats[i] for i in te]
    test_y = [y[i] for i in te]
    default = [r.risk for r in results_from_features(test_feats, cat)]
    vec, clf, w = risk_model._fit([feats[i] for i in tr], [y[i] for i in tr],
                                  list(cat.codes), text=text, seed=seed)
    trained = risk_model.RiskModel(0, "", cat.digest, list(cat.codes), vec, clf, w)
    named = [("trained", risk_model.metrics(test_y, trained.predict(test_feats))),
             ("default-weights", risk_model.metrics(test_y, default))]
    if folds:
        oof = risk_model.out_of_fold_scores(feats, y, list(cat.codes), folds=folds, text=text,
                                            seed=seed)
        named.append((f"trained ({folds}-fold, every labelled ad)", risk_model.metrics(y, oof)))
        every = [r.risk for r in results_from_features(feats, cat)]
        named.append(("default-weights (every labelled ad)", risk_model.metrics(y, every)))
    return _metrics_rows(named)


@cli.command("rescore")
@db_option
@model_dir_option
@click.option("--default-weights", is_flag=True,
              help="Ignore trained models; use the catalogue's documented default weights.")
@click.option("--no-network", is_flag=True,
              help="Score each ad on its own evidence only (no network context).")
@click.option("--calibrate", "calibrate_path", metavar="FILE", default=None,
              type=click.Path(dir_okay=False),
              help="Fit an isotonic calibration of the scores on these labels (CSV "
                   "'ad_id,label'; out-of-fold Brier printed), save it in the model folder "
                   "and apply it.")
def rescore_cmd(db_url: str, model_dir: str, default_weights: bool, no_network: bool,
                calibrate_path: str | None) -> None:
    """Score every stored ad again with corpus statistics (local prices, shared phones,
    movement) and the newest trained model, if there is one.

    Once `tracelight link` has built networks, each ad in a network is then scored with its
    network's evidence too (docs/risk.md: the reason `network_context` names the linking
    ad), and the calibration kept in the model folder (from --calibrate) is applied.
    """
    from tracelight.score import model as risk_model
    from tracelight.score.calibration import fit_calibration, load_calibration, save_calibration
    from tracelight.services.rescore import (
        corpus_stats,
        labelled_risks,
        network_context,
        recalibrate,
        rescore,
    )

    cat = _catalogue()
    model = None
    directory = Path(model_dir)
    if not default_weights and risk_model.model_versions(directory):
        model = risk_model.load_model(directory)
    labels = read_labels(calibrate_path) if calibrate_path else None
    calibration = None if labels is not None else load_calibration(directory)
    with store_from(db_url) as store:
        total = store.count_ads()
        with timed() as t, progress_bar(total=total * 3) as bar:
            task = bar.add_task("rescoring", total=total * 3, info="")
            stats = corpus_stats(store, progress=lambda n: bar.advance(task, n))
            n = rescore(store, model=model, catalogue=cat, stats=stats,
                        progress=lambda n: bar.advance(task, n))
            n_net = nets = 0
            if not no_network:
                n_net, nets = network_context(store, catalogue=cat, calibration=calibration,
                                              progress=lambda n: bar.advance(task, n))
            elif calibration is not None:
                recalibrate(store, calibration)
            if labels is not None:
                scores, y = labelled_risks(store, labels)
                calibration, _oof = fit_calibration(
                    scores, y, data=f"{Path(calibrate_path or '').name}: {len(y)} labelled ads"
                                    f" of {total}, {who_of(model, cat)}"
                                    + ("" if no_network else ", network-aware"))
                recalibrate(store, calibration)
    click.echo(f"rescored {n} ads with {who_of(model, cat)} in {t.seconds:.1f} s"
               + (f"; {n_net} ads in {nets} networks with network context" if nets else ""))
    if labels is not None and calibration is not None:
        path = save_calibration(calibration, directory)
        f = calibration.fitted
        click.echo(f"calibration fitted on {f['ads']} labelled ads ({f['positives']} positive):"
                   f" Brier {f['brier_raw']} uncalibrated, {f['brier_out_of_fold']} calibrated "
                   f"(out of fold); saved {path}")
    elif calibration is not None:
        click.echo(f"applied the calibration in {directory} (fitted "
                   f"{calibration.fitted.get('created', '?')})")


def who_of(model: Any, cat: Catalogue) -> str:
    return model.name if model is not None else f"default weights (catalogue {cat.digest})"


def _reason_titles(reasons: Sequence[Reason] | None, top: int = 3) -> str:
    """The short labels of the reasons that raised the score, for tables."""
    return "; ".join([r.title for r in (reasons or []) if (r.weight or 0) > 0][:top])


QUEUE = Columns(
    Col("rank", "#", right=True),
    Col("kind"),
    Col("ref", "ad", value=lambda r: r.get("ref") or r.get("id")),
    Col("id"),
    Col("source"),
    Col("risk", right=True, show=risk_text),
    Col("size", "ads", right=True),
    Col("title", flex=True, min=14),
    Col("location", flex=True, min=13, drop=True),
    Col("posted_at", "posted", show=day_text, drop=True),
    Col("reasons", flex=True, min=18, value=lambda r: r.get("reason_titles")),
    Col("top_reasons", flex=True, min=18),
    Col("review", flex=True, min=10, drop=True),
    table=["rank", "ref", "risk", "size", "title", "location", "reasons"],
    csv=["rank", "kind", "ref", "id", "source", "risk", "size", "title", "location",
         "posted_at", "top_reasons"],
)


# the networks section names its columns for networks: its "title" is the names in the ads
NETWORK_SECTION = {"ref": Col("ref", "network"),
                   "title": Col("title", "names", flex=True, min=10),
                   "location": Col("location", "cities", flex=True, min=13, drop=True)}


@cli.command("queue")
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="How many ads to list (and at most as many networks).")
@click.option("--min-risk", type=click.FloatRange(0, 1), default=None,
              help="Only ads with at least this risk.")
@click.option("--all", "show_all", is_flag=True,
              help="Also what analysts closed (no concern, escalated, follow-up not due).")
@click.option("--mine", is_flag=True, help="Only what is assigned to you (see --as).")
@actor_option("Who you are, for --mine. [default: the OS user]")
@columns_option(QUEUE)
@format_option()
def queue_cmd(db_url: str, limit: int, min_risk: float | None, show_all: bool, mine: bool,
              actor: str | None, columns: str | None, fmt: str) -> None:
    """Ads (and networks, once linked) by risk with their top reasons: what to review first.

    The table prints two sections, ads then networks, each ranked from 1; jsonl and csv
    carry the same rows with a `kind` column. What analysts closed is hidden (shown again,
    as `new` with the change named, when the ad was revised or the network gained ads); one
    row in 20 is a random unreviewed ad kept for calibration, marked so in `review`. A risk
    is a lead for human review, never a finding about a person.
    """
    from tracelight.services.adref import format_ref
    from tracelight.services.cases import actor_name
    from tracelight.services.queue import COUNT_CAP, AdFilter, ad_queue

    cols = QUEUE.choose(columns, fmt)
    who = actor_name(actor) if mine else None
    with store_from(db_url) as store:
        page = ad_queue(store, AdFilter(min_risk=min_risk), limit=limit, show_all=show_all,
                        mine=who)
        ads = page.ads if page.scored else []
        ad_rows: list[dict[str, Any]] = []
        for i, ad in enumerate(ads, start=1):
            note = page.notes.get(ad.pk)
            review = note.state if note else "new"
            if note and note.note:
                review += f" ({note.note})"
            if ad.pk in page.calibration:
                review += " (calibration: random unreviewed ad)"
            row = {"rank": i, "kind": "ad", "ref": format_ref(ad.source, ad.ad_id),
                   "id": ad.ad_id, "source": ad.source, "review": review,
                   "risk": ad.risk, "title": ad.title, "location": ad.location,
                   "posted_at": ad.posted_at,
                   "reasons": [r.to_dict() for r in (ad.reasons or [])[:3]]}
            if fmt != "jsonl":
                row.update(reason_titles=_reason_titles(ad.reasons),
                           top_reasons=reason_summary(ad.reasons))
            ad_rows.append(row)
        net_rows = (_network_rows(store, limit, fmt, show_all=show_all, mine=who)
                    if ad_rows or mine else [])
        n_networks = store.count_networks() if net_rows else 0
        if page.hidden and fmt == "table":
            shown = (f"{page.hidden - 1:,}+" if page.hidden > COUNT_CAP
                     else f"{page.hidden:,}")
            stderr.print(f"{shown} closed ad(s) hidden (--all shows them)")
    if not ad_rows and not net_rows:
        if mine or page.hidden:
            no_results("nothing to review here", "--all shows what analysts closed")
        elif not page.scored:
            no_results("nothing scored yet", "tracelight rescore (or ingest with --score)")
        else:
            no_results(f"no scored ad has a risk of at least {min_risk}",
                       "a lower --min-risk")
        return
    if not columns and any(r.get("review", "new") != "new" for r in [*ad_rows, *net_rows]):
        # the review column when it says more than "new"
        at = 3 if fmt == "table" else 6
        cols = [*cols[:at], QUEUE.cols["review"], *cols[at:]]
    if fmt != "table":
        emit([*ad_rows, *net_rows], fmt, cols)
        return
    shown = "1,000+" if page.capped else f"{page.total:,}"
    emit(ad_rows, fmt, cols, title=f"Ads by risk: top {len(ad_rows)} of {shown} scored "
                                   "(leads for review, not findings)")
    if net_rows:
        click.echo()
        emit(net_rows, fmt, [NETWORK_SECTION.get(c.key, c) for c in cols],
             title=f"Networks by risk: top {len(net_rows)} of {n_networks:,}")


def _network_rows(store: Any, limit: int, fmt: str, *, show_all: bool = False,
                  mine: str | None = None) -> list[dict[str, Any]]:
    """Networks by risk, once `tracelight link` has built them."""
    from tracelight.services.networks import network_queue, networks_built

    if not networks_built(store):
        return []
    from tracelight.services.review import annotate_networks

    rows = []
    nets = network_queue(store, limit, show_all=show_all, mine=mine)
    notes = annotate_networks(store, [(n.id, n.size) for n in nets])
    for i, net in enumerate(nets, start=1):
        note = notes[net.id]
        row = {"rank": i, "kind": "network", "ref": net.id, "id": net.id, "risk": net.risk,
               "review": note.state + (f" ({note.note})" if note.note else ""),
               "location": net.location, "size": net.size,
               "reasons": [r.to_dict() for r in net.reasons[:3]]}
        if fmt != "jsonl":
            names = net.network.names
            row.update(ref=net.id, title=", ".join(names[:3]) if names else "",
                       reason_titles=_reason_titles(net.reasons),
                       top_reasons=reason_summary(net.reasons))
        rows.append(row)
    return rows
