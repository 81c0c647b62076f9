"""`tracelight tx ...` end to end through the click runner: generate, ingest ads and link,
accounts, transactions (idempotent, rejects), alerts with evidence and links both ways, SAR
drafts, evaluation, and the stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracelight.cli.main import cli, main
from tracelight.finance.sar import KEY_TERM
from tracelight.services.finance import network_accounts
from tracelight.store import open_store


def run(*args: str, input: str | bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("bank")
    out = tmp / "bank"
    code, text, _ = run("tx", "generate", str(out), "--accounts", "400", "--seed", "5")
    assert code == 0 and "planted" in text
    db = f"sqlite:///{tmp / 'tl.db'}"
    assert run("ingest", str(out / "ads.jsonl"), "--db", db, "--rejects",
               str(tmp / "r.txt"), "--workers", "1")[0] == 0
    assert run("link", "--db", db)[0] == 0
    assert run("tx", "accounts", str(out / "accounts.csv"), "--db", db)[0] == 0
    code, text, _ = run("tx", "ingest", str(out / "transactions.csv"), "--db", db,
                        "--rejects", str(tmp / "tx-rejects.txt"))
    assert code == 0 and "rejected 0" in text and "alerts" in text
    return out, db


@pytest.mark.slow
def test_end_to_end(bank: tuple[Path, str], tmp_path: Path) -> None:
    out, db = bank
    code, text, _ = run("tx", "ingest", str(out / "transactions.csv"), "--db", db,
                        "--no-score")
    assert code == 0 and "new 0" in text  # idempotent
    code, text, _ = run("tx", "alerts", "--format", "jsonl", "--db", db)
    rows = [json.loads(x) for x in text.splitlines()]
    truth = json.loads((out / "truth.json").read_text())
    planted = {a for v in truth["planted"].values() for a in v}
    assert rows and {r["account"] for r in rows} <= planted
    assert list(rows[0]) == ["alert_id", "account", "typologies", "indicators", "score",
                             "first_seen", "last_seen", "linked_ads", "linked_networks"]
    for r in rows:
        assert len(r["indicators"]) >= 2 and all(i["tx_ids"] and i["citation"]
                                                 for i in r["indicators"])
    linked = [r for r in rows if r["linked_ads"]]
    assert linked and any(r["linked_networks"] for r in linked)  # one-ad accounts: no network
    linked = [r for r in linked if r["linked_networks"]]
    # both ways: the network lists the account
    store = open_store(db)
    try:
        accounts = {k.account_id for k in network_accounts(store, linked[0]["linked_networks"][0])}
    finally:
        store.close()
    assert linked[0]["account"] in accounts
    code, text, _ = run("tx", "sar", linked[0]["alert_id"], "--db", db)
    assert code == 0 and KEY_TERM in text and "Not filed" in text
    code, text, _ = run("tx", "evaluate", "--truth", str(out / "truth.json"), "--db", db,
                        "--format", "jsonl")
    scores = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
    assert len(scores) == 6 and all(s["precision"] >= 0.9 and s["recall"] >= 0.9
                                    for s in scores)
    code, text, _ = run("tx", "alerts", "--format", "csv", "--db", db)
    assert code == 0 and text.splitlines()[0].startswith("alert_id,account,typologies")
    code, text, _ = run("audit", "--db", db)
    assert "tx.sar" in text


@pytest.mark.slow
def test_stream_scores_as_transactions_arrive(bank: tuple[Path, str]) -> None:
    out, db = bank
    lines = (out / "transactions.csv").read_bytes()
    code, text, err = run("tx", "score", "-", "--db", db, input=lines + b"garbage,row\n")
    fired = [json.loads(x) for x in text.splitlines()]
    assert code == 0 and fired and all(f["typologies"] for f in fired)
    assert "<stdin>:" in err


def test_rejects_and_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    bad = tmp_path / "bad.csv"
    bad.write_text("tx_id,timestamp,amount,currency,from_account,to_account,channel\n"
                   "T1,2026-01-01T00:00:00,5,USD,A,B,p2p\nT2,never,5,USD,A,B,p2p\n")
    rejects = tmp_path / "rej.txt"
    code, text, _ = run("tx", "ingest", str(bad), "--db", db, "--rejects", str(rejects))
    assert code == 0 and "new 1" in text and "rejected 1" in text
    assert rejects.read_text().startswith("bad.csv:3: timestamp")
    for args, want_code, want in [
        (["tx", "sar", "TXA-nope"], 4, "no alert"),
        (["tx", "ingest", str(tmp_path / "missing.csv")], 3, "no such file"),
        (["tx", "accounts", str(tmp_path / "missing.csv")], 3, "no such file"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main([*args, "--db", db])
        err = capsys.readouterr().err
        assert exc.value.code == want_code and want in err and "Traceback" not in err


@pytest.mark.slow
def test_stream_alert_arrives_before_the_input_ends(tmp_path: Path) -> None:
    """A live pipe: the alert is written while stdin is still open (no 4 KiB wait)."""
    import select
    import subprocess
    import sys

    from tracelight.store import open_store

    db = f"sqlite:///{tmp_path / 's.db'}"
    open_store(db).close()  # `tx score` reads accounts from an existing store, never makes one
    proc = subprocess.Popen([sys.executable, "-m", "tracelight", "tx", "score", "-", "--db", db],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    rows = [{"tx_id": f"L{i}", "timestamp": f"2026-01-0{5 + i}T10:00:00", "amount": 100,
             "from_account": "P1", "channel": "card", "mcc": "7011", "city": c}
            for i, c in enumerate(["Reno", "Omaha", "Tulsa"])]
    rows += [{"tx_id": f"A{i}", "timestamp": f"2026-01-0{5 + i}T12:00:00", "amount": 30,
              "from_account": "P1", "channel": "card", "mcc": "7311"} for i in range(3)]
    try:
        for row in sorted(rows, key=lambda r: str(r["timestamp"])):
            proc.stdin.write((json.dumps(row) + "\n").encode())
            proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "no alert while the stream was open"
        alert = json.loads(proc.stdout.readline())
        assert alert["typologies"] == ["commercial_sex_advertising"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=120)
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
