"""The platform API (POST /api/v1/check, /api/v1/ads) over ASGI, against a store built by the
real pipeline (extract, images, score, link), with a hash bank and a watchlist."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tracelight.images.banks import BankEntry
from tracelight.services.banks import import_bank
from tracelight.store.accounts import Accounts
from tracelight.store.cases import Watchlists
from web_helpers import build_store, make_app


def _png(colour: tuple[int, int, int] = (200, 40, 90), size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, colour)
    for x in range(size[0]):  # some structure, so PDQ has something to hash
        img.putpixel((x, x % size[1]), (x * 7 % 256, 10, 200))
    img.save(out, format="PNG")
    return out.getvalue()


BANKED = _png()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory,
        demo_corpus_dir: Path) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("platform")
    store = build_store(tmp, demo_corpus_dir, link=True)
    import hashlib
    import_bank(store, "test-bank", [BankEntry("md5", hashlib.md5(BANKED).hexdigest(), "x")])
    # a phone of a stored ad that belongs to a network
    facts: dict[str, Any] = {}
    for ad in store.iter_ads():
        if store.network_id_of(ad.pk):
            phones = [m.value for m in store.mentions_for([ad.pk]).get(ad.pk, [])
                      if m.kind == "phone"]
            if phones:
                facts["net_phone"], facts["net_id"] = phones[0], store.network_id_of(ad.pk)
                break
    Watchlists(store).add("bo", "email", "watched.person@example.org", "test",
                          watchlist="platform-test")
    accounts = Accounts(store)
    facts["token"] = accounts.create_token("bo", "platform test")
    app = make_app(store, tmp)
    yield store, app, facts
    store.close()


@pytest.fixture
def client(env: tuple[Any, Any, dict[str, Any]]) -> TestClient:
    c = TestClient(env[1])
    c.headers["Authorization"] = f"Bearer {env[2]['token']}"
    return c


def test_text_check_scores_and_stores_nothing(env: Any, client: TestClient) -> None:
    store = env[0]
    before = store.count_ads()
    r = client.post("/api/v1/check", json={"title": "Quiet evening",
                                           "body": "Book club meets Tuesday at the library."})
    assert r.status_code == 200, r.text
    out = r.json()
    assert 0 <= out["risk"] <= 1 and out["action"] == "allow" and out["stored"] is None
    assert out["policy"]["rule"] is None
    assert store.count_ads() == before
    total, rows = Accounts(store).audit_entries(limit=1, action="api.check")
    assert total >= 1 and rows[0]["username"] == "bo"
    detail = rows[0]["detail"]
    assert detail["action"] == "allow" and "Book club" not in json.dumps(rows[0], default=str)


def test_risky_text_gets_reasons_with_spans_and_review(client: TestClient) -> None:
    body = ("new in town, young sweet girl, 100% real, no police, cash only, "
            "text 206-555-0143 incall outcall 24/7")
    out = client.post("/api/v1/check", json={"title": "NEW IN TOWN just 18",
                                             "body": body}).json()
    assert out["reasons"] and any(r["evidence"] for r in out["reasons"])
    assert any(i["kind"] == "phone" for i in out["identifiers"])
    if out["risk"] >= 0.7:
        assert out["action"] == "review" and "high-risk" in out["policy"]["fired"]


def test_known_network_matched_with_evidence(env: Any, client: TestClient) -> None:
    facts = env[2]
    if "net_phone" not in facts:
        pytest.skip("the demo corpus linked no network with a phone")
    digits = facts["net_phone"]
    out = client.post("/api/v1/check", json={"title": "hello",
                                             "body": f"call me {digits}"}).json()
    nets = {n["id"]: n for n in out["networks"]}
    assert facts["net_id"] in nets
    assert {"kind": "phone", "value": digits} in nets[facts["net_id"]]["matched"]
    assert out["signals"]["network_match"] >= 1


def test_watchlist_hit_means_review(client: TestClient) -> None:
    out = client.post("/api/v1/check", json={
        "title": "hi", "body": "write to Watched.Person@example.org"}).json()
    assert out["watchlist_hits"][0]["watchlist"] == "platform-test"
    assert out["watchlist_hits"][0]["matched"] == "watched.person@example.org"
    assert out["action"] == "review" and out["policy"]["rule"] == "watchlist-hit"


def test_bank_match_by_bytes_and_by_hash_blocks(client: TestClient) -> None:
    import hashlib
    data = base64.b64encode(BANKED).decode()
    out = client.post("/api/v1/check", json={"title": "a", "body": "b",
                                             "images": [{"data": data}]}).json()
    assert out["bank_hits"][0]["bank"] == "test-bank"
    assert out["images"][0]["width"] == 32
    assert out["action"] == "block" and out["policy"]["rule"] == "bank-match"
    out = client.post("/api/v1/check", json={"title": "a", "body": "b", "images": [
        {"md5": hashlib.md5(BANKED).hexdigest()}]}).json()
    assert out["action"] == "block"
    other = base64.b64encode(_png((10, 200, 10))).decode()
    out = client.post("/api/v1/check", json={"title": "a", "body": "b",
                                             "images": [{"data": other}]}).json()
    assert out["bank_hits"] == []


def test_store_true_keeps_the_ad(env: Any, client: TestClient) -> None:
    store = env[0]
    before = store.count_ads()
    out = client.post("/api/v1/check", json={"id": "plat-1", "source": "platform-x",
                                             "title": "hello", "body": "a plain ad",
                                             "store": True}).json()
    assert out["stored"] == {"source": "platform-x", "id": "plat-1", "status": "new"}
    assert store.count_ads() == before + 1
    again = client.post("/api/v1/check", json={"id": "plat-1", "source": "platform-x",
                                               "title": "hello", "body": "a plain ad",
                                               "store": True}).json()
    assert again["stored"]["status"] == "unchanged"


@pytest.mark.parametrize(("payload", "status", "words"), [
    (b"not json", 400, "not valid UTF-8 JSON"),
    (b"[]", 400, "invalid"),
    (json.dumps({"title": "", "body": ""}).encode(), 400, "neither title nor body"),
    (json.dumps({"title": "a", "images": [{"data": "***"}]}).encode(), 400, "base64"),
    (json.dumps({"title": "a", "images": [{"md5": "xyz"}]}).encode(), 400, "images[0]"),
    (json.dumps({"title": "a", "images": [{}]}).encode(), 400, "images[0]"),
    (json.dumps({"title": "a", "images": [{"data": base64.b64encode(b"junk").decode()}]}
                ).encode(), 200, ""),
])
def test_bad_input_is_one_clear_4xx(client: TestClient, payload: bytes, status: int,
                                    words: str) -> None:
    r = client.post("/api/v1/check", content=payload,
                    headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    if status != 200:
        assert words in r.json()["detail"]
    else:
        assert r.json()["images"][0]["error"] == "not a recognised image format"


def test_body_size_limit(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACELIGHT_API_MAX_BODY_BYTES", "1000")
    r = client.post("/api/v1/check", json={"title": "a", "body": "x" * 2000})
    assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_needs_authentication(env: Any) -> None:
    r = TestClient(env[1]).post("/api/v1/check", json={"title": "a"})
    assert r.status_code == 401


def _bearer(app: Any, token: str) -> TestClient:
    c = TestClient(app)
    c.headers["Authorization"] = f"Bearer {token}"
    return c


def test_scoped_tokens(env: Any) -> None:
    store, app, _facts = env
    accounts = Accounts(store)
    check = _bearer(app, accounts.create_token("bo", "svc", scope="check"))
    read = _bearer(app, accounts.create_token("bo", "svc", scope="read"))
    viewer_ingest = _bearer(app, accounts.create_token("cy", "svc", scope="ingest"))
    ad = {"title": "hello", "body": "a plain ad"}
    assert check.post("/api/v1/check", json=ad).status_code == 200
    # a check token may not store, read the workspace API or open pages
    r = check.post("/api/v1/check", json={**ad, "id": "x", "store": True})
    assert r.status_code == 403 and "scope" in r.json()["detail"]
    assert check.get("/api/queue").status_code == 403
    assert check.get("/queue", follow_redirects=False).status_code == 403
    # read: the read-only JSON API, not checks, not writes
    assert read.get("/api/queue").status_code == 200
    assert read.post("/api/v1/check", json=ad).status_code == 403
    assert read.post("/api/cases", json={"title": "x"}).status_code == 403
    # the scope never widens the role: a viewer's ingest token may not ingest
    assert viewer_ingest.post("/api/v1/check", json={**ad, "store": True}).status_code == 403
    listed = {t.scope for t in accounts.list_tokens("bo")}
    assert {"check", "read"} <= listed


def test_unknown_scope_refused(env: Any) -> None:
    from tracelight.errors import UsageError
    with pytest.raises(UsageError, match="unknown token scope"):
        Accounts(env[0]).create_token("bo", scope="admin")


def test_api_only_serves_the_platform_api_and_healthz(env: Any, tmp_path: Path) -> None:
    from tracelight.web.app import create_app
    store, _app, facts = env
    app = create_app(store, secret_key="k", api_only=True)
    anon = TestClient(app)
    assert anon.get("/healthz").json() == {"status": "ok"}
    assert anon.get("/queue", follow_redirects=False).status_code == 401
    assert anon.post("/api/v1/check", json={"title": "a"}).status_code == 401
    c = _bearer(app, facts["token"])
    assert c.post("/api/v1/check", json={"title": "a", "body": "b"}).status_code == 200
    assert c.get("/queue").status_code == 404
    assert c.get("/api/queue").status_code == 404
    assert c.get("/login").status_code == 404
    spec = c.get("/api/v1/openapi.json").json()
    assert "/api/v1/check" in spec["paths"]


def test_push_ads_jsonl_and_array_with_ingest_rules(env: Any) -> None:
    store, app, _facts = env
    c = _bearer(app, Accounts(store).create_token("bo", "feed", scope="ingest"))
    before = store.count_ads()
    feed = (json.dumps({"id": "p-1", "source": "feed-x", "title": "one", "body": "first ad"})
            + "\n" + "{broken\n" + json.dumps({"source": "feed-x", "title": "no id"}) + "\n"
            + json.dumps({"id": "p-2", "source": "feed-x", "title": "two",
                          "body": "second", "images": ["/etc/passwd"]}) + "\n")
    r = c.post("/api/v1/ads", content=feed.encode(),
               headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["summary"]["new"] == 2 and out["summary"]["rejected"] == 2
    by_line = {x["line"]: x for x in out["results"]}
    assert by_line[1] == {"line": 1, "id": "p-1", "status": "accepted"}
    assert by_line[2]["status"] == "rejected" and "invalid JSON" in by_line[2]["reason"]
    assert "id" in by_line[3]["reason"]
    assert store.count_ads() == before + 2
    # idempotent: the same feed again changes nothing; a JSON array works the same
    again = c.post("/api/v1/ads", json=[{"id": "p-1", "source": "feed-x", "title": "one",
                                         "body": "first ad"}]).json()
    assert again["summary"]["unchanged"] == 1 and store.count_ads() == before + 2
    _total, audit_rows = Accounts(store).audit_entries(limit=1, action="api.ads")
    assert audit_rows[0]["detail"]["unchanged"] == 1


def test_push_refusals(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store, app, facts = env
    check_only = _bearer(app, Accounts(store).create_token("bo", "svc", scope="check"))
    assert check_only.post("/api/v1/ads", json=[]).status_code == 403
    c = _bearer(app, facts["token"])
    assert c.post("/api/v1/ads", json={"id": 1}).status_code == 400
    assert c.post("/api/v1/ads", content=b"", headers={
        "content-type": "application/x-ndjson"}).status_code == 400
    monkeypatch.setenv("TRACELIGHT_API_MAX_BODY_BYTES", "100")
    r = c.post("/api/v1/ads", content=b"x" * 500,
               headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 413


def test_openapi_documents_bodies_with_examples(env: Any, client: TestClient) -> None:
    from tracelight.web.api_models import describe
    spec = client.get("/api/openapi.json").json()
    op = spec["paths"]["/api/v1/check"]["post"]
    body = op["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/CheckIn"} and body["example"]
    comps = spec["components"]["schemas"]
    assert "images" in comps["CheckIn"]["properties"] and "ImageIn" in comps
    assert comps["CheckOut"]["examples"]
    assert "application/x-ndjson" in spec["paths"]["/api/v1/ads"]["post"]["requestBody"][
        "content"]
    docs = {(e["method"], e["path"]): e for e in describe(spec)["endpoints"]}
    check = docs[("post", "/api/v1/check")]
    assert check["body"] == "CheckIn" and check["answer"] == "CheckOut"
    assert {f["name"] for f in check["body_fields"]} >= {"title", "body", "images", "store"}
