"""The platform flow end to end against a real local server (uvicorn on 127.0.0.1) through
tracelight.client: check an ad (allow / review / block by policy), push a feed, receive a
signed webhook for a watchlist hit."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from local_servers import Receiver
from test_platform_api import _png
from tracelight.client import Client, ClientError
from tracelight.images.banks import BankEntry
from tracelight.services import webhooks as wh
from tracelight.services.banks import import_bank
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.store.cases import Watchlists
from tracelight.web.app import create_app
from tracelight.web.auth import hash_password

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("TRACELIGHT_WEBHOOK_ALLOW_PRIVATE", "1")
    store = open_store(f"sqlite:///{tmp_path / 'flow.db'}")
    accounts = Accounts(store)
    accounts.add_user("platform-x", hash_password("correct horse battery"), "analyst")
    import_bank(store, "known", [BankEntry("md5", hashlib.md5(_png()).hexdigest(), "x")])
    Watchlists(store).add("platform-x", "email", "watched@example.org", watchlist="partner")
    receiver = Receiver()
    hook = wh.add_webhook(store, receiver.url, ["watchlist.hit"], "test")
    port = _free_port()
    app = create_app(store, secret_key="k", api_only=True)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.02)
    yield {"url": f"http://127.0.0.1:{port}", "store": store, "receiver": receiver,
           "hook": hook, "check": accounts.create_token("platform-x", scope="check"),
           "ingest": accounts.create_token("platform-x", scope="ingest")}
    srv.should_exit = True
    thread.join(10)
    receiver.close()
    store.close()


def test_platform_flow(server: dict[str, Any]) -> None:
    tl = Client(server["url"], server["check"])
    assert tl.check(title="Book club", body="We meet on Tuesday.")["action"] == "allow"
    hit = tl.check(title="hi", body="mail watched@example.org")
    assert hit["action"] == "review" and hit["policy"]["rule"] == "watchlist-hit"
    assert tl.check(title="a", body="b", images=[_png()])["action"] == "block"
    with pytest.raises(ClientError) as err:
        tl.push_ads([{"id": "1", "source": "x", "title": "t", "body": "b"}])
    assert err.value.status == 403
    feed = Client(server["url"], server["ingest"]).push_ads(
        [{"id": "1", "title": "t", "body": "b"}, {"title": "no id"}], source="platform-x")
    assert feed["summary"]["new"] == 1 and feed["results"][1]["status"] == "rejected"
    for _ in range(100):  # the webhook goes out after the answer
        if server["receiver"].got:
            break
        time.sleep(0.02)
    headers, body = server["receiver"].got[0]
    assert wh.verify(server["hook"].secret, headers["x-tracelight-timestamp"], body,
                     headers["x-tracelight-signature"])
    assert json.loads(body)["event"] == "watchlist.hit"


def test_client_errors(server: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as err:
        Client(server["url"], "tl_wrong").check(title="a")
    assert err.value.status == 401
    with pytest.raises(ClientError) as err:
        Client("http://127.0.0.1:9", "t", timeout=1).check(title="a")
    assert err.value.status == 0 and "cannot reach" in err.value.message
    with pytest.raises(ValueError, match="http"):
        Client("ftp://x", "t")


def test_serve_with_two_workers_checks_and_delivers_queued_webhooks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    """`tracelight serve --api-only --workers 2` as a platform runs it: two worker processes
    (a listening socket each), checks answered over fresh connections, a webhook that
    `tracelight ingest` queued sent by the server's deliverer (no `webhook deliver`), and a
    clean stop on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys

    from tracelight.bench.measure import tree_rss_mb
    from tracelight.services.ingest import ingest
    monkeypatch.setenv("TRACELIGHT_WEBHOOK_ALLOW_PRIVATE", "1")
    db = f"sqlite:///{tmp_path / 'w.db'}"
    store = open_store(db)
    accounts = Accounts(store)
    accounts.add_user("platform-x", hash_password("correct horse battery"), "analyst")
    token = accounts.create_token("platform-x", scope="check")
    Watchlists(store).add("ana", "phone", "+12065550143", watchlist="partner")
    hook = wh.add_webhook(store, receiver.url, ["watchlist.hit"], "test")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tracelight", "serve", "--api-only",
                             "--workers", "2", "--port", str(port), "--db", db],
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        answers = []
        deadline = time.monotonic() + 120
        while len(answers) < 6 and time.monotonic() < deadline:
            try:  # a fresh connection each time
                answers.append(Client(f"http://127.0.0.1:{port}", token).check(
                    title="Book club", body="We meet on Tuesday.")["action"])
            except (OSError, ClientError):
                time.sleep(0.2)
        assert answers == ["allow"] * 6
        assert tree_rss_mb(proc.pid)[1] >= 3  # the supervisor and its two workers
        path = tmp_path / "a.jsonl"
        path.write_text('{"id": "a1", "source": "site", "body": "call 206-555-0143"}\n',
                        encoding="utf-8")
        ingest(store, [str(path)], workers=1)  # queues watchlist.hit; sends nothing
        while not receiver.got and time.monotonic() < deadline:
            time.sleep(0.1)
        [(headers, body)] = receiver.got
        assert wh.verify(hook.secret, headers["x-tracelight-timestamp"], body,
                         headers["x-tracelight-signature"])
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
        store.close()
    assert proc.returncode == 0, err.decode()[-2000:]
