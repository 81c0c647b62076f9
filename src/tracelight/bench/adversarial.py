"""`tracelight bench adversarial`: worst-case time of every extractor and the ad page on
hostile bodies.

Traffickers write the ads, so a body may be built to make a reader slow: a megabyte of
".com", of "@", of spelled-out number words, of phone-like fragments. This benchmark builds
such bodies (runs of each character class, and a seeded mix of all of them) at sizes from
1 KB to 1 MB, runs each extractor, the highlighter and the real ad page (through the ASGI
client, logged in) on them, and reports per target the worst time per KB, the worst 1 MB
time, and how the time grows from a quarter of the largest size to the largest size (1.0
is linear, 4.0 would be quadratic). Figures only: tests never assert on them.
"""

from __future__ import annotations

import random
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelight.records import AdRecord, Mention, ProcessedAd, Reason

DEFAULT_SIZES_KB = (1, 16, 256, 1024)

# One unit each, repeated up to the body size: a run of one character class or fragment.
UNITS: dict[str, str] = {
    "digits": "0123456789", "one digit": "1", "spaced digits": "1 ", "phone": "206-555-0143 ",
    "phone parens": "(206) 555-0143, ", "phone plus": "+44 7911 123456 ",
    "phone glued": "2065550143", "dotcom": ".com", "hosts": "a.com/", "host query": "a.com?",
    "www": "www.", "scheme": "http://", "at": "@", "email": "amy@gmail.com ",
    "email glued": "a@b.co", "spelled email": "amy at gmail dot com ", "at words": " at ",
    "bracket at": "a(at)", "spaces": " ", "newlines": "\n", "separators": "-. ()/",
    "dashes": "-", "number words": "two oh six five five five ", "glued words": "twoone",
    "weak words": "to for oh i l o ", "emoji": "\U0001f339", "emoji digits": "\U0001f3392",
    "keycaps": "2\ufe0f\u20e3", "combining": "a\u0301", "combining only": "\u0301",
    "full-width digits": "\uff12", "arabic digits": "\u0662", "dotted I": "\u0130",
    "dollar": "$", "cashtags": "$a ", "prices": "$150/hr ", "durations": "hh 100 qv 80 ",
    "ages": "22 yrs ", "age cues": "i'm 22 ", "names": "I'm Amy ", "name cues": "call me ",
    "cities": "New York Seattle, WA in Portland ", "capitals": "Aa ", "letters": "a",
    "long word": "abcdefghij", "hex": "0xab", "bech32": "bc1q", "base58": "1A1zP1eP5Q",
    "traps": "#702 room 815 5834 Main St ", "dates": "11/23/24 ", "measures": "34-24-36 ",
    "handles": "ig: amy_22 ", "platform words": "snap ", "punctuation": "!?,;:",
    "underscores": "x_twoone'",
}
# Fragments the seeded generators draw from.
_FRAGMENTS = tuple(UNITS.values())
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "oh", "to", "for", "ate")


def _fill(unit: str, size: int) -> str:
    """`unit` repeated to `size` UTF-8 bytes (cut at a character boundary)."""
    n = max(1, size // max(1, len(unit.encode("utf-8"))) + 1)
    return (unit * n).encode("utf-8")[:size].decode("utf-8", "ignore")


def _seeded(size: int, seed: int, pick: Callable[[random.Random], str]) -> str:
    rnd = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        p = pick(rnd)
        parts.append(p)
        total += len(p.encode("utf-8"))
    return "".join(parts).encode("utf-8")[:size].decode("utf-8", "ignore")


def _distinct_glued(rnd: random.Random) -> str:
    # every word different: "onetwoseven", "fivetoone", ... (defeats per-word caches)
    return "".join(rnd.choice(_NUMBER_WORDS) for _ in range(rnd.randint(2, 5))) + " "


def _distinct_hosts(rnd: random.Random) -> str:
    return f"x{rnd.randrange(10**6)}.com?{rnd.choice('ab')}"


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: _fill(unit, size)


GENERATORS: dict[str, Callable[[int], str]] = {
    **{name: _repeat(unit) for name, unit in UNITS.items()},
    "mixed": lambda size: _seeded(size, 11, lambda r: r.choice(_FRAGMENTS)),
    "mixed glued": lambda size: _seeded(size, 12, lambda r: r.choice(_FRAGMENTS).strip()),
    "distinct glued words": lambda size: _seeded(size, 13, _distinct_glued),
    "distinct hosts": lambda size: _seeded(size, 14, _distinct_hosts),
}


def bodies(sizes_kb: tuple[int, ...] = DEFAULT_SIZES_KB,
           only: str | None = None) -> Iterator[tuple[str, int, str]]:
    """(generator name, size in bytes, body) for every generator and size."""
    for name, gen in GENERATORS.items():
        if only and not re.search(only, name):
            continue
        for kb in sizes_kb:
            yield name, kb * 1024, gen(kb * 1024)


# ---- targets ----------------------------------------------------------------------------------

@dataclass
class _Prepared:
    """What every extractor takes, computed once per body (its cost is the normalize row)."""

    text: str
    folded: str
    low: str
    words: frozenset[str]


def _prepare(text: str) -> _Prepared:
    from tracelight.extract.normalize import fold, lower, word_set

    folded = fold(text)
    low = lower(folded)
    return _Prepared(text, folded, low, word_set(low))


def _numbering(p: _Prepared) -> None:
    from tracelight.extract.numbering import validate

    # what the phone reader asks: each whole digit string of a plausible length (cached)
    for m in re.finditer(r"(?<![0-9])[0-9]{6,15}(?![0-9])", p.folded):
        validate(m.group(), False, "US")


def _extractor_targets() -> dict[str, Callable[[_Prepared], object]]:
    from tracelight.extract.ages import find_ages
    from tracelight.extract.crypto import find_crypto
    from tracelight.extract.emails import find_emails
    from tracelight.extract.handles import find_urls_and_handles
    from tracelight.extract.names import find_names
    from tracelight.extract.phones import find_phones
    from tracelight.extract.places import find_places
    from tracelight.extract.prices import find_prices
    from tracelight.extract.traps import trap_spans

    return {
        "normalize": lambda p: _prepare(p.text),
        "phones": lambda p: find_phones(p.text, p.folded, "US", p.low, p.words),
        "numbering": _numbering,
        "emails": lambda p: find_emails(p.text, p.folded, p.low),
        "handles": lambda p: find_urls_and_handles(p.folded, p.low, p.words),
        "crypto": lambda p: find_crypto(p.folded),
        "ages": lambda p: find_ages(p.folded, p.low, p.words),
        "prices": lambda p: find_prices(p.folded, "US", p.low, p.words),
        "places": lambda p: find_places(p.folded, "US", words=p.words),
        "names": lambda p: find_names(p.folded, p.low, p.words),
        "traps": lambda p: trap_spans(p.folded),
    }


def dense_marks(text: str, field_name: str = "body", step: int = 7) -> list[dict[str, Any]]:
    """Hostile mark sets for the highlighter: one mark every `step` characters, plus marks
    that all overlap one another (nested spans sharing an end), as a scorer's evidence
    could be."""
    n = len(text)
    out: list[dict[str, Any]] = [
        {"field": field_name, "start": s, "end": min(n, s + step + 3), "kind": "fact",
         "class": "fact", "label": f"fact {s}"} for s in range(0, max(0, n - 1), step)]
    out += [{"field": field_name, "start": s, "end": n, "kind": "indicator",
             "class": "indicator", "label": f"indicator {s}"}
            for s in range(0, max(0, n - 1), max(1, n // 2000))]
    return out


class _PageClient:
    """A scratch store, the real app and a logged-in ASGI client, made once per run."""

    def __init__(self, tmp: Path) -> None:
        import warnings

        with warnings.catch_warnings():
            # starlette asks for its httpx fork; plain httpx works for the test client
            warnings.filterwarnings("ignore", message="Using `httpx` with")
            from fastapi.testclient import TestClient

        from tracelight.store import open_store
        from tracelight.store.accounts import Accounts
        from tracelight.web.app import create_app
        from tracelight.web.auth import LoginLimiter, hash_password

        self.store = open_store(f"sqlite:///{tmp / 'adversarial.db'}")
        password = "bench adversarial password"
        Accounts(self.store).add_user("bench", hash_password(password), "analyst")
        app = create_app(self.store, image_dir=str(tmp / "images"), secret_key="bench",
                         limiter=LoginLimiter())
        self.client = TestClient(app)
        page = self.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if token is None:
            raise RuntimeError("bench adversarial: no login form")
        r = self.client.post("/login", data={"username": "bench", "password": password,
                                             "csrf_token": token.group(1), "next": "/queue"},
                             follow_redirects=False)
        if r.status_code >= 400:
            raise RuntimeError(f"bench adversarial: login failed (HTTP {r.status_code})")
        self._n = 0

    def add(self, body: str, mentions: list[Mention], risk: float | None,
            reasons: list[Reason] | None) -> int:
        self._n += 1
        rec = AdRecord(id=f"adv-{self._n}", source="bench", title="adversarial", body=body)
        self.store.write_batch(None, [ProcessedAd(rec, mentions, [], risk, reasons)])
        return int(self.store.get_ad(rec.id, "bench").pk)

    def close(self) -> None:
        self.client.close()
        self.store.close()

    def get(self, pk: int) -> None:
        r = self.client.get(f"/ads/{pk}")
        if r.status_code != 200:
            raise RuntimeError(f"bench adversarial: ad page HTTP {r.status_code}")


@dataclass
class Row:
    generator: str
    size: int  # bytes
    target: str
    seconds: float
    error: str = ""  # the exception the target raised on this body, if it raised

    @property
    def ms_per_kb(self) -> float:
        return self.seconds * 1000 / (self.size / 1024)

    def to_dict(self) -> dict[str, Any]:
        return {"generator": self.generator, "bytes": self.size, "target": self.target,
                "seconds": round(self.seconds, 6), "ms_per_kb": round(self.ms_per_kb, 4),
                **({"error": self.error} if self.error else {})}


@contextmanager
def _clock(out: list[float]) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        out.append(time.perf_counter() - t0)


def run(sizes_kb: tuple[int, ...] = DEFAULT_SIZES_KB, only: str | None = None, *,
        pages: bool = True, on_row: Callable[[Row], None] | None = None,
        repeat: int = 1) -> list[Row]:
    """Time every target on every adversarial body; rows in the order they ran. Each
    single reader runs `repeat` times and keeps its best time."""
    from tracelight.extract import extract_record

    targets = _extractor_targets()
    extract_record(AdRecord(id="warm", source="bench", body="warm up 206 555 0143 Seattle"))
    rows: list[Row] = []

    def add(name: str, size: int, target: str, seconds: float, error: str = "") -> None:
        row = Row(name, size, target, seconds, error[:200])
        rows.append(row)
        if on_row is not None:
            on_row(row)

    with tempfile.TemporaryDirectory(prefix="tracelight-bench-adv-") as tmp:
        page = _PageClient(Path(tmp)) if pages else None
        try:
            _run_bodies(targets, sizes_kb, only, page, Path(tmp), add, max(1, repeat))
        finally:
            if page is not None:
                page.close()
    return rows


def _run_bodies(targets: dict[str, Callable[[_Prepared], object]], sizes_kb: tuple[int, ...],
                only: str | None, page: _PageClient | None, tmp: Path,
                add: Callable[..., None], repeat: int) -> None:
    """Each body through every target, the whole extraction, scoring, the highlighter and
    the ad page; `add` records one timing."""
    from tracelight.extract import extract_record
    from tracelight.score.stage import score_stage
    from tracelight.web.views import render_highlight

    for name, size, body in bodies(sizes_kb, only):
        prepared = _prepare(body)
        for target, fn in targets.items():
            t: list[float] = []
            try:
                for _ in range(repeat):  # the best of `repeat` runs: load on a shared
                    with _clock(t):      # machine only ever adds time
                        fn(prepared)
            except Exception as exc:  # a crash is a finding too: report it, go on
                add(name, size, target, t[-1], f"{type(exc).__name__}: {exc}")
                continue
            add(name, size, target, min(t))
        rec = AdRecord(id="adv", source="bench", body=body)
        t = []
        try:
            with _clock(t):
                extraction = extract_record(rec)
        except Exception as exc:
            add(name, size, "core", t[0], f"{type(exc).__name__}: {exc}")
            continue
        add(name, size, "core", t[0])
        item = ProcessedAd(rec, extraction.mentions)
        with _clock(t):
            score_stage(item, tmp)
        add(name, size, "score", t[1])
        spans = [{"field": m.field, "start": m.start, "end": m.end, "class": "fact",
                  "label": m.kind} for m in extraction.mentions]
        marks = spans + dense_marks(body)
        with _clock(t):
            render_highlight(body, "body", marks)
        add(name, size, "highlight", t[2])
        if page is not None:
            pk = page.add(body, extraction.mentions, item.risk, item.reasons)
            with _clock(t):
                page.get(pk)
            add(name, size, "ad page", t[3])
            add(name, size, "body total", t[0] + t[3])
        else:
            add(name, size, "body total", t[0])


@dataclass
class Summary:
    target: str
    worst_generator: str
    largest: int  # bytes
    seconds: float  # worst time at the largest size
    ms_per_kb: float  # worst time per KB at the largest size
    growth: float | None  # worst (t(largest)/t(quarter)) / (largest/quarter); 1.0 = linear
    growth_generator: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.target, "worst_generator": self.worst_generator,
                "bytes": self.largest, "seconds": round(self.seconds, 4),
                "ms_per_kb": round(self.ms_per_kb, 4),
                "growth": None if self.growth is None else round(self.growth, 2),
                "growth_generator": self.growth_generator}


def summarise(rows: list[Row]) -> list[Summary]:
    """Per target: the worst body at the largest size, and the worst growth between the
    largest size and the nearest size at most a quarter of it (bodies under 16 KB are too
    short for a ratio that means anything: fixed costs dominate)."""
    out: list[Summary] = []
    order = list(dict.fromkeys(r.target for r in rows))
    for target in order:
        mine = [r for r in rows if r.target == target]
        largest = max(r.size for r in mine)
        top = max((r for r in mine if r.size == largest), key=lambda r: r.seconds)
        growth, growth_gen = None, ""
        smaller = sorted({r.size for r in mine if 16 * 1024 <= r.size <= largest // 4})
        if smaller:
            base = smaller[-1]
            at: dict[tuple[str, int], float] = {(r.generator, r.size): r.seconds for r in mine}
            for gen in dict.fromkeys(r.generator for r in mine):
                hi, lo = at.get((gen, largest)), at.get((gen, base))
                if hi is None or lo is None or hi < 0.05:
                    continue  # too fast to tell growth from noise
                g = (hi / max(lo, 1e-6)) / (largest / base)
                if growth is None or g > growth:
                    growth, growth_gen = g, gen
        out.append(Summary(target, top.generator, largest, top.seconds, top.ms_per_kb,
                           growth, growth_gen))
    return out


TARGET_SECONDS = 2.0  # the worst 1 MB body (extraction plus the ad page) must stay under this


def parse_sizes(text: str) -> tuple[int, ...]:
    """"1,16,256,1024" -> (1, 16, 256, 1024): body sizes in KB, 1 .. 16384."""
    from tracelight.errors import UsageError

    try:
        sizes = tuple(sorted({int(p) for p in text.split(",") if p.strip()}))
    except ValueError:
        raise UsageError(f"--sizes {text!r}: give whole numbers of KB, comma-separated",
                         hint="e.g. --sizes 1,16,256,1024") from None
    if not sizes or sizes[0] < 1 or sizes[-1] > 16384:
        raise UsageError(f"--sizes {text!r}: each size must be 1 .. 16384 KB")
    return sizes


def overall(rows: list[Row]) -> dict[str, Any]:
    """The two headline figures: worst time per KB of any target at the largest size, and
    the worst body at the largest size (extraction plus the ad page)."""
    largest = max(r.size for r in rows)
    top = [r for r in rows if r.size == largest and not r.error]
    per_kb = max((r for r in top if r.target != "body total"), key=lambda r: r.ms_per_kb)
    body = max((r for r in top if r.target == "body total"), key=lambda r: r.seconds)
    errors = sorted({f"{r.target} on {r.generator}: {r.error}" for r in rows if r.error})
    return {"overall": True, "bytes": largest,
            "worst_ms_per_kb": round(per_kb.ms_per_kb, 4),
            "worst_ms_per_kb_target": per_kb.target,
            "worst_ms_per_kb_generator": per_kb.generator,
            "worst_body_seconds": round(body.seconds, 4),
            "worst_body_generator": body.generator,
            "target_seconds": TARGET_SECONDS,
            "within_target": body.seconds < TARGET_SECONDS,
            "errors": errors}


def report(sizes_kb: tuple[int, ...], only: str | None, *, pages: bool, fmt: str,
           repeat: int = 1) -> None:
    """Run the benchmark and print it: a table per target, or JSON Lines (every row, then
    one summary per target, then the overall figures)."""
    import click

    from tracelight.cli.output import dumps, emit

    def progress(row: Row) -> None:
        if row.target == "body total":
            click.echo(f"  {row.generator} {row.size // 1024} KB: {row.seconds:.3f} s",
                       err=True)

    rows = run(sizes_kb, only, pages=pages, on_row=progress, repeat=repeat)
    if not rows:
        raise click.ClickException(f"no generator matches {only!r}")
    summaries = summarise(rows)
    top = overall(rows)
    if fmt == "jsonl":
        for r in rows:
            click.echo(dumps(r.to_dict()))
        for s in summaries:
            click.echo(dumps(s.to_dict()))
        click.echo(dumps(top))
        return
    emit(({"target": s.target, "worst body": s.worst_generator,
           "KB": s.largest // 1024, "seconds": f"{s.seconds:.3f}",
           "ms/KB": f"{s.ms_per_kb:.3f}",
           "growth": "" if s.growth is None else f"{s.growth:.2f} ({s.growth_generator})"}
          for s in summaries), "table",
         ["target", "worst body", "KB", "seconds", "ms/KB", "growth"],
         title="adversarial bodies: worst time per target at the largest size "
               "(growth 1.0 = linear, 4.0 = quadratic)")
    kb = top["bytes"] // 1024
    click.echo(f"worst time per KB at {kb} KB: {top['worst_ms_per_kb']:.3f} ms/KB "
               f"({top['worst_ms_per_kb_target']} on {top['worst_ms_per_kb_generator']})")
    verdict = "within" if top["within_target"] else "over"
    click.echo(f"worst {kb} KB body (extraction + ad page): {top['worst_body_seconds']:.3f} s "
               f"({top['worst_body_generator']}); {verdict} the {TARGET_SECONDS:.0f} s goal "
               f"for a 1 MB body")
    for e in top["errors"]:
        click.echo(f"error: {e}")
