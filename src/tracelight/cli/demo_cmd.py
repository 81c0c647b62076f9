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
@click.option("--label-rule", type=click.Choice(["drawn", "evidence"]), default="drawn",
              show_default=True,
              help="With --network-labels: drawn (a network with one trait is positive one "
                   "time in five) or evidence (less noise in the rule; about 20% of positive "
                   "ads carry no indicator of their own; docs/risk.md).")
@click.option("--market", type=click.Choice(["simple", "realistic"]), default="simple",
              show_default=True,
              help="realistic: plant the decoys real markets show at scale (single-contact "
                   "networks, rotation, cross-posting, site footers, ad builders, stock "
                   "photos; docs/demo.md).")
@click.option("--btc", is_flag=True,
              help="Also OUT/btc/: authors who rotate their phones, and the ad site's "
                   "blockchain (payments, rates, prices, wallets, truth), as `tracelight "
                   "demo` loads them (docs/authorship.md).")
@format_option("table", "jsonl")
def demo_generate(out: Path, n_ads: int, seed: int, no_images: bool, network_labels: bool,
                  label_rule: str, market: str, btc: bool, fmt: str) -> None:
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
                           network_labels=network_labels, label_rule=label_rule,
                           market=market)
    row = summary.to_dict()
    if btc:
        from tracelight.services.authors_demo import write

        row["btc"] = str(write(out, n_ads=n_ads, seed=seed))
    row["seconds"] = round(row["seconds"], 2)
    if fmt == "jsonl":
        emit([row], fmt, list(row))
        return
    # one summary object reads best as a two-column table
    emit(({"field": k, "value": v} for k, v in row.items()), fmt, ["field", "value"],
         title="demo corpus")
    stderr.print(f"next: tracelight ingest {summary.ads_path}")


@cli.command("demo-site")
@click.argument("corpus", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--per-page", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="Ads per listing page.")
@click.option("--hostile", is_flag=True,
              help="Also link broken, huge, slow, looping, robots-disallowed and off-site "
                   "pages from the first listing page.")
@click.option("--profile-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a site profile that crawls this site here.")
def demo_site(corpus: Path, port: int, per_page: int, hostile: bool,
              profile_out: Path | None) -> None:
    """Serve a demo corpus as a local ad site on 127.0.0.1, to try `tracelight crawl` on;
    Ctrl-C stops it. CORPUS is a folder from `tracelight demo-generate` (its ads.jsonl and
    images/). Nothing but 127.0.0.1 is served or contacted."""
    import json
    import time

    import yaml

    from tracelight.demo.site import FakeSite, site_profile
    from tracelight.errors import InputError

    path = corpus / "ads.jsonl"
    if not path.is_file():
        raise InputError(f"{corpus}: no ads.jsonl (make one with tracelight demo-generate)")
    with open(path, encoding="utf-8") as fh:
        ads = [json.loads(line) for line in fh if line.strip()]
    with FakeSite(ads, per_page=per_page, hostile=hostile, port=port,
                  image_root=str(corpus)) as site:
        click.echo(site.base)
        if profile_out is not None:
            profile_out.write_text(yaml.safe_dump(site_profile(site.base), sort_keys=False),
                                   encoding="utf-8")
            click.echo(f"profile: {profile_out} (tracelight crawl {profile_out})", err=True)
        click.echo(f"serving {len(ads):,} ads on {site.base}; Ctrl-C stops", err=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
