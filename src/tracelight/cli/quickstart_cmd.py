"""`tracelight demo`: the whole product on synthetic data in one command.

Generate a corpus (or reuse one already generated), ingest it, link networks, then open the
workspace with a fresh admin account. Nothing in the corpus describes a real person.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracelight import settings
from tracelight.cli.app import cli, db_option
from tracelight.cli.common import store_from
from tracelight.cli.output import stderr
from tracelight.pipeline import PipelineOptions
from tracelight.store import Store


def _existing_corpus(out: Path, n_ads: int, seed: int) -> bool:
    marker = out / "corpus.json"
    if not (out / "ads.jsonl").is_file() or not marker.is_file():
        return False
    try:
        meta = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return bool(meta.get("n_ads") == n_ads and meta.get("seed") == seed)


@cli.command("demo")
@click.option("--ads", "n_ads", type=click.IntRange(10, 1_000_000), default=2000,
              show_default=True, help="How many synthetic ads to generate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("tracelight-demo"), show_default=True,
              help="Folder for the generated corpus (reused when it already matches).")
@db_option
@click.option("--ocr/--no-ocr", default=False, show_default=True,
              help="Also read phones written inside the pictures (slower).")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Open the investigator workspace when done.")
@click.option("--host", default=lambda: settings.get("host"), show_default="127.0.0.1")
@click.option("--port", type=int, default=lambda: settings.get_int("port"), show_default="8000")
def demo_cmd(n_ads: int, seed: int, out: Path, db_url: str, ocr: bool, serve: bool, host: str,
             port: int) -> None:
    """Generate a synthetic corpus, ingest it, link networks and open the workspace."""
    from tracelight.demo import generate
    from tracelight.services.ingest import default_after_batch, ingest

    if _existing_corpus(out, n_ads, seed):
        stderr.print(f"[bold]1/3[/] reusing the corpus in {out}")
    else:
        stderr.print(f"[bold]1/3[/] generating {n_ads:,} synthetic ads into {out} ...")
        with stderr.status("generating"):
            generate(out, n_ads=n_ads, seed=seed, images=True)
        (out / "corpus.json").write_text(json.dumps({"n_ads": n_ads, "seed": seed}))
    stderr.print(f"[bold]2/3[/] ingesting into {db_url} (extract, hash images, score) ...")
    with store_from(db_url) as store:
        with stderr.status("ingesting"):
            summary = ingest(store, [str(out / "ads.jsonl")],
                             options=PipelineOptions(region=settings.get("region"), ocr=ocr,
                                                     image_dir=settings.get("image_dir")),
                             rejects_path=str(out / "rejects.txt"),
                             after_batch=default_after_batch())
        stderr.print(f"    read {summary.read:,}, new {summary.new:,}, unchanged "
                     f"{summary.unchanged:,}, rejected {summary.rejected:,} "
                     f"({summary.ads_per_second:,.0f} ads/s)")
        stderr.print("[bold]3/3[/] linking ads into networks ...")
        _link(store)
        click.echo(_next_steps(out, db_url))
        if serve:
            _serve(store, db_url, host, port)


def _link(store: Store) -> None:
    """Join ads that share contacts, pictures or wording into networks."""
    from tracelight.services.link import update_networks

    with stderr.status("linking"):
        result, _mode = update_networks(store)
    stats = result.stats
    stderr.print(f"    {stats.get('networks', 0):,} networks holding "
                 f"{stats.get('ads_in_networks', 0):,} ads; "
                 f"{len([h for h in result.hubs if h.kind != 'sentence'])} shared identifiers "
                 "kept from joining strangers (hubs)")


def _serve(store: Store, db_url: str, host: str, port: int) -> None:
    """Open the workspace with a fresh admin whose one-time password is printed once."""
    from tracelight.cli.web_cmd import serve_store
    from tracelight.web import create_demo_admin

    user, password = create_demo_admin(store)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"\nWorkspace: http://{shown}:{port}/\n  user {user}\n  one-time password "
               f"{password}  (you will be asked to choose your own)\n")
    serve_store(store, host, port)


def _next_steps(out: Path, db_url: str) -> str:
    db = "" if db_url == settings.SETTINGS["db"].default else f" --db {db_url}"
    return "\n".join([
        "",
        "Done. Everything here is synthetic. Try:",
        f"  tracelight queue{db}                           # leads for review, highest first",
        f"  tracelight networks --limit 10{db}             # ads joined by shared evidence",
        f"  tracelight search --phone +1...{db}            # every ad with a phone",
        f"  tracelight show AD_ID{db}                      # one ad with its evidence",
        f"  ground truth for checking: {out / 'truth.jsonl'}",
    ])
