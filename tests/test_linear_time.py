"""Issue 10, linear time: hostile bodies cannot make extraction or the ad page quadratic.

No timed assertions: the fixed functions are checked for correct output on adversarial
inputs, the highlighter for the work it does (item reads per mark, not per mark and segment),
and a 1 MB body of each formerly quadratic kind for finishing at all (marked slow). Speed is
measured by `tracelight bench adversarial`.
"""

from __future__ import annotations

import html
import json
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelight.bench import adversarial
from tracelight.errors import RecordError
from tracelight.extract import extract_record, extract_text
from tracelight.extract import handles as handles_mod
from tracelight.extract import phones as phones_mod
from tracelight.extract import places as places_mod
from tracelight.extract.emails import find_emails
from tracelight.extract.handles import find_urls_and_handles
from tracelight.extract.normalize import fold, lower, word_set
from tracelight.extract.prices import find_prices
from tracelight.records import AdRecord, Mention, record_from_mapping
from tracelight.web.views import (
    MAX_MARKS_PER_SEGMENT,
    highlight,
    highlight_html,
    render_highlight,
)

# ---- the highlighter ----------------------------------------------------------------------------


def _reference(text: str, field: str, spans: list[dict[str, Any]]) -> list[tuple[str, list[Any],
                                                                                   int]]:
    """The old, quadratic definition: every mark over each segment, in input order."""
    marks = [s for s in spans if s.get("field") == field and type(s.get("start")) is int
             and type(s.get("end")) is int and 0 <= s["start"] < s["end"] <= len(text)]
    if not marks:
        return [(text, [], 0)]
    cuts = sorted({0, len(text), *(m["start"] for m in marks), *(m["end"] for m in marks)})
    out = []
    for a, b in pairwise(cuts):
        on = [m for m in marks if m["start"] <= a and b <= m["end"]]
        out.append((text[a:b], on[:MAX_MARKS_PER_SEGMENT], len(on) - MAX_MARKS_PER_SEGMENT
                    if len(on) > MAX_MARKS_PER_SEGMENT else 0))
    return out


_NASTY = st.lists(st.one_of(
    st.sampled_from([*"ab <>&\"'/=;\n", "\u0301", "\U0001f339", "\u0130", "</mark>",
                     "&amp;", "<mark>"]),
    st.text(max_size=3)), max_size=20).map("".join)


@st.composite
def _text_and_marks(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    text = draw(_NASTY)
    n = len(text)
    marks = draw(st.lists(st.fixed_dictionaries({
        "field": st.sampled_from(["body", "body", "title"]),
        "start": st.integers(-2, n + 2), "end": st.integers(-2, n + 2),
        "class": st.sampled_from(["ident", "fact", "indicator", '"><script>']),
        "label": _NASTY}), max_size=25))
    return text, marks


_TAG = re.compile(r'<mark class="([^"<>]*)" title="([^"<>]*)">|</mark>')


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text_and_marks())
def test_highlight_matches_definition_and_renders_escaped_html(
        case: tuple[str, list[dict[str, Any]]]) -> None:
    text, marks = case
    segs = highlight(text, "body", marks)
    # text preserved, segments as the definition says, each with a bounded mark list
    assert "".join(s["text"] for s in segs) == text
    assert [(s["text"], s["marks"], s["more"]) for s in segs] == _reference(text, "body", marks)
    assert all(len(s["marks"]) <= MAX_MARKS_PER_SEGMENT for s in segs)
    page = str(highlight_html(segs))
    assert str(render_highlight(text, "body", marks)) == page  # the ad page's one-pass form
    # only our own <mark> tags, never nested or overlapping, and every other character escaped
    depth = 0
    for m in _TAG.finditer(page):
        depth += 1 if m.group().startswith("<mark") else -1
        assert depth in (0, 1)
    assert depth == 0
    rest = _TAG.sub("", page)
    assert "<" not in rest and ">" not in rest and '"' not in rest
    assert html.unescape(rest) == text
    assert page.count("<mark ") == sum(1 for s in segs if s["marks"])


class _CountingMark(dict[str, Any]):
    """A mark that counts how often its items are read."""

    reads = 0

    def __getitem__(self, key: str) -> Any:
        _CountingMark.reads += 1
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        _CountingMark.reads += 1
        return super().get(key, default)


def test_highlight_reads_each_mark_a_bounded_number_of_times() -> None:
    """Nested marks (all sharing one end) made the old highlighter read every mark for every
    segment: 3,000 marks, 9 million reads. Now each mark is read a few times."""
    n = 6000
    text = "x" * n
    marks = [_CountingMark(field="body", start=s, end=n, label=str(s), **{"class": "fact"})
             for s in range(0, n, 2)]
    marks += [_CountingMark(field="body", start=s, end=s + 3, label="f", **{"class": "fact"})
              for s in range(1, n - 3, 2)]
    _CountingMark.reads = 0
    segs = highlight(text, "body", marks)
    assert _CountingMark.reads <= 8 * len(marks)
    assert len(segs) > n - 5
    assert all(len(s["marks"]) == min(MAX_MARKS_PER_SEGMENT, len(s["marks"]) + s["more"])
               for s in segs)
    # the output itself is linear: at most K marks per segment
    assert sum(len(s["marks"]) for s in segs) <= MAX_MARKS_PER_SEGMENT * len(segs)
    assert segs[-1]["more"] == n // 2 - MAX_MARKS_PER_SEGMENT


def test_ad_page_escapes_and_bounds_marks_through_the_app(tmp_path: Path) -> None:
    """The real ad page (ASGI client, logged in) on an ad written to break out of the page,
    with thousands of stacked marks."""
    page = adversarial._PageClient(tmp_path)
    body = '<script>alert(1)</script> call 206-555-0143 "x" & <b>' * 50
    mentions = extract_record(AdRecord(id="x", source="s", body=body)).mentions
    stacked = [Mention("age", "22", "body", s, len(body), False, body[s:])
               for s in range(0, len(body) - 1, 3)]
    pk = page.add(body, mentions + stacked, None, None)
    try:
        r = page.client.get(f"/ads/{pk}")
    finally:
        page.close()
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert 'class="m-ident' in r.text and " more\"" in r.text


# ---- extractors on adversarial input ------------------------------------------------------------


def test_dotcom_run_has_no_url_and_one_start() -> None:
    body = ".com" * 20000
    low = lower(fold(body))
    assert handles_mod._bare_url_starts(low) == [1]
    assert find_urls_and_handles(body, low) == []
    assert [m for m in extract_text(body) if m.kind == "url"] == []


def test_many_urls_and_handles_each_read_once() -> None:
    body = "see a.com/x and ig: amy_22 " * 3000
    hits = find_urls_and_handles(body)
    assert sum(h.kind == "url" for h in hits) == 3000
    assert sum(h.kind == "social" for h in hits) == 3000
    assert {h.handle for h in hits if h.kind == "social"} == {"amy_22"}


def test_thousands_of_emails_plain_and_spelled() -> None:
    plain = "mail a@b.com " * 4000
    hits = find_emails(plain, plain)
    assert len(hits) == 4000 and {h.value for h in hits} == {"a@b.com"}
    spelled = "amy at gmail dot com " * 3000
    hits = find_emails(spelled, spelled)
    assert len(hits) == 3000 and {h.value for h in hits} == {"amy@gmail.com"}


def test_thousands_of_rates() -> None:
    body = "hh 100 qv 80 " * 3000
    hits = find_prices(body)
    assert len(hits) == 6000
    assert {(h.amount, h.minutes) for h in hits} == {(100, 30), (80, 15)}


def test_crypto_filter_with_many_addresses() -> None:
    addr = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    body = f"btc {addr} 206 555 0143 " * 2000
    found = extract_text(body)
    assert sum(m.kind == "crypto" for m in found) == 2000
    assert sum(m.kind == "phone" for m in found) == 2000


def test_many_glued_number_words_read_token_by_token() -> None:
    """Past 64 distinct glued number words a find pass per word would be quadratic: the
    token-by-token lookup finds the same phone."""
    words = {"".join(w) for w in [("one", "two", "three"), ("two", "six", "nine"),
                                  ("five", "oh", "four"), ("seven", "eight", "one")]}
    filler = " ".join(f"{a}{b}{c}" for a in ("one", "two", "six", "nine", "five")
                      for b in ("three", "seven", "eight", "four") for c in ("oh", "zero",
                                                                             "one", "two"))
    body = f"{filler} {' '.join(words)} call twoohsix fivefivefive zeroonefourthree"
    low = lower(fold(body))
    glued = [w for w in word_set(low) if len(w) >= 5 and phones_mod._ATOMS_FULL.fullmatch(w)]
    assert len(glued) > phones_mod._FIND_EACH
    phones = [m.value for m in extract_text(body) if m.kind == "phone"]
    assert "+12065550143" in phones


def test_many_city_words_give_the_same_places(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 64 distinct city first words the starts come from one pass over capitalised
    words: the places found are the same as with a find pass per word."""
    g = places_mod.gazetteer()
    names = sorted(k for k in g.cities if k.isalpha() and len(k) > 3)[:400]
    body = " ".join(f"in {n.title()}" for n in names) + " Seattle, WA and Portland Oregon"
    folded = fold(body)
    many = places_mod.find_places(folded, "US")
    monkeypatch.setattr(places_mod, "_FIND_EACH", 10**9)
    assert places_mod.find_places(folded, "US") == many
    assert len(many) > 100


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dotcom", "host query", "email", "spelled email", "durations",
                                  "handles", "cities", "distinct glued words", "distinct hosts",
                                  "phone", "mixed", "at", "combining", "dotted I"])
def test_one_megabyte_hostile_body_finishes(name: str) -> None:
    body = adversarial.GENERATORS[name](1 << 20)
    extraction = extract_record(AdRecord(id=name, source="s", body=body))
    spans = [{"field": m.field, "start": m.start, "end": m.end, "class": "fact",
              "label": m.kind} for m in extraction.mentions]
    segs = highlight(body, "body", spans + adversarial.dense_marks(body))
    assert "".join(s["text"] for s in segs) == body
    assert len(highlight_html(segs)) >= len(body)


# ---- the body limit ----------------------------------------------------------------------------


def test_body_over_the_limit_is_a_record_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACELIGHT_MAX_BODY_BYTES", "1000")
    ok = record_from_mapping({"id": "a", "source": "s", "body": "x" * 1000}, default_source=None)
    assert len(ok.body) == 1000
    with pytest.raises(RecordError, match=r"'body' is 1,001 bytes, over the 1,000-byte limit "
                                          r"\(TRACELIGHT_MAX_BODY_BYTES\)"):
        record_from_mapping({"id": "a", "source": "s", "body": "x" * 1001}, default_source=None)
    # bytes, not characters: 300 emoji are 1,200 bytes
    with pytest.raises(RecordError, match="1,200 bytes"):
        record_from_mapping({"id": "a", "source": "s", "body": "\U0001f339" * 300},
                            default_source=None)
    with pytest.raises(RecordError, match="'title'"):
        record_from_mapping({"id": "a", "source": "s", "title": "t" * 2000, "body": "b"},
                            default_source=None)


def test_default_limit_is_256_kib() -> None:
    record_from_mapping({"id": "a", "source": "s", "body": "x" * 262_144}, default_source=None)
    with pytest.raises(RecordError, match="262,144-byte limit"):
        record_from_mapping({"id": "a", "source": "s", "body": "x" * 262_145},
                            default_source=None)


def test_over_limit_line_is_a_reject_in_ingest(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelight.cli.main import cli

    monkeypatch.setenv("TRACELIGHT_MAX_BODY_BYTES", "2000")
    src = tmp_path / "ads.jsonl"
    src.write_text(json.dumps({"id": "big", "source": "s", "body": "x" * 5000}) + "\n"
                   + json.dumps({"id": "ok", "source": "s", "body": "call 206 555 0143"}) + "\n")
    rejects = tmp_path / "rejects.txt"
    result = CliRunner().invoke(cli, ["ingest", str(src), "--db",
                                      f"sqlite:///{tmp_path / 'x.db'}", "--rejects",
                                      str(rejects), "--no-images", "--format", "jsonl"],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    assert "TRACELIGHT_MAX_BODY_BYTES" in rejects.read_text()
    assert ":1:" in rejects.read_text()


# ---- the benchmark command ---------------------------------------------------------------------


def test_bench_adversarial_prints_jsonl_rows_and_an_overall_line() -> None:
    from tracelight.cli.main import cli

    result = CliRunner().invoke(cli, ["bench", "adversarial", "--sizes", "1,4", "--only",
                                      "^(dotcom|at)$", "--no-page", "--format", "jsonl"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    targets = {x["target"] for x in lines if "target" in x}
    assert {"phones", "emails", "handles", "core", "highlight", "body total"} <= targets
    assert lines[-1]["overall"] is True and lines[-1]["errors"] == []


def test_bench_adversarial_rejects_bad_sizes() -> None:
    from tracelight.cli.main import cli

    result = CliRunner().invoke(cli, ["bench", "adversarial", "--sizes", "big"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
