"""The workspace over HTTP, in process: authorisation on every route, CSRF, sessions, the API,
case export, image reveal, watchlists and the audit log."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from html import escape as html_escape
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tracelight.errors import StoreError
from tracelight.images.banks import BankEntry
from tracelight.records import AdRecord, Mention, ProcessedAd
from tracelight.services import networks as network_service
from tracelight.services.banks import import_bank
from tracelight.store.accounts import Accounts
from tracelight.web import check_watchlists, create_demo_admin
from web_helpers import Facts, build_store, csrf, facts, login, make_app


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory,
        demo_corpus_dir: Path) -> Iterator[tuple[Any, Any, Path]]:
    tmp = tmp_path_factory.mktemp("web")
    store = build_store(tmp, demo_corpus_dir)
    app = make_app(store, tmp)
    yield store, app, tmp
    store.close()


@pytest.fixture(scope="module")
def F(demo_corpus_dir: Path) -> Facts:
    """The demo corpus's ground truth: what every page below must show."""
    return facts(demo_corpus_dir)


@pytest.fixture
def anon(env: tuple[Any, Any, Path]) -> TestClient:
    return TestClient(env[1])


def client_for(env: tuple[Any, Any, Path], user: str) -> TestClient:
    c = TestClient(env[1])
    r = login(c, user)
    assert r.status_code == 303, r.text
    return c


@pytest.fixture
def admin(env: tuple[Any, Any, Path]) -> TestClient:
    return client_for(env, "ana")


@pytest.fixture
def analyst(env: tuple[Any, Any, Path]) -> TestClient:
    return client_for(env, "bo")


@pytest.fixture
def viewer(env: tuple[Any, Any, Path]) -> TestClient:
    return client_for(env, "cy")


def _concrete(path: str) -> str:
    return (path.replace("{pk}", "1").replace("{position}", "0").replace("{item_pk}", "1")
            .replace("{ad_id}", "demo-000001").replace("{network_id}", "1"))


def _routes(app: Any) -> list[tuple[str, str]]:
    def walk(routes: Any) -> Any:
        for route in routes:
            inner = getattr(route, "original_router", None)  # FastAPI wraps included routers
            if inner is not None:
                yield from walk(inner.routes)
            else:
                yield route

    out = []
    for route in walk(app.routes):
        for method in getattr(route, "methods", None) or ():
            if method in ("HEAD", "OPTIONS") or route.path.startswith("/static"):
                continue
            out.append((method, route.path))
    return out


def test_healthz_is_the_only_open_route(anon: TestClient, env: tuple[Any, Any, Path]) -> None:
    assert anon.get("/healthz").json() == {"status": "ok"}
    checked = 0
    for method, path in _routes(env[1]):
        if path in ("/healthz", "/login"):
            continue
        r = anon.request(method, _concrete(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code)
        else:
            assert r.status_code == 303, (method, path, r.status_code)
            assert r.headers["location"].startswith("/login?next=")
        checked += 1
    assert checked > 30
    # unknown paths too: nothing is revealed about what exists
    assert anon.get("/nothing-here", follow_redirects=False).status_code == 303
    assert anon.get("/api/nothing", follow_redirects=False).status_code == 401


def test_login_sets_a_hardened_cookie_and_security_headers(anon: TestClient) -> None:
    r = login(anon, "bo")
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = anon.get("/queue")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "http" not in csp  # no external origin anywhere
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "cdn" not in page.text.lower() and "https://" not in page.text.split("<main>")[0]


def test_wrong_password_disabled_user_and_rate_limit(env: tuple[Any, Any, Path]) -> None:
    c = TestClient(env[1])
    assert login(c, "bo", "wrong password!").status_code == 401
    assert login(c, "dee").status_code == 401  # disabled: right password, still refused
    assert login(c, "nobody").status_code == 401
    for _ in range(5):
        login(c, "cy", "not the password")
    assert login(c, "cy").status_code == 429  # delayed (never locked), even the right password
    env[1].state.ctx.limiter.succeeded("cy")
    _total, rows = Accounts(env[0]).audit_entries(action="login.failed")
    assert any(r["username"] == "dee" for r in rows)


def test_login_form_needs_its_csrf_token(anon: TestClient) -> None:
    r = anon.post("/login", data={"username": "bo", "password": "x", "csrf_token": "forged"},
                  follow_redirects=False)
    assert r.status_code == 403


def test_login_never_redirects_off_site(anon: TestClient) -> None:
    from web_helpers import PASSWORD, login_token
    token = login_token(anon)
    r = anon.post("/login", data={"username": "bo", "password": PASSWORD, "csrf_token": token,
                                  "next": "https://evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_csrf_is_enforced_on_every_form_post(analyst: TestClient) -> None:
    r = analyst.post("/cases", data={"title": "no token"}, follow_redirects=False)
    assert r.status_code == 403
    r = analyst.post("/cases", data={"title": "no token", "csrf_token": "wrong"},
                     follow_redirects=False)
    assert r.status_code == 403
    r = analyst.post("/api/cases", json={"title": "json without header"})
    assert r.status_code == 403
    r = analyst.post("/cases", data={"title": "with token", "csrf_token": csrf(analyst)},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/")
    r = analyst.post("/api/cases", json={"title": "json with header"},
                     headers={"X-CSRF-Token": csrf(analyst)})
    assert r.status_code == 201


def test_logout_ends_the_session(env: tuple[Any, Any, Path]) -> None:
    c = client_for(env, "bo")
    assert c.post("/logout", data={"csrf_token": csrf(c)}, follow_redirects=False
                  ).status_code == 303
    assert c.get("/queue", follow_redirects=False).status_code == 303


def test_search_phone_as_written_or_e164(analyst: TestClient, F: Facts) -> None:
    a = analyst.get("/api/search", params={"phone": F.phone_written}).json()
    b = analyst.get("/api/search", params={"phone": F.phone}).json()
    assert a["total"] == b["total"] == len(F.phone_ids) > 1
    assert {r["id"] for r in a["results"]} <= set(F.phone_ids)
    assert set(a) >= {"total", "results"}
    first = a["results"][0]
    assert {"id", "source", "title", "risk", "top_reasons", "posted_at"} <= set(first)
    assert analyst.get("/api/search", params={"phone": "call me"}).status_code == 400
    assert analyst.get("/api/search", params={"phone": "1", "email": "x"}).status_code == 400


def test_search_text_email_handle(analyst: TestClient, F: Facts) -> None:
    assert analyst.get("/api/search", params={"q": F.name}).json()["total"] == len(F.name_ids)
    assert analyst.get("/api/search", params={"email": F.email.title()}).json()["total"] == \
        len(F.email_ids) > 1
    r = analyst.get("/api/search", params={"handle": "@" + F.handle.split(":")[1].upper()})
    assert r.json()["total"] == len(F.handle_ids) > 1
    spaced = " ".join(["".join(ch for ch in F.phone_written if ch.isdigit())[-10:][i:j]
                       for i, j in ((0, 3), (3, 6), (6, 10))])
    page = analyst.get("/search", params={"kind": "phone", "q": spaced, "reason": "tip 42"})
    assert page.status_code == 200 and f"{len(F.phone_ids)} ads" in page.text


def test_queue_orders_by_risk_and_filters(analyst: TestClient, F: Facts) -> None:
    q = analyst.get("/api/queue", params={"limit": 50}).json()
    risks = [r["risk"] for r in q["results"]]
    assert q["scored"] and risks == sorted(risks, reverse=True) and q["total"] == F.n_ads
    city = analyst.get("/api/queue", params={"city": F.city.lower()}).json()
    assert 0 < city["total"] < F.n_ads
    assert all(F.city in r["location"] for r in city["results"])
    cat = analyst.get("/api/queue", params={"category": F.category}).json()
    assert 0 < cat["total"] < F.n_ads
    assert all(r["category"] == F.category for r in cat["results"])
    assert analyst.get("/api/queue", params={"since": "yesterday"}).status_code == 400
    page = analyst.get("/queue", params={"source": F.source})
    assert page.status_code == 200 and "Networks not built yet" in page.text


def test_ad_page_and_api_show_evidence(analyst: TestClient, env: tuple[Any, Any, Path],
                                       F: Facts) -> None:
    ad = analyst.get(f"/api/ads/{F.network_ad_id}").json()
    assert ad["id"] == F.network_ad_id and ad["identifiers"]
    assert any(i["kind"] == "phone" for i in ad["identifiers"])
    assert ad["similar"], "ads of the same advertiser share the phone"
    # the scorer's own reasons, as the real pipeline stored them
    assert ad["risk"] is not None
    assert analyst.get("/api/ads/nope").status_code == 404
    pk = ad["pk"]
    html = analyst.get(f"/ads/{pk}").text
    assert 'class="m-ident' in html  # the phone span is highlighted
    assert "/blurred" in html and "Reveal (audited)" in html
    assert "Networks not built yet" in html
    _t, rows = Accounts(env[0]).audit_entries(action="ad.view", username="bo")
    assert rows


def test_the_scorers_own_reasons_reach_the_api_and_the_page(analyst: TestClient) -> None:
    """The store was filled by the real scorer: its reasons, codes from the catalogue and
    evidence spans into the text, are what the workspace shows."""
    from tracelight.score.catalogue import load_catalogue

    codes = set(load_catalogue().codes)
    top = analyst.get("/api/queue", params={"limit": 1}).json()["results"][0]
    ad = analyst.get(f"/api/ads/{top['id']}").json()
    assert ad["risk"] == top["risk"] and ad["reasons"]
    assert all(r["code"] in codes for r in ad["reasons"])
    spans = [(r, ev) for r in ad["reasons"] for ev in r["evidence"]]
    assert spans
    for _r, ev in spans:
        assert ad[ev["field"]][ev["start"]:ev["end"]] == ev["text"]
    from markupsafe import escape

    html = analyst.get(f"/ads/{ad['pk']}").text
    assert all(str(escape(r["label"])) in html for r in ad["reasons"])


def test_images_blurred_reveal_audited_and_bank_matches_withheld(
        analyst: TestClient, viewer: TestClient, env: tuple[Any, Any, Path], F: Facts) -> None:
    pk = F.pk(F.image_id)  # an ad whose picture the ingest hashed and kept
    assert analyst.get(f"/ads/{pk}/images/0/blurred").headers["content-type"] == "image/png"
    assert analyst.post(f"/ads/{pk}/images/0/reveal", data={}).status_code == 403  # no CSRF
    token = csrf(analyst, f"/ads/{pk}")
    r = analyst.post(f"/ads/{pk}/images/0/reveal", data={"csrf_token": token,
                                                     "reason": "compare photos"})
    assert r.status_code == 200 and f"/ads/{pk}/images/0/full" in r.text
    assert analyst.get(f"/ads/{pk}/images/0/full").status_code == 200
    _t, rows = Accounts(env[0]).audit_entries(action="image.", username="bo")
    assert {r["action"] for r in rows} == {"image.thumbnail", "image.reveal", "image.view"}
    assert any(r["reason"] == "compare photos" for r in rows)
    assert viewer.get(f"/ads/{pk}/images/0/full").status_code == 403  # viewers cannot reveal
    # the image's real hash in a bank: never shown again, in any form
    store = env[0]
    sha = next(i.sha256 for i in store.images_for(pk) if i.position == 0)
    assert sha and import_bank(store, "test-bank", [BankEntry("sha256", sha, "test")]).new_matches
    try:
        assert analyst.get(f"/ads/{pk}/images/0/blurred").status_code == 403
        assert analyst.get(f"/ads/{pk}/images/0/full").status_code == 403
        assert "Withheld" in analyst.get(f"/ads/{pk}").text
    finally:
        store.delete_bank("test-bank")
    assert analyst.get(f"/ads/{pk}/images/0/blurred").status_code == 200  # bank gone: shown


def test_networks_degrade_before_linking(analyst: TestClient) -> None:
    r = analyst.get("/api/networks/1")
    assert r.status_code == 404 and "not built" in r.json()["detail"]
    assert analyst.get("/api/networks").json() == {"built": False, "total": 0, "results": []}


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory,
           demo_corpus_dir: Path) -> Iterator[tuple[Any, TestClient]]:
    """A second workspace over the same demo corpus, its ads joined into networks by the
    real linker."""
    tmp = tmp_path_factory.mktemp("linked")
    store = build_store(tmp, demo_corpus_dir, link=True)
    c = TestClient(make_app(store, tmp))
    assert login(c, "bo").status_code == 303
    yield store, c
    store.close()


def test_networks_render_once_linked(linked: tuple[Any, TestClient], F: Facts) -> None:
    store, analyst = linked
    phone_pks = {F.pk(i) for i in F.phone_ids}  # ads that share one phone (ground truth)
    nid = store.network_id_of(F.pk(F.phone_ids[0]))
    assert nid is not None
    assert phone_pks <= set(store.member_pks(nid))  # the linker put them in one network
    net = analyst.get(f"/api/networks/{nid}").json()
    assert net["n_ads"] == len(store.member_pks(nid)) >= len(phone_pks)
    assert net["graph"]["nodes"] and net["graph"]["edges"] and net["itinerary"]
    assert any(i["kind"] == "phone" and i["n_ads"] == len(phone_pks)
               for i in net["identifiers"])
    html = analyst.get(f"/networks/{nid}").text
    assert 'id="graph"' in html and "cytoscape.min.js" in html and "Itinerary" in html


def test_networks_ranked_as_the_cli_queue_ranks_them(linked: tuple[Any, TestClient]) -> None:
    """One ranking: the workspace lists networks in the order `tracelight queue` does, with
    the risk score_network gives them from their member ads."""
    store, analyst = linked
    listed = analyst.get("/api/networks", params={"limit": 20}).json()
    ranked = network_service.network_queue(store, 20)
    assert listed["built"] and [n["id"] for n in listed["results"]] == [r.id for r in ranked]
    assert [n["risk"] for n in listed["results"]] == [r.risk for r in ranked]
    top = listed["results"][0]
    assert isinstance(top["risk"], float) and top["cities"] >= 1
    assert top["size"] == len(store.member_pks(top["id"])) >= 2
    assert analyst.get("/api/queue").json()["networks"][0]["id"] == top["id"]
    assert analyst.get("/api/networks/nope").status_code == 404
    pk = store.member_pks(top["id"])[0]
    ad = analyst.get(f"/api/ads/{store.get_ad_by_pk(pk).ad_id}").json()
    assert ad["networks"][0]["id"] == top["id"] and ad["networks"][0]["risk"] == top["risk"]
    assert html_escape(top["label"]) in analyst.get(f"/ads/{pk}").text
    html = analyst.get(f"/networks/{top['id']}").text
    assert "Why this is a lead" in html and "What links these ads" in html
    assert html_escape(top["label"]) in analyst.get("/queue").text


def test_cases_export_and_viewer_cannot(analyst: TestClient, viewer: TestClient,
                                        env: tuple[Any, Any, Path], F: Facts) -> None:
    token = Accounts(env[0]).create_token("bo")
    h = {"Authorization": f"Bearer {token}"}
    bearer = TestClient(env[1])
    case = bearer.post("/api/cases", json={"title": "Route 5 lead", "tags": ["tip"]},
                       headers=h).json()
    pk = case["id"]
    assert bearer.post(f"/api/cases/{pk}/items", json={"kind": "ad", "ref": "2"},
                       headers=h).json() == {"added": True}
    bearer.post(f"/api/cases/{pk}/items", json={"kind": "identifier",
                                                "ref": f"phone:{F.phone}"}, headers=h)
    bearer.post(f"/api/cases/{pk}/notes", json={"text": "same photo as ad 3"}, headers=h)
    up = bearer.patch(f"/api/cases/{pk}", json={"status": "in review", "assignee": "ana"},
                      headers=h).json()
    assert up["status"] == "in review" and up["assignee"] == "ana"
    assert bearer.patch(f"/api/cases/{pk}", json={"status": "bogus"}, headers=h
                        ).status_code == 400
    r = analyst.get(f"/cases/{pk}/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    assert set(zf.namelist()) == {"case.csv", "evidence.json", "manifest.sha256"}
    for line in zf.read("manifest.sha256").decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(zf.read(name)).hexdigest() == digest
    evidence = json.loads(zf.read("evidence.json"))
    assert evidence["case"]["title"] == "Route 5 lead" and evidence["ads"][0]["mentions"]
    assert F.ids[1] in zf.read("case.csv").decode()  # the ad with pk 2
    # viewers read cases but can neither change nor export them
    assert viewer.get(f"/cases/{pk}").status_code == 200
    assert viewer.get(f"/cases/{pk}/export").status_code == 403
    assert viewer.get(f"/api/cases/{pk}/export").status_code == 403
    assert viewer.post("/cases", data={"title": "x", "csrf_token": csrf(viewer)},
                       follow_redirects=False).status_code == 403
    _t, rows = Accounts(env[0]).audit_entries(action="export.case")
    assert rows and rows[0]["detail"]["sha256"] == hashlib.sha256(r.content).hexdigest()


def test_add_to_case_from_ad_page(analyst: TestClient) -> None:
    token = csrf(analyst, "/ads/5")
    r = analyst.post("/cases/add", data={"csrf_token": token, "case": "new",
                                         "new_title": "From the ad page", "kind": "ad",
                                         "ref": "5", "label": "board-c/ad-0000004"})
    assert r.status_code == 200 and "From the ad page" in r.text and "board-c/ad-0000004" in r.text


def test_bearer_tokens(env: tuple[Any, Any, Path]) -> None:
    c = TestClient(env[1])
    assert c.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    token = Accounts(env[0]).create_token("cy")
    assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == \
        "viewer"
    # a token may write without CSRF (no cookie involved), within its user's role
    assert c.post("/api/cases", json={"title": "x"},
                  headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_disabled_user_loses_sessions_and_tokens(env: tuple[Any, Any, Path]) -> None:
    accounts = Accounts(env[0])
    from tracelight.web.auth import hash_password
    accounts.add_user("eve", hash_password("another password"), "analyst")
    c = TestClient(env[1])
    assert login(c, "eve", "another password").status_code == 303
    token = accounts.create_token("eve")
    accounts.set_disabled("eve", True)
    assert c.get("/queue", follow_redirects=False).status_code == 303
    assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_openapi_only_for_logged_in_users(anon: TestClient, viewer: TestClient) -> None:
    assert anon.get("/api/openapi.json").status_code == 401
    schema = viewer.get("/api/openapi.json").json()
    for path in ("/api/search", "/api/ads/{ref}", "/api/networks/{network_id}", "/api/queue"):
        assert path in schema["paths"]
    assert "/api/search" in viewer.get("/api/docs").text


def test_audit_log_admin_only_and_append_only(admin: TestClient, analyst: TestClient,
                                              env: tuple[Any, Any, Path]) -> None:
    analyst.get("/search", params={"kind": "q", "q": "Bella", "reason": "case 7"})
    assert analyst.get("/audit").status_code == 403
    assert analyst.get("/api/audit").status_code == 403
    rows = admin.get("/api/audit", params={"action": "search", "user": "bo"}).json()["results"]
    assert any(r["reason"] == "case 7" and r["target"] == "q:Bella" for r in rows)
    assert "q:Bella" in admin.get("/audit").text
    lines = admin.get("/audit/export", params={"format": "jsonl"}).text.splitlines()
    assert lines and all(json.loads(line)["action"] for line in lines)
    csv_text = admin.get("/api/audit/export", params={"format": "csv"}).text
    assert csv_text.startswith("id,at,username,action")
    with pytest.raises(StoreError, match="append-only"), env[0].transaction() as conn:
        conn.execute(sa.text("DELETE FROM audit_log"))


def test_watchlist_notifies_on_new_ads(analyst: TestClient, env: tuple[Any, Any, Path]) -> None:
    h = {"X-CSRF-Token": csrf(analyst, "/watchlists")}
    r = analyst.post("/api/watchlist", json={"kind": "phone", "value": "(509) 555-0177"},
                     headers=h).json()
    assert r["value"] == "+15095550177"
    store = env[0]
    new = ProcessedAd(AdRecord(id="watch-1", source="board-z", body="text 509 555 0177"),
                      [Mention("phone", "+15095550177", "body", 5, 17)])
    result = store.write_batch(None, [new])
    pk = store.get_ad("watch-1").pk
    assert check_watchlists(store, result.written_pks or [pk]) == 1
    assert check_watchlists(store, [pk]) == 0  # never twice for one ad
    notes = analyst.get("/api/notifications").json()["results"]
    assert notes[0]["ad_pk"] == pk and not notes[0]["read"]
    page = analyst.get("/watchlists").text
    assert "+15095550177" in page and 'class="badge"' in page


def test_demo_admin_must_change_password(env: tuple[Any, Any, Path]) -> None:
    name, password = create_demo_admin(env[0], "demo")
    c = TestClient(env[1])
    r = login(c, name, password)
    assert r.status_code == 303 and r.headers["location"] == "/account"
    assert "one-time password" in c.get("/queue").text
    token = csrf(c, "/account")
    r = c.post("/account/password", data={"csrf_token": token, "current": password,
                                          "new": "a brand new pass", "repeat": "a brand new pass"})
    assert "Password changed" in r.text
    assert "one-time password" not in c.get("/queue").text


def test_every_page_renders(admin: TestClient) -> None:
    for url in ("/queue", "/search", "/search?kind=crypto&q=bc1qxyz", "/ads/1", "/networks",
                "/cases", "/watchlists", "/audit", "/account", "/api/docs"):
        r = admin.get(url)
        assert r.status_code == 200, url
        assert "possible victim" in r.text or "lead for human review" in r.text, url
    assert admin.get("/ads/999999").status_code == 404
    assert admin.get("/static/vendor/htmx.min.js").status_code == 200
    assert admin.get("/static/vendor/cytoscape.min.js").status_code == 200


def test_photo_search_finds_the_ad_with_that_image(analyst: TestClient,
                                                  env: tuple[Any, Any, Path]) -> None:
    from PIL import Image

    from tracelight.images import hash_bytes
    buf = io.BytesIO()
    # a synthetic pattern (stripes), standing in for an ad photo
    im = Image.new("RGB", (96, 96), "white")
    for x in range(0, 96, 12):
        im.paste((20 * x % 256, 90, 160), (x, 0, x + 6, 96))
    im.save(buf, "PNG")
    data = buf.getvalue()
    info = hash_bytes(data, original="stripes.png")
    env[0].write_batch(None, [ProcessedAd(AdRecord(id="photo-1", source="board-p",
                                                   body="see my photo"), images=[info])])
    page = analyst.get("/search")
    assert 'action="/search/image"' in page.text
    r = analyst.post("/search/image", files={"photo": ("p.png", data, "image/png")},
                     data={"csrf_token": csrf(analyst, "/search"), "reason": "photo tip"})
    assert r.status_code == 200 and "photo-1" in r.text and "identical" in r.text
    assert analyst.post("/search/image", files={"photo": ("p.png", data, "image/png")}
                        ).status_code == 403  # CSRF
    _t, rows = Accounts(env[0]).audit_entries(action="search", username="bo")
    assert any(r["target"] == f"image:{info.sha256}" and r["reason"] == "photo tip"
               for r in rows)


def test_crypto_and_handle_lookups_use_stored_forms(analyst: TestClient,
                                                    env: tuple[Any, Any, Path]) -> None:
    addr = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
    env[0].write_batch(None, [ProcessedAd(
        AdRecord(id="crypto-1", source="board-q", body=f"send to {addr} or tg @Rose_77"),
        [Mention("crypto", f"BTC:{addr}", "body", 8, 8 + len(addr)),
         Mention("social", "telegram:rose_77", "body", 50, 58)])])
    assert analyst.get("/api/search", params={"crypto": addr}).json()["total"] == 1
    assert analyst.get("/api/search", params={"handle": "@ROSE_77"}).json()["total"] == 1
    assert analyst.get("/api/search", params={"handle": "telegram:rose_77"}).json()["total"] == 1
