"""`tracelight bench extract`: ads/s on one core, a 100 KB body, adversarial bodies, and
per-field precision/recall on the hand-written cases and on the demo corpus."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from tracelight.bench.measure import report, say, timed
from tracelight.errors import InputError

# Hand-written labelled cases of real-world hiding patterns, shipped with the package.
DEFAULT_CASES = Path(__file__).resolve().parent / "data" / "obfuscation_cases.jsonl"
# The real-layout cases (tests/data/layout_*.jsonl) of a source checkout; --layout names others.
DEFAULT_LAYOUT = Path(__file__).resolve().parents[3] / "tests" / "data"
# Texts built to make regex engines and digit readers work hardest (each repeated to 100 KB).
ADVERSARIAL = {
    "weak words": "2 to 3 oh 0 o l ... $1 ", "spaced digits": "1 2 3 4 5 6 7 8 9 0 ",
    "emoji between digits": "🌹2", "full-width phones": "２０６ ５５５ ０１４３ ",
    "digit string": "1234567890", "spelled emails": "amy at gmail dot ",
    "number words": "two oh six five five five ", "cashtags": "$a$b$c ",
    "city names": "New York San Diego Los Angeles ", "hosts": "a.com/", "at signs": "@",
    "letters": "a",
}


def _print_scores(label: str, scores: dict[str, Any], show_errors: int) -> None:
    for name, s in scores.items():
        if s.tp + s.fp + s.fn == 0:
            continue
        say(f"quality {label} {name}: precision {s.precision:.3f} recall {s.recall:.3f} "
            f"(tp {s.tp}, fp {s.fp}, fn {s.fn})")
        for line in s.errors[:show_errors]:
            say(f"    {line}")


def _score_cases(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Load and score the labelled cases; a file that is not one is one clear error."""
    from tracelight.extract import evaluate

    try:
        cases = evaluate.load_cases(path)
        return cases, evaluate.evaluate_cases(cases)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the cases ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not a file of labelled cases (JSON Lines with body and "
                         f"expected fields): {type(exc).__name__}: {exc}") from None


def layout_files(path: Path) -> list[Path]:
    """The layout_*.jsonl files of a folder, or the one file named."""
    return [path] if path.is_file() else sorted(path.glob("layout_*.jsonl"))


def _score_layout(path: Path | None) -> tuple[list[Path], dict[str, Any]]:
    """Per-class P/R on the real-layout cases; none found at the default place is no error
    (an installed package has no tests/ folder), a named path that holds none is."""
    from tracelight.extract import evaluate

    where = path or DEFAULT_LAYOUT
    files = layout_files(where) if where.exists() else []
    if not files:
        if path is not None:
            raise InputError(f"{path}: no layout_*.jsonl cases there")
        return [], {}
    try:
        return files, evaluate.evaluate_layout(evaluate.load_layout_cases(files))
    except OSError as exc:
        raise InputError(f"{where}: cannot read the layout cases "
                         f"({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{where}: not a file of layout cases (JSON Lines with \"class\" and "
                         f"\"expect\"): {type(exc).__name__}: {exc}") from None


def run(n_ads: int = 5_000, seed: int = 7, cases_path: Path = DEFAULT_CASES,
        demo_ads: int = 2_000, show_errors: int = 0, layout_path: Path | None = None) -> None:
    """Time extraction and score it per field (`demo_ads` 0 skips the demo corpus)."""
    from tracelight.demo import generate
    from tracelight.extract import evaluate, extract_record
    from tracelight.records import AdRecord

    cases, case_scores = _score_cases(cases_path)  # first: a bad file fails before any timing
    layout, layout_scores = _score_layout(layout_path)
    ads = evaluate.synthetic_ads(n_ads, seed)
    extract_record(ads[0])  # load the lexicon, the gazetteer and phone metadata first
    chars = sum(len(a.title) + len(a.body) for a in ads) / len(ads)
    cpu0 = time.process_time()
    with timed() as t:
        found = sum(len(extract_record(a).mentions) for a in ads)
    cpu = time.process_time() - cpu0
    report("extract", n_ads, t.seconds, "ads", avg_chars=f"{chars:.0f}", mentions=found)
    # CPU time too: on a shared machine wall time also counts other processes' turns
    say(f"extract: {n_ads / cpu:,.0f} ads per CPU-second ({cpu:.2f} CPU s, one core)")

    filler = " ".join(a.body for a in ads[:400])
    big = AdRecord(id="big", source="bench", body=(filler * 2)[:100_000])
    with timed() as t:
        n_big = len(extract_record(big).mentions)
    say(f"extract 100 KB body: {t.seconds:.3f} s ({n_big} mentions)")
    worst_name, worst_s = "", 0.0
    for name, body in ADVERSARIAL.items():
        with timed() as t:
            extract_record(AdRecord(id=name, source="bench", body=(body * 100_000)[:100_000]))
        if t.seconds >= worst_s:
            worst_name, worst_s = name, t.seconds
    say(f"extract 100 KB adversarial bodies ({len(ADVERSARIAL)}): worst {worst_s:.3f} s "
        f"({worst_name})")

    _print_scores(f"cases[{len(cases)}]", case_scores, show_errors)
    if layout:
        say(f"layout cases: {', '.join(f.name for f in layout)}")
        _print_scores("layout", layout_scores, show_errors)
    else:
        say(f"layout cases: none at {DEFAULT_LAYOUT} (give --layout)")

    if demo_ads:
        with tempfile.TemporaryDirectory(prefix="tracelight-bench-extract-") as tmp:
            generate(Path(tmp), n_ads=demo_ads, seed=seed, images=False)
            scores = evaluate.evaluate_demo(Path(tmp) / "ads.jsonl", Path(tmp) / "truth.jsonl")
            demo = evaluate.demo_records(Path(tmp) / "ads.jsonl")
        # the demo's records carry URLs and locations: the region evidence is read too
        cpu0 = time.process_time()
        for rec in demo:
            extract_record(rec)
        cpu = max(time.process_time() - cpu0, 1e-9)
        say(f"extract demo corpus: {len(demo) / cpu:,.0f} ads per CPU-second "
            f"({len(demo)} ads, {cpu:.2f} CPU s, one core)")
        _print_scores(f"demo[{demo_ads}]", scores, show_errors)
