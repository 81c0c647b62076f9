from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelight.errors import InputError, RecordError
from tracelight.ingest.readers import iter_records
from tracelight.records import AdRecord


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_reports_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "ads.jsonl"
    p.write_bytes(b'{"id": "1", "body": "ok"}\n\n{bad json\n{"id": "3", "body": "\xff\xfe"}\n')
    out = list(iter_records(str(p), "src"))
    assert [o for o, _ in out] == [f"{p}:1", f"{p}:3", f"{p}:4"]
    assert isinstance(out[0][1], AdRecord)
    assert isinstance(out[1][1], RecordError) and "invalid JSON" in out[1][1].message
    assert isinstance(out[2][1], RecordError) and "UTF-8" in out[2][1].message


def test_gzipped_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "ads.jsonl.gz"
    with gzip.open(p, "wt") as fh:
        fh.write('{"id": "1", "body": "ok"}\n')
    [(_, rec)] = list(iter_records(str(p), "s"))
    assert isinstance(rec, AdRecord)


def test_csv_same_columns(tmp_path: Path) -> None:
    p = tmp_path / "ads.csv"
    p.write_text('id,source,title,body,images,colour\n1,s,T,"multi\nline",a.jpg|b.jpg,red\n'
                 "2,s,,,,\n", encoding="utf-8")
    out = list(iter_records(str(p), None))
    rec = out[0][1]
    assert isinstance(rec, AdRecord)
    assert rec.body == "multi\nline" and rec.images == ("a.jpg", "b.jpg")
    assert rec.extra == {"colour": "red"}
    assert isinstance(out[1][1], RecordError) and out[1][0] == f"{p}:4"


def test_csv_without_id_column_is_an_input_error(tmp_path: Path) -> None:
    p = tmp_path / "ads.csv"
    p.write_text("title,body\na,b\n")
    with pytest.raises(InputError, match="'id' column"):
        list(iter_records(str(p), "s"))


def test_html_folder(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "ad1.html").write_text(
        "<html><head><title>Sweet and new</title>"
        '<link rel="canonical" href="https://ads.example/ad/1">'
        '<meta property="article:published_time" content="2026-03-01T10:00:00Z"></head>'
        "<body><nav>menu</nav><article><p>Call me</p><p>Ask for Amy</p></article>"
        '<img src="img/1.jpg"><script>var x=1</script></body></html>', encoding="utf-8")
    [(_origin, rec)] = list(iter_records(str(folder), None))
    assert isinstance(rec, AdRecord)
    assert rec.title == "Sweet and new" and "Ask for Amy" in rec.body and "menu" not in rec.body
    assert rec.url == "https://ads.example/ad/1" and rec.id == "https://ads.example/ad/1"
    assert rec.source == "ads.example" and rec.images == ("img/1.jpg",)
    assert rec.posted_at is not None


def test_warc_html_responses(tmp_path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    p = tmp_path / "crawl.warc.gz"
    with open(p, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i, ctype in enumerate(["text/html; charset=utf-8", "image/jpeg"]):
            payload = f"<html><title>Ad {i}</title><body><main>text {i}</main></body></html>"
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)],
                                       protocol="HTTP/1.1")
            rec = writer.create_warc_record(f"https://site.example/ad/{i}", "response",
                                            payload=io.BytesIO(payload.encode()),
                                            http_headers=headers)
            writer.write_record(rec)
    out = list(iter_records(str(p), None))
    assert len(out) == 1
    rec = out[0][1]
    assert isinstance(rec, AdRecord)
    assert rec.id == "https://site.example/ad/0" and rec.source == "site.example"
    assert rec.body == "text 0" and "captured_at" in rec.extra


def test_unknown_and_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(iter_records(str(tmp_path / "nope.jsonl")))
    odd = tmp_path / "ads.xlsx"
    odd.write_text("x")
    with pytest.raises(InputError, match="unknown input format"):
        list(iter_records(str(odd)))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_bytes_never_crash_the_jsonl_reader(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "fuzz.jsonl"
    p.write_bytes(data)
    for origin, result in iter_records(str(p), "s"):
        assert origin.startswith(str(p))
        assert isinstance(result, (AdRecord, RecordError))
