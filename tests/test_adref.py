"""One public ad reference, SOURCE/ID: parsing (hypothesis), the store look-up, the CLI
(show, similar, search, ads, queue) and the workspace (pages, API, audit, cases)."""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tracelight.cli.main import cli
from tracelight.errors import NotFoundError, UsageError
from tracelight.services.adref import (
    AmbiguousAdError,
    ad_url,
    format_ref,
    parse_ref,
    resolve_ad,
    resolve_legacy,
)
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from web_helpers import build_store, csrf, login, make_app

# ---- parse_ref: pure ----------------------------------------------------------------------

part = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)


@given(part, part)
def test_a_printed_reference_reads_back_as_its_source_and_id(source: str, ad_id: str) -> None:
    text = format_ref(source, ad_id)
    if text != text.strip():
        return  # references are trimmed as typed
    assert (source, ad_id) in parse_ref(text)


@given(st.text(max_size=60))
def test_every_reading_rejoins_to_the_text(text: str) -> None:
    try:
        readings = parse_ref(text)
    except UsageError:
        return  # empty, too long, control characters: one clear error
    ref = text.strip()
    assert readings[0] == (None, ref)
    for source, ad_id in readings[1:]:
        assert source and ad_id and f"{source}/{ad_id}" == ref


@given(st.text(max_size=2000))
def test_parse_ref_only_raises_usage_errors(text: str) -> None:
    with contextlib.suppress(UsageError):
        parse_ref(text)


@given(part, part)
def test_ad_url_keeps_the_parts_apart(source: str, ad_id: str) -> None:
    url = ad_url(source, ad_id)
    assert url.startswith("/ads/")
    segments = url[len("/ads/"):].split("/")
    assert len(segments) == 2  # a "/" inside a part is %2F
    assert [unquote(s) for s in segments] == [source, ad_id]
    assert not {".", ".."} & set(segments)  # never rewritten by a browser
    assert "?" not in url and "#" not in url


def test_source_option_reads_the_whole_text_as_an_id() -> None:
    assert parse_ref("a/b", source="feed") == [("feed", "a/b")]
    with pytest.raises(UsageError):
        parse_ref("  ")
    with pytest.raises(UsageError):
        parse_ref("a\x00b")


# ---- the store and the CLI ----------------------------------------------------------------

ROWS = [
    {"id": "a1", "source": "feed", "title": "Ad in feed", "body": "Visiting, ask for Amy"},
    {"id": "a1", "source": "other", "title": "Ad in other", "body": "Ask for Bea downtown"},
    {"id": "x/y", "source": "feed", "title": "Slashed id", "body": "Call Cleo any time"},
    {"id": "solo", "source": "feed", "title": "Lonely", "body": "Quiet words zebra"},
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    corpus = tmp_path / "ads.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    url = f"sqlite:///{tmp_path / 't.db'}"
    code, _, _ = run("ingest", str(corpus), "--db", url, "--workers", "1",
                     "--rejects", str(tmp_path / "r.txt"), "--no-images")
    assert code == 0
    return url


def test_resolver_on_the_store(db: str) -> None:
    store = open_store(db)
    try:
        assert resolve_ad(store, "feed/a1").title == "Ad in feed"
        assert resolve_ad(store, "a1", source="other").title == "Ad in other"
        assert resolve_ad(store, "x/y").title == "Slashed id"  # bare, unique
        assert resolve_ad(store, "feed/x/y").title == "Slashed id"
        with pytest.raises(AmbiguousAdError) as err:
            resolve_ad(store, "a1")
        assert err.value.candidates == ["feed/a1", "other/a1"]
        assert err.value.exit_code == 2
        with pytest.raises(NotFoundError):
            resolve_ad(store, "nope/a1")
        ad, was_key = resolve_legacy(store, "1")  # an internal key from an old address
        assert was_key and ad.pk == 1
    finally:
        store.close()


def test_cli_show_takes_source_id_and_lists_candidates(db: str) -> None:
    code, out, _ = run("show", "feed/a1", "--db", db, "--format", "jsonl")
    assert code == 0 and json.loads(out)["ref"] == "feed/a1"
    code, out, _ = run("show", "x/y", "--db", db, "--format", "jsonl")
    assert code == 0 and json.loads(out)["ref"] == "feed/x/y"
    code, out, _ = run("show", "a1", "--source", "other", "--db", db, "--format", "jsonl")
    assert code == 0 and json.loads(out)["title"] == "Ad in other"
    code, out, _ = run("show", "feed/a1", "--db", db)
    assert code == 0 and "feed/a1" in out


def test_cli_ambiguous_id_is_one_line_with_exit_code_2(db: str,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from tracelight.cli.main import main

    for command in (["show", "a1"], ["similar", "a1"]):
        with pytest.raises(SystemExit) as done:
            main([*command, "--db", db])
        err = capsys.readouterr().err.strip()
        assert done.value.code == 2
        assert err.count("\n") == 0 and "feed/a1" in err and "other/a1" in err
        assert "Traceback" not in err


def test_tables_and_exports_carry_the_reference(db: str) -> None:
    code, out, _ = run("ads", "--db", db, "--format", "jsonl", "--sort", "id")
    assert {json.loads(line)["ref"] for line in out.splitlines()} == {
        "feed/a1", "other/a1", "feed/x/y", "feed/solo"}
    code, out, _ = run("ads", "--db", db, "--format", "csv")
    assert next(csv.reader(io.StringIO(out)))[0] == "ref"
    code, out, _ = run("ads", "--db", db)
    assert code == 0 and "feed/solo" in out
    code, out, _ = run("queue", "--db", db, "--format", "jsonl")
    assert code == 0
    assert {json.loads(line)["ref"] for line in out.splitlines()} >= {"feed/a1", "other/a1"}


def test_search_for_an_exact_reference_finds_the_ad(db: str) -> None:
    code, out, _ = run("search", "feed/x/y", "--db", db, "--format", "jsonl")
    assert code == 0 and json.loads(out.splitlines()[0])["ref"] == "feed/x/y"
    code, out, _ = run("search", "a1", "--db", db, "--format", "jsonl")
    assert [json.loads(line)["ref"] for line in out.splitlines()][:2] == ["feed/a1",
                                                                          "other/a1"]
    code, out, _ = run("search", "zebra", "--db", db, "--format", "jsonl")  # words still work
    assert [json.loads(line)["ref"] for line in out.splitlines()] == ["feed/solo"]


def test_similar_for_a_lone_ad_says_so_and_states_its_scale(db: str) -> None:
    code, out, err = run("similar", "feed/solo", "--db", db)
    assert code == 0 and "nothing similar to feed/solo" in err  # "No results" on stderr
    assert out == ""  # no empty table
    code, out, _ = run("similar", "--help")
    assert "points" in out and "+10 for each shared phone" in " ".join(out.split())


def test_the_cli_scale_text_is_the_services_text() -> None:
    from tracelight.cli.link_cmd import SIMILAR_SCALE
    from tracelight.services.similar import SCORE_SCALE

    assert SIMILAR_SCALE == SCORE_SCALE


# ---- the workspace ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory,
        demo_corpus_dir: Path) -> Iterator[tuple[Any, Any, Path]]:
    tmp = tmp_path_factory.mktemp("adref-web")
    store = build_store(tmp, demo_corpus_dir, link=True)
    # a second source re-using the first ad's id: the bare id becomes ambiguous
    first = store.get_ad_by_pk(1)
    extra = tmp / "clash.jsonl"
    extra.write_text(json.dumps({"id": first.ad_id, "source": "elsewhere/feed",
                                 "title": "Same id, other source", "body": "Hello there"})
                     + "\n")
    from tracelight.ingest.runner import ingest
    ingest(store, [str(extra)], workers=1)
    app = make_app(store, tmp)
    yield store, app, tmp
    store.close()


@pytest.fixture
def analyst(env: tuple[Any, Any, Path]) -> TestClient:
    c = TestClient(env[1])
    assert login(c, "bo").status_code == 303
    return c


def _last_audit(store: Any, action: str) -> dict[str, Any]:
    _, rows = Accounts(store).audit_entries(limit=1, action=action)
    return rows[0]


@pytest.mark.slow
def test_ad_pages_open_by_source_id_and_old_addresses_redirect(
        env: tuple[Any, Any, Path], analyst: TestClient) -> None:
    store = env[0]
    ad = store.get_ad_by_pk(2)
    url = ad_url(ad.source, ad.ad_id)
    page = analyst.get(url)
    assert page.status_code == 200 and f"{ad.source}/{ad.ad_id}" in page.text
    row = _last_audit(store, "ad.view")
    assert row["target"] == f"{ad.source}/{ad.ad_id}"
    assert "pk" not in json.dumps(row.get("detail") or {})
    old = analyst.get("/ads/2", follow_redirects=False)
    assert old.status_code == 308 and old.headers["location"] == url
    assert analyst.get(f"/ads/{ad.ad_id}").status_code == 200  # bare id, unique
    assert analyst.get("/ads/no-such-ad").status_code == 404
    # the API: the same reference, percent-encoded parts
    api = analyst.get(f"/api{url}").json()
    assert api["ref"] == f"{ad.source}/{ad.ad_id}" and api["explanation"]["formula"]


@pytest.mark.slow
def test_an_ambiguous_id_lists_the_candidates_as_links(env: tuple[Any, Any, Path],
                                                       analyst: TestClient) -> None:
    first = env[0].get_ad_by_pk(1)
    page = analyst.get(f"/ads/{first.ad_id}")
    assert page.status_code == 400
    text = html.unescape(page.text)
    assert f"{first.source}/{first.ad_id}" in text and f"elsewhere/feed/{first.ad_id}" in text
    assert f'href="{ad_url("elsewhere/feed", first.ad_id)}"' in page.text
    assert analyst.get(ad_url("elsewhere/feed", first.ad_id)).status_code == 200
    api = analyst.get(f"/api/ads/{first.ad_id}")
    assert api.status_code == 400 and "elsewhere/feed/" in api.json()["detail"]
    # a text search for the id finds both, the exact reference first
    found = analyst.get(f"/api/search?q={first.source}/{first.ad_id}").json()
    assert found["results"][0]["ref"] == f"{first.source}/{first.ad_id}"
    page = analyst.get("/search", params={"q": first.ad_id})
    assert f'href="{ad_url(first.source, first.ad_id)}"' in page.text


@pytest.mark.slow
def test_image_audits_and_case_items_name_the_ad(env: tuple[Any, Any, Path],
                                                 analyst: TestClient) -> None:
    store = env[0]
    with_image = next(a for a in store.iter_ads() if store.images_for(a.pk)
                      and store.images_for(a.pk)[0].stored_path)
    ref = f"{with_image.source}/{with_image.ad_id}"
    analyst.get(f"/ads/{with_image.pk}/images/0/blurred")
    assert _last_audit(store, "image.thumbnail")["target"] == f"{ref} image 0"
    token = csrf(analyst, ad_url(with_image.source, with_image.ad_id))
    r = analyst.post("/cases/add", data={"csrf_token": token, "case": "new",
                                         "new_title": "refs", "kind": "ad",
                                         "ref": str(with_image.ad_id), "label": ""},
                     follow_redirects=False)
    assert r.status_code == 303
    case_pk = int(r.headers["location"].rsplit("/", 1)[-1])
    api = analyst.get(f"/api/cases/{case_pk}").json()
    assert [i["ref"] for i in api["items"]] == [ref]
    r = analyst.post(f"/api/cases/{case_pk}/items", json={"kind": "ad", "ref": "nope/nope"},
                     headers={"x-csrf-token": token})
    assert r.status_code == 404
    bundle = zipfile.ZipFile(io.BytesIO(analyst.get(f"/cases/{case_pk}/export").content))
    rows = list(csv.DictReader(io.StringIO(bundle.read("case.csv").decode())))
    assert rows[0]["ad"] == ref


def test_network_members_and_similar_rows_are_references(tmp_path: Path) -> None:
    corpus = tmp_path / "ads.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "a1", "source": "feed", "title": "t1", "body": "Call 206-555-0143 Amy"},
        {"id": "a1", "source": "other", "title": "t2", "body": "Ring 206-555-0143 for Bea"}]))
    db = f"sqlite:///{tmp_path / 'n.db'}"
    assert run("ingest", str(corpus), "--db", db, "--workers", "1", "--no-images",
               "--rejects", str(tmp_path / "r"))[0] == 0
    assert run("link", "--db", db)[0] == 0
    code, out, _ = run("networks", "--db", db, "--format", "jsonl")
    assert code == 0 and json.loads(out)["ads"] == ["feed/a1", "other/a1"]
    code, out, _ = run("networks", "--db", db, "--format", "csv")
    assert next(csv.DictReader(io.StringIO(out)))["ads"] == "feed/a1, other/a1"
    code, out, _ = run("similar", "feed/a1", "--db", db, "--format", "jsonl")
    assert code == 0 and json.loads(out)["ref"] == "other/a1"
    code, out, _ = run("similar", "feed/a1", "--db", db)
    assert out.startswith("score = points: +10 for each shared phone")
