from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracelight.cli.main import cli, main


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    p = tmp_path / "ads.jsonl"
    rows = [{"id": f"a{i}", "source": "feed", "title": f"Ad {i}",
             "body": f"Visiting downtown, ask for Amy {i}", "location": "Seattle, WA",
             "posted_at": f"2026-03-{i + 1:02d}T10:00:00Z"} for i in range(5)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")
    return p


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_ingest_then_read(corpus: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    rejects = tmp_path / "r.txt"
    code, out, _ = run("ingest", str(corpus), "--db", db, "--rejects", str(rejects),
                       "--format", "jsonl", "--workers", "1")
    assert code == 0
    summary = json.loads(out)
    assert (summary["read"], summary["new"], summary["rejected"]) == (6, 5, 1)
    assert rejects.read_text().startswith(f"{corpus}:6: invalid JSON")

    code, out, _ = run("ads", "--db", db, "--format", "jsonl")
    ads = [json.loads(line) for line in out.splitlines()]
    assert [a["id"] for a in ads] == ["a4", "a3", "a2", "a1", "a0"]
    code, out, _ = run("ads", "--db", db, "--format", "csv", "--limit", "2")
    assert out.splitlines()[0] == "ref,id,source,posted_at,location,risk,title"
    assert out.splitlines()[1].startswith("feed/a4,a4,feed,")
    assert len(out.splitlines()) == 3
    code, out, _ = run("ads", "--db", db, "--since", "2026-03-04", "--format", "jsonl")
    assert len(out.splitlines()) == 2
    code, out, _ = run("search", "downtown", "--db", db, "--format", "jsonl")
    assert len(out.splitlines()) == 5
    code, out, _ = run("show", "a1", "--db", db, "--format", "jsonl")
    assert json.loads(out)["body"] == "Visiting downtown, ask for Amy 1"
    code, out, _ = run("runs", "--db", db, "--format", "jsonl")
    assert json.loads(out.splitlines()[0])["status"] == "done"


def test_stdin_and_source_option(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, out, _ = run("ingest", "-", "--source", "pipe", "--db", db, "--workers", "1",
                       "--rejects", str(tmp_path / "r"), input='{"id": "1", "body": "x"}\n')
    assert code == 0 and "new 1" in out


def _main_exit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    return int(exc.value.code or 0), capsys.readouterr().err


def test_user_mistakes_are_one_line_errors(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    code, err = _main_exit(capsys, "show", "nope", "--db", db)
    assert code == 5 and "does not exist (to make one: tracelight ingest FILE)" in err
    assert not (tmp_path / "t.db").exists()  # a read-only command creates no database
    from tracelight.store import open_store
    open_store(db).close()
    code, err = _main_exit(capsys, "show", "nope", "--db", db)
    assert code == 4 and err.strip() == ("error: no ad 'nope' (give it as SOURCE/ID, as "
                                         "tables print it)")
    code, err = _main_exit(capsys, "ingest", str(tmp_path / "missing.jsonl"), "--db", db)
    assert code == 3 and "no such file" in err and "Traceback" not in err
    code, err = _main_exit(capsys, "ads", "--since", "last week", "--db", db)
    assert code == 2 and "not a date" in err
    code, err = _main_exit(capsys, "search", "--db", db)
    assert code == 2 and "give either words" in err
    code, err = _main_exit(capsys, "ads", "--db", "sqlite:////no/such/dir/x.db")
    assert code == 5 and "does not exist" in err
    code, err = _main_exit(capsys, "search", "--phone", "not a phone", "--db", db)
    assert code == 2 and "not a phone number" in err


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and "tracelight" in out
    for command in ("ingest", "ads", "show", "search", "runs", "settings"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "Usage:" in out
