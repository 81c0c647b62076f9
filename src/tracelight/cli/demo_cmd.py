"""`tracelight demo-generate`: write the synthetic demo corpus and its ground truth."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from tracelight.cli.app import cli, format_option
from tracelight.cli.output import emit, stderr
from tracelight.errors import UsageError


@cli.command("demo-generate")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--ads", "n_ads", type=int, default=3000, show_default=True,
              help="How many ads to generate.")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Random seed: the same --ads and --seed give identical files.")
@click.option("--no-images", is_flag=True, help="Skip writing picture files (much faster).")
@click.option("--network-labels", is_flag=True,
              help="Label whole networks: every ad of a risky network is positive, and a "
                   "quarter of them carry no indicator of their own (docs/demo.md).")
@click.option("--market", type=click.Choice(["simple", "realistic"]), default="simple",
              show_default=True,
              help="realistic: plant the decoys real markets show at scale (single-contact "
                   "networks, rotation, cross-posting, site footers, ad builders, stock "
                   "photos; docs/demo.md).")
@format_option("table", "jsonl")
def demo_generate(out: Path, n_ads: int, seed: int, no_images: bool, network_labels: bool,
                  market: str, fmt: str) -> None:
    """Generate a synthetic, non-explicit corpus of ads with planted networks into OUT.

    Writes OUT/ads.jsonl (ad records), OUT/truth.jsonl (what each ad really contains),
    OUT/labels.csv (the labelled risk subset), OUT/images/ and OUT/README.txt.
    See docs/demo.md. Nothing in it describes a real person or listing.
    """
    from tracelight.demo import generate

    if n_ads < 1:
        raise UsageError(f"--ads must be at least 1, got {n_ads}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    with Progress(TextColumn("generating"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total} ads"), TimeRemainingColumn(), console=stderr,
                  transient=True) as bar:
        task = bar.add_task("demo", total=n_ads)
        summary = generate(out, n_ads=n_ads, seed=seed, images=not no_images,
                           progress=lambda k: bar.advance(task, k),
                           network_labels=network_labels, market=market)
    row = summary.to_dict()
    row["seconds"] = round(row["seconds"], 2)
    if fmt == "jsonl":
        emit([row], fmt, list(row))
        return
    # one summary object reads best as a two-column table
    emit(({"field": k, "value": v} for k, v in row.items()), fmt, ["field", "value"],
         title="demo corpus")
    stderr.print(f"next: tracelight ingest {summary.ads_path}")
