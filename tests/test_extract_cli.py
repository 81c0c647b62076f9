"""`tracelight extract` and `tracelight bench extract` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracelight.cli.main import cli


@pytest.fixture
def ads(tmp_path: Path) -> Path:
    p = tmp_path / "ads.jsonl"
    rows = [
        {"id": "a1", "source": "feed", "title": "New in Seattle, WA",
         "body": "Call 2oh6 five5five 0one4three, amy at gmail dot com, 22 yrs"},
        {"id": "a2", "source": "feed", "body": "Post ID: 4829173650 $150/hr",
         "url": "https://ads.example/escorts/4255550199-new"},
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n" +
                 json.dumps({"id": "a3", "body": "no source here"}) + "\n")
    return p


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_extract_jsonl_in_input_order(ads: Path) -> None:
    code, out, err = run("extract", str(ads))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    # one row per input record: the broken line gets an empty row with its error, and a
    # record without a source is read (extract stores nothing; its source is "-")
    assert [r["id"] for r in rows] == ["a1", "a2", None, "a3"]
    assert rows[2]["phones"] == [] and rows[2]["error"].startswith("invalid JSON")
    assert rows[0]["phones"] == ["+12065550143"]
    assert rows[0]["emails"] == ["amy@gmail.com"]
    assert rows[0]["ages"] == [22]
    assert rows[0]["locations"] == [{"city": "Seattle", "region": "WA", "country": "US"}]
    assert rows[1]["phones"] == ["+14255550199"]  # from the URL, not the post ID
    assert rows[1]["prices"] == [{"amount": 150, "currency": "USD", "minutes": 60}]
    assert f"{ads}:3:" in err and f"{ads}:4:" not in err  # unreadable records named


def test_extract_stdin_with_source_and_table(ads: Path) -> None:
    line = json.dumps({"id": "s1", "body": "text 425.555.0199 ask for Bella"}) + "\n"
    code, out, _ = run("extract", "-", "--source", "stdin", input=line)
    assert code == 0
    assert json.loads(out)["names"] == ["Bella"]
    code, out, _ = run("extract", str(ads), "--format", "table")
    assert code == 0
    assert "Entities" in out and "a1" in out and "a2" in out


def test_extract_region_option() -> None:
    line = json.dumps({"id": "m", "source": "s", "body": "Llámame 55 1234 5678"}) + "\n"
    code, out, _ = run("extract", "-", "--region", "mx", input=line)
    assert code == 0
    assert json.loads(out)["phones"] == ["+525512345678"]


def test_extract_needs_no_source_and_keeps_empty_results() -> None:
    lines = [json.dumps({"id": "n1", "body": "call 206-555-0143"}),
             json.dumps({"id": "n2", "body": "nothing here"}),
             json.dumps({"id": "n3"}),  # no text at all
             json.dumps({"id": "n4", "title": "Melbourne", "body": "txt 0491 570 156"})]
    code, out, err = run("extract", "-", input="\n".join(lines) + "\n")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 4
    assert [r["id"] for r in rows] == ["n1", "n2", None, "n4"]
    assert rows[1]["phones"] == [] and rows[2]["phones"] == []
    assert "neither title nor body" in err
    assert rows[3]["phones"] == ["+61491570156"]
    assert rows[3]["phone_regions"][0]["read_for"] == "AU"
    assert rows[3]["phone_regions"][0]["why"] == "title/body: Melbourne"


def test_extract_exits_non_zero_when_nothing_could_be_read(tmp_path: Path) -> None:
    code, out, err = run("extract", "-", input="{broken\n[1]\n")
    assert code == 3
    assert len(out.splitlines()) == 2
    assert "no record could be read" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = run("extract", str(empty))
    assert code == 3 and "no record could be read" in err


def test_extract_csv_as_its_help_says(ads: Path) -> None:
    code, out, _ = run("extract", "--help")
    assert code == 0 and "csv" in out
    code, out, _ = run("extract", str(ads), "--format", "csv")
    assert code == 0
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4  # one row per record
    assert {"id", "phones", "emails"} <= set(rows[0])
    assert (rows[0]["id"], rows[0]["phones"], rows[0]["emails"]) == (
        "a1", "+12065550143", "amy@gmail.com")


def test_extract_missing_file_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["extract", str(tmp_path / "nope.jsonl")])
    assert result.exit_code != 0
    assert "no such file" in str(result.exception)


@pytest.mark.slow
def test_bench_extract_prints_figures() -> None:
    # the hand-written cases ship with the package: no --cases and no source checkout needed
    code, out, _ = run("bench", "extract", "--ads", "30", "--demo-ads", "0")
    assert code == 0
    assert "extract: 30 ads in" in out
    assert "100 KB body" in out and "adversarial bodies" in out
    assert "quality cases[" in out and "phones: precision" in out


@pytest.mark.parametrize("content", ["{not json\n", '{"id": "x", "expected": "phones"}\n',
                                     "[1, 2]\n", "\udcff\n"])
def test_bench_extract_bad_cases_file_is_one_clear_error(
        tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tracelight.cli.main import main

    bad = tmp_path / "cases.jsonl"
    bad.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "extract", "--ads", "5", "--demo-ads", "0", "--cases", str(bad)])
    assert exit_info.value.code == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}:") and len(err.splitlines()) == 1
