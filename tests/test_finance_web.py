"""The workspace's money pages through the ASGI TestClient: login and roles, audit, escaping,
and links both ways (alert -> ads and networks, network -> bank accounts)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tracelight.finance.generator import generate
from tracelight.finance.records import Account
from tracelight.services import finance
from tracelight.services.ingest import ingest
from tracelight.services.link import update_networks
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.web.auth import hash_password
from web_helpers import PASSWORD, USERS, login, make_app


@pytest.fixture(scope="module")
def money(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("money")
    generate(tmp / "bank", accounts=300, seed=9)
    store = open_store(f"sqlite:///{tmp / 'web.db'}")
    ingest(store, [str(tmp / "bank" / "ads.jsonl")], workers=1)
    update_networks(store)
    with (tmp / "bank" / "accounts.csv").open("rb") as fh:
        finance.ingest_accounts(store, "accounts.csv", fh)
    store.write_fin_accounts([Account("EVIL1", kind="business",
                                      business_type="<script>alert(1)</script>")])
    with (tmp / "bank" / "transactions.csv").open("rb") as fh:
        finance.ingest_transactions(store, [("transactions.csv", fh)])
    finance.ingest_transactions(store, [("x.jsonl", io.BytesIO(
        b'{"tx_id": "E1", "timestamp": "2026-01-05T10:00:00", "amount": 5, '
        b'"from_account": "EVIL1", "channel": "card", "merchant": "<img src=x>"}\n'))])
    finance.score(store)
    accounts = Accounts(store)
    for name, role in USERS.items():
        accounts.add_user(name, hash_password(PASSWORD), role)
    yield store, tmp
    store.close()


def _client(money: Any, user: str | None) -> TestClient:
    store, tmp = money
    client = TestClient(make_app(store, tmp))
    if user:
        assert login(client, user).status_code in (302, 303)
    return client


@pytest.mark.slow
def test_pages_need_a_login(money: Any) -> None:
    client = _client(money, None)
    for path in ("/tx/alerts", "/tx/accounts/EVIL1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code in (302, 303, 401)


@pytest.mark.slow
def test_queue_alert_account_and_network_pages(money: Any) -> None:
    store, _ = money
    client = _client(money, "cy")  # a viewer reads
    page = client.get("/tx/alerts")
    assert page.status_code == 200 and "Money alerts" in page.text
    alerts = finance.alerts(store, limit=500)
    linked = next(a for a in alerts if a.linked_networks)
    r = client.get(f"/tx/alerts/{linked.alert_id}")
    assert r.status_code == 200
    assert "HUMAN TRAFFICKING FIN-2020-A008" in r.text and linked.linked_ads[0] in r.text
    assert linked.linked_networks[0] in r.text
    assert client.get(f"/tx/alerts/{linked.alert_id}/sar.txt").status_code == 403
    net = client.get(f"/networks/{linked.linked_networks[0]}")
    assert net.status_code == 200 and linked.account in net.text  # the other way round
    acct = client.get(f"/tx/accounts/{linked.account}")
    assert acct.status_code == 200 and linked.alert_id in acct.text
    assert client.get("/tx/alerts/TXA-nope").status_code == 404
    analyst = _client(money, "bo")
    sar = analyst.get(f"/tx/alerts/{linked.alert_id}/sar.txt")
    assert sar.status_code == 200 and sar.headers["content-type"].startswith("text/plain")
    _total, entries = Accounts(store).audit_entries(limit=200)
    actions = {(e["username"], e["action"]) for e in entries}
    assert {("cy", "tx.alerts.view"), ("cy", "tx.alert.view"), ("cy", "tx.account.view"),
            ("bo", "tx.sar.export")} <= actions


@pytest.mark.slow
def test_hostile_text_is_escaped(money: Any) -> None:
    client = _client(money, "cy")
    r = client.get("/tx/accounts/EVIL1")
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text
    assert "<img src=x>" not in r.text
