"""The triage queue in the workspace, through the ASGI app: checkboxes and the bulk-action bar
(CSRF-guarded, analysts only), a network closed at once with the count of its ads, the "mine"
and "all" views, and the keyboard shortcuts listed on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tracelight.store.audit import AuditLog
from web_helpers import build_store, csrf, login, make_app


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory,
        demo_corpus_dir: Path) -> Iterator[tuple[Any, Any]]:
    tmp = tmp_path_factory.mktemp("triage")
    store = build_store(tmp, demo_corpus_dir, link=True)
    yield store, make_app(store, tmp)
    store.close()


def _client(env: tuple[Any, Any], user: str) -> TestClient:
    c = TestClient(env[1])
    assert login(c, user).status_code == 303
    return c


def _refs(html: str) -> list[str]:
    return re.findall(r'name="ref" value="([^"]+)"', html)


@pytest.mark.slow
def test_bulk_mark_assign_network_and_views(env: tuple[Any, Any]) -> None:
    store, _app = env
    bo = _client(env, "bo")
    page = bo.get("/queue")
    assert page.status_code == 200
    assert "<kbd>j</kbd>" in page.text and "calibration" in page.text
    refs = _refs(page.text)
    ads = [r for r in refs if not r.startswith("network:")]
    nets = [r for r in refs if r.startswith("network:")]
    assert len(ads) >= 3 and nets
    token = csrf(bo, "/queue")
    # no CSRF token: refused, nothing changed
    r = bo.post("/queue/review", data={"ref": ads[:2], "action": "mark", "state": "escalated"})
    assert r.status_code == 403 and store.review_counts() == {}
    r = bo.post("/queue/review", data={"csrf_token": token, "ref": ads[:2], "action": "mark",
                                       "state": "no concern",
                                       "reason": "duplicate of a reviewed ad"},
                follow_redirects=False)
    assert r.status_code == 303
    after = bo.get(r.headers["location"])
    assert "no concern: 2 ad(s) touched" in after.text
    assert not set(ads[:2]) & set(_refs(after.text))
    assert set(ads[:2]) <= set(_refs(bo.get("/queue?view=all").text))
    # a whole network at once, and the count of its ads
    size = len(store.member_pks(nets[0][len("network:"):]))
    r = bo.post("/queue/review", data={"csrf_token": token, "ref": [nets[0]],
                                       "action": "mark", "state": "escalated"})
    assert f"escalated: {size} ad(s) in 1 network(s) touched" in r.text
    assert nets[0] not in _refs(r.text)
    r = bo.post("/queue/review", data={"csrf_token": token, "ref": [ads[2]],
                                       "action": "assign", "to": "bo"})
    assert "assigned: 1 ad(s) touched" in r.text
    mine = bo.get("/queue?view=mine")
    assert [x for x in _refs(mine.text) if not x.startswith("network:")] == [ads[2]]
    assert "in review by bo" in mine.text
    # bad input: one clear error, nothing written
    r = bo.post("/queue/review", data={"csrf_token": token, "ref": [ads[3]],
                                       "action": "mark", "state": "no concern"})
    assert r.status_code == 400 and "needs a reason" in r.text
    marks = [e for e in AuditLog(store).iter() if e["action"] == "review.mark"]
    assert {e["username"] for e in marks} == {"bo"} and len(marks) == 3
    # viewers read but may not act
    cy = _client(env, "cy")
    r = cy.post("/queue/review", data={"csrf_token": csrf(cy, "/queue"), "ref": [ads[3]],
                                       "action": "mark", "state": "escalated"})
    assert r.status_code == 403


@pytest.mark.slow
def test_whats_new_page(env: tuple[Any, Any]) -> None:
    store, _app = env
    bo = _client(env, "bo")
    page = bo.get("/new?since=7d")
    assert page.status_code == 200
    assert "New ads in watched networks" in page.text and "Networks that grew" in page.text
    assert "Watchlist hits" in page.text
    assert bo.get("/new?since=<script>").status_code == 200  # unknown spans fall back to 24h
    assert any(e["action"] == "digest" and e["username"] == "bo"
               for e in AuditLog(store).iter())
    anon = TestClient(env[1])
    assert anon.get("/new", follow_redirects=False).status_code in (303, 401)
