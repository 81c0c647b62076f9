"""tracelight crawl: profiles, extraction, and crawls of a local fake site on 127.0.0.1 only."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelight.cli.main import cli
from tracelight.collect.extract import content_hash, extract_ad, page_links
from tracelight.collect.guard import blocked_reason, is_public
from tracelight.collect.profile import load_profile, parse_profile
from tracelight.demo.generator import generate
from tracelight.demo.site import FakeSite
from tracelight.errors import ConfigError
from tracelight.services.cases import _read_warc_record
from tracelight.services.crawl import check_page, crawl
from tracelight.store import Store, open_store
from tracelight.store.crawl import CrawlPage

PROFILE = {
    "name": "fake",
    "country": "US",
    "start_urls": ["{base}/list/1"],
    "allowed_hosts": ["127.0.0.1"],
    "listing_patterns": ["^/list/"],
    "ad_patterns": ["/ad/"],
    "selectors": {"title": "h1.title", "body": "div.text", "posted_at": "time.posted",
                  "location": "span.where", "images": "img.photo", "contacts": "p.contact"},
    "delay_seconds": 0,
    "concurrency": 4,
    "retries": 1,
    "timeout_seconds": 5,
    "max_page_bytes": 1_000_000,
    "allow_private_addresses": True,
}


def _profile(base: str, path: str = "fake.yaml", **over: Any) -> Any:
    raw = json.loads(json.dumps(PROFILE).replace("{base}", base))
    raw.update(over)
    return parse_profile(raw, path)


@pytest.fixture(autouse=True)
def _image_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # downloaded images go to the test's own image store, never the working folder
    monkeypatch.setenv("TRACELIGHT_IMAGE_DIR", str(tmp_path / "images"))


@pytest.fixture(scope="module")
def demo_ads(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    generate(out, n_ads=45, seed=5, images=False)
    ads = [json.loads(line) for line in (out / "ads.jsonl").read_text().splitlines()]
    for ad in ads:
        ad["contact"] = "text me, details on request"
    return ads


@pytest.fixture
def site(demo_ads: list[dict[str, Any]]) -> Iterator[FakeSite]:
    with FakeSite(demo_ads, per_page=20, hostile=True, slow_seconds=0.2) as s:
        yield s


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    yield store
    store.close()


# ---- profiles ------------------------------------------------------------------------------

def test_profile_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(json.loads(json.dumps(PROFILE).replace(
        "{base}", "http://127.0.0.1:8000"))))
    prof = load_profile(path)
    assert prof.country == "US" and prof.concurrency == 4 and prof.obey_robots
    assert prof.kind_of("http://127.0.0.1:8000/ad/7") == "ad"
    assert prof.kind_of("http://127.0.0.1:8000/list/2") == "listing"
    assert prof.host_allowed("http://127.0.0.1:9/x")
    assert not prof.host_allowed("http://127.0.0.2/x")
    assert not prof.host_allowed("ftp://127.0.0.1/x")


@pytest.mark.parametrize(("change", "key"), [
    ({"country": "XX"}, "country"),
    ({"name": "../etc"}, "name"),
    ({"start_urls": []}, "start_urls"),
    ({"start_urls": ["http://elsewhere.example/"]}, "start_urls[0]"),
    ({"ad_patterns": ["("]}, "ad_patterns[0]"),
    ({"selectors": {"body": "div"}}, "selectors.title"),
    ({"selectors": {"title": "//h1", "body": "p"}}, "selectors.title"),
    ({"selectors": {"title": "h1[", "body": "p"}}, "selectors.title"),
    ({"selectors": {"title": "h1", "body": "p", "price": "b"}}, "selectors.price"),
    ({"delay_seconds": -1}, "delay_seconds"),
    ({"concurrency": 0}, "concurrency"),
    ({"concurrency": True}, "concurrency"),
    ({"obey_robots": False}, "robots_override_reason"),
    ({"proxy": "file:///x"}, "proxy"),
    ({"speed": 3}, "speed"),
    ({"allowed_hosts": ["bad host/"]}, "allowed_hosts[0]"),
])
def test_profile_errors_name_file_and_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        _profile("http://127.0.0.1:8000", "sites/board.yaml", **change)
    assert str(err.value).startswith(f"sites/board.yaml: {key}: ")


def test_profile_file_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: line"):
        load_profile(bad)
    with pytest.raises(ConfigError, match="cannot read profile"):
        load_profile(tmp_path / "missing.yaml")
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_profile(bad)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from([*sorted(PROFILE), "junk"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                                 st.lists(st.text(max_size=10), max_size=3)), max_size=8))
def test_profile_parser_only_raises_config_errors(raw: dict[str, Any]) -> None:
    merged = {**PROFILE, **raw}
    try:
        parse_profile(merged, "p.yaml")
    except ConfigError as exc:
        assert str(exc).startswith("p.yaml: ")


# ---- extraction ----------------------------------------------------------------------------

def test_extract_ad_and_links(site: FakeSite) -> None:
    prof = _profile(site.base)
    ad = dict(next(iter(site.ads.values())))
    url = f"{site.base}/ad/{ad['id']}"
    rec = extract_ad(prof, site.ad_html(ad), url)
    assert rec["id"] == url and rec["title"] == ad["title"]
    assert rec["body"].startswith(ad["body"]) and "text me" in rec["body"]
    assert rec["location"] == ad["location"] and rec["posted_at"] == ad["posted_at"]
    assert rec["images"] == [f"{site.base}/img/{ad['id']}-0.png"]
    links = page_links(prof, site.list_html(1) or b"", f"{site.base}/list/1")
    assert len(links.ads) == 20 + 6  # 20 ads and the local hostile ad pages
    assert f"{site.base}/list/2" in links.listings
    assert links.off_site == 4  # other.example, 10.0.0.7, 169.254.169.254, javascript:
    assert all(u.startswith(site.base) for u in links.ads + links.listings)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8",
                                                                                 "surrogatepass")))
def test_extractors_never_fail_on_hostile_bytes(raw: bytes) -> None:
    prof = _profile("http://127.0.0.1:1")
    rec = extract_ad(prof, raw, "http://127.0.0.1:1/ad/x")
    assert rec["id"] == "http://127.0.0.1:1/ad/x"
    content_hash(rec)
    links = page_links(prof, raw, "http://127.0.0.1:1/list/1")
    assert all(prof.host_allowed(u) for u in links.ads + links.listings)


@given(st.text(alphabet="<>a=\"' hrefjavscipt:/.%@[]1270", max_size=300))
def test_links_never_leave_allowed_hosts(html: str) -> None:
    prof = _profile("http://127.0.0.1:1")
    links = page_links(prof, html.encode(), "http://127.0.0.1:1/list/1")
    assert all(prof.host_allowed(u) for u in links.ads + links.listings)


def test_address_guard() -> None:
    assert not is_public("127.0.0.1") and not is_public("10.1.2.3")
    assert not is_public("169.254.169.254") and not is_public("::1")
    assert not is_public("::ffff:192.168.0.1")
    assert is_public("93.184.216.34")
    assert blocked_reason("localhost", allow_private=False,
                          resolver=lambda h: ["127.0.0.1"]) is not None
    assert blocked_reason("localhost", allow_private=True,
                          resolver=lambda h: ["127.0.0.1"]) is None
    assert "cannot resolve" in (blocked_reason("x", allow_private=False,
                                               resolver=_no_dns) or "")


def _no_dns(host: str) -> list[str]:
    raise OSError("no such host")


# ---- crawling the local site ---------------------------------------------------------------

@pytest.mark.slow
def test_crawl_hostile_site_then_incremental(site: FakeSite, sqlite_store: Store,
                                             tmp_path: Path) -> None:
    prof = _profile(site.base)
    events: list[dict[str, Any]] = []
    s = crawl(sqlite_store, prof, warc_dir=tmp_path / "warc", progress=events.append)
    n = len(site.ads)
    # every demo ad, plus the slow page and the malformed page (which still has a title)
    assert s.ads_new == n + 2 and s.listings == 3
    assert s.errors == {"too_large": 1, "http_404": 1, "http_500": 1}
    assert s.skipped["robots"] == 1 and s.skipped["off_site"] == 4
    assert "/private/ad/secret" not in site.requests  # robots.txt obeyed
    assert site.requests.count("/list/loop-a") == 1 and site.requests.count("/list/loop-b") == 1
    assert site.requests.count("/ad/broken") == 2  # one retry
    assert s.stop_reason.startswith("done")
    assert s.ingest is not None and s.ingest.new == n + 2 and s.ingest.rejected == 0
    assert events[-1]["event"] == "summary" and any(e["event"] == "progress" for e in events)
    first_id = next(iter(site.ads))
    url0 = f"{site.base}/ad/{first_id}"
    states = sqlite_store.crawl_pages("fake")
    assert states[url0].kind == "ad" and states[url0].warc_offset is not None

    # the site changes: one ad edited, one new ad; the rest answer 304 to their ETag
    site.change(first_id, body="A changed synthetic ad body. Call 206 555 0199.")
    site.add({"id": "new-1", "title": "A new synthetic ad", "body": "Fresh text.",
              "location": "Seattle, WA", "posted_at": "2026-07-09T10:00:00Z"})
    s2 = crawl(sqlite_store, prof, warc_dir=tmp_path / "warc")
    assert (s2.ads_new, s2.ads_changed) == (1, 1)
    assert s2.not_modified == n - 1  # every unchanged demo ad: a conditional GET, 304
    assert s2.ingest is not None and (s2.ingest.new, s2.ingest.updated) == (1, 1)
    # a third crawl of an unchanged site ingests nothing
    s3 = crawl(sqlite_store, prof, warc_dir=tmp_path / "warc")
    assert (s3.ads_new, s3.ads_changed, s3.ingest) == (0, 0, None)


@pytest.mark.slow
def test_warc_round_trip_and_evidence_pointer(site: FakeSite, tmp_path: Path) -> None:
    warc_dir = tmp_path / "warc"
    db = f"sqlite:///{tmp_path / 'crawl.db'}"
    path = tmp_path / "site.yaml"
    raw = json.loads(json.dumps(PROFILE).replace("{base}", site.base))
    path.write_text(yaml.safe_dump(raw))
    res = CliRunner().invoke(cli, ["crawl", str(path), "--db", db, "--warc-dir", str(warc_dir),
                                   "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    events = [json.loads(line) for line in res.stdout.splitlines()]
    summary = events[-1]
    assert summary["event"] == "summary" and summary["ads_new"] == len(site.ads) + 2
    ads_warc = warc_dir / summary["warc_file"]

    from warcio.archiveiterator import ArchiveIterator
    kinds: dict[str, int] = {}
    payloads: dict[str, str] = {}
    with open(ads_warc, "rb") as fh:
        for rec in ArchiveIterator(fh):
            kinds[rec.rec_type] = kinds.get(rec.rec_type, 0) + 1
            uri = rec.rec_headers.get_header("WARC-Target-URI")
            if rec.rec_type == "response":
                payloads[uri] = hashlib.sha256(rec.content_stream().read()).hexdigest()
            elif rec.rec_type == "metadata":
                meta = json.loads(rec.content_stream().read())
                assert meta["payload_sha256"] == payloads[uri]
    n = summary["ads_new"]
    m = n + summary["images_fetched"]  # each ad page, and each image it shows, once
    assert summary["images_fetched"] == len(site.ads) + 1  # the slow page has one too
    assert kinds == {"warcinfo": 1, "response": m, "request": m, "metadata": m}

    # each stored ad points at its own response record
    jsonl = ads_warc.with_name(ads_warc.name.replace(".warc.gz", ".jsonl"))
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == n
    for rec in records[:5]:
        ref = rec["extra"]["warc"]
        assert ref["file"] == ads_warc.name
        data = _read_warc_record(warc_dir / ref["file"], ref["offset"])
        record_text = gzip.decompress(data).decode("utf-8", "replace")
        assert f"WARC-Target-URI: {rec['url']}" in record_text
        assert "WARC-Type: response" in record_text

    # the WARC ingests with `tracelight ingest` into another store: same ads, same titles
    db2 = f"sqlite:///{tmp_path / 'again.db'}"
    res = CliRunner().invoke(cli, ["ingest", str(ads_warc), "--db", db2, "--source", "fake"])
    assert res.exit_code == 0, res.output
    crawled, again = open_store(db), open_store(db2)
    try:
        a = {(x.ad_id, x.url, x.title) for x in crawled.iter_ads()}
        b = {(x.ad_id, x.url, x.title) for x in again.iter_ads()}
        assert len(a) == len(b) == n and {x[:2] for x in a} == {x[:2] for x in b}
        # titles match, but for the malformed page, whose broken markup each reader mends
        # differently
        assert {x for x in a if "malformed" not in x[0]} == {
            x for x in b if "malformed" not in x[0]}
        # the body the generic page reader finds contains what the profile's selector read
        bodies = {x.ad_id: x.body for x in again.iter_ads()}
        for x in crawled.iter_ads():
            assert x.extra["warc"]["file"] == ads_warc.name
            assert x.body.split("\n")[0][:60] in bodies[x.ad_id]
    finally:
        crawled.close()
        again.close()


def test_private_address_refused_without_the_flag(site: FakeSite, sqlite_store: Store,
                                                  tmp_path: Path) -> None:
    prof = _profile(site.base, allow_private_addresses=False)
    s = crawl(sqlite_store, prof, warc_dir=tmp_path / "warc")
    assert s.pages == 0 and site.requests == []
    assert "non-public address" in s.stop_reason


def test_robots_override_is_recorded(demo_ads: list[dict[str, Any]], sqlite_store: Store,
                                     tmp_path: Path) -> None:
    with FakeSite(demo_ads[:3]) as site:
        prof = _profile(site.base, obey_robots=False, start_urls=[f"{site.base}/list/1",
                        f"{site.base}/private/ad/secret"],
                        robots_override_reason="court order 12-345 covers this site")
        s = crawl(sqlite_store, prof, warc_dir=tmp_path / "warc")
        assert "/private/ad/secret" in site.requests and "/robots.txt" not in site.requests
    assert s.robots_override == "court order 12-345 covers this site"
    with gzip.open(tmp_path / "warc" / s.warc_file) as fh:
        info = fh.read().decode("utf-8", "replace")
    assert "overridden: court order 12-345" in info


def test_caps_and_stall_reasons(demo_ads: list[dict[str, Any]], sqlite_store: Store,
                                tmp_path: Path) -> None:
    with FakeSite(demo_ads[:30], per_page=5) as site:
        s = crawl(sqlite_store, _profile(site.base, max_pages=6), warc_dir=tmp_path / "w")
        assert s.pages == 6 and s.stop_reason == "max_pages (6) reached"
        s = crawl(sqlite_store, _profile(site.base, name="empty", max_depth=50,
                                         selectors={"title": "h2.none", "body": "p.none"}),
                  warc_dir=tmp_path / "w")
        assert s.empty_ads == 30 and any("selectors matched nothing" in w for w in s.warnings)
        s = crawl(sqlite_store, _profile(site.base, name="nolinks", ad_patterns=["^/nothing"]),
                  warc_dir=tmp_path / "w")
        assert any("no link matched ad_patterns" in w for w in s.warnings)
    # the site is gone: every fetch fails, and the crawl says so
    s = crawl(sqlite_store, _profile(site.base, name="gone", retries=0), warc_dir=tmp_path / "w")
    assert s.pages == 0
    assert s.stop_reason.startswith("robots.txt could not be fetched (robots_connect)")
    s = crawl(sqlite_store, _profile(site.base, name="gone2", retries=0, obey_robots=False,
                                     robots_override_reason="test"), warc_dir=tmp_path / "w")
    assert s.stop_reason == "no page could be fetched: connect x1"


def test_crawl_check_command(site: FakeSite, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(json.loads(json.dumps(PROFILE).replace("{base}",
                                                                          site.base))))
    ad_id = next(iter(site.ads))
    res = CliRunner().invoke(cli, ["crawl", "check", str(path), f"{site.base}/ad/{ad_id}"])
    assert res.exit_code == 0, res.output
    assert site.ads[ad_id]["title"] in res.output and "page kind ad" in res.output
    res = CliRunner().invoke(cli, ["crawl", "check", str(path), f"{site.base}/list/1",
                                   "--format", "jsonl"])
    out = json.loads(res.output)
    assert out["kind"] == "listing" and len(out["ad_links"]) == 26 and out["off_site_links"] == 4
    from tracelight.cli.main import main
    with pytest.raises(SystemExit) as exc:
        main(["crawl", "check", str(path), "http://other.example/ad/1"])
    assert exc.value.code != 0
    assert "allowed_hosts" in capsys.readouterr().err
    assert check_page(_profile(site.base), f"{site.base}/ad/missing").status == 404


def test_crawl_pages_repository(store: Store) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    pages = [CrawlPage("http://127.0.0.1/ad/1", "ad", now, 200, "a" * 64, '"e"', None,
                       "f.warc.gz", 123),
             CrawlPage("http://127.0.0.1/list/1", "listing", now, 200)]
    store.save_crawl_pages("p", pages)
    store.save_crawl_pages("p", [CrawlPage("http://127.0.0.1/ad/1", "ad", now, 200, "b" * 64)])
    got = store.crawl_pages("p")
    assert set(got) == {p.url for p in pages}
    assert got["http://127.0.0.1/ad/1"].content_hash == "b" * 64
    assert store.crawl_pages("p", ["http://127.0.0.1/list/1"])["http://127.0.0.1/list/1"] \
        .kind == "listing"
    assert store.crawl_pages("other") == {}


@pytest.mark.slow
def test_bench_crawl_prints_figures() -> None:
    res = CliRunner().invoke(cli, ["bench", "crawl", "--ads", "30", "--per-page", "10"])
    assert res.exit_code == 0, res.output
    assert "first crawl: 33 pages (30 ad pages, 3 listings)" in res.output
    assert "re-crawl, 1 in 10 changed" in res.output and "changed 3," in res.output
    assert "pages/hour" in res.output and "peak RSS" in res.output


class _Killed(Exception):
    pass


@pytest.mark.slow
def test_interrupted_crawl_resumes_without_reingesting(demo_ads: list[dict[str, Any]],
                                                        sqlite_store: Store,
                                                        tmp_path: Path) -> None:
    with FakeSite(demo_ads[:40], per_page=10) as site:
        prof = _profile(site.base, concurrency=1)

        def die(event: dict[str, Any]) -> None:
            if event["event"] == "progress" and event["pages"] >= 30:
                raise _Killed

        with pytest.raises(_Killed):
            crawl(sqlite_store, prof, warc_dir=tmp_path / "w", progress=die, batch_size=10)
        done = {u for u, p in sqlite_store.crawl_pages("fake").items() if p.kind == "ad"}
        assert 10 <= len(done) < 40 and sqlite_store.count_ads() == len(done)
        s = crawl(sqlite_store, prof, warc_dir=tmp_path / "w", batch_size=10)
        # the saved frontier: what was finished is not fetched again, not even conditionally
        assert s.ads_new == 40 - len(done) and s.not_modified == 0 and s.resumed >= len(done)
        assert sqlite_store.count_ads() == 40


def test_crawl_command_table_output(demo_ads: list[dict[str, Any]], tmp_path: Path) -> None:
    with FakeSite(demo_ads[:5]) as site:
        path = tmp_path / "site.yaml"
        path.write_text(yaml.safe_dump(json.loads(json.dumps(PROFILE).replace("{base}",
                                                                              site.base))))
        res = CliRunner().invoke(cli, ["crawl", str(path), "--db",
                                       f"sqlite:///{tmp_path / 'c.db'}", "--warc-dir",
                                       str(tmp_path / "w")])
    assert res.exit_code == 0, res.output
    assert "fake: 6 pages" in res.stdout and "new 5" in res.stdout
    assert "stopped: done" in res.stdout and "ingested: 5 new" in res.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    from tracelight.cli.main import main
    with pytest.raises(SystemExit) as exc:
        main(["crawl", str(bad)])
    assert exc.value.code == 7


def test_a_stalled_crawl_says_why(monkeypatch: pytest.MonkeyPatch, sqlite_store: Store,
                                  tmp_path: Path) -> None:
    import tracelight.services.crawl as svc

    with FakeSite([]) as site:
        base = site.base  # closed at once: every fetch is refused
    monkeypatch.setattr(svc, "STALL_SECONDS", 0.0)  # the real threshold is a minute
    events: list[dict[str, Any]] = []
    crawl(sqlite_store, _profile(base, retries=0, obey_robots=False,
                                 robots_override_reason="test"),
          warc_dir=tmp_path / "w", progress=events.append)
    stalls = [e for e in events if e["event"] == "stall"]
    assert stalls and stalls[0]["reason"] == "every recent fetch failed (connect x1)"


# ---- images, evidence, resume, stalls ---------------------------------------------------------

@pytest.fixture(scope="module")
def demo_with_images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    out = tmp_path_factory.mktemp("demo-img")
    generate(out, n_ads=40, seed=11, images=True)
    ads = [json.loads(line) for line in (out / "ads.jsonl").read_text().splitlines()]
    return out, ads


@pytest.mark.slow
def test_images_are_downloaded_once_kept_and_hashed(demo_with_images: tuple[Path, list[Any]],
                                                    sqlite_store: Store,
                                                    tmp_path: Path) -> None:
    root, ads = demo_with_images
    ads = [dict(a) for a in ads]
    ads[0]["images"] = [*ads[0].get("images", []), "notanimage.png",
                        "http://other.example/img/x.png"]
    names = {str(i).rsplit("/", 1)[-1] for a in ads for i in a.get("images") or []
             if not str(i).startswith("http")}
    names |= {f"{a['id']}-0.png" for a in ads if not a.get("images")}  # the site draws one
    with FakeSite(ads, per_page=20, hostile=True, image_root=str(root)) as site:
        # the off-site image is written as an absolute URL on the page
        prof = _profile(site.base)
        s = crawl(sqlite_store, prof, warc_dir=tmp_path / "w", image_dir=tmp_path / "blobs")
        img_requests = [r for r in site.requests if r.startswith("/img/")]
        assert len(img_requests) == len(set(img_requests))  # each image fetched once
        assert {r[len("/img/"):] for r in img_requests} >= names
        assert not any("other.example" in r for r in site.requests)
        assert s.images_fetched == len(names) - 1 + 1  # + the slow page's; - not an image
        assert s.images_failed == 2  # not an image; not on an allowed host
        first = sqlite_store.get_ad(f"{site.base}/ad/{ads[0]['id']}")
        imgs = sqlite_store.images_for(first.pk)
        good = [i for i in imgs if i.error is None]
        assert good and all(i.sha256 and i.pdq and i.stored_path for i in good)
        for i in good:
            blob = (tmp_path / "blobs" / str(i.stored_path)).read_bytes()
            assert hashlib.sha256(blob).hexdigest() == i.sha256
        errors = {i.original.rsplit("/", 1)[-1]: i.error for i in imgs if i.error}
        assert "download refused" in str(errors["notanimage.png"])
        assert "allowed_hosts" in str(errors["x.png"])
        assert sqlite_store.count_ads() == len(ads) + 2
        # networks reuse pictures: a picture on several ads is one download, one kept file,
        # and the same hash on each ad (what image linking joins on)
        by_name: dict[str, set[str | None]] = {}
        for a in ads:
            stored = sqlite_store.get_ad(f"{site.base}/ad/{a['id']}")
            for i in sqlite_store.images_for(stored.pk):
                by_name.setdefault(i.original.rsplit("/", 1)[-1], set()).add(i.sha256)
        reused = [n for n in names if sum(n in str(a.get("images")) for a in ads) > 1]
        assert reused and all(len(by_name[n]) == 1 for n in reused)

        # the site changes: an edited ad is re-ingested, its images are not fetched again
        site.change(str(ads[1]["id"]), body="Edited synthetic text.")
        before = len(site.requests)
        s2 = crawl(sqlite_store, prof, warc_dir=tmp_path / "w", image_dir=tmp_path / "blobs")
        assert s2.ads_changed == 1 and s2.images_fetched == 0
        assert s2.images_known == (len(set(ads[1].get("images") or [])) or 1)
        assert not [r for r in site.requests[before:] if r.startswith("/img/")]


@pytest.mark.slow
def test_evidence_export_of_one_ad_verifies(demo_with_images: tuple[Path, list[Any]],
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root, ads = demo_with_images
    ad = next(a for a in ads if len(a.get("images") or []) >= 2)
    warc_dir, db = tmp_path / "warc", f"sqlite:///{tmp_path / 'e.db'}"
    monkeypatch.setenv("TRACELIGHT_WARC_DIR", str(warc_dir))
    with FakeSite([ad, *ads[:5]], image_root=str(root)) as site:
        store = open_store(db)
        try:
            crawl(store, _profile(site.base), warc_dir=warc_dir)
        finally:
            store.close()
        ad_id = f"{site.base}/ad/{ad['id']}"
    out = tmp_path / "export"
    runner = CliRunner()
    res = runner.invoke(cli, ["evidence", ad_id, "--out", str(out), "--db", db])
    assert res.exit_code == 0, res.output
    assert "3 captures: the page and 2 image(s)" in res.stderr or "captures" in res.stderr
    sums = dict(line.split("  ")[::-1] for line in (out / "SHA256SUMS").read_text().splitlines())
    for name, digest in sums.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    from warcio.archiveiterator import ArchiveIterator
    with open(out / "capture.warc.gz", "rb") as fh:
        recs = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"))
                for r in ArchiveIterator(fh)]
    n_img = len(set(ad["images"]))
    assert recs[0] == ("response", ad_id) and len(recs) == 3 * (1 + n_img)
    assert sum(1 for t, _ in recs if t == "response") == 1 + n_img
    res = runner.invoke(cli, ["evidence", "verify", str(out)])
    assert res.exit_code == 0 and res.stdout.startswith("ok:"), res.output
    store = open_store(db)
    try:  # the export is in the audit log, with the files' hashes
        from tracelight.store.audit import AuditLog
        entries = list(AuditLog(store).iter(action="export.capture"))
        detail = entries[-1]["detail"]
        detail = json.loads(detail) if isinstance(detail, str) else detail
        assert detail["files"] == sums and detail["ad_id"] == ad_id
    finally:
        store.close()
    # `evidence ad AD --out DIR` is the same command; an existing export is not overwritten
    res = runner.invoke(cli, ["evidence", "ad", ad_id, "--out", str(out), "--db", db])
    assert res.exit_code != 0 and "already holds" in str(res.exception)
    # a changed byte is found
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["records"][0]["payload_sha256"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    res = runner.invoke(cli, ["evidence", "verify", str(out)])
    assert res.exit_code != 0 and "manifest.json: SHA-256 differs" in res.stdout
    # an ad that was not crawled has no capture
    res = runner.invoke(cli, ["evidence", "no-such-ad", "--out", str(tmp_path / "x"),
                              "--db", db])
    assert res.exit_code != 0 and "no ad with id" in str(res.exception)


@pytest.mark.slow
def test_kill_9_mid_crawl_resumes_without_refetching(demo_ads: list[dict[str, Any]],
                                                     tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    ads = [dict(a, id=f"k{i:03d}") for i, a in enumerate(demo_ads * 2)][:60]
    with FakeSite(ads, per_page=10) as site:
        raw = json.loads(json.dumps(PROFILE).replace("{base}", site.base))
        raw.update(concurrency=1, delay_seconds=0.03, max_depth=50)
        path = tmp_path / "site.yaml"
        path.write_text(yaml.safe_dump(raw))
        warc, db = tmp_path / "warc", f"sqlite:///{tmp_path / 'k.db'}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = subprocess.Popen([sys.executable, "-m", "tracelight", "crawl", str(path), "--db",
                                 db, "--warc-dir", str(warc), "--batch-size", "10",
                                 "--format", "jsonl"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        journal = warc / "fake.frontier.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = journal.read_text() if journal.exists() else ""
            if text.count('"done"') >= 25:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        done = {json.loads(line)["done"] for line in journal.read_text().splitlines()
                if line.endswith("}") and '"done"' in line}
        done_paths = {u[len(site.base):] for u in done}
        assert 25 <= len(done) < 60 + 6
        before = len(site.requests)
        res = CliRunner().invoke(cli, ["crawl", str(path), "--db", db, "--warc-dir", str(warc),
                                       "--format", "jsonl"])
        assert res.exit_code == 0, res.output
        again = site.requests[before:]
    summary = json.loads(res.stdout.splitlines()[-1])
    assert summary["resumed"] == len(done)
    assert not done_paths & set(again)  # nothing finished before the kill is fetched again
    assert not journal.exists()  # a finished crawl starts afresh next time
    store = open_store(db)
    try:
        assert store.count_ads() == 60
        # each ad ingested once, but for at most the batch whose ingest had committed when the
        # kill came and whose crawl state had not (its new WARC pointer makes a revision)
        assert sum(1 for a in store.iter_ads() if a.revision > 1) <= 10
    finally:
        store.close()


def test_content_hash_when_no_validators(demo_ads: list[dict[str, Any]], sqlite_store: Store,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSite(demo_ads[:12], per_page=5) as site:
        site.validators = False  # a site that sends no ETag or Last-Modified
        prof = _profile(site.base)
        crawl(sqlite_store, prof, warc_dir=tmp_path / "w")
        site.change(str(demo_ads[3]["id"]), title="A retitled synthetic ad")
        site.add({"id": "fresh", "title": "Fresh synthetic ad", "body": "New text."})
        s = crawl(sqlite_store, prof, warc_dir=tmp_path / "w")
    assert (s.ads_new, s.ads_changed, s.not_modified, s.ads_unchanged) == (1, 1, 0, 11)
    assert s.ingest is not None and (s.ingest.new, s.ingest.updated) == (1, 1)


def test_stalls_say_why_early(demo_ads: list[dict[str, Any]], sqlite_store: Store,
                              tmp_path: Path) -> None:
    with FakeSite(demo_ads[:15], per_page=20) as site:
        events: list[dict[str, Any]] = []
        bad = _profile(site.base, selectors={"title": "h1.nothing", "body": "div.nothing"})
        s = crawl(sqlite_store, bad, warc_dir=tmp_path / "w", progress=events.append)
        stalls = [e["reason"] for e in events if e["event"] == "stall"]
        assert stalls and "matched neither the title nor the body selector" in stalls[0]
        assert any("selectors matched nothing" in w for w in s.warnings)
        nolinks = _profile(site.base, ad_patterns=["^/nothing/"])
        s = crawl(sqlite_store, nolinks, warc_dir=tmp_path / "w2")
        assert "no link matched ad_patterns" in " ".join(s.warnings)
        blocked = _profile(site.base, start_urls=[f"{site.base}/private/list"],
                           listing_patterns=["^/private/"])
        s = crawl(sqlite_store, blocked, warc_dir=tmp_path / "w3")
        assert s.stop_reason == "every start URL is disallowed by robots.txt"


def test_saved_frontier_is_read_like_any_input(tmp_path: Path) -> None:
    from tracelight.services.crawl import _Journal

    prof = _profile("http://127.0.0.1:9")
    path = tmp_path / "fake.frontier.jsonl"
    good = "http://127.0.0.1:9/ad/1"
    path.write_text("\n".join([
        json.dumps({"q": "http://127.0.0.1:9/list/1", "k": "listing", "d": 0}),
        json.dumps({"q": good, "k": "ad", "d": 1}),
        json.dumps({"q": "http://10.0.0.9/ad/x", "k": "ad", "d": 1}),  # another host
        json.dumps({"q": "http://127.0.0.1:9/ad/2", "k": "shell", "d": 1}),  # no such kind
        json.dumps({"q": "http://127.0.0.1:9/ad/3", "k": "ad", "d": "deep"}),
        "[1, 2]", "\x00\xff not json",
        json.dumps({"done": "http://127.0.0.1:9/list/1"}),
        '{"q": "http://127.0.0.1:9/ad/torn", "k": "a',  # killed mid-write
    ]), encoding="utf-8")
    loaded = _Journal(path).load(prof)
    assert loaded is not None
    queued, done = loaded
    assert [u for u, _, _ in queued] == ["http://127.0.0.1:9/list/1", good]
    assert done == {"http://127.0.0.1:9/list/1"}
    assert _Journal(tmp_path / "none.jsonl").load(prof) is None


@pytest.mark.slow
def test_the_demo_site_profile_crawls_it_completely(demo_with_images: tuple[Path, list[Any]],
                                                    sqlite_store: Store,
                                                    tmp_path: Path) -> None:
    from tracelight.demo.site import site_profile

    root, ads = demo_with_images
    with FakeSite(ads, per_page=7, image_root=str(root)) as site:
        path = tmp_path / "demo-site.yaml"
        path.write_text(yaml.safe_dump(site_profile(site.base)))
        s = crawl(sqlite_store, load_profile(path), warc_dir=tmp_path / "w")
    assert s.ads_new == len(ads) and s.listings == -(-len(ads) // 7)
    assert not s.errors and not s.warnings and s.stop_reason.startswith("done")
    assert s.images_failed == 0 and sqlite_store.count_ads() == len(ads)
