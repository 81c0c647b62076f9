"""Issue 10, items 2 and 7: one hostile record never sinks a batch; inputs that end early.

Each finding is reproduced through the real CLI (`tracelight.cli.main`, the entry point users
run) or the web app (ASGI TestClient); the whole per-record path (reading -> record mapping ->
extract -> score -> SQLite write) is fuzzed with hypothesis. All data is synthetic.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import math
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelight import jsonutil
from tracelight.cli.main import main
from tracelight.errors import InputError
from tracelight.extract import extract_record
from tracelight.ingest.runner import ingest
from tracelight.pipeline import PipelineOptions
from tracelight.records import AdRecord, Reason
from tracelight.store import open_store

sys.path.insert(0, str(Path(__file__).parent))
from web_helpers import build_store, login, make_app

# Unicode whose case mapping changes length or maps across scripts: every one has crashed or
# misled a case-insensitive matcher somewhere.
CASE_ODDITIES = ["İ", "ı", "ß", "ẞ", "ǅ", "ǈ", "ﬁ", "ﬀ", "ς", "Σ", "ſ", "\u212a", "Å", "ŉ",
                 "ΐ", "ǰ", "i\u0307", "e\u0301", "\u0301", "\u0345", "\u1e9e", "\u0130stanbul"]

NO_IMAGES = PipelineOptions(images=False)


def _strict_loads(text: str) -> Any:
    """json.loads that refuses NaN/Infinity, as browsers and SQLite do."""
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out, captured.err


def _ingest_cli(capsys: pytest.CaptureFixture[str], path: Path, db: str, rejects: Path,
                *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = _cli(capsys, "ingest", str(path), "--db", db, "--rejects", str(rejects),
                          "--workers", "1", "--no-images", "--format", "jsonl", *extra)
    assert "Traceback" not in err
    return code, json.loads(out.strip().splitlines()[-1]), err


def _good(i: int) -> str:
    return json.dumps({"id": f"good-{i}", "source": "feed",
                       "body": f"New in town, ask for Amy {i}, call 206 555 01{i % 100:02d}"})


def _ids(db: str) -> set[str]:
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        ids = {row[0] for row in conn.execute(sa.text("SELECT ad_id FROM ads"))}
    engine.dispose()
    return ids


# ---- one hostile record among good ones, through the CLI ------------------------------------

HOSTILE_LINES = {
    "turkish-i": json.dumps({"id": "bad", "source": "feed", "body": "call 206 İ 555 0143"}),
    "deep": '{"id": "bad", "source": "feed", "body": "x", "payload": '
            + "[" * 100_000 + "]" * 100_000 + "}",
    "deep-shallow-parse": '{"id": "bad", "source": "feed", "body": "x", "payload": '
                          + "[" * 500 + "]" * 500 + "}",
    "surrogate": '{"id": "bad", "source": "feed", "body": "hello \\ud800 there"}',
    "surrogate-extra": '{"id": "bad", "source": "feed", "body": "ok", "note": "\\udfff"}',
    "surrogate-key": '{"id": "bad", "source": "feed", "body": "ok", "\\ud83d": 1}',
    "nan": '{"id": "bad", "source": "feed", "body": "ok", "price": NaN}',
    "infinity": '{"id": "bad", "source": "feed", "body": "ok", "extra": {"w": [-Infinity]}}',
    "overflow": '{"id": "bad", "source": "feed", "body": "ok", "w": 1e999}',
}
EXPECTED_REASON = {
    "turkish-i": None,  # the root cause is fixed: the ad is stored like any other
    "deep": "nested too deeply", "deep-shallow-parse": "nested deeper than 32 levels",
    "surrogate": "lone surrogate U+D800", "surrogate-extra": "lone surrogate U+DFFF",
    "surrogate-key": "lone surrogate U+D83D", "nan": "nan is not a JSON number",
    "infinity": "-inf is not a JSON number", "overflow": "inf is not a JSON number",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_LINES))
def test_one_hostile_line_is_a_reject_and_the_good_ads_around_it_are_stored(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "ads.jsonl"
    src.write_text("\n".join([_good(1), _good(2), HOSTILE_LINES[kind], _good(3)]) + "\n")
    db = f"sqlite:///{tmp_path / 't.db'}"
    rejects = tmp_path / "rejects.txt"
    code, summary, err = _ingest_cli(capsys, src, db, rejects)
    assert code == 0, err
    assert summary["read"] == 4 and summary["status"] == "done"
    reason = EXPECTED_REASON[kind]
    if reason is None:
        assert summary["new"] == 4 and _ids(db) == {"good-1", "good-2", "good-3", "bad"}
        return
    assert (summary["new"], summary["rejected"]) == (3, 1)
    assert _ids(db) == {"good-1", "good-2", "good-3"}
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{src}:3: ") and reason in lines[0]


@pytest.mark.parametrize("odd", CASE_ODDITIES)
def test_case_mapping_oddities_never_crash_extraction(odd: str) -> None:
    for template in ("call 206 {} 555 0143", "two {} zero six", "{}@gmail.com", "oh {} to {}",
                     "age {} 19", "snap: {}{}", "https://{}.com/x", "{} 206.555.0143 {}"):
        text = template.replace("{}", odd)
        for body in (text, text.upper(), text.lower(), text.casefold()):
            extract_record(AdRecord(id="x", source="s", title=body[:30], body=body), "US")


def test_turkish_i_no_longer_eats_the_phone(tmp_path: Path) -> None:
    found = extract_record(AdRecord(id="x", source="s", body="call 206 İ 555 0143"), "US")
    assert isinstance(found.mentions, list)  # the crash was a KeyError in the phone reader


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.skipif(
    sys.platform != "linux", reason="the patched stage reaches workers by fork (Linux only)"))])
def test_a_stage_that_fails_on_one_record_rejects_only_that_record(
        workers: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tracelight.extract as extract_pkg

    real = extract_pkg.extract_record

    def flaky(record: AdRecord, region: str) -> Any:
        if "boom" in record.body:
            raise ZeroDivisionError("an extractor bug")
        return real(record, region)

    monkeypatch.setattr(extract_pkg, "extract_record", flaky)
    src = tmp_path / "ads.jsonl"
    boom = json.dumps({"id": "boom", "source": "feed", "body": "boom"})
    src.write_text("\n".join([_good(1), boom, _good(2)]) + "\n")
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    rejects = tmp_path / "r.txt"
    summary = ingest(store, [str(src)], options=NO_IMAGES, workers=workers,
                     rejects_path=str(rejects))
    assert (summary.read, summary.new, summary.rejected) == (3, 2, 1)
    assert rejects.read_text() == f"{src}:2: analysis failed: ZeroDivisionError: an extractor bug\n"
    store.close()


def test_a_record_the_database_refuses_costs_only_that_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Defence in depth: should a stage ever produce NaN (here a broken scorer), the store's
    # strict JSON refuses it, the batch is written again ad by ad, and only that ad is lost.
    import tracelight.score.stage as score_stage_mod

    real = score_stage_mod.score_stage

    def nan_scorer(item: Any, base: Path) -> None:
        real(item, base)
        if item.record.id == "nan-me":
            item.reasons = [Reason(code="x", weight=math.nan, label="x")]

    monkeypatch.setattr(score_stage_mod, "score_stage", nan_scorer)
    src = tmp_path / "ads.jsonl"
    nan_me = json.dumps({"id": "nan-me", "source": "feed", "body": "hello"})
    src.write_text("\n".join([_good(1), _good(2), nan_me, _good(3), _good(4)]) + "\n")
    db = f"sqlite:///{tmp_path / 't.db'}"
    store = open_store(db)
    rejects = tmp_path / "r.txt"
    summary = ingest(store, [str(src)], options=NO_IMAGES, workers=1, batch_size=500,
                     rejects_path=str(rejects))
    assert (summary.read, summary.new, summary.rejected) == (5, 4, 1)
    assert _ids(db) == {"good-1", "good-2", "good-3", "good-4"}
    line = rejects.read_text()
    assert line.startswith(f"{src}:3: could not be stored: ") and "JSON" in line
    store.close()


def test_a_page_whose_parser_fails_is_a_reject(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import tracelight.ingest.readers as readers

    real = readers.parse_html_page

    def flaky(raw: bytes, url: str | None) -> dict[str, Any]:
        if b"poison" in raw:
            raise RecursionError("maximum recursion depth exceeded")
        return real(raw, url)

    monkeypatch.setattr(readers, "parse_html_page", flaky)
    pages = tmp_path / "pages"
    pages.mkdir()
    for name, text in (("a", "Amy new in town"), ("b", "poison"), ("c", "Bea visiting")):
        (pages / f"{name}.html").write_text(f"<html><body><article>{text}</article></body></html>")
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    rejects = tmp_path / "r.txt"
    summary = ingest(store, [str(pages)], options=NO_IMAGES, workers=1,
                     rejects_path=str(rejects))
    assert (summary.read, summary.new, summary.rejected) == (3, 2, 1)
    assert rejects.read_text().startswith(f"{pages / 'b.html'}: cannot read page: RecursionError")
    store.close()


# ---- NaN / Infinity: strict JSON everywhere we write it -------------------------------------

def test_nan_in_an_extra_field_leaves_the_queue_up(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   demo_corpus_dir: Path) -> None:
    from fastapi.testclient import TestClient

    store = build_store(tmp_path, demo_corpus_dir)
    src = tmp_path / "ads.jsonl"
    src.write_text("\n".join([
        _good(1),
        '{"id": "bad", "source": "feed", "body": "call 206 555 0101", "score": NaN, '
        '"w": Infinity}',
        _good(2)]) + "\n")
    code, summary, _ = _ingest_cli(capsys, src, store.url, tmp_path / "r.txt")
    assert code == 0 and (summary["new"], summary["rejected"]) == (2, 1)
    client = TestClient(make_app(store, tmp_path))
    assert login(client, "bo").status_code == 303
    page = client.get("/queue")
    assert page.status_code == 200  # was 503 for every analyst
    api = client.get("/api/queue", params={"limit": 200})
    assert api.status_code == 200
    ids = {r["id"] for r in _strict_loads(api.text)["results"]}
    assert {"good-1", "good-2"} <= ids and "bad" not in ids
    store.close()


def test_jsonl_output_and_exports_are_strict_json(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "ads.jsonl"
    src.write_text("\n".join([_good(1), '{"id": "n", "source": "feed", "body": "x", "v": NaN}',
                              json.dumps({"id": "f", "source": "feed", "body": "y",
                                          "v": 1.5, "when": "2026-01-01"})]) + "\n")
    db = f"sqlite:///{tmp_path / 't.db'}"
    _ingest_cli(capsys, src, db, tmp_path / "r.txt")
    for command in (["ads"], ["show", "f"], ["runs"]):
        code, out, err = _cli(capsys, *command, "--db", db, "--format", "jsonl")
        assert code == 0, err
        for line in out.splitlines():
            _strict_loads(line)
    with pytest.raises(ValueError):
        jsonutil.dumps({"v": math.inf})
    assert jsonutil.dumps({"v": 1.5}) == '{"v": 1.5}'


def test_the_store_refuses_to_write_nan(tmp_path: Path) -> None:
    from tracelight.records import ProcessedAd

    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    bad = ProcessedAd(record=AdRecord(id="x", source="s", body="b", extra={"v": math.nan}))
    with pytest.raises(Exception, match="JSON"):
        store.write_batch(None, [bad])
    assert store.count_ads() == 0
    store.close()


def test_case_export_of_a_hostile_run_is_strict_json(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    demo_corpus_dir: Path) -> None:
    from fastapi.testclient import TestClient

    from tracelight.store.accounts import Accounts

    store = build_store(tmp_path, demo_corpus_dir)
    src = tmp_path / "ads.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "kept", "source": "feed", "body": "call 206 İ 555 0143",
                    "rate": 1.5, "tags": ["ß", "ǅ"]}),
        '{"id": "gone", "source": "feed", "body": "x", "rate": Infinity}']) + "\n")
    code, summary, _ = _ingest_cli(capsys, src, store.url, tmp_path / "r.txt")
    assert code == 0 and (summary["new"], summary["rejected"]) == (1, 1)
    headers = {"Authorization": f"Bearer {Accounts(store).create_token('bo')}"}
    client = TestClient(make_app(store, tmp_path))
    case = client.post("/api/cases", json={"title": "hostile run"}, headers=headers).json()
    ref = str(store.get_ad("kept", "feed").pk)
    client.post(f"/api/cases/{case['id']}/items", json={"kind": "ad", "ref": ref},
                headers=headers)
    r = client.get(f"/api/cases/{case['id']}/export", headers=headers)
    assert r.status_code == 200
    evidence = _strict_loads(zipfile.ZipFile(io.BytesIO(r.content)).read("evidence.json")
                             .decode("utf-8"))
    assert [a["id"] for a in evidence["ads"]] == ["kept"]
    assert evidence["ads"][0]["extra"] == {"rate": 1.5, "tags": ["ß", "ǅ"]}
    store.close()


# ---- inputs that end early ------------------------------------------------------------------

def test_truncated_jsonl_gz_is_reported_and_what_was_read_is_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = gzip.compress(("\n".join(_good(i) for i in range(2000)) + "\n").encode())
    src = tmp_path / "ads.jsonl.gz"
    src.write_bytes(data[: len(data) // 2])
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, summary, err = _ingest_cli(capsys, src, db, tmp_path / "r.txt")
    assert code == 3  # not 130 "aborted", as if the user had pressed Ctrl-C
    assert "aborted" not in err
    assert err.startswith(f"error: {src}: ends early after line ")
    assert "Compressed file ended" in err
    assert summary["status"] == "incomplete" and summary["problems"]
    stored = len(_ids(db))
    assert 0 < stored < 2000 and stored == summary["new"]
    line = int(err.split("after line ")[1].split()[0].replace(",", ""))
    assert summary["read"] - summary["rejected"] == stored and summary["read"] <= line
    code, out, _ = _cli(capsys, "runs", "--db", db, "--format", "jsonl")
    assert _strict_loads(out.splitlines()[0])["status"] == "incomplete"


def _warc(path: Path, n: int, *, gz: bool) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    for i in range(n):
        body = (f"<html><body><article>Ad {i}: new in town, ask for Amy "
                + "lorem ipsum " * 200 + "</article></body></html>").encode()
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            f"https://site.example/ad/{i}", "response", payload=io.BytesIO(body),
            http_headers=headers))
    return buf.getvalue()


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_warc_is_reported_and_what_was_read_is_kept(
        gz: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    data = _warc(src, 6, gz=gz)
    src.write_bytes(data[: len(data) * 11 // 20])  # inside the 4th record (half: a boundary)
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, summary, err = _ingest_cli(capsys, src, db, tmp_path / "r.txt")
    assert code == 3, err  # was: stored in part with exit 0
    assert err.startswith(f"error: {src}: ends early") and "complete records" in err
    assert summary["new"] == len(_ids(db)) and 1 <= summary["new"] < 6


@settings(max_examples=40, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=1.0), gz=st.booleans())
def test_a_warc_cut_anywhere_never_crashes_and_never_passes_as_whole(cut: float, gz: bool,
                                                                     ) -> None:
    import tempfile

    from tracelight.ingest.readers import iter_records

    data = _warc(Path("x"), 3, gz=gz)
    at = int(len(data) * cut)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / ("c.warc.gz" if gz else "c.warc")
        src.write_bytes(data[:at])
        got = 0
        try:
            for _origin, result in iter_records(str(src), "site"):
                assert isinstance(result, AdRecord)
                got += 1
        except InputError as exc:
            assert str(src) in str(exc)
            assert got < 3
        else:
            # only a cut between records (or in the padding/trailer after one) reads as whole
            assert got <= 3


def test_csv_with_an_unterminated_quote_is_reported(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "ads.csv"
    src.write_text('id,source,body\n1,feed,"Amy, new in town"\n2,feed,"never closed\n'
                   "3,feed,swallowed by the open quote\n4,feed,also swallowed\n")
    db = f"sqlite:///{tmp_path / 't.db'}"
    rejects = tmp_path / "r.txt"
    code, summary, err = _ingest_cli(capsys, src, db, rejects)
    assert code == 3
    assert err.startswith(f"error: {src}: ends inside a quoted cell opened on line 3")
    assert _ids(db) == {"1"} and (summary["new"], summary["rejected"]) == (1, 1)
    assert rejects.read_text().startswith(f"{src}:3: a quoted cell opened here is never closed")


def test_other_files_of_the_run_are_still_ingested(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cut = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(("\n".join(_good(i) for i in range(500)) + "\n").encode())
    cut.write_bytes(data[: len(data) // 3])
    whole = tmp_path / "whole.jsonl"
    whole.write_text(json.dumps({"id": "w", "source": "feed", "body": "after the cut"}) + "\n")
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, _out, err = _cli(capsys, "ingest", str(cut), str(whole), "--db", db, "--workers", "1",
                          "--no-images", "--rejects", str(tmp_path / "r.txt"))
    assert code == 3 and "w" in _ids(db) and str(cut) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# ---- fuzz: the whole per-record path into a real SQLite store --------------------------------

_counter = itertools.count()

_hostile_chars = st.one_of(
    st.characters(exclude_categories=()),  # every code point, lone surrogates included
    st.sampled_from(CASE_ODDITIES),
    st.sampled_from(["\u200b", "\u202e", "\ufeff", "@", ".", "$", "0", "\n", " ", "a", "Z"]),
)
_hostile_text = st.lists(_hostile_chars, max_size=40).map("".join)
_phoneish = st.lists(st.sampled_from(["206", "555", "0143", " ", "-", "(", ")", "two", "oh",
                                      "İ", "ı", "O", "l", "@", "gmail", ".com", "$"]),
                     max_size=12).map("".join)
_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _hostile_text)
_json_value = st.recursive(_json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_hostile_text, inner, max_size=3)),
    max_leaves=12)


@st.composite
def _hostile_line(draw: st.DrawFn) -> str:
    uid = f"fz-{next(_counter)}"
    text = st.one_of(_hostile_text, _phoneish, st.tuples(_phoneish, _hostile_text, _phoneish)
                     .map("".join))
    record: dict[str, Any] = {
        "id": draw(st.sampled_from([uid, uid, uid, uid + draw(_hostile_text)])),
        "source": draw(st.sampled_from(["feed"] * 9 + [""])),
        "body": draw(st.one_of(text, text, text, _json_value)),
    }
    if draw(st.booleans()):
        record["title"] = draw(text)
    if draw(st.integers(0, 3)) == 0:
        record["posted_at"] = draw(st.sampled_from(["2026-02-30", "2026-01-01T10:00:00Z", "",
                                                    "+999999-01-01"]))
    if draw(st.integers(0, 3)) == 0:
        record[draw(st.sampled_from(["url", "location"]))] = draw(text)
    for _ in range(draw(st.integers(0, 2))):
        record[draw(_hostile_text)] = draw(_json_value)
    line = json.dumps(record, ensure_ascii=draw(st.booleans()), allow_nan=True)
    depth = draw(st.sampled_from([0] * 8 + [40, 5000]))
    if depth:
        line = line[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    return line


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("fuzz")
    store = open_store(f"sqlite:///{tmp / 'fuzz.db'}")
    yield store, tmp
    store.close()


def _check_store_is_strict_json(store: Any) -> None:
    with store.connect() as conn:
        bad = conn.execute(sa.text(
            "SELECT count(*) FROM ads WHERE json_valid(extra) = 0 OR json_valid(images) = 0 "
            "OR (reasons IS NOT NULL AND json_valid(reasons) = 0)")).scalar_one()
    assert bad == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_hostile_line(), min_size=1, max_size=4),
       blank=st.booleans(), raw_junk=st.binary(max_size=30))
def test_fuzz_whole_per_record_path_into_sqlite(fuzz_store: Any, lines: list[str], blank: bool,
                                                raw_junk: bytes) -> None:
    store, tmp = fuzz_store
    n = next(_counter)
    src = tmp / f"in-{n}.jsonl"
    data = "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n"
    if blank:
        data += raw_junk.replace(b"\n", b" ") + b"\n"
    src.write_bytes(data)
    rejects = tmp / f"rejects-{n}.txt"
    summary = ingest(store, [str(src)], default_source=None, options=NO_IMAGES, workers=1,
                     rejects_path=str(rejects))
    assert summary.status == "done"
    assert summary.read == summary.new + summary.updated + summary.unchanged + summary.rejected
    written = rejects.read_text(encoding="utf-8").splitlines() if rejects.exists() else []
    assert len(written) == summary.rejected
    assert all(w.startswith(f"{src}:") for w in written)
    _check_store_is_strict_json(store)


# Classes of character an advertiser (or attacker) can repeat for a whole body.
RUN_CLASSES = ["a", "Z", "9", "\u0663", " ", "\n", "\t", ".", "-", "@", "$", "#", "/", "'", '"',
               "İ", "ı", "ß", "ǅ", "ﬁ", "ς", "\u0301", "\u200b", "\U0001f339", "字", "x@", "1 ",
               "a.", "oh "]
# (".com" repeated is the quadratic bare-URL case of the linear-time work, benchmarked there)


def _run_lines(size: int) -> list[str]:
    return [json.dumps({"id": f"run-{i}-{size}", "source": "feed",
                        "body": ch * (size // len(ch))}, ensure_ascii=False)
            for i, ch in enumerate(RUN_CLASSES)]


def _ingest_runs(tmp: Path, size: int) -> None:
    src = tmp / "runs.jsonl"
    src.write_text("\n".join(_run_lines(size)) + "\n", encoding="utf-8")
    store = open_store(f"sqlite:///{tmp / 'runs.db'}")
    summary = ingest(store, [str(src)], options=NO_IMAGES, workers=1, batch_size=8,
                     rejects_path=str(tmp / "r.txt"))
    blank = sum(1 for ch in RUN_CLASSES if not ch.strip())  # "neither title nor body"
    assert (summary.read, summary.rejected) == (len(RUN_CLASSES), blank)
    assert summary.new == len(RUN_CLASSES) - blank
    _check_store_is_strict_json(store)
    store.close()


def test_runs_of_one_character_class_64_kb(tmp_path: Path) -> None:
    _ingest_runs(tmp_path, 64_000)


@pytest.mark.slow
def test_runs_of_one_character_class_1_mb(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # over the default TRACELIGHT_MAX_BODY_BYTES (256 KiB, a reject: test_linear_time.py);
    # raised here so that 1 MB runs (up to 4 MB of UTF-8) are really extracted
    monkeypatch.setenv("TRACELIGHT_MAX_BODY_BYTES", "8000000")
    _ingest_runs(tmp_path, 1_000_000)


@settings(max_examples=25, deadline=None)
@given(ch=st.characters(exclude_categories=()), size=st.integers(1, 20_000))
def test_fuzz_runs_of_any_character(fuzz_store: Any, ch: str, size: int) -> None:
    store, tmp = fuzz_store
    n = next(_counter)
    src = tmp / f"run-{n}.jsonl"
    src.write_text(json.dumps({"id": f"r{n}", "source": "feed", "body": ch * size,
                               "title": (ch * 40).upper()}) + "\n", encoding="utf-8")
    summary = ingest(store, [str(src)], options=NO_IMAGES, workers=1,
                     rejects_path=str(tmp / f"run-{n}.rej"))
    assert summary.read == 1 and summary.new + summary.rejected == 1
    if 0xD800 <= ord(ch) < 0xE000 or ch == "\x00":
        assert summary.rejected == 1
    _check_store_is_strict_json(store)


def test_pages_whose_file_names_are_not_utf8(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    ad = "<html><body><article>Amy new in town</article></body></html>"
    (pages / "ok.html").write_text(ad)
    try:
        (pages / os.fsdecode(b"odd-\xff.html")).write_text(ad)
        (pages / os.fsdecode(b"empty-\xfe.html")).write_text("<html><body></body></html>")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses non-UTF-8 names")
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    rejects = tmp_path / "r.txt"
    summary = ingest(store, [str(pages)], options=NO_IMAGES, workers=1,
                     rejects_path=str(rejects))
    assert (summary.new, summary.rejected) == (2, 1)
    assert store.get_ad("odd-\\xff").body == "Amy new in town"
    assert "empty-\\udcfe.html: record has neither title nor body" in rejects.read_text()
    store.close()
