"""The platform flow end to end against a real server process: `tracelight serve --api-only`
on 127.0.0.1 (a random free port), driven by `tracelight.client`: check ads (allow, review,
block by the policy), push a feed, and receive HMAC-signed webhooks for watchlist hits at a
local receiver; every call is in the audit log with its caller and verdict."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_servers import Receiver
from local_servers import leaks_phone as _leaks
from tracelight.client import Client, ClientError
from tracelight.images.banks import BankEntry
from tracelight.services import webhooks as wh
from tracelight.services.banks import import_bank
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.store.cases import Watchlists
from tracelight.web.auth import hash_password

pytestmark = pytest.mark.slow

POLICY = """\
version: 1
dry_run: false
default: allow
rules:
  - name: banked-picture
    signal: bank_match
    at_least: 1
    action: block
  - name: watched-identifier
    signal: watchlist_hit
    at_least: 1
    action: review
"""


def _picture() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 30, 200)).save(out, format="PNG")
    return out.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(pred: Any, seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[dict[str, Any]]:
    receiver = Receiver()
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    os.environ["TRACELIGHT_WEBHOOK_ALLOW_PRIVATE"] = "1"
    try:
        store = open_store(db_url)
        accounts = Accounts(store)
        accounts.add_user("trust-safety", hash_password("correct horse battery"), "analyst")
        check_token = accounts.create_token("trust-safety", "checks", scope="check")
        ingest_token = accounts.create_token("trust-safety", "feed", scope="ingest")
        Watchlists(store).add("trust-safety", "phone", "+12065550143", "case 7",
                              watchlist="partner")
        import_bank(store, "known", [BankEntry("md5", hashlib.md5(_picture()).hexdigest(),
                                               "case 1")])
        hook = wh.add_webhook(store, receiver.url, ["watchlist.hit"], "test")
        store.close()
    finally:
        del os.environ["TRACELIGHT_WEBHOOK_ALLOW_PRIVATE"]
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "TRACELIGHT_WEBHOOK_ALLOW_PRIVATE": "1",
           "TRACELIGHT_POLICY": str(tmp_path / "policy.yaml"), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "tracelight", "serve", "--api-only",
                               "--db", db_url, "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            return False

    try:
        assert _wait(up, 90), "the server did not start"
        yield {"base": base, "check": check_token, "ingest": ingest_token, "db": db_url,
               "receiver": receiver, "secret": hook.secret}
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()
        receiver.close()


def test_platform_flow_against_a_real_server(platform: dict[str, Any]) -> None:
    checks = Client(platform["base"], platform["check"])
    feed = Client(platform["base"], platform["ingest"])
    receiver: Receiver = platform["receiver"]

    # allow: nothing the policy cares about
    ok = checks.check(title="bike for sale", body="barely used, pick up downtown")
    assert ok["action"] == "allow" and ok["policy"]["rule"] is None and ok["stored"] is None
    # review: a watched phone (the webhook comes after the answer)
    watched = checks.check(title="hi", body="call 206-555-0143 tonight")
    assert watched["action"] == "review" and watched["policy"]["rule"] == "watched-identifier"
    assert watched["watchlist_hits"][0]["watchlist"] == "partner"
    # block: a picture in the hash bank
    banked = checks.check(title="photos", body="see the picture", images=[_picture()])
    assert banked["action"] == "block" and banked["policy"]["rule"] == "banked-picture"
    assert banked["bank_hits"][0]["bank"] == "known"

    assert _wait(lambda: len(receiver.got) >= 1)
    headers, body = receiver.got[0]
    assert headers["x-tracelight-event"] == "watchlist.hit"
    assert wh.verify(platform["secret"], headers["x-tracelight-timestamp"], body,
                     headers["x-tracelight-signature"])
    assert not wh.verify("not-the-secret", headers["x-tracelight-timestamp"], body,
                         headers["x-tracelight-signature"])
    assert json.loads(body)["data"]["action"] == "review"
    # verdicts and ids, never the ad's text or its phone (not b"206": a timestamp may hold it)
    assert not _leaks(body)

    # push a feed: one clean ad, one with the watched phone, one bad record
    pushed = feed.push_ads([{"id": "f1", "source": "plat", "body": "a lamp"},
                            {"id": "f2", "source": "plat", "body": "text 206 555 0143"},
                            {"source": "plat", "body": "no id"}])
    assert pushed["summary"]["new"] == 2 and pushed["summary"]["rejected"] == 1
    assert [r["status"] for r in pushed["results"]] == ["accepted", "accepted", "rejected"]
    assert _wait(lambda: len(receiver.got) >= 2)
    headers, body = receiver.got[1]
    assert wh.verify(platform["secret"], headers["x-tracelight-timestamp"], body,
                     headers["x-tracelight-signature"])
    data = json.loads(body)["data"]
    assert data["via"] == "push" and data["watches"][0]["ad"] == "plat/f2"

    # scopes hold: the check token may not push, the feed token may not check
    with pytest.raises(ClientError) as no_push:
        checks.push_ads([{"id": "x", "source": "plat", "body": "b"}])
    assert no_push.value.status == 403
    with pytest.raises(ClientError) as no_check:
        feed.check(title="a", body="b")
    assert no_check.value.status == 403
    with pytest.raises(ClientError) as no_token:
        Client(platform["base"], "tl_not-a-token").check(title="a")
    assert no_token.value.status == 401

    # every call is on the record with its caller and verdict, never the ad's text
    store = open_store(platform["db"])
    try:
        accounts = Accounts(store)
        _n, entries = accounts.audit_entries(action="api.check", limit=None)
        verdicts = sorted(e["detail"]["action"] for e in entries)
        assert verdicts == ["allow", "block", "review"]
        assert {e["username"] for e in entries} == {"trust-safety"}
        assert not _leaks(json.dumps([e["detail"] for e in entries]).encode())
        _n, pushes = accounts.audit_entries(action="api.ads", limit=None)
        assert len(pushes) == 1 and pushes[0]["detail"]["new"] == 2
        _n, denied = accounts.audit_entries(action="access.denied", limit=None)
        assert len(denied) == 2
        assert accounts.log.verify().ok
    finally:
        store.close()
