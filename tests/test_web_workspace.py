"""The workspace's lists and views, through the ASGI app on a store built by the real pipeline:
the network list (pages, totals, orders, readable names and labels), text search (marked
passages, escaped, a stated order), the full-size image view (audited), case items, the
itinerary map, the password page's reason and the API docs' fields."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.images.banks import BankEntry
from tracelight.link import geo
from tracelight.services import networks as network_service
from tracelight.services import search as search_service
from tracelight.services.banks import import_bank
from tracelight.store.accounts import Accounts
from tracelight.web import create_demo_admin
from web_helpers import Facts, build_store, csrf, facts, ingest_demo, login, make_app

HOSTILE_TITLE = 'Zebrafinch <script>alert("t")</script> evenings'
HOSTILE_BODY = ('Say hello to the zebrafinch: <mark>not ours</mark> and <script>steal()</script>'
                ' then more words. Call 503-555-0977 or write zebra.finch.test@example.org')
HOSTILE_PLACES = ["Seattle, WA, <b onmouseover=x()>", "Portland, OR, </text><script>x()</script>"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory,
        demo_corpus_dir: Path) -> Iterator[tuple[Any, Any, Path]]:
    """The demo corpus plus two hostile ads (markup in title, body and place) that share a
    phone and an email, ingested and linked by the real pipeline."""
    tmp = tmp_path_factory.mktemp("workspace")
    store = build_store(tmp, demo_corpus_dir)
    extra = tmp / "hostile"
    extra.mkdir()
    rows = [{"id": f"hostile-{i}", "source": "test-board", "title": HOSTILE_TITLE,
             "body": HOSTILE_BODY, "location": place,
             "posted_at": f"2026-11-0{i + 1}T10:00:00+00:00"}
            for i, place in enumerate(HOSTILE_PLACES)]
    (extra / "ads.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows),
                                     encoding="utf-8")
    ingest_demo(store, extra)
    from tracelight.services.link import update_networks

    update_networks(store)
    yield store, make_app(store, tmp), tmp
    store.close()


@pytest.fixture(scope="module")
def F(demo_corpus_dir: Path) -> Facts:
    return facts(demo_corpus_dir)


def client_for(env: tuple[Any, Any, Path], user: str) -> TestClient:
    c = TestClient(env[1])
    assert login(c, user).status_code == 303
    return c


@pytest.fixture
def analyst(env: tuple[Any, Any, Path]) -> TestClient:
    return client_for(env, "bo")


@pytest.fixture
def viewer(env: tuple[Any, Any, Path]) -> TestClient:
    return client_for(env, "cy")


def _hostile_network(store: Any) -> str:
    pk = store.get_ad("hostile-0", "test-board").pk
    nid = store.network_id_of(pk)
    assert nid is not None, "the two hostile ads share a phone and an email"
    return str(nid)


# ---- networks list ---------------------------------------------------------------------------

def test_network_list_pages_with_totals(analyst: TestClient, env: tuple[Any, Any, Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = env[0]
    total = store.count_networks()
    assert total >= 7
    whole = analyst.get("/api/networks", params={"limit": 500}).json()
    assert whole["total"] == total and len(whole["results"]) == total
    pages = [analyst.get("/api/networks", params={"limit": 3, "offset": o}).json()
             for o in range(0, total, 3)]
    assert all(p["total"] == total for p in pages)
    assert [n["id"] for p in pages for n in p["results"]] == [n["id"] for n in whole["results"]]
    assert pages[1]["first"] == 4 and pages[1]["last"] == 6
    html = analyst.get("/networks").text
    assert f"1–{min(total, 50)}</strong> of <strong>{total}</strong> networks" in html
    from tracelight.web.routes import pages as page_routes

    monkeypatch.setattr(page_routes, "PAGE", 3)
    second = analyst.get("/networks", params={"sort": "size", "page": 2}).text
    assert f"4–6</strong> of <strong>{total}</strong>" in second
    assert 'href="/networks?sort=size&page=3"' in second
    assert 'href="/networks?sort=size&page=1"' in second
    assert len(re.findall(r'<a href="/networks/net-', second)) == 3
    beyond = analyst.get("/networks", params={"page": 999}).text
    assert "No networks on this page" in beyond


def test_network_sort_orders_are_stated_and_kept(analyst: TestClient,
                                                 env: tuple[Any, Any, Path]) -> None:
    store = env[0]

    def listed(sort: str) -> list[dict[str, Any]]:
        got = analyst.get("/api/networks", params={"sort": sort, "limit": 500}).json()
        assert got["sort"] == sort and got["order"] == network_service.SORTS[sort]
        return list(got["results"])

    by_risk = listed("risk")
    assert [n["risk"] for n in by_risk] == sorted((n["risk"] for n in by_risk), reverse=True)
    # the one ranking: the same order and risks as the queue's and `tracelight queue`'s
    ranked = network_service.network_queue(store, 10)
    assert [n["id"] for n in by_risk[:10]] == [r.id for r in ranked]
    assert analyst.get("/api/queue").json()["networks"][0]["id"] == by_risk[0]["id"]
    by_size = listed("size")
    assert [n["size"] for n in by_size] == sorted((n["size"] for n in by_size), reverse=True)
    recent = listed("recent")
    seen = [n["last_seen"] for n in recent if n["last_seen"]]
    assert seen == sorted(seen, reverse=True)
    assert {n["id"] for n in by_risk} == {n["id"] for n in by_size} == {n["id"] for n in recent}
    for sort, words in network_service.SORTS.items():
        html = analyst.get("/networks", params={"sort": sort}).text
        assert f"networks, {words}" in html
        assert f'<strong aria-current="true">{words}</strong>' in html
    assert analyst.get("/networks", params={"sort": "nonsense"}).status_code == 400
    assert analyst.get("/api/networks", params={"sort": "nonsense"}).status_code == 422


def test_networks_have_readable_names_and_reason_labels(analyst: TestClient) -> None:
    results = analyst.get("/api/networks", params={"limit": 500}).json()["results"]
    html = analyst.get("/networks", params={"sort": "risk"}).text
    for n in results[:50]:
        assert n["id"] not in n["label"]  # a name, not the hash
        assert f"{n['size']} ads" in n["label"]
        assert n["places"] and n["label"].startswith(n["places"][0])
        for r in n["reasons"]:
            assert r["label"] and "_" not in r["label"]  # words, not a code
    chips = re.findall(r'<span class="chip"[^>]*>([^<]*)</span>', html)
    assert chips and not [c for c in chips if "_" in c]
    codes = {r["code"] for n in results for r in n["reasons"]}
    assert any("_" in c for c in codes)  # the codes exist ...
    assert not [c for c in codes if f">{c}<" in html]  # ... but the page shows labels
    assert "phone " in html and "…" in html  # "phone 206…0143"


def test_short_identifier_names() -> None:
    assert network_service.short_identifier("phone", "+12065550143") == "phone 206…0143"
    assert network_service.short_identifier("phone", "+447700900123") == "phone +447…0123"
    long = "0x" + "ab" * 20
    assert network_service.short_identifier("crypto", long).startswith("wallet 0xabab")
    assert "…" in network_service.short_identifier("crypto", long)


# ---- search ----------------------------------------------------------------------------------

def test_search_marks_words_in_escaped_passages(analyst: TestClient) -> None:
    html = analyst.get("/search", params={"kind": "q", "q": "zebrafinch"}).text
    assert "2 ads" in html
    assert "<script>" not in html.split("<main>", 1)[1]  # nothing from the ad runs
    assert "&lt;script&gt;" in html
    assert "&lt;mark&gt;not ours&lt;/mark&gt;" in html  # the ad's own <mark> is text
    marks = re.findall(r"<mark[^>]*>([^<]*)</mark>", html)
    assert marks and {m.lower() for m in marks} == {"zebrafinch"}
    assert all(tag == '<mark class="hit">' for tag in re.findall(r"<mark[^>]*>", html))
    assert 'class="snippet"' in html
    assert "Order: <strong>" + search_service.ORDERS["relevance"] + "</strong>" in html
    assert "showing 1–2" in html
    got = analyst.get("/api/search", params={"q": "zebrafinch"}).json()
    assert got["total"] == 2 and got["order"] == search_service.ORDERS["relevance"]


def test_search_order_stated_for_identifiers_and_nothing_found(analyst: TestClient,
                                                               F: Facts) -> None:
    html = analyst.get("/search", params={"kind": "phone", "q": F.phone}).text
    assert search_service.ORDERS["posted"] in html
    empty = analyst.get("/search", params={"kind": "q", "q": "qqqzzzxxyy"}).text
    assert "Nothing found" in empty and "Every word must appear" in empty


def test_snippet_cuts_around_the_first_match() -> None:
    terms = search_service.query_terms("Cafe")
    text = "word " * 100 + "the café opens " + "more " * 100
    segs = search_service.snippet(text, terms, width=80)
    joined = "".join(t for t, _ in segs)
    assert joined.startswith("…") and joined.endswith("…") and len(joined) < 120
    assert [t for t, hit in segs if hit] == ["café"]
    assert search_service.snippet("", terms) == []
    assert search_service.snippet("no match here", terms) == [("no match here", False)]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.text(max_size=40))
def test_snippet_pieces_are_the_text_and_hits_are_the_words(text: str, query: str) -> None:
    terms = search_service.query_terms(query)
    pieces = search_service.highlight_terms(text, terms)
    assert "".join(p for p, _ in pieces) == text
    assert all(search_service.query_terms(p) <= terms and p.strip() for p, hit in pieces if hit)
    segs = search_service.snippet(text, terms, width=60)
    flat = " ".join(text.split())
    inner = "".join(p for p, _ in segs).removeprefix("…").removesuffix("…")
    assert inner in flat


# ---- images ----------------------------------------------------------------------------------

def test_full_size_view_is_audited_and_never_for_bank_matches(
        analyst: TestClient, viewer: TestClient, env: tuple[Any, Any, Path], F: Facts) -> None:
    store = env[0]
    pk = F.pk(F.image_id)
    token = csrf(analyst, f"/ads/{pk}")
    revealed = analyst.post(f"/ads/{pk}/images/0/reveal", data={"csrf_token": token}).text
    assert 'class="revealed"' in revealed and f'href="/ads/{pk}/images/0/view"' in revealed
    page = analyst.get(f"/ads/{pk}/images/0/view")
    assert page.status_code == 200
    assert f'<img src="/ads/{pk}/images/0/full"' in page.text
    assert "recorded in the audit log" in page.text
    _t, rows = Accounts(store).audit_entries(action="image.view", username="bo")
    assert any((r["detail"] or {}).get("page") == "full size" for r in rows)
    assert viewer.get(f"/ads/{pk}/images/0/view").status_code == 403
    assert analyst.get(f"/ads/{pk}/images/9/view").status_code == 404
    css = analyst.get("/static/app.css").text
    assert re.search(r"img\.revealed \{[^}]*object-fit: contain", css)  # never cropped
    sha = next(i.sha256 for i in store.images_for(pk) if i.position == 0)
    assert import_bank(store, "ws-bank", [BankEntry("sha256", sha, "test")]).new_matches
    try:
        assert analyst.get(f"/ads/{pk}/images/0/view").status_code == 403
    finally:
        store.delete_bank("ws-bank")


# ---- cases -----------------------------------------------------------------------------------

def test_case_items_show_title_risk_source_and_dates(analyst: TestClient,
                                                     env: tuple[Any, Any, Path]) -> None:
    store = env[0]
    ad = store.get_ad("hostile-0", "test-board")
    nid = _hostile_network(store)
    h = {"X-CSRF-Token": csrf(analyst)}
    case = analyst.post("/api/cases", json={"title": "Items test"}, headers=h).json()
    unknown = analyst.post(f"/api/cases/{case['id']}/items",
                           json={"kind": "ad", "ref": "test-board/no-such-ad"}, headers=h)
    assert unknown.status_code in (400, 404)  # an ad that does not exist is refused
    for kind, ref in (("ad", "test-board/hostile-0"), ("network", nid),
                      ("ad", "test-board/hostile-1"), ("identifier", "phone:+15035550977")):
        assert analyst.post(f"/api/cases/{case['id']}/items", json={"kind": kind, "ref": ref},
                            headers=h).json()["added"]
    html = analyst.get(f"/cases/{case['id']}").text
    assert "Zebrafinch &lt;script&gt;" in html and "<script>alert" not in html  # title
    assert "test-board/hostile-0" in html and "test-board/hostile-1" in html  # both refs
    assert f"{ad.risk:.2f}" in html  # risk
    assert ad.posted_at is not None and f"posted {ad.posted_at:%Y-%m-%d}" in html
    assert f"first {ad.first_seen:%Y-%m-%d}" in html and f"last {ad.last_seen:%Y-%m-%d}" in html
    net = network_service.get_network(store, nid)
    from html import escape
    assert escape(net.label) in html and f"{net.risk:.2f}" in html
    assert "phone:+15035550977" in html


# ---- map -------------------------------------------------------------------------------------

def test_network_map_is_drawn_offline_and_escaped(analyst: TestClient,
                                                  env: tuple[Any, Any, Path]) -> None:
    nid = _hostile_network(env[0])
    r = analyst.get(f"/networks/{nid}")
    html = r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert len(re.findall(r'<circle class="place"', svg)) >= 2
    assert 'marker-end="url(#map-arrow)"' in svg
    assert "<script" not in svg and "<b " not in svg and "</text><" not in svg.replace(
        "</text><line", "").replace("</text><circle", "").replace("</text><path", "")
    assert "&lt;/text&gt;&lt;script&gt;" in svg and "&lt;b onmouseover" in svg
    drawn = svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in drawn and "https://" not in drawn and "href" not in drawn


def test_itinerary_map_geometry() -> None:
    m = geo.itinerary_map([("Seattle, WA", 3), ("Portland, OR", 2), ("Seattle, WA", 1),
                           ("Las Vegas, NV", 4), ("Nowhere Special", 1)])
    names = {p.label: p for p in m.points}
    assert set(names) == {"Seattle, WA", "Portland, OR", "Las Vegas, NV"}
    assert names["Seattle, WA"].stops == (1, 3) and names["Seattle, WA"].ads == 4
    assert names["Seattle, WA"].y < names["Portland, OR"].y < names["Las Vegas, NV"].y  # north up
    assert names["Portland, OR"].x < names["Las Vegas, NV"].x  # west left
    assert [leg.first for leg in m.legs] == [1, 2, 3]
    assert m.unplaced == ["Nowhere Special"] and m.scale_km > 0 and m.grid
    assert geo.locate("Montreal, QC") is not None and geo.locate("Montreal, QC").country == "CA"
    assert geo.locate("Portland, ME").region == "ME"  # type: ignore[union-attr]
    assert geo.locate("London, UK").country == "GB"  # type: ignore[union-attr]
    assert geo.locate("Seattle, ZZ, XX") is not None  # unknown parts are ignored
    assert geo.locate("Seattle, Ontario") is None  # no Seattle there: not guessed
    assert geo.itinerary_map([]).empty and geo.itinerary_map([("unknown place", 2)]).empty


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(
    ["Seattle, WA", "Miami, FL", "Toronto, ON", "London, UK", "Denver", "", "Ottawa, ON"]),
    st.text(max_size=60)), st.integers(1, 500)), max_size=30))
def test_itinerary_map_stays_inside_its_drawing(stops: list[tuple[str, int]]) -> None:
    m = geo.itinerary_map(stops, width=640, height=360)
    for p in m.points:
        assert 0 <= p.x <= 640 and 0 <= p.y <= 360
    assert sum(p.ads for p in m.points) + sum(
        n for name, n in stops if geo.locate(name) is None) == sum(n for _, n in stops)
    assert all(g.label for g in m.grid)


# ---- account and API docs --------------------------------------------------------------------

def test_password_page_says_why(analyst: TestClient, env: tuple[Any, Any, Path]) -> None:
    html = analyst.get("/account").text
    assert "Why you are here: you chose to change your password." in html
    assert "passwords do not expire" in html
    name, password = create_demo_admin(env[0], "ws-demo")
    c = TestClient(env[1])
    assert login(c, name, password).headers["location"] == "/account"
    html = c.get("/account").text
    assert "Why you are here: your password is a one-time password and must be changed." in html
    assert "you chose to change" not in html


def test_api_docs_list_body_and_answer_fields(analyst: TestClient) -> None:
    html = analyst.get("/api/docs").text
    assert "Request body" in html and 'href="#model-CaseIn"' in html
    case_in = html[html.index('id="model-CaseIn"'):]
    assert "<code>title</code>" in case_in[:2000] and "max length 300" in case_in[:2000]
    assert 'href="#model-SearchOut"' in html and "<code>looked_for</code>" in html
    assert 'id="model-AdSummary"' in html and "<code>top_reasons</code>" in html
    assert 'id="model-NetworksOut"' in html
