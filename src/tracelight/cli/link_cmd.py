"""`tracelight link`, `networks`, `hubs`, `similar` and `bench link`: thin shells over
tracelight.services (link, similar, networks) over tracelight.link (pure)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.bench_cmd import bench, peak_rss_mb
from tracelight.cli.common import echo_err, progress_bar, store_from
from tracelight.cli.output import dumps, emit
from tracelight.link.features import LinkAd

if TYPE_CHECKING:
    from tracelight.services.networks import RankedNetwork

NETWORK_COLUMNS = ["network_id", "size", "phones", "emails", "names", "cities", "first_seen",
                   "last_seen", "evidence_kinds"]
TABLE_COLUMNS = ["network_id", "size", "phones", "names", "cities", "first_seen", "last_seen",
                 "evidence_kinds"]


@cli.command("link")
@db_option
@click.option("--rebuild", is_flag=True,
              help="Re-read every ad instead of only the new and changed ones (same result; "
                   "network ids stay stable either way).")
@format_option("table", "jsonl")
def link_cmd(db_url: str, rebuild: bool, fmt: str) -> None:
    """Build or update networks: ads that share contacts, images or a template.

    Incremental: only ads ingested or changed since the last run are read. Identifiers and
    sentences shared by an implausible number of unrelated ads (a site's phone, boilerplate)
    are reported as hubs and never join ads.
    """
    from tracelight.services.link import update_networks

    started = time.perf_counter()
    with store_from(db_url) as store, progress_bar(total=None) as bar:
        task = bar.add_task("link", total=None, info="")

        def on_progress(phase: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None, info=phase)

        result, mode = update_networks(store, rebuild=rebuild, progress=on_progress)
    row = {"mode": mode, "ads": result.stats.get("ads", 0),
           "ads_read": result.stats.get("new_ads", 0),
           "networks": result.stats.get("networks", 0),
           "ads_in_networks": result.stats.get("ads_in_networks", 0),
           "hubs": len([h for h in result.hubs if h.kind != "sentence"]),
           "boilerplate_sentences": len([h for h in result.hubs if h.kind == "sentence"]),
           "seconds": round(time.perf_counter() - started, 2)}
    if fmt == "jsonl":
        click.echo(dumps(row))
    else:
        emit([row], "table", list(row))


def _network_row(ranked: RankedNetwork) -> dict[str, Any]:
    """A network's record, its risk carrying `score` (the queue's ranking) and its reasons."""
    row = ranked.network.to_dict()
    if "risk" in row:  # only when its ads were scored
        row["risk"] = ranked.risk_dict()
    return row


def _table_row(net: dict[str, Any], *, short: bool = False) -> dict[str, Any]:
    row = {**net, "cities": [loc["city"] for loc in net["locations"]],
           "evidence_kinds": sorted({e["kind"] for e in net["evidence"]})}
    if short:  # dates without times keep the table readable
        for k in ("first_seen", "last_seen"):
            row[k] = (row[k] or "")[:10]
    return row


@cli.command("networks")
@db_option
@click.option("--min-size", type=click.IntRange(min=1), default=2, show_default=True,
              help="Only networks with at least this many ads (ads linked to no other ad "
                   "form no network).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most this many networks (table default: 50; jsonl/csv: all).")
@format_option()
def networks_cmd(db_url: str, min_size: int, limit: int | None, fmt: str) -> None:
    """List networks, biggest first: member ads, phones, emails, names, the cities they
    moved through (first/last dates), and the evidence that joins them."""
    from tracelight.services.networks import iter_ranked

    if fmt == "table" and limit is None:
        limit = 50
    with store_from(db_url) as store:
        if store.last_link_run() is None:
            echo_err("no networks yet: run `tracelight link` first")
        if fmt == "csv":  # no risk column: the records alone
            rows = (n for n in store.iter_network_records(min_size=min_size, limit=limit))
        else:
            rows = (_network_row(r) for r in iter_ranked(store, min_size=min_size,
                                                         limit=limit))
        if fmt == "table":
            emit((_table_row(r, short=True) for r in rows), fmt, TABLE_COLUMNS,
                 title="networks")
        elif fmt == "csv":
            emit((_table_row(r) for r in rows), fmt, [*NETWORK_COLUMNS, "ad_ids"])
        else:
            emit(rows, fmt, [])


@cli.command("hubs")
@db_option
@format_option()
def hubs_cmd(db_url: str, fmt: str) -> None:
    """Identifiers and sentences shared by an implausible number of unrelated ads (a site's
    own phone, boilerplate). Reported here, never used to join ads."""
    from tracelight.link.text import sentence_text
    from tracelight.services.link import stored_hubs

    with store_from(db_url) as store:
        rows = []
        for h in stored_hubs(store):
            row = h.to_dict()
            if h.kind == "sentence" and h.example:
                try:
                    ad = store.get_ad(h.example.rsplit("/", 1)[-1])
                    row["value"] = sentence_text(ad.title, ad.body,
                                                 store.mentions_for([ad.pk])[ad.pk],
                                                 int(h.value[1:], 16)) or h.value
                except Exception:  # the example ad may be gone; the hash still identifies it
                    pass
            rows.append(row)
        emit(rows, fmt, ["kind", "value", "ads", "groups", "reason", "example"])


@cli.command("similar")
@click.argument("ad_id")
@click.option("--k", type=click.IntRange(min=1, max=1000), default=20, show_default=True,
              help="How many ads to list.")
@click.option("--source", help="The ad's source, when its id exists in several sources.")
@db_option
@format_option()
def similar_cmd(ad_id: str, k: int, source: str | None, db_url: str, fmt: str) -> None:
    """Ads closest to AD_ID in contacts, images and wording, each with its reasons
    (strong: shared phone/email/handle/image; medium: wording/template; weak: style,
    same name and city within a week)."""
    from tracelight.services.similar import similar_ads

    with store_from(db_url) as store:
        ad = store.get_ad(ad_id, source)
        rows = [r.to_dict() for r in similar_ads(store, ad, k=k)]
    if fmt == "table":
        for r in rows:
            r["why"] = "; ".join(f"{x['kind']}: {x['value']}" for x in r["reasons"])
        emit(rows, fmt, ["ad_id", "score", "network_id", "why", "title"],
             title=f"ads similar to {ad_id}", widths={"why": 80})
    else:
        for r in rows:
            r["reasons_text"] = "; ".join(f"{x['kind']}: {x['value']}" for x in r["reasons"])
        emit(rows, fmt, ["ad_id", "source", "score", "network_id", "reasons_text", "title"])


@bench.command("link")
@click.option("--ads", "n_ads", type=click.IntRange(min=10), default=3000, show_default=True,
              help="How many ads to generate and link.")
@click.option("--corpus", type=click.Choice(["demo", "synth"]), default="demo",
              show_default=True,
              help="demo: the demo generator (without images); synth: the linker's own fast "
                   "generator (for sizes the demo generator takes too long to make).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--oracle", is_flag=True,
              help="demo corpus: take identifiers from truth.jsonl even when the extractor "
                   "is installed (measures linking alone).")
@click.option("--batches", type=click.IntRange(min=1), default=1, show_default=True,
              help="Link in this many incremental batches and check the result equals a "
                   "single run.")
def bench_link(n_ads: int, corpus: str, seed: int, oracle: bool, batches: int) -> None:
    """Link N generated ads; print seconds, ads/s, peak RSS and pairwise precision/recall
    against the planted networks."""
    import tempfile
    from collections import Counter
    from pathlib import Path

    from tracelight.link import LinkState, link_batch, pairwise_scores
    from tracelight.link.corpus import read_corpus
    from tracelight.link.synth import iter_ads as synth_iter

    t0 = time.perf_counter()
    if corpus == "synth":
        truth: dict[str, str | None] = {}

        def stream() -> Iterator[LinkAd]:
            # streamed straight into the linker: only features stay in memory
            for ad, net in synth_iter(n_ads, seed):
                truth[ad.key] = net
                yield ad

        ads: Iterable[LinkAd] = stream()
        how = "synthetic (identifiers given)"
    else:
        from tracelight.demo import generate

        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp), n_ads=n_ads, seed=seed, images=False)
            ads, truth, how = read_corpus(Path(tmp), oracle=oracle)
        echo_err(f"generated {n_ads} ads (demo, mentions: {how}) in "
                 f"{time.perf_counter() - t0:.1f} s")
    # for the synthetic corpus, generating is interleaved with featurising: its share of the
    # time is measured apart and taken off (the figure is the linker's alone)
    gen_clock = [0.0, 0.0]  # wall, cpu

    def timed_source(source: Iterable[LinkAd]) -> Iterator[LinkAd]:
        it = iter(source)
        while True:
            t, c = time.perf_counter(), time.process_time()
            try:
                ad = next(it)
            except StopIteration:
                return
            finally:
                gen_clock[0] += time.perf_counter() - t
                gen_clock[1] += time.process_time() - c
            yield ad

    c0, t0 = time.process_time(), time.perf_counter()
    if batches == 1:
        result = link_batch(timed_source(ads), min_record_size=2)
    else:
        every = list(timed_source(ads))
        state: LinkState | None = None
        step = -(-len(every) // batches)
        for i in range(0, len(every), step):
            result = link_batch(every[i:i + step], state=state, min_record_size=2)
            state = result.state
    wall = time.perf_counter() - t0
    secs = wall - gen_clock[0] if corpus == "synth" else wall
    cpu = time.process_time() - c0 - (gen_clock[1] if corpus == "synth" else 0.0)
    n_ads = len(result.state.table)
    sizes = Counter(result.state.assignment.values())
    predicted = {k: (v if sizes[v] > 1 else None) for k, v in result.state.assignment.items()}
    scores = pairwise_scores(predicted, truth)
    out = {"ads": n_ads, "corpus": corpus, "mentions": how, "batches": batches,
           "seconds": round(secs, 2), "cpu_seconds": round(cpu, 2),
           "ads_per_s": round(n_ads / secs), "peak_rss_mib": round(peak_rss_mb()),
           "precision": round(scores.precision, 4), "recall": round(scores.recall, 4),
           "networks": result.stats.get("networks"),
           "hubs": len([h for h in result.hubs if h.kind != "sentence"]),
           "stages_s": {k: v for k, v in result.stats.items() if k.endswith("_s")}}
    if corpus == "synth":
        out["generate_s_excluded"] = round(gen_clock[0], 2)
    if batches > 1:
        full = link_batch(every, min_record_size=2)
        same = _partition(full.state.assignment) == _partition(result.state.assignment)
        out["incremental_equals_rebuild"] = same
    click.echo(f"link: {n_ads} ads in {secs:.2f} s (cpu {cpu:.2f} s) = "
               f"{n_ads / secs:,.0f} ads/s; peak RSS {peak_rss_mb():.0f} MiB; "
               f"pairwise precision {scores.precision:.4f} recall {scores.recall:.4f}")
    click.echo(dumps(out))


def _partition(assignment: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for k, v in assignment.items():
        groups.setdefault(v, set()).add(k)
    return {frozenset(g) for g in groups.values()}




@bench.command("similar")
@click.option("--ads", "n_ads", type=click.IntRange(min=50), default=20000, show_default=True,
              help="How many synthetic ads to store, link and query.")
@click.option("--queries", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--db", "db_url", default=None, metavar="URL",
              help="An empty database to use instead of a scratch SQLite file.")
def bench_similar(n_ads: int, queries: int, seed: int, db_url: str | None) -> None:
    """Store N synthetic ads in a scratch SQLite file (or --db), time `tracelight link` on the
    store, then time `similar` for random ads (median and worst, milliseconds)."""
    import random
    import statistics
    import tempfile
    from pathlib import Path

    from tracelight.link.synth import iter_ads
    from tracelight.records import AdRecord, ProcessedAd
    from tracelight.services.link import update_networks
    from tracelight.services.similar import similar_ads
    from tracelight.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'b.db'}"
        store = open_store(url)
        t0 = time.perf_counter()
        extra = max(10, n_ads // 100)  # held back, then added: the incremental case
        batch: list[ProcessedAd] = []
        later: list[ProcessedAd] = []
        for i, (ad, _net) in enumerate(iter_ads(n_ads + extra, seed)):
            item = ProcessedAd(AdRecord(id=ad.key, source="synth", title=ad.title,
                                        body=ad.body, posted_at=ad.posted_at,
                                        location=ad.location), list(ad.mentions))
            (batch if i < n_ads else later).append(item)
            if len(batch) == 2000:
                store.write_batch(None, batch)
                batch = []
        if batch:
            store.write_batch(None, batch)
        echo_err(f"stored {n_ads} ads in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        result, _ = update_networks(store)
        link_s = time.perf_counter() - t0
        click.echo(f"link (store): {n_ads} ads in {link_s:.2f} s = {n_ads / link_s:,.0f} ads/s;"
                   f" peak RSS {peak_rss_mb():.0f} MiB; networks {result.stats['networks']}")
        store.write_batch(None, later)
        t0 = time.perf_counter()
        _, mode = update_networks(store)
        click.echo(f"link (store, {mode}, {len(later)} new ads): "
                   f"{time.perf_counter() - t0:.2f} s")
        rng = random.Random(seed)
        ids = [f"ad{rng.randint(1, n_ads):08d}" for _ in range(queries)]
        times = []
        for ad_id in ids:
            t = time.perf_counter()
            similar_ads(store, store.get_ad(ad_id), k=20)
            times.append((time.perf_counter() - t) * 1000)
        store.close()
    click.echo(f"similar: {queries} queries over {n_ads} ads: median "
               f"{statistics.median(times):.0f} ms, worst {max(times):.0f} ms")
