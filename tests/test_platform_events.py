"""Webhook events raised when ads arrive (ingest, the push API) and when money alerts are
scored, delivered to a local receiver on 127.0.0.1 and checked by their HMAC signature."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_servers import Receiver
from local_servers import leaks_phone as _leaks
from tracelight.services import alerts
from tracelight.services import webhooks as wh
from tracelight.services.ingest import ingest
from tracelight.services.push import push_ads
from tracelight.store import open_store
from tracelight.store.cases import Watchlists

PHONE = "+12065550143"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("TRACELIGHT_WEBHOOK_ALLOW_PRIVATE", "1")
    s = open_store(f"sqlite:///{tmp_path / 'ev.db'}")
    yield s
    s.close()


def _jsonl(path: Path, ads: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(a) + "\n" for a in ads), encoding="utf-8")
    return str(path)


def _payloads(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    out = []
    for headers, body in receiver.got:
        assert wh.verify(secret, headers["x-tracelight-timestamp"], body,
                         headers["x-tracelight-signature"])
        payload = json.loads(body)
        assert payload["event"] == headers["x-tracelight-event"]
        out.append(payload)
    return out


def test_ingest_watchlist_hit_sends_a_signed_webhook(store: Any, receiver: Receiver,
                                                      tmp_path: Path) -> None:
    Watchlists(store).add("ana", "phone", PHONE, "case 7", watchlist="partner")
    hook = wh.add_webhook(store, receiver.url, ["watchlist.hit"], "test")
    ingest(store, [_jsonl(tmp_path / "a.jsonl", [
        {"id": "a1", "source": "site", "body": "call 206-555-0143 now"},
        {"id": "a2", "source": "site", "body": "nothing to see"}])], workers=1)
    assert Watchlists(store).unread_count("ana") == 1  # the in-app notification, as before
    assert wh.deliver_due(store).sent == 1
    [payload] = _payloads(receiver, hook.secret)
    assert payload["event"] == "watchlist.hit" and payload["data"]["via"] == "ingest"
    assert payload["data"]["watches"] == [{"id": 1, "watchlist": "partner", "kind": "phone",
                                          "ad": "site/a1"}]
    assert not _leaks(receiver.got[0][1])  # ids and verdicts, never the ad's text
    # the same ad again: the watch already notified for it, so no second event
    ingest(store, [_jsonl(tmp_path / "b.jsonl", [
        {"id": "a1", "source": "site", "body": "call 206-555-0143 now"}])], workers=1)
    assert wh.deliver_due(store).sent == 0


def test_push_api_watchlist_hit_says_push(store: Any, receiver: Receiver) -> None:
    Watchlists(store).add("ana", "email", "watched.person@example.org")
    hook = wh.add_webhook(store, receiver.url, ["watchlist.hit", "bank.match"], "test")
    body = b'{"id": "p1", "source": "plat", "body": "mail watched.person@example.org"}\n'
    result = push_ads(store, body)
    assert result.summary["new"] == 1
    assert wh.deliver_due(store).sent == 1
    [payload] = _payloads(receiver, hook.secret)
    assert payload["data"]["via"] == "push"
    assert payload["data"]["watches"][0]["ad"] == "plat/p1"


def test_nothing_queued_or_sent_without_a_subscriber(store: Any, tmp_path: Path) -> None:
    Watchlists(store).add("ana", "phone", PHONE)
    ingest(store, [_jsonl(tmp_path / "a.jsonl", [
        {"id": "a1", "source": "site", "body": "call 206-555-0143"}])], workers=1)
    assert Watchlists(store).unread_count("ana") == 1
    assert wh.deliver_due(store) == wh.DeliveryRun(0, 0, 0)


def test_ingest_bank_match_sends_a_webhook_with_the_ads(store: Any, receiver: Receiver,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    from images_helpers import scene
    from tracelight import pipeline
    from tracelight.images.banks import BankEntry
    from tracelight.images.stage import ImageStage
    from tracelight.services.banks import import_bank
    corpus = tmp_path / "corpus"
    (corpus / "images").mkdir(parents=True)
    scene(corpus / "images" / "a.jpg", 1)
    digest = hashlib.md5((corpus / "images" / "a.jpg").read_bytes()).hexdigest()
    import_bank(store, "known", [BankEntry("md5", digest, "case 1")])
    hook = wh.add_webhook(store, receiver.url, ["bank.match"], "test")
    monkeypatch.setattr(pipeline, "build_stages",
                        lambda opts: [ImageStage(str(tmp_path / "kept"))])
    ingest(store, [_jsonl(corpus / "ads.jsonl", [
        {"id": "1", "source": "demo", "body": "one", "images": ["images/a.jpg"]}])], workers=1)
    assert wh.deliver_due(store).sent == 1
    [payload] = _payloads(receiver, hook.secret)
    [match] = payload["data"]["matches"]
    assert match["bank"] == "known" and match["kind"] == "md5" and match["distance"] == 0
    assert match["ads"] == ["demo/1"] and payload["data"]["via"] == "ingest"


def test_ingest_tie_to_a_high_risk_network_sends_a_webhook(store: Any, receiver: Receiver,
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    from tracelight.services.link import update_networks
    ingest(store, [_jsonl(tmp_path / "a.jsonl", [
        {"id": f"n{i}", "source": "site", "body": f"new girl in town, call 206-555-0143 #{i}"}
        for i in range(3)])], workers=1)
    update_networks(store)
    [nid] = {store.network_id_of(a.pk) for a in store.iter_ads()}
    assert nid
    monkeypatch.setattr(alerts, "HIGH_RISK_NETWORK", 0.0)  # whatever the network scores
    hook = wh.add_webhook(store, receiver.url, ["network.high_risk"], "test")
    push_ads(store, b'{"id": "late", "source": "site", "body": "ask for 206 555 0143"}\n')
    assert wh.deliver_due(store).sent == 1
    [payload] = _payloads(receiver, hook.secret)
    [item] = payload["data"]["ads"]
    assert item["ad"] == "site/late" and item["networks"][0]["id"] == nid
    assert item["networks"][0]["matched"] == ["phone"] and payload["data"]["via"] == "push"


def test_ad_tied_only_to_low_risk_networks_sends_nothing(store: Any, receiver: Receiver,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from tracelight.services.link import update_networks
    ingest(store, [_jsonl(tmp_path / "a.jsonl", [
        {"id": f"n{i}", "source": "site", "body": f"call 206-555-0143 #{i}"}
        for i in range(2)])], workers=1)
    update_networks(store)
    monkeypatch.setattr(alerts, "HIGH_RISK_NETWORK", 1.01)  # no network is that risky
    wh.add_webhook(store, receiver.url, ["network.high_risk"], "test")
    push_ads(store, b'{"id": "late", "source": "site", "body": "ask for 206 555 0143"}\n')
    assert wh.deliver_due(store).sent == 0


@pytest.mark.slow
def test_money_alerts_sent_once_per_new_alert(store: Any, receiver: Receiver,
                                              tmp_path: Path) -> None:
    from tracelight.finance.generator import generate
    from tracelight.services import finance
    generate(tmp_path / "bank", accounts=120, seed=4)
    with (tmp_path / "bank" / "accounts.csv").open("rb") as fh:
        finance.ingest_accounts(store, "accounts.csv", fh)
    with (tmp_path / "bank" / "transactions.csv").open("rb") as fh:
        finance.ingest_transactions(store, [("transactions.csv", fh)])
    hook = wh.add_webhook(store, receiver.url, ["money.alert"], "test")
    result = finance.score(store, link=False)
    assert result.alerts
    assert wh.deliver_due(store).sent >= 1
    sent = [a for p in _payloads(receiver, hook.secret) for a in p["data"]["alerts"]]
    assert sorted(a["alert_id"] for a in sent) == sorted(a.alert_id for a in result.alerts)
    assert {"account", "typologies", "score"} <= set(sent[0])
    finance.score(store, link=False)  # the same alerts again: nothing new to say
    assert wh.deliver_due(store).sent == 0


def test_webhook_cli_knows_money_alert() -> None:
    from tracelight.cli.webhook_cmd import EVENT_NAMES
    assert EVENT_NAMES == wh.EVENTS


def test_link_run_sends_new_high_risk_networks_once(store: Any, receiver: Receiver,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`tracelight link` raises network.high_risk for the networks it made (or that became
    high-risk), not only a check or an arriving ad; a later run repeats none of them."""
    from tracelight.services.link import update_networks
    monkeypatch.setattr(alerts, "HIGH_RISK_NETWORK", 0.0)  # whatever the network scores
    hook = wh.add_webhook(store, receiver.url, ["network.high_risk"], "test")
    ingest(store, [_jsonl(tmp_path / "a.jsonl", [
        {"id": f"n{i}", "source": "site", "body": f"new girl in town, call 206-555-0143 #{i}"}
        for i in range(3)])], workers=1)
    update_networks(store)
    [nid] = {store.network_id_of(a.pk) for a in store.iter_ads()}
    assert wh.deliver_due(store).sent == 1
    [payload] = _payloads(receiver, hook.secret)
    assert payload["data"]["via"] == "link"
    [net] = payload["data"]["networks"]
    assert net["id"] == nid and net["size"] == 3 and set(net) == {"id", "risk", "size"}
    assert not _leaks(receiver.got[0][1])  # ids and scores, never the ads' text
    # a second network appears: only it is new
    ingest(store, [_jsonl(tmp_path / "b.jsonl", [
        {"id": f"m{i}", "source": "site", "body": f"call 312-555-0177 today #{i}"}
        for i in range(2)])], workers=1)
    update_networks(store)
    assert wh.deliver_due(store).sent == 1
    [_first, second] = _payloads(receiver, hook.secret)
    assert [n["id"] for n in second["data"]["networks"]] != [nid]
    update_networks(store, rebuild=True)  # the same networks again: nothing new to say
    assert wh.deliver_due(store).sent == 0


def test_link_run_queues_nothing_without_a_subscriber(store: Any, tmp_path: Path) -> None:
    from tracelight.services.link import update_networks
    from tracelight.store.webhooks import Webhooks
    ingest(store, [_jsonl(tmp_path / "a.jsonl", [
        {"id": f"n{i}", "source": "site", "body": f"call 206-555-0143 #{i}"}
        for i in range(2)])], workers=1)
    update_networks(store)
    assert Webhooks(store).deliveries() == []
    assert store.link_blobs([alerts.HIGH_RISK_BLOB])[alerts.HIGH_RISK_BLOB] is None


def _wait_for(cond: Any, seconds: float = 20.0) -> bool:
    """Poll until `cond()` holds (a background thread's work), giving up after `seconds`."""
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return bool(cond())


def test_server_deliverer_sends_what_ingest_queued(store: Any, receiver: Receiver,
                                                   tmp_path: Path) -> None:
    """Deliveries queued by `tracelight ingest` go out from a running server, without
    `tracelight webhook deliver`."""
    Watchlists(store).add("ana", "phone", PHONE, "case 7", watchlist="partner")
    hook = wh.add_webhook(store, receiver.url, ["watchlist.hit"], "test")
    deliverer = wh.Deliverer(store, every=0.05)
    deliverer.start()
    try:
        ingest(store, [_jsonl(tmp_path / "a.jsonl", [
            {"id": "a1", "source": "site", "body": "call 206-555-0143 now"}])], workers=1)
        assert _wait_for(lambda: len(receiver.got) == 1)
    finally:
        deliverer.stop()
    [payload] = _payloads(receiver, hook.secret)
    assert payload["data"]["via"] == "ingest"
    from tracelight.store.webhooks import Webhooks
    assert [d.status for d in Webhooks(store).deliveries()] == ["sent"]


def test_serve_app_runs_the_deliverer_and_stops_it(store: Any) -> None:
    from fastapi.testclient import TestClient

    from tracelight.web.app import create_app
    app = create_app(store, secret_key="k", api_only=True, warm=True)
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        deliverer = app.state.deliverer
        assert deliverer._thread is not None and deliverer._thread.is_alive()
    assert deliverer._thread is None


def test_a_claimed_delivery_is_sent_by_one_sender_only(store: Any, receiver: Receiver) -> None:
    """Two senders (two server workers, or a worker and cron) never send one delivery
    twice: the first to claim it sends it."""
    from datetime import timedelta

    from tracelight.records import utcnow
    from tracelight.store.webhooks import Webhooks
    wh.add_webhook(store, receiver.url, ["bank.match"], "test")
    wh.emit(store, "bank.match", {})
    repo = Webhooks(store)
    [due] = repo.due()
    assert repo.claim(due, utcnow() + timedelta(minutes=2)) is True
    assert repo.claim(due, utcnow() + timedelta(minutes=2)) is False  # taken
    assert wh.deliver_due(store).sent == 0 and receiver.got == []  # not due while claimed
    later = utcnow() + timedelta(minutes=3)  # its sender died: due again after the claim
    assert wh.deliver_due(store, now=later).sent == 1 and len(receiver.got) == 1


def test_an_arriving_ad_with_a_hub_phone_raises_no_network_event(
        store: Any, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A phone the linker reported as a hub (a site's number, a hotline) ties an arriving ad
    to no network, as it joins no ads (the check API treats it the same)."""
    from tracelight.services.link import update_networks
    from tracelight.store.networks import StoredHub
    ingest(store, [_jsonl(tmp_path / "a.jsonl", [
        {"id": f"n{i}", "source": "site", "body": f"new girl in town, call 206-555-0143 #{i}"}
        for i in range(3)])], workers=1)
    update_networks(store)
    monkeypatch.setattr(alerts, "HIGH_RISK_NETWORK", 0.0)
    monkeypatch.setattr(type(store), "hubs", lambda self: [
        StoredHub("phone", PHONE, 5000, 900, "shared by too many unrelated ads")])
    wh.add_webhook(store, receiver.url, ["network.high_risk"], "test")
    push_ads(store, b'{"id": "late", "source": "site", "body": "ask for 206 555 0143"}\n')
    assert wh.deliver_due(store).sent == 0
