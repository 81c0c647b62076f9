"""`tracelight risk train --from-reviews | promote`: analysts' verdicts teach the model, and
only an admin makes a better candidate the active model."""

from __future__ import annotations

from pathlib import Path

import click

from tracelight.cli.app import actor_option, cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import dumps, emit, stderr
from tracelight.cli.score_cmd import METRIC_COLUMNS, _catalogue, model_dir_option


@cli.group()
def risk() -> None:
    """The risk model learns from review verdicts; an admin promotes a better candidate."""


@risk.command("train")
@click.option("--from-reviews", "from_reviews", is_flag=True, required=True,
              help="Train on the verdicts of `tracelight review` (escalated: 1, no concern: 0).")
@click.option("--folds", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Cross-validation folds over all labels (0 to skip).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the splits.")
@click.option("--text/--no-text", default=True, show_default=True,
              help="Also learn from the words of the text.")
@actor_option()
@format_option("table", "jsonl")
@db_option
@model_dir_option
def risk_train(from_reviews: bool, folds: int, seed: int, text: bool, actor: str | None,
               fmt: str, db_url: str, model_dir: str) -> None:
    """Fit a candidate on review verdicts; compare it with the scorer in force.

    Prints ROC AUC and precision@k of both on the same labels (held-out split and
    cross-validated). The candidate is saved under MODEL_DIR/candidates only when it is
    better on the held-out labels; it becomes active only by `tracelight risk promote`.
    The queue keeps a random slice of unreviewed ads so labels are not only its own top.
    """
    from tracelight.services.cases import actor_name
    from tracelight.services.review_train import train_from_reviews

    with store_from(db_url) as store:
        rep = train_from_reviews(store, _catalogue(), Path(model_dir), actor_name(actor),
                                 folds=folds, seed=seed, text=text)
    if fmt == "jsonl":
        click.echo(dumps({"labels": rep.labels, "positives": rep.positives,
                          "current": rep.current, "better": rep.better,
                          "candidate": str(rep.candidate) if rep.candidate else None,
                          "version": rep.version, "rows": rep.rows}))
        return
    emit(rep.rows, fmt, ["scorer", "evaluation", *METRIC_COLUMNS[1:]])
    stderr.print(f"{rep.labels} labelled ads ({rep.positives} escalated); {rep.verdict()}")


@risk.command("promote")
@click.argument("version", type=click.IntRange(min=1))
@actor_option("The admin accepting it (a workspace user). [default: the OS user]")
@db_option
@model_dir_option
def risk_promote(version: int, actor: str | None, db_url: str, model_dir: str) -> None:
    """Make candidate VERSION (from `risk train --from-reviews`) the active model."""
    from tracelight.services.cases import actor_name
    from tracelight.services.review_train import promote

    with store_from(db_url) as store:
        path = promote(store, Path(model_dir), version, actor_name(actor))
    click.echo(f"promoted {path}; run `tracelight rescore` to apply it")


@risk.command("card")
@click.option("--features", type=click.IntRange(0, 500), default=15, show_default=True,
              help="How many features (indicator weights) to list, largest first.")
@actor_option()
@format_option("table", "jsonl")
@db_option
@model_dir_option
def risk_card(features: int, actor: str | None, fmt: str, db_url: str,
              model_dir: str) -> None:
    """Show the model card of the scorer in force, the candidates, and the data facts.

    The card says what the active model was trained on (labels, who gave them), when, its
    held-out figures and its features; with no model trained, the catalogue's default
    weights. Cards are read from their JSON files; no model file is loaded.
    """
    from tracelight.services.about import about
    from tracelight.services.cases import actor_name

    with store_from(db_url) as store:
        found = about(store, Path(model_dir), _catalogue(), actor_name(actor),
                      weights_shown=features)
    if fmt == "jsonl":
        click.echo(dumps({"section": "model", **found["model"]}))
        for c in found["candidates"]:
            click.echo(dumps({"section": "candidate", **c}))
        click.echo(dumps({"section": "data", **found["data"]}))
        return
    m = found["model"]
    lab = m["labels"]
    facts = [("model", m["name"]), ("created", m["created"] or "-"),
             ("kind", m["model"] or "-"),
             ("labels", f"{lab.get('ads') or 0} ads, {lab.get('positives') or 0} positive: "
                        f"{lab.get('description') or '-'}"),
             *[(f"held-out {k}", v) for k, v in m["held_out"].items()],
             ("compared with", m["compared_with"] or "-"),
             ("features", f"{m['features_total']} indicator weights"
                          + (" + words of the text (TF-IDF)" if m["text_features"] else ""))]
    if m.get("error"):
        facts.append(("card", m["error"]))
    emit([{"fact": k, "value": v} for k, v in facts], "table", ["fact", "value"],
         title="Model card")
    if m["features"]:
        emit(m["features"], "table", ["feature", "weight"], title="Largest weights")
    if found["candidates"]:
        emit([{"version": c["version"], "created": c["created"],
               "labels": (c["labels"] or {}).get("ads"),
               "roc_auc": c["held_out"].get("roc_auc"),
               "precision@50": c["held_out"].get("precision@50")}
              for c in found["candidates"]], "table",
             ["version", "created", "labels", "roc_auc", "precision@50"],
             title="Candidates (an admin: tracelight risk promote VERSION)")
    emit([{"fact": k, "value": v} for k, v in found["data"].items()], "table",
         ["fact", "value"], title="Data and versions")
    for line in m["limits"]:
        stderr.print(f"limit: {line}")
