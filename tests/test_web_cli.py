"""`tracelight serve`, `user`, `token` and `audit` through the CLI runner, exit codes asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tracelight.cli import web_cmd
from tracelight.cli.main import cli
from tracelight.errors import UsageError
from tracelight.store import open_store
from tracelight.store.accounts import Accounts


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """An empty store (read-only commands refuse a missing file)."""
    from tracelight.store import open_store

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    open_store(url).close()
    return url


def test_user_add_list_disable_token_audit(db: str) -> None:
    r = run("user", "add", "ana", "--role", "admin", "--password-stdin", "--db", db,
            input="a long enough password\n")
    assert r.exit_code == 0, r.output
    r = run("user", "add", "bo", "--role", "viewer", "--password-stdin", "--db", db,
            input="short\n")
    assert r.exit_code != 0 and "at least 10" in str(r.exception or r.output)
    r = run("user", "add", "ana", "--role", "admin", "--password-stdin", "--db", db,
            input="a long enough password\n")
    assert r.exit_code != 0
    r = run("user", "list", "--format", "jsonl", "--db", db)
    assert r.exit_code == 0
    users = [json.loads(line) for line in r.stdout.splitlines()]
    assert users[0]["username"] == "ana" and users[0]["role"] == "admin"
    r = run("token", "create", "ana", "--db", db)
    assert r.exit_code == 0 and r.stdout.strip().startswith("tl_")
    token = r.stdout.strip()
    assert Accounts(open_store(db)).user_for_token(token) is not None
    assert run("user", "disable", "ana", "--db", db).exit_code == 0
    assert Accounts(open_store(db)).user_for_token(token) is None
    assert run("user", "enable", "ana", "--db", db).exit_code == 0
    r = run("audit", "--format", "jsonl", "--db", db)
    actions = [json.loads(line)["action"] for line in r.stdout.splitlines()]
    assert actions == ["user.add", "token.create", "user.disable", "user.enable"]
    assert run("audit", "--db", db).exit_code == 0


def test_user_add_without_terminal_needs_password_stdin(db: str) -> None:
    r = run("user", "add", "ana", "--role", "admin", "--db", db)
    assert r.exit_code != 0 and isinstance(r.exception, UsageError)


def test_serve_refuses_without_an_admin(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr(web_cmd, "serve_store", lambda *a, **k: started.append((a, k)))
    r = run("serve", "--db", db)
    assert r.exit_code != 0 and "no admin user" in str(r.exception)
    assert not started
    run("user", "add", "ana", "--role", "admin", "--password-stdin", "--db", db,
        input="a long enough password\n")
    r = run("serve", "--db", db, "--port", "8123")
    assert r.exit_code == 0 and started and started[0][0][1:] == ("127.0.0.1", 8123)


def test_main_renders_the_no_admin_error_as_one_line(db: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from tracelight.cli.main import main
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--db", db])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tracelight user add NAME --role admin" in err


def test_loopback_detection() -> None:
    assert web_cmd._is_loopback("127.0.0.1") and web_cmd._is_loopback("::1")
    assert web_cmd._is_loopback("localhost")
    assert not web_cmd._is_loopback("0.0.0.0") and not web_cmd._is_loopback("10.1.2.3")
