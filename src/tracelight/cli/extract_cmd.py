"""`tracelight extract` (entities of each ad as JSON Lines or a table) and
`tracelight bench extract` (throughput, worst-case time, per-field precision/recall)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from tracelight import settings
from tracelight.cli.app import cli, format_option
from tracelight.cli.bench_cmd import bench, report, timed
from tracelight.cli.common import progress_bar
from tracelight.cli.output import emit
from tracelight.errors import RecordError

TABLE_COLUMNS = ["id", "phones", "emails", "social", "payment_handles", "crypto", "ages",
                 "prices", "locations", "names"]
# The hand-written cases live in the repository (tests/data), found from a source checkout.
DEFAULT_CASES = Path(__file__).resolve().parents[3] / "tests" / "data" / "obfuscation_cases.jsonl"
# Texts built to make regex engines and digit readers work hardest (each repeated to 100 KB).
ADVERSARIAL = {
    "weak words": "2 to 3 oh 0 o l ... $1 ", "spaced digits": "1 2 3 4 5 6 7 8 9 0 ",
    "emoji between digits": "🌹2", "full-width phones": "２０６ ５５５ ０１４３ ",
    "digit string": "1234567890", "spelled emails": "amy at gmail dot ",
    "number words": "two oh six five five five ", "cashtags": "$a$b$c ",
    "city names": "New York San Diego Los Angeles ", "hosts": "a.com/", "at signs": "@",
    "letters": "a",
}


def _short(row: dict[str, Any]) -> dict[str, Any]:
    """Table cells: one short text per entity instead of nested JSON."""
    out = dict(row)
    out["social"] = [f"{s['platform']}:{s['handle']}" for s in row["social"]]
    out["payment_handles"] = [f"{p['service']}:{p['handle']}" for p in row["payment_handles"]]
    out["crypto"] = [f"{c['currency']}:{c['address']}" for c in row["crypto"]]
    out["prices"] = [f"{p['amount']} {p['currency']}" + (f"/{p['minutes']}m" if p["minutes"]
                                                         else "") for p in row["prices"]]
    out["locations"] = [", ".join(x for x in (loc["city"], loc["region"], loc["country"]) if x)
                        for loc in row["locations"]]
    return out


@cli.command("extract")
@click.argument("path", default="-", metavar="[PATH|-]")
@click.option("--region", default=lambda: settings.get("region"), show_default="US",
              help="Country (ISO 3166 alpha-2) for phone numbers written without a country code.")
@format_option("jsonl", "table", default="jsonl")
@click.option("--source", help="Source name for records that do not carry one.")
def extract_cmd(path: str, region: str, fmt: str, source: str | None) -> None:
    """Read ad records (JSON Lines, CSV, HTML, WARC; - for JSON Lines on stdin) and print the
    entities found in each: phones (E.164, de-obfuscated), emails, URLs, social and payment
    handles, crypto addresses, ages, prices, places and names, with spans, in input order.

    Records that cannot be read are reported on stderr as `file:line: reason` and skipped.
    """
    from tracelight.extract import extract_record
    from tracelight.ingest.readers import iter_records

    region = region.upper()
    rejected = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal rejected
        with progress_bar(total=None) as bar:
            task = bar.add_task("extract", total=None, info="")
            for origin, rec in iter_records(path, source):
                if isinstance(rec, RecordError):
                    rejected += 1
                    click.echo(f"{origin}: {rec}", err=True)
                    continue
                row = extract_record(rec, region).to_dict(rec.id)
                bar.advance(task)
                yield row if fmt == "jsonl" else _short(row)

    emit(rows(), fmt, TABLE_COLUMNS, title="Entities", widths={"id": 24})
    if rejected:
        click.echo(f"{rejected} record(s) could not be read (see above)", err=True)


def _print_scores(label: str, scores: dict[str, Any], show_errors: int) -> None:
    for name, s in scores.items():
        if s.tp + s.fp + s.fn == 0:
            continue
        click.echo(f"quality {label} {name}: precision {s.precision:.3f} recall {s.recall:.3f} "
                   f"(tp {s.tp}, fp {s.fp}, fn {s.fn})")
        for line in s.errors[:show_errors]:
            click.echo(f"    {line}")


@bench.command("extract")
@click.option("--ads", "n_ads", type=click.IntRange(1), default=5_000, show_default=True,
              help="How many synthetic ~500-character ads to time.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--cases", "cases_path", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_CASES, show_default=True,
              help="Hand-written labelled cases (JSON Lines) to score precision/recall on.")
@click.option("--demo-ads", type=click.IntRange(0), default=2_000, show_default=True,
              help="Size of the demo corpus to score on (0: skip; needs tracelight.demo).")
@click.option("--show-errors", type=click.IntRange(0), default=0, show_default=True,
              help="Print up to N missed/extra values per field.")
def bench_extract(n_ads: int, seed: int, cases_path: Path, demo_ads: int,
                  show_errors: int) -> None:
    """Time extraction (ads/s on one core, a 100 KB body) and score it per field."""
    from tracelight.extract import evaluate, extract_record
    from tracelight.records import AdRecord

    ads = evaluate.synthetic_ads(n_ads, seed)
    extract_record(ads[0])  # load the lexicon, the gazetteer and phone metadata first
    chars = sum(len(a.title) + len(a.body) for a in ads) / len(ads)
    cpu0 = time.process_time()
    with timed() as t:
        found = sum(len(extract_record(a).mentions) for a in ads)
    cpu = time.process_time() - cpu0
    report("extract", n_ads, t.seconds, "ads", avg_chars=f"{chars:.0f}", mentions=found)
    # CPU time too: on a shared machine wall time also counts other processes' turns
    click.echo(f"extract: {n_ads / cpu:,.0f} ads per CPU-second ({cpu:.2f} CPU s, one core)")

    filler = " ".join(a.body for a in ads[:400])
    big = AdRecord(id="big", source="bench", body=(filler * 2)[:100_000])
    with timed() as t:
        n_big = len(extract_record(big).mentions)
    click.echo(f"extract 100 KB body: {t.seconds:.3f} s ({n_big} mentions)")
    worst_name, worst_s = "", 0.0
    for name, body in ADVERSARIAL.items():
        with timed() as t:
            extract_record(AdRecord(id=name, source="bench", body=(body * 100_000)[:100_000]))
        if t.seconds >= worst_s:
            worst_name, worst_s = name, t.seconds
    click.echo(f"extract 100 KB adversarial bodies ({len(ADVERSARIAL)}): worst {worst_s:.3f} s "
               f"({worst_name})")

    if cases_path.exists():
        cases = evaluate.load_cases(cases_path)
        _print_scores(f"cases[{len(cases)}]", evaluate.evaluate_cases(cases), show_errors)
    else:
        click.echo(f"quality cases: skipped ({cases_path} not found; run from the repository)")

    if demo_ads:
        try:
            from tracelight.demo import generate
        except ImportError:
            click.echo("quality demo: skipped (tracelight.demo.generate is not available)")
            return
        with tempfile.TemporaryDirectory(prefix="tracelight-bench-extract-") as tmp:
            generate(Path(tmp), n_ads=demo_ads, seed=seed, images=False)
            scores = evaluate.evaluate_demo(Path(tmp) / "ads.jsonl", Path(tmp) / "truth.jsonl")
        _print_scores(f"demo[{demo_ads}]", scores, show_errors)
