"""Accounts, audit, cases and watchlists on both backends (SQLite and PostgreSQL), and the
workspace's own queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tracelight.errors import NotFoundError, StoreError, UsageError
from tracelight.records import AdRecord, ImageInfo, Mention, ProcessedAd
from tracelight.services.queue import AdFilter, ad_queue, filter_choices
from tracelight.store.accounts import Accounts
from tracelight.store.cases import Cases, Watchlists, check_watchlists
from tracelight.web.app import create_app
from tracelight.web.auth import LoginLimiter, hash_password, sign, unsign, verify_password
from tracelight.web.sample import make_ads
from web_helpers import PASSWORD, login


def test_users_sessions_tokens(store: Any) -> None:
    acc = Accounts(store)
    u = acc.add_user("ana", hash_password(PASSWORD), "analyst")
    assert u.can("export") and not u.can("admin")
    with pytest.raises(UsageError, match="already exists"):
        acc.add_user("ana", "x", "viewer")
    with pytest.raises(UsageError, match="unknown role"):
        acc.add_user("bo", "x", "boss")
    with pytest.raises(UsageError, match="invalid user name"):
        acc.add_user("no spaces", "x", "viewer")
    found = acc.password_hash("ana")
    assert found and verify_password(found[1], PASSWORD) and not verify_password(found[1], "x")
    sid, csrf = acc.create_session(u.pk, timedelta(hours=1))
    assert acc.session_user(sid) == (acc.get_user("ana"), csrf)
    expired, _ = acc.create_session(u.pk, timedelta(seconds=-1))
    assert acc.session_user(expired) is None
    token = acc.create_token("ana")
    assert acc.user_for_token(token).username == "ana"  # type: ignore[union-attr]
    acc.set_disabled("ana")
    assert acc.session_user(sid) is None and acc.user_for_token(token) is None
    assert acc.secret("k") == acc.secret("k") and len(acc.secret("k")) > 40
    with pytest.raises(NotFoundError):
        acc.get_user("nobody")


def test_audit_is_append_only(store: Any) -> None:
    acc = Accounts(store)
    acc.audit("ana", "search", "phone:+12065550100", reason="tip", detail={"n": 1})
    total, rows = acc.audit_entries(action="sea")
    assert total == 1 and rows[0]["reason"] == "tip" and rows[0]["detail"] == {"n": 1}
    for stmt in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(StoreError, match="append-only"), store.transaction() as conn:
            conn.execute(sa.text(stmt))
    assert [r["action"] for r in acc.iter_audit()] == ["search"]


def test_cases_and_watchlists(store: Any) -> None:
    cases = Cases(store)
    c = cases.create("Lead 1", "ana", tags="tip, urgent, tip")
    assert c.tags == ["tip", "urgent"]
    assert cases.add_item(c.pk, "ad", "3", "ana") and not cases.add_item(c.pk, "ad", "3", "ana")
    cases.add_note(c.pk, "ana", "same photo")
    c = cases.update(c.pk, status="closed", assignee="bo")
    assert c.status == "closed" and len(c.items) == 1 and c.notes[0]["text"] == "same photo"
    with pytest.raises(UsageError):
        cases.update(c.pk, status="done")
    assert cases.list_cases()[0]["n_items"] == 1

    w = Watchlists(store)
    assert w.add("ana", "phone", "+12065550100") and not w.add("ana", "phone", "+12065550100")
    w.add("ana", "social", "@Ana_0")
    w.add("bo", "image", "AB" * 32)
    res = store.write_batch(None, [
        ProcessedAd(AdRecord(id="1", source="s", body="call 206 555 0100"),
                    [Mention("phone", "+12065550100", "body", 5, 17)]),
        ProcessedAd(AdRecord(id="2", source="s", body="insta ana_0"),
                    [Mention("social", "instagram:ana_0", "body", 6, 11)],
                    images=[ImageInfo(0, "a.jpg", sha256="ab" * 32, md5="0" * 32)]),
        ProcessedAd(AdRecord(id="3", source="s", body="nothing here")),
    ])
    pks = [store.get_ad(i).pk for i in ("1", "2", "3")]
    assert check_watchlists(store, res.written_pks or pks) == 3
    assert check_watchlists(store, pks) == 0
    assert w.unread_count("ana") == 2 and w.unread_count("bo") == 1
    w.mark_read("ana")
    assert w.unread_count("ana") == 0 and len(w.notifications("ana")) == 2
    assert {x["hits"] for x in w.list_watches("ana")} == {1}


def test_workspace_queue_and_lookups(store: Any) -> None:
    store.write_batch(None, list(make_ads(64)))
    page = ad_queue(store, AdFilter(), limit=10)
    assert page.scored and page.total == 64 and [a.risk for a in page.ads] == sorted(
        (a.risk for a in page.ads), reverse=True)
    ads = ad_queue(store, AdFilter(location="reno", category="dating"), limit=50).ads
    assert all("Reno" in a.location and a.extra["category"] == "dating" for a in ads)
    assert store.entity_values("social", "@ANA_0") == ["instagram:ana_0"]
    assert store.search_text("friendly", limit=5, offset=0, cap=2000)[0] == 64
    if store.dialect == "sqlite":  # PostgreSQL ranks with its GIN index, uncapped
        assert store.search_text("friendly", limit=5, offset=0, cap=10)[0] == 11
    shared = store.ads_sharing(ads[0].pk if ads else 1)
    assert all(s.shared for s in shared)
    assert set(filter_choices(store)["categories"]) == {"companionship", "massage", "dating"}


def test_app_on_this_backend(store: Any) -> None:
    """A short walk through the app on each backend (PostgreSQL included)."""
    store.write_batch(None, list(make_ads(16)))
    Accounts(store).add_user("ana", hash_password(PASSWORD), "admin")
    c = TestClient(create_app(store, secret_key="k", limiter=LoginLimiter()))
    assert login(c, "ana").status_code == 303
    assert c.get("/api/search", params={"phone": "206-555-0100"}).json()["total"] == 8
    assert c.get("/api/search", params={"q": "friendly"}).json()["total"] == 16
    assert c.get("/api/queue").json()["total"] == 16
    assert c.get("/api/ads/ad-0000001").json()["identifiers"]
    for url in ("/queue", "/search?kind=q&q=Ana", "/ads/1", "/audit"):
        assert c.get(url).status_code == 200, url


def test_cookie_signature() -> None:
    signed = sign("key", "abc")
    assert unsign("key", signed) == "abc"
    assert unsign("other", signed) is None
    assert unsign("key", signed[:-1] + ("0" if signed[-1] != "0" else "1")) is None
    assert unsign("key", "garbage") is None
