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
    assert kinds == {"warcinfo": 1, "response": n, "request": n, "metadata": n}

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
        info = fh.read().decode()
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
        assert s.ads_new == 40 - len(done) and s.not_modified == len(done)
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
