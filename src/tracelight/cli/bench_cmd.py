"""`tracelight bench ...`: a thin shell over tracelight.bench (one module per benchmark).

Benchmarks print figures; tests never make timed assertions. Every import of a benchmark and
of what it measures stays inside its command, so `tracelight bench --help` loads none of them.
"""

from __future__ import annotations

from pathlib import Path

import click

from tracelight.bench.ingest import DEFAULT_PG_URL
from tracelight.cli.app import cli, format_option


@cli.group()
def bench() -> None:
    """Measure throughput and memory of each stage on generated data."""


@bench.command("ingest")
@click.option("--ads", "n_ads", type=click.IntRange(1), default=20_000, show_default=True,
              help="How many synthetic ads to generate and ingest.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes for the analysis stages (default: up to 2 cores).")
@click.option("--pg-url", default=DEFAULT_PG_URL,
              show_default=True, help="PostgreSQL server to measure too, when reachable; a "
              "scratch database is created there and dropped afterwards.")
@click.option("--images/--no-images", default=False, show_default=True,
              help="Generate the demo's pictures too and hash them on ingest (SHA-256, MD5, "
              "PDQ; in the worker processes).")
def bench_ingest(n_ads: int, seed: int, workers: int | None, pg_url: str,
                 images: bool) -> None:
    """Ingest N generated ads (extraction and scoring on) into SQLite and PostgreSQL:
    ads/s, CPU seconds per 1,000 ads (ingest, workers and database server) and load."""
    from tracelight.bench import ingest

    ingest.run(n_ads=n_ads, seed=seed, workers=workers, pg_url=pg_url, images=images)


@bench.command("extract")
@click.option("--ads", "n_ads", type=click.IntRange(1), default=5_000, show_default=True,
              help="How many synthetic ~500-character ads to time.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--cases", "cases_path", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              default=None, show_default="the cases shipped with tracelight",
              help="Hand-written labelled cases (JSON Lines) to score precision/recall on.")
@click.option("--demo-ads", type=click.IntRange(0), default=2_000, show_default=True,
              help="Size of the demo corpus to score on (0: skip).")
@click.option("--show-errors", type=click.IntRange(0), default=0, show_default=True,
              help="Print up to N missed/extra values per field.")
@click.option("--layout", "layout_path", type=click.Path(exists=True, path_type=Path),
              default=None, show_default="tests/data of a source checkout",
              help="Real-layout cases: a layout_*.jsonl file or a folder of them, scored per "
                   "field and class.")
def bench_extract(n_ads: int, seed: int, cases_path: Path | None, demo_ads: int,
                  show_errors: int, layout_path: Path | None) -> None:
    """Time extraction (ads/s on one core, a 100 KB body) and score it per field, and per
    class on the real-layout cases."""
    from tracelight.bench import extract

    extract.run(n_ads=n_ads, seed=seed, cases_path=cases_path or extract.DEFAULT_CASES,
                demo_ads=demo_ads, show_errors=show_errors, layout_path=layout_path)


@bench.command("score")
@click.option("--ads", "n_ads", type=click.IntRange(min=50), default=3000, show_default=True,
              help="How many demo ads to generate (ignored with --corpus).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--corpus", type=click.Path(file_okay=False, exists=True), default=None,
              help="Use this demo corpus folder instead of generating one.")
@click.option("--network-labels", is_flag=True,
              help="Label whole networks (about 20% of positive ads carry no indicator of "
                   "their own) and compare the ad-only and the network-aware score: ROC AUC, "
                   "precision@50/@200/@1000, Brier, and the reliability table.")
@click.option("--label-rule", type=click.Choice(["drawn", "evidence"]), default="evidence",
              show_default=True,
              help="With --network-labels: the demo's label rule (drawn: a network with one "
                   "trait is positive one time in five; evidence: less noise in the rule).")
@format_option("table", "jsonl")
def bench_score(n_ads: int, seed: int, corpus: str | None, network_labels: bool,
                label_rule: str, fmt: str) -> None:
    """Time scoring against extraction on the demo corpus and report risk quality
    (ROC AUC, PR AUC, precision@50/@200 for default weights and a trained model)."""
    from tracelight.bench import score
    from tracelight.cli.output import emit
    from tracelight.cli.score_cmd import METRIC_COLUMNS

    if network_labels:
        out = score.run_network(n_ads=n_ads, seed=seed, label_rule=label_rule)
        emit(out["rows"], fmt, score.NETWORK_COLUMNS)
        if fmt == "table":
            from tracelight.score.calibration import reliability_table

            click.echo("\nreliability of the calibrated network-aware score (out of fold):")
            click.echo(reliability_table(out["reliability"]))
        return
    rows = score.run(n_ads=n_ads, seed=seed, corpus=Path(corpus) if corpus else None)
    if rows:
        emit(rows, fmt, METRIC_COLUMNS)


@bench.command("link")
@click.option("--ads", "n_ads", type=click.IntRange(min=10), default=3000, show_default=True,
              help="How many ads to generate and link.")
@click.option("--corpus", type=click.Choice(["demo", "synth"]), default="demo",
              show_default=True,
              help="demo: the demo generator (without images); synth: the fast generator of "
                   "linker input, identifiers given (for sizes the demo generator takes too "
                   "long to make).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--oracle", is_flag=True,
              help="demo corpus: take identifiers from truth.jsonl even when the extractor "
                   "is installed (measures linking alone).")
@click.option("--batches", type=click.IntRange(min=1), default=1, show_default=True,
              help="Link in this many incremental batches and check the result equals a "
                   "single run.")
@click.option("--market", type=click.Choice(["simple", "realistic"]), default="realistic",
              show_default=True,
              help="synth corpus: realistic plants single-contact networks, rotating phones, "
                   "cross-posting, site footers, ad-builder texts and stock photos.")
def bench_link(n_ads: int, corpus: str, seed: int, oracle: bool, batches: int,
               market: str) -> None:
    """Link N generated ads; print seconds, ads/s, peak RSS and pairwise precision/recall
    against the planted networks."""
    from tracelight.bench import link
    from tracelight.cli.output import dumps

    click.echo(dumps(link.run(n_ads=n_ads, corpus=corpus, seed=seed, oracle=oracle,
                              batches=batches, market=market)))


@bench.command("engine")
@click.option("--ads", "n_ads", type=click.IntRange(min=10), default=4000, show_default=True,
              help="How many demo ads (text only) to split into shards.")
@click.option("--shards", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--engine", "engines", multiple=True,
              type=click.Choice(["spark", "ray", "local"]),
              help="Engines to measure (repeat; default: all three).")
@click.option("--link", "link_only", is_flag=True,
              help="Measure linking instead: the local linker against linking on Spark "
                   "local[WORKERS] over the same features, and whether they agree.")
def bench_engine(n_ads: int, shards: int, workers: int, engines: tuple[str, ...],
                 link_only: bool) -> None:
    """The same extract+score job over JSONL shards on Spark, Ray and a local pool (local
    mode): startup, run seconds, CPU seconds and peak memory of the process tree. With
    --link: link seconds, local against Spark, on the same features."""
    from tracelight.bench import engine
    from tracelight.cli.output import dumps

    if link_only:
        click.echo(dumps(engine.run_link(n_ads=n_ads, shards=shards, workers=workers)))
        return
    click.echo(dumps(engine.run(n_ads=n_ads, shards=shards, workers=workers,
                                engines=engines or ("spark", "ray", "local"))))


@bench.command("link-quality")
@click.option("--sizes", default="3000,30000", show_default=True,
              help="Comma-separated corpus sizes (300000 takes minutes).")
@click.option("--corpus", type=click.Choice(["market", "demo"]), default="market",
              show_default=True,
              help="market: the fast realistic market, identifiers given; demo: "
                   "demo-generate --market realistic through the extractor.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--baseline", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None,
              help="A folder with another checkout's src/tracelight (e.g. main's): its "
                   "linker is measured on the same ads as 'before'.")
def bench_link_quality(sizes: str, corpus: str, seed: int, baseline: Path | None) -> None:
    """Pairwise precision/recall by true network size (2-5, 6-20, 21-100, >100 ads) and
    singletons wrongly merged, on corpora with market decoys; before/after with --baseline."""
    from tracelight.bench import link_quality
    from tracelight.cli.output import dumps
    from tracelight.errors import UsageError

    try:
        ns = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--sizes must be comma-separated integers, not {sizes!r}") from None
    if not ns or min(ns) < 1:
        raise UsageError("--sizes needs at least one positive size")
    click.echo(dumps(link_quality.run(ns, corpus=corpus, seed=seed, baseline=baseline)))


@bench.command("similar")
@click.option("--ads", "n_ads", type=click.IntRange(min=50), default=20000, show_default=True,
              help="How many synthetic ads to store, link and query.")
@click.option("--queries", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--db", "db_url", default=None, metavar="URL",
              help="An empty database to use instead of a scratch SQLite file.")
def bench_similar(n_ads: int, queries: int, seed: int, db_url: str | None) -> None:
    """Store N synthetic ads in a scratch SQLite file (or --db), time `tracelight link` on the
    store, then time `similar` for random ads (median, p95 and worst, milliseconds)."""
    from tracelight.bench import similar

    similar.run(n_ads=n_ads, queries=queries, seed=seed, db_url=db_url)


@bench.command("images")
@click.option("--count", type=click.IntRange(1), default=300, show_default=True,
              help="How many JPEGs to generate and hash.")
@click.option("--width", type=click.IntRange(32), default=800, show_default=True)
@click.option("--height", type=click.IntRange(32), default=600, show_default=True)
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Processes to hash with. [default: 1, then every core]")
def bench_images(count: int, width: int, height: int, workers: int | None) -> None:
    """Decode + hash throughput (SHA-256, MD5, PDQ) on generated JPEGs (target >= 60/s)."""
    from tracelight.bench import images
    from tracelight.cli.common import bar_progress

    images.run(count=count, width=width, height=height, workers=workers,
               progress=bar_progress("images"))


@bench.command("bank")
@click.option("--hashes", type=click.IntRange(1), default=1_000_000, show_default=True,
              help="PDQ hashes in the generated bank.")
@click.option("--queries", type=click.IntRange(1), default=2000, show_default=True)
@click.option("--threshold", type=click.IntRange(0, 256), default=31, show_default=True)
def bench_bank(hashes: int, queries: int, threshold: int) -> None:
    """PDQ bank lookups: build time, batched lookups/s (target >= 1,000) and single-lookup
    latency (target < 5 ms) on random hashes; half the queries are planted near-matches."""
    from tracelight.bench import bank

    bank.run(hashes=hashes, queries=queries, threshold=threshold)


@bench.command("web")
@click.option("--ads", "n_ads", type=int, default=100_000, show_default=True,
              help="Synthetic ads to load.")
@click.option("--users", type=int, default=10, show_default=True, help="Concurrent users.")
@click.option("--rounds", type=int, default=20, show_default=True,
              help="Loops per user; each loop opens one page of every kind.")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Server processes (tracelight serve --workers).")
@click.option("--think-ms", type=int, default=0, show_default=True,
              help="Pause between one user's pages (0: each user clicks as fast as pages come).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False), default=None,
              help="Keep the scratch database in this folder (default: a temporary one).")
def bench_web(n_ads: int, users: int, rounds: int, workers: int, think_ms: int, seed: int,
              keep: str | None) -> None:
    """Page times (p50/p95/max) for queue, search, ad and network pages under load."""
    from tracelight.bench import web

    web.require_httpx()  # before any work: a production install lacks this dev dependency
    web.run(n_ads=n_ads, users=users, rounds=rounds, workers=workers, think_ms=think_ms,
            seed=seed, keep=Path(keep) if keep else None)


@bench.command("crawl")
@click.option("--ads", "n_ads", type=click.IntRange(1, 1_000_000), default=2000,
              show_default=True, help="Synthetic ads served by the local fake site.")
@click.option("--delay", type=click.FloatRange(0, 60), default=0.0, show_default=True,
              help="Per-host delay between requests (the profile's delay_seconds).")
@click.option("--concurrency", type=click.IntRange(1, 16), default=4, show_default=True)
@click.option("--per-page", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="Ads per listing page.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False), default=None,
              help="Keep the scratch database and WARC files in this folder.")
@click.option("--images/--no-images", default=True, show_default=True,
              help="Serve the demo pictures and download them with the ads.")
def bench_crawl(n_ads: int, delay: float, concurrency: int, per_page: int, seed: int,
                keep: str | None, images: bool) -> None:
    """Pages/s crawling a local fake site on 127.0.0.1 (fetch, parse, WARC, ingest), then an
    incremental re-crawl with one ad in ten changed."""
    from tracelight.bench import crawl

    crawl.run(n_ads=n_ads, delay=delay, concurrency=concurrency, per_page=per_page,
              seed=seed, keep=Path(keep) if keep else None, images=images)


@bench.command("adversarial")
@click.option("--sizes", default="1,16,256,1024", show_default=True,
              help="Body sizes in KB, comma-separated.")
@click.option("--only", default=None, help="Only the generators whose name matches this "
              "regular expression (e.g. 'dotcom|email').")
@click.option("--no-page", is_flag=True, help="Skip the ad page (the logged-in ASGI request).")
@click.option("--repeat", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Run each single reader this many times and keep the best time.")
@format_option("table", "jsonl")
def bench_adversarial(sizes: str, only: str | None, no_page: bool, repeat: int,
                      fmt: str) -> None:
    """Worst time per KB of every extractor, the highlighter and the ad page on hostile
    bodies (runs of each character class, 1 KB .. 1 MB)."""
    from tracelight.bench import adversarial

    adversarial.report(adversarial.parse_sizes(sizes), only, pages=not no_page, fmt=fmt,
                       repeat=repeat)


@bench.command("tx")
@click.option("--transactions", "n_tx", type=click.IntRange(1000), default=1_000_000,
              show_default=True, help="About how many synthetic transactions to generate, "
              "ingest and score.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False), default=None,
              help="Generate into (and reuse) this folder instead of a scratch one.")
def bench_tx(n_tx: int, seed: int, keep: str | None) -> None:
    """Follow the money: ingest + score N generated transactions (items/s, memory along the
    way), streaming latency per transaction (p50/p99), precision/recall per typology and
    alerts per 10,000 customers."""
    from tracelight.bench import tx

    tx.run(n_tx=n_tx, seed=seed, keep=keep)
@bench.command("authorship")
@click.option("--authors", "n_authors", type=click.IntRange(10), default=300, show_default=True,
              help="Recurring synthetic authors to train on (plus as many one-ad authors).")
@click.option("--test-authors", type=click.IntRange(10), default=200, show_default=True,
              help="Authors never seen in training, to evaluate on.")
@click.option("--btc-authors", type=click.IntRange(1), default=200, show_default=True)
@click.option("--days", type=click.FloatRange(0.01, 60), default=7.0, show_default=True)
@click.option("--noise", type=click.FloatRange(0, 1000), default=20.0, show_default=True,
              help="Unrelated payments into the site's wallet per minute.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--txs", "n_tx", type=click.IntRange(0), default=0, show_default=True,
              help="Also read and cluster this many synthetic transactions (1000000 for the "
              "issue's target).")
@click.option("--tx-store", default=None, metavar="DB_URL",
              help="With --txs, also store them into this database (created).")
def bench_authorship(n_authors: int, test_authors: int, btc_authors: int, days: float,
                     noise: float, seed: int, n_tx: int, tx_store: str | None) -> None:
    """Same-author model on unseen authors (TPR at 1% and 0.1% FPR, R-precision, pairs/s,
    ads/s), the network recall author and wallet-owner evidence add on ads whose phones all
    rotate (pairwise precision), Bitcoin ad -> owner attribution precision/recall, owner
    clustering F1, and with --txs transactions read and clustered per second."""
    from tracelight.bench import authorship

    authorship.run(n_authors=n_authors, test_authors=test_authors, seed=seed,
                   btc_authors=btc_authors, days=days, noise=noise, n_tx=n_tx,
                   tx_store=tx_store)
@bench.command("review")
@click.option("--ads", "n_ads", type=click.IntRange(min=300), default=2000, show_default=True,
              help="How many demo ads to generate.")
@click.option("--top", type=click.IntRange(min=20), default=200, show_default=True,
              help="How many ads of the queue the simulated analyst labels.")
@click.option("--calibration/--no-calibration", default=True, show_default=True,
              help="Keep the queue's random calibration rows in what the analyst reads.")
@click.option("--seed", type=int, default=7, show_default=True)
def bench_review(n_ads: int, top: int, calibration: bool, seed: int) -> None:
    """A simulated analyst labels the top of the queue by ground truth: held-out ROC AUC and
    precision@200 before/after `risk train --from-reviews`, and ads read to find 90% of the
    positive networks with and without closing whole networks."""
    from tracelight.bench import review
    from tracelight.cli.output import dumps

    click.echo(dumps(review.run(n_ads=n_ads, seed=seed, top=top, calibration=calibration)))
@bench.command("check")
@click.option("--ads", "n_ads", type=click.IntRange(100), default=20_000, show_default=True,
              help="Demo ads in the store (ingested and linked first).")
@click.option("--checks", type=click.IntRange(10), default=2000, show_default=True,
              help="Text-only checks to send.")
@click.option("--image-checks", type=click.IntRange(0), default=300, show_default=True,
              help="Checks that each carry one 800x600 JPEG.")
@click.option("--clients", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Concurrent client threads (keep-alive connections).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Server worker processes.")
@click.option("--bank-hashes", type=click.IntRange(0), default=100_000, show_default=True,
              help="Random MD5 and PDQ hashes in the hash bank.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the scratch store here (a rerun reuses it).")
def bench_check(n_ads: int, checks: int, image_checks: int, clients: int, workers: int,
                bank_hashes: int, seed: int, keep: Path | None) -> None:
    """POST /api/v1/check on loopback: p50/p99 and checks/s, text only and with one 800x600
    image (targets p50 < 10 ms, p99 < 50 ms, >= 300 checks/s; p99 < 100 ms with an image)."""
    from tracelight.bench import check

    check.run(n_ads=n_ads, checks=checks, image_checks=image_checks, clients=clients,
              workers=workers, bank_hashes=bank_hashes, seed=seed, keep=keep)


@bench.command("rooms")
@click.option("--hotels", type=click.IntRange(2), default=2000, show_default=True)
@click.option("--chains", type=click.IntRange(1), default=50, show_default=True,
              help="Hotels of one chain share a design (wallpaper, bedding, furniture).")
@click.option("--photos", type=click.IntRange(1), default=10, show_default=True,
              help="Gallery photos per hotel.")
@click.option("--queries", type=click.IntRange(1), default=1000, show_default=True,
              help="Occluded query photos (another viewpoint, a silhouette over 20-50%).")
@click.option("--words", type=click.IntRange(64), default=32768, show_default=True)
@click.option("--no-mask", is_flag=True, help="Do not mask the foreground of queries.")
@click.option("--seed", type=int, default=7, show_default=True)
def bench_rooms(hotels: int, chains: int, photos: int, queries: int, words: int,
                no_mask: bool, seed: int) -> None:
    """Hotel-room matching on the synthetic gallery: top-1 (target >= 0.80) and top-20
    (>= 0.95) next to PDQ and colour-histogram baselines, query latency (< 1 s), ingest
    photos/s (>= 20) and memory per 100,000 gallery photos."""
    from tracelight.bench import rooms
    from tracelight.cli.common import bar_progress

    rooms.run(hotels=hotels, chains=chains, photos=photos, queries=queries, seed=seed,
              words=words, auto_mask=not no_mask, progress=bar_progress("photos"))
