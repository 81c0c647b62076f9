"""Tables fit an 80-column terminal; read-only commands never create a database; serve checks
its port before announcing it."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from tracelight.cli.main import cli, main
from tracelight.cli.output import Col, Columns, clip, render_table
from tracelight.demo import generate
from tracelight.errors import UsageError

PHONES = st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True)


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(cli, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Through the real entry point, which renders tracelight's errors as one line."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@given(st.lists(PHONES, min_size=1, max_size=6), st.integers(min_value=2, max_value=60))
def test_clip_keeps_phone_numbers_whole(phones: list[str], width: int) -> None:
    text = ", ".join(phones)
    out = clip(text, width)
    assert cell_len(out) <= width
    if out == text:
        return
    assert out.endswith("…")
    shown = out[:-1]
    assert text.startswith(shown)
    kept = [p for p in shown.split(", ") if p]
    # every number shown is a whole number; only a first number wider than the cell is cut
    assert all(p in phones for p in kept) or (len(kept) == 1 and len(phones[0]) >= width)


@given(st.text(max_size=80), st.integers(min_value=1, max_value=40))
def test_clip_fits_any_text(text: str, width: int) -> None:
    assert cell_len(clip(text, width)) <= max(width, cell_len(text) if cell_len(text) <= width
                                              else width)


def _render(rows: list[dict[str, object]], cols: list[Col], width: int = 80) -> list[str]:
    buf = io.StringIO()
    render_table(rows, cols, console=Console(file=buf, width=width, color_system=None,
                                             highlight=False))
    return buf.getvalue().splitlines()


def test_table_rows_are_one_line_and_fit() -> None:
    cols = [Col("id"), Col("phones", flex=True, min=14), Col("title", flex=True, min=10),
            Col("city", flex=True, min=10, drop=True)]
    rows = [{"id": f"feed/ad-{i:04d}", "phones": ["+12065550143", "+13054541934"] * 3,
             "title": "A long title that will never fit the column " * 3, "city": "Seattle"}
            for i in range(100)]
    lines = _render(rows, cols)
    assert len(lines) == 102  # header, rule, one line per row
    assert all(cell_len(line) <= 80 for line in lines)
    assert all("+1206555014…" not in line for line in lines)  # never a cut number
    assert "feed/ad-0099" in lines[-1]  # ids keep their width


def test_table_drops_optional_columns_and_hides_empty_ones() -> None:
    cols = [Col("id"), Col("title", flex=True, min=30), Col("city", flex=True, min=30,
                                                              drop=True), Col("empty")]
    lines = _render([{"id": "a", "title": "x" * 50, "city": "y" * 50, "empty": None}], cols,
                    width=50)
    assert "city" not in lines[0] and "empty" not in lines[0] and "title" in lines[0]


def test_table_cells_are_text_not_markup_or_terminal_codes() -> None:
    lines = _render([{"title": "[bold red]x[/] \x1b[31mred\x1b[0m \u202eevil"}], [Col("title")])
    assert "[bold red]x[/]" in lines[-1] and "\x1b" not in "".join(lines)
    assert "\u202e" not in "".join(lines)


def test_columns_choose_and_unknown_names() -> None:
    cols = Columns(Col("a"), Col("b", drop=True), Col("c"), table=["a", "b"])
    assert [c.key for c in cols.choose(None, "table")] == ["a", "b"]
    assert [c.key for c in cols.choose(None, "csv")] == ["a", "b", "c"]
    assert [c.key for c in cols.choose("c,b", "table")] == ["c", "b"]
    assert not cols.choose("b", "table")[0].drop  # asked for by name: never left out
    assert len(cols.choose("all", "table")) == 3
    with pytest.raises(UsageError, match="unknown column 'z'"):
        cols.choose("a,z", "table")


@given(st.text(max_size=40))
def test_columns_option_takes_any_text(spec: str) -> None:
    cols = Columns(Col("a"), Col("b"), table=["a"])
    try:
        chosen = cols.choose(spec, "table")
    except UsageError as exc:
        assert "choose from: a, b, or all" in str(exc)
    else:
        assert chosen and {c.key for c in chosen} <= {"a", "b"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("tables")
    generate(folder / "corpus", n_ads=150, seed=7, images=False)
    url = f"sqlite:///{folder / 't.db'}"
    code, _, err = run("ingest", str(folder / "corpus" / "ads.jsonl"), "--db", url,
                       "--workers", "1", "--no-images", "--rejects", str(folder / "r.txt"))
    assert code == 0, err
    code, _, err = run("link", "--db", url)
    assert code == 0, err
    yield url


@pytest.mark.slow
def test_commands_fit_80_columns(demo_db: str) -> None:
    code, out, _ = run("queue", "--db", demo_db, "--format", "jsonl", "--limit", "1")
    top = json.loads(out.splitlines()[0])["id"]
    code, out, _ = run("networks", "--db", demo_db, "--format", "jsonl", "--limit", "1")
    member = json.loads(out)["ad_ids"][0]
    for args in (["queue", "--limit", "100"], ["networks"], ["ads"], ["search", "ask"],
                 ["show", top], ["similar", member], ["hubs"], ["runs"]):
        code, out, err = run(*args, "--db", demo_db)
        assert code == 0, (args, err)
        assert out.strip(), args
        assert all(cell_len(line) <= 80 for line in out.splitlines()), (args, out)
    code, out, _ = run("queue", "--limit", "100", "--db", demo_db)
    sections = out.split("\n\n")
    assert sections[0].startswith("Ads by risk") and "Networks by risk" in sections[1]
    ad_lines = sections[0].splitlines()
    # title, header, rule, 100 rows and the calibration slice (one random unreviewed ad per 20,
    # inserted so no ranked ad is pushed off the page): one line each
    from tracelight.services.queue import CALIBRATION_EVERY

    assert len(ad_lines) == 3 + 100 + 100 // CALIBRATION_EVERY
    assert ad_lines[-1].lstrip().startswith(f"{100 + 100 // CALIBRATION_EVERY} ")  # ranks run on
    assert sections[1].splitlines()[3].lstrip().startswith("1 ")


@pytest.mark.slow
def test_queue_csv_columns_and_no_results(demo_db: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run("queue", "--db", demo_db, "--format", "csv", "--limit", "3")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("rank,kind,ref,id,source,risk,size,title")
    assert {line.split(",")[1] for line in lines[1:]} == {"ad", "network"}
    code, out, _ = run("queue", "--db", demo_db, "--columns", "rank,ref,posted_at")
    assert code == 0 and "posted" in out.splitlines()[1]
    code, out, err = run_main(capsys, "queue", "--db", demo_db, "--columns", "nope")
    assert code == 2 and "choose from" in err
    code, out, err = run("search", "--phone", "(206) 555-0143", "--db", demo_db)
    assert code == 0 and out == "" and "No results: no ad mentions the phone +12065550143" in err
    code, out, err = run("search", "zzzqqqx", "--db", demo_db)
    assert code == 0 and out == "" and "No results" in err and "try:" in err
    code, out, err = run("networks", "--min-size", "500", "--db", demo_db)
    assert code == 0 and out == "" and "a smaller --min-size" in err


READ_ONLY = [["queue"], ["ads"], ["search", "x"], ["show", "x"], ["networks"], ["similar", "x"],
             ["hubs"], ["runs"], ["audit"], ["audit", "verify"], ["user", "list"],
             ["token", "list"], ["rescore"], ["link"], ["serve"]]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_read_only_commands_never_create_a_database(args: list[str], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "missing.db"
    with pytest.raises(SystemExit) as exc:
        main([*args, "--db", f"sqlite:///{db}"])
    err = capsys.readouterr().err
    assert exc.value.code == 5, err
    assert err.count("\n") == 1 and f"database {db} does not exist" in err
    assert "tracelight ingest" in err
    assert not db.exists()


def test_serve_refuses_a_busy_port_before_announcing(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, _, err = run("user", "add", "root", "--role", "admin", "--password-stdin", "--db",
                       db, input="a long enough passphrase 42\n")
    assert code == 0, err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code, out, err = run_main(capsys, "serve", "--port", str(port), "--db", db)
    assert code == 2 and f"port {port} on 127.0.0.1 is already in use" in err
    assert "http://" not in out + err
