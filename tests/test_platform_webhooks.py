"""Webhooks: URL checks, HMAC-signed deliveries to a local receiver on 127.0.0.1, retries with
backoff, the dead-letter list, and the CLI (click runner)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from local_servers import Receiver
from local_servers import leaks_phone as _leaks
from tracelight.cli.main import cli
from tracelight.errors import UsageError
from tracelight.services import webhooks as wh
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.store.cases import Watchlists
from tracelight.store.webhooks import Webhooks
from web_helpers import make_app


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("TRACELIGHT_WEBHOOK_ALLOW_PRIVATE", "1")
    s = open_store(f"sqlite:///{tmp_path / 'wh.db'}")
    yield s
    s.close()


@pytest.mark.parametrize("url", ["ftp://example.org/x", "http://", "file:///etc/passwd",
                                 "http://u:p@example.org/", "http://[::1", "javascript:x"])
def test_bad_urls_refused(url: str) -> None:
    with pytest.raises(UsageError):
        wh.check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://10.0.0.5/", "http://[::1]/",
                                 "http://169.254.169.254/latest", "http://localhost/"])
def test_private_and_loopback_refused_unless_allowed(url: str) -> None:
    with pytest.raises(UsageError, match="private, loopback or reserved"):
        wh.check_url(url, allow_private=False)
    assert wh.check_url(url, allow_private=True) == url


def test_signature_round_trip() -> None:
    sig = wh.sign("s3cret", "1700000000", b'{"a":1}')
    assert wh.verify("s3cret", "1700000000", b'{"a":1}', sig)
    assert not wh.verify("other", "1700000000", b'{"a":1}', sig)
    assert not wh.verify("s3cret", "1700000001", b'{"a":1}', sig)


def test_nothing_sent_unless_subscribed(store: Any) -> None:
    assert wh.emit(store, "watchlist.hit", {"x": 1}) == 0
    assert wh.deliver_due(store) == wh.DeliveryRun(0, 0, 0)


def test_check_with_watchlist_hit_sends_a_signed_webhook(store: Any, receiver: Receiver,
                                                         tmp_path: Path) -> None:
    from tracelight.web.auth import hash_password
    accounts = Accounts(store)
    accounts.add_user("svc", hash_password("correct horse battery"), "analyst")
    Watchlists(store).add("svc", "phone", "+12065550143", "x", watchlist="partner")
    hook = wh.add_webhook(store, receiver.url, ["watchlist.hit"], "test")
    c = TestClient(make_app(store, tmp_path))
    c.headers["Authorization"] = "Bearer " + accounts.create_token("svc", scope="check")
    r = c.post("/api/v1/check", json={"title": "hi", "body": "call 206-555-0143 now"})
    assert r.status_code == 200 and r.json()["action"] == "review"
    assert len(receiver.got) == 1  # the background task ran after the answer
    headers, body = receiver.got[0]
    assert headers["x-tracelight-event"] == "watchlist.hit"
    assert wh.verify(hook.secret, headers["x-tracelight-timestamp"], body,
                     headers["x-tracelight-signature"])
    payload = json.loads(body)
    assert payload["data"]["watches"][0]["watchlist"] == "partner"
    assert not _leaks(body)  # verdicts and ids, never the ad's text
    assert Webhooks(store).deliveries("sent")


def test_retries_with_backoff_then_dead_letter(store: Any) -> None:
    receiver = Receiver(status=500)
    try:
        wh.add_webhook(store, receiver.url, ["bank.match"], "test")
        assert wh.emit(store, "bank.match", {"n": 1}) == 1
        run = wh.deliver_due(store)
        assert run == wh.DeliveryRun(0, 1, 0)
        pending = Webhooks(store).deliveries("pending")[0]
        assert pending.attempts == 1 and pending.last_error == "HTTP 500"
        assert wh.deliver_due(store) == wh.DeliveryRun(0, 0, 0)  # not due yet: backoff
        from datetime import timedelta

        from tracelight.records import utcnow
        for i in range(wh.MAX_ATTEMPTS - 1):  # each retry later than the last backoff
            wh.deliver_due(store, now=utcnow() + timedelta(hours=i + 1))
        dead = Webhooks(store).deliveries("dead")
        assert len(dead) == 1 and dead[0].attempts == wh.MAX_ATTEMPTS
        assert len(receiver.got) == wh.MAX_ATTEMPTS
    finally:
        receiver.close()


def test_unreachable_receiver_is_an_error_not_a_crash(store: Any) -> None:
    wh.add_webhook(store, "http://127.0.0.1:9/closed", ["bank.match"], "test")
    wh.emit(store, "bank.match", {})
    assert wh.deliver_due(store).retrying == 1
    assert "Error" in (Webhooks(store).deliveries("pending")[0].last_error or "")


def test_cli_add_list_remove_deliver_dead(tmp_path: Path, receiver: Receiver,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelight.errors import NotFoundError
    monkeypatch.setenv("TRACELIGHT_WEBHOOK_ALLOW_PRIVATE", "1")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    r = runner.invoke(cli, ["webhook", "add", receiver.url, "--events", "watchlist.hit",
                             "--db", db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["webhook", "list", "--format", "jsonl", "--db", db])
    row = json.loads(r.output.strip().splitlines()[0])
    assert row["url"] == receiver.url and "secret" not in row
    r = runner.invoke(cli, ["webhook", "add", receiver.url, "--events", "nope", "--db", db])
    assert isinstance(r.exception, UsageError) and "unknown event" in str(r.exception)
    monkeypatch.setenv("TRACELIGHT_WEBHOOK_ALLOW_PRIVATE", "0")
    r = runner.invoke(cli, ["webhook", "add", receiver.url, "--events", "bank.match",
                             "--db", db])
    assert isinstance(r.exception, UsageError) and "loopback" in str(r.exception)
    r = runner.invoke(cli, ["webhook", "deliver", "--db", db])
    assert r.exit_code == 0 and "sent 0" in r.output
    r = runner.invoke(cli, ["webhook", "dead", "--format", "jsonl", "--db", db])
    assert r.exit_code == 0 and r.output.strip() == ""
    r = runner.invoke(cli, ["webhook", "remove", str(row["id"]), "--db", db])
    assert r.exit_code == 0
    r = runner.invoke(cli, ["webhook", "remove", str(row["id"]), "--db", db])
    assert isinstance(r.exception, NotFoundError)
