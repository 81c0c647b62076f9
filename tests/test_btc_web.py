"""Owner page, and author / wallet-owner evidence on the ad and network pages (TestClient):
login, escaping, links both ways."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tracelight.records import AdRecord, ProcessedAd
from tracelight.services.link import stored_networks, update_networks
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.store.authorship import AuthorLink, StoredAttribution
from tracelight.web.auth import hash_password
from web_helpers import PASSWORD, USERS, login, make_app

OWNER = "owner:<script>x</script>"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("btcweb")
    store = open_store(f"sqlite:///{tmp / 'web.db'}")
    t = datetime(2026, 2, 1, 10, tzinfo=UTC)
    store.write_batch(None, [ProcessedAd(AdRecord(
        id=f"a{i}", source="s", title=f"ad {i}", body=f"words of ad number {i} " * 3,
        posted_at=t)) for i in range(4)])
    pks = [store.get_ad(f"a{i}", "s").pk for i in range(4)]
    store.replace_author_links([AuthorLink(pks[0], pks[1], 0.97, ("same emoji: <b>",), True)])
    store.replace_btc_attributions(
        [StoredAttribution(pks[1], OWNER, "payment", 1, 1.0, "medium", "tx1", t, 90.0, 0.0003,
                           12.0, 12.0, 0.0),
         StoredAttribution(pks[2], OWNER, "written", 1, 1.0, "medium")],
        {"bc1qdemoaaaa": OWNER})
    update_networks(store)
    accounts = Accounts(store)
    for name, role in USERS.items():
        accounts.add_user(name, hash_password(PASSWORD), role)
    yield store, tmp
    store.close()


def _client(site: Any) -> TestClient:
    store, tmp = site
    client = TestClient(make_app(store, tmp))
    assert login(client, "ana").status_code in (302, 303)
    return client


def test_evidence_reaches_networks_and_pages(site: Any) -> None:
    store, _tmp = site
    (net,) = list(stored_networks(store))
    assert set(net.ad_ids) == {"a0", "a1", "a2"}
    assert {e.kind for e in net.evidence} == {"author", "wallet_owner"}
    client = _client(site)
    r = client.get(f"/btc/owners/{OWNER}")
    assert r.status_code == 200
    assert "<script>x" not in r.text and "&lt;script&gt;" in r.text
    assert "bc1qdemoaaaa" in r.text and "/ads/s/a1" in r.text and net.network_id in r.text
    r = client.get("/ads/s/a1")
    assert r.status_code == 200 and "Who wrote it and who paid" in r.text
    assert "/btc/owners/" in r.text and "/ads/s/a0" in r.text and "<b>" not in r.text
    r = client.get(f"/networks/{net.network_id}")
    assert r.status_code == 200 and "Bitcoin owners who paid" in r.text
    assert "author" in r.text and "wallet_owner" in r.text
    assert client.get("/btc/owners/owner:none").status_code == 404


def test_owner_page_needs_a_login(site: Any) -> None:
    store, tmp = site
    r = TestClient(make_app(store, tmp)).get(f"/btc/owners/{OWNER}", follow_redirects=False)
    assert r.status_code in (302, 303, 401)
