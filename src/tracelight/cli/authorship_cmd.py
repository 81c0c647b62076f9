"""`tracelight authorship train|evaluate|link|show`: same-author evidence between ads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import emit, stderr

DEFAULT_MODEL = "authorship-model.json"


@cli.group()
def authorship() -> None:
    """Same-author evidence: a stylometric pair model, robust to phone rotation.

    Contacts are masked before any feature is computed, so the model links ads by how they
    are written (spelling, emoji, punctuation, phrases, layout), never by shared identifiers.
    A link is a lead for review (medium strength), not proof of one operator.
    """


@authorship.command("train")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_MODEL, show_default=True, help="Where to save the model (JSON).")
@click.option("--authors", "n_authors", type=click.IntRange(10, 100_000), default=300,
              show_default=True, help="Synthetic recurring authors to train on (plus as many "
              "one-ad authors).")
@click.option("--seed", type=int, default=7, show_default=True)
@format_option("table", "jsonl")
def authorship_train(out: Path, n_authors: int, seed: int, fmt: str) -> None:
    """Train the same-author model on synthetic authors, choose the threshold for <= 1% FPR on
    held-out authors, and print TPR at 1% and 0.1% FPR on authors never seen."""
    from tracelight.services.authorship import train_model

    with stderr.status("training the authorship model"):
        res = train_model(out, n_authors=n_authors, seed=seed)
    rows: list[dict[str, object]] = [
        {"metric": "model", "value": res.path}, {"metric": "ads", "value": res.ads},
        {"metric": "authors", "value": res.authors}, *res.evaluation.rows()]
    emit(rows, fmt, ["metric", "value"])


@authorship.command("evaluate")
@click.option("--model", "model", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_MODEL, show_default=True)
@click.option("--authors", "n_authors", type=click.IntRange(10, 100_000), default=150,
              show_default=True, help="Synthetic authors to evaluate on.")
@click.option("--seed", type=int, default=11, show_default=True,
              help="Seed of the evaluation authors (differ from the training seed).")
@format_option("table", "jsonl")
def authorship_evaluate(model: Path, n_authors: int, seed: int, fmt: str) -> None:
    """TPR at 1% and 0.1% FPR, R-precision and candidate-search recall on unseen authors."""
    from tracelight.services.authorship import evaluate_model

    with stderr.status("evaluating"):
        ev = evaluate_model(model, n_authors=n_authors, seed=seed)
    emit(ev.rows(), fmt, ["metric", "value"])


@authorship.command("link")
@click.option("--model", "model", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_MODEL, show_default=True)
@click.option("--min-score", type=float, default=None,
              help="Keep pairs at or over this score [default: the model's 1%-FPR threshold].")
@click.option("--source", default=None,
              help="Only the ads of this source (e.g. one site, or the demo's authors-demo).")
@db_option
@format_option("table", "jsonl")
def authorship_link(model: Path, min_score: float | None, source: str | None, db_url: str,
                    fmt: str) -> None:
    """Find stored ads one person probably wrote (candidates by MinHash LSH, never all pairs)
    and replace the stored author links with them."""
    from tracelight.services.authorship import link_stored

    with store_from(db_url) as store, stderr.status("linking by authorship"):
        res = link_stored(store, model, min_score=min_score, source=source)
    row = res.to_dict()
    emit([row], fmt, list(row))


@authorship.command("show")
@click.argument("ad_id")
@click.option("--source", default=None, help="The ad's source, when its id is ambiguous.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@db_option
@format_option()
def authorship_show(ad_id: str, source: str | None, limit: int, db_url: str, fmt: str) -> None:
    """Ads linked to AD_ID by authorship, with the score and the habits that agree."""
    from tracelight.services.authorship import same_author

    with store_from(db_url) as store:
        rows = [s.to_dict() for s in same_author(store, ad_id, source, limit)]
    emit(rows, fmt, ["ad_id", "source", "score", "strength", "matched"])


class AliasGroup(click.Group):
    """Another name for a group: the same commands (one dict), listed once in docs/cli.md."""

    def __init__(self, name: str, of: click.Group, callback: Callable[[], None],
                 help: str) -> None:
        super().__init__(name, commands=of.commands, callback=callback, help=help)
        self.alias_of = of.name or ""


def author() -> None:
    """Same-author evidence under the issue's name: `tracelight author train|evaluate|link|show`
    are `tracelight authorship train|evaluate|link|show`."""


cli.add_command(AliasGroup("author", authorship, author, author.__doc__ or ""))
