"""Accounts, audit, cases and watchlists on both backends (SQLite and PostgreSQL), and the
workspace's own queries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
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
from web_helpers import PASSWORD, facts, ingest_demo, login


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


def test_workspace_queue_and_lookups(store: Any, demo_corpus_dir: Path) -> None:
    ingest_demo(store, demo_corpus_dir)  # the real pipeline: extract and score each demo ad
    F = facts(demo_corpus_dir)
    page = ad_queue(store, AdFilter(), limit=10)
    assert page.scored and page.total == F.n_ads and [a.risk for a in page.ads] == sorted(
        (a.risk for a in page.ads), reverse=True)
    there = [a for a in F.by_id.values() if F.city.lower() in a["location"].lower()]
    category = there[0]["category"]
    page = ad_queue(store, AdFilter(location=F.city.lower(), category=category), limit=50)
    assert page.total == len([a for a in there if a["category"] == category]) > 0
    assert all(F.city in a.location and a.extra["category"] == category for a in page.ads)
    _platform, handle = F.handle.split(":")
    assert F.handle in store.entity_values("social", "@" + handle.upper())
    assert store.search_text(F.name, limit=5, offset=0)[0] == len(F.name_ids) > 2
    if store.dialect == "sqlite":  # PostgreSQL ranks with its GIN index, uncapped
        cap = len(F.name_ids) - 2
        assert store.search_text(F.name, limit=5, offset=0, cap=cap)[0] == cap + 1
    shared = store.ads_sharing(store.get_ad(F.phone_ids[0]).pk)
    assert shared and all(s.shared for s in shared)
    assert set(filter_choices(store)["categories"]) == {a["category"]
                                                        for a in F.by_id.values()}


def test_app_on_this_backend(store: Any, demo_corpus_dir: Path) -> None:
    """A short walk through the app on each backend (PostgreSQL included)."""
    ingest_demo(store, demo_corpus_dir)
    F = facts(demo_corpus_dir)
    Accounts(store).add_user("ana", hash_password(PASSWORD), "admin")
    c = TestClient(create_app(store, secret_key="k", limiter=LoginLimiter()))
    assert login(c, "ana").status_code == 303
    assert c.get("/api/search", params={"phone": F.phone_written}).json()["total"] == \
        len(F.phone_ids)
    assert c.get("/api/search", params={"q": F.name}).json()["total"] == len(F.name_ids)
    assert c.get("/api/queue").json()["total"] == F.n_ads
    assert c.get(f"/api/ads/{F.phone_ids[0]}").json()["identifiers"]
    for url in ("/queue", "/search?kind=q&q=Ana", "/ads/1", "/audit"):
        assert c.get(url).status_code == 200, url


def test_cookie_signature() -> None:
    signed = sign("key", "abc")
    assert unsign("key", signed) == "abc"
    assert unsign("other", signed) is None
    assert unsign("key", signed[:-1] + ("0" if signed[-1] != "0" else "1")) is None
    assert unsign("key", "garbage") is None
