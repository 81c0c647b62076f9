"""Use case: crawl one site profile into WARC evidence and ingest only the ads that changed.

Fetching is httpx (synchronous, a small thread pool per crawl; docs/crawl.md says why not
Scrapy). Every response is written to WARC by the one writer thread with request, response and
metadata (payload SHA-256, fetch time) records: ad pages to NAME.warc.gz, everything else
(robots.txt, listing pages, redirects, errors, 304s) to NAME-other.warc.gz. Ads whose extracted
content hash differs from the last crawl's are written to NAME.jsonl (each carrying
extra.warc = {"file", "offset"}) and ingested through services.ingest, in batches, with the
crawl state saved after each batch (a `kill -9` loses at most the batch in flight).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import urllib.robotparser
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import httpx

from tracelight.collect.extract import content_hash, extract_ad, page_links
from tracelight.collect.guard import Resolver, blocked_reason, resolve
from tracelight.collect.profile import SiteProfile
from tracelight.errors import InputError
from tracelight.ingest.runner import IngestSummary
from tracelight.pipeline import PipelineOptions
from tracelight.services.ingest import ingest
from tracelight.store import Store
from tracelight.store.crawl import CrawlPage

MAX_ROBOTS_BYTES = 500_000
STALL_SECONDS = 60.0  # no page fetched successfully for this long: say why
REDIRECT_CODES = (301, 302, 303, 307, 308)
Event = dict[str, Any]


@dataclass
class CrawlSummary:
    profile: str
    warc_file: str = ""
    other_warc_file: str = ""
    pages: int = 0  # responses received (any status)
    listings: int = 0
    ads_found: int = 0
    ads_new: int = 0
    ads_changed: int = 0
    ads_unchanged: int = 0
    not_modified: int = 0
    empty_ads: int = 0  # ad pages where the title and body selectors matched nothing
    errors: Counter[str] = field(default_factory=Counter)  # http_404, timeout, too_large...
    skipped: Counter[str] = field(default_factory=Counter)  # robots, private, off_site, depth
    stop_reason: str = ""
    warnings: list[str] = field(default_factory=list)
    robots_override: str = ""
    seconds: float = 0.0
    ingest: IngestSummary | None = None

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "warc_file": self.warc_file,
                "other_warc_file": self.other_warc_file, "pages": self.pages,
                "listings": self.listings, "ads_found": self.ads_found, "ads_new": self.ads_new,
                "ads_changed": self.ads_changed, "ads_unchanged": self.ads_unchanged,
                "not_modified": self.not_modified, "empty_ads": self.empty_ads,
                "errors": dict(self.errors), "skipped": dict(self.skipped),
                "stop_reason": self.stop_reason, "warnings": list(self.warnings),
                "robots_override": self.robots_override, "seconds": round(self.seconds, 3),
                "pages_per_second": round(self.pages_per_second, 2),
                "ingest": self.ingest.to_dict() if self.ingest else None}


@dataclass
class _Fetch:
    url: str
    kind: str
    depth: int
    request_headers: list[tuple[str, str]]
    fetched_at: datetime
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error: str = ""  # kind of failure: timeout, connect, too_large, http_500...
    detail: str = ""


class _HostLimiter:
    """At most one request start per `delay` seconds per host."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.next_at: dict[str, float] = {}

    def wait(self, host: str) -> None:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at.get(host, now))
            self.next_at[host] = at + self.delay
        if at > now:
            time.sleep(at - now)


class _Warc:
    """One gzip WARC file written by one thread; offsets are those of response records."""

    def __init__(self, path: Path, profile: SiteProfile) -> None:
        from warcio.warcwriter import WARCWriter

        self.path = path
        self.fh: BinaryIO = open(path, "ab")  # noqa: SIM115 (closed by close())
        self.writer = WARCWriter(self.fh, gzip=True)
        info = {"software": "tracelight crawl", "format": "WARC File Format 1.1",
                "profile": profile.name, "user-agent": profile.user_agent,
                "robots": "obey" if profile.obey_robots else
                f"overridden: {profile.robots_override_reason}"}
        self.writer.write_record(self.writer.create_warcinfo_record(path.name, info))

    def write(self, f: _Fetch) -> int:
        from warcio.statusandheaders import StatusAndHeaders

        w = self.writer
        split = urlsplit(f.url)
        target = split.path + (f"?{split.query}" if split.query else "") or "/"
        date = f.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        req = w.create_warc_record(
            f.url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(f"GET {target} HTTP/1.1", f.request_headers,
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": date})
        # httpx has already undone any transfer or content encoding: the stored body is the
        # decoded payload, so those headers are kept under another name
        headers = [(f"X-Original-{k}" if k.lower() in ("content-encoding", "transfer-encoding",
                                                        "content-length") else k, v)
                   for k, v in f.headers]
        headers.append(("Content-Length", str(len(f.body))))
        resp = w.create_warc_record(
            f.url, "response", payload=io.BytesIO(f.body), length=len(f.body),
            http_headers=StatusAndHeaders(f"{f.status} {f.reason or 'OK'}", headers,
                                          protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": date})
        self.fh.flush()
        offset = self.fh.tell()
        w.write_record(resp)
        w.write_record(req)
        meta = json.dumps({"payload_sha256": hashlib.sha256(f.body).hexdigest(),
                           "fetched_at": f.fetched_at.isoformat(), "kind": f.kind,
                           "depth": f.depth}, sort_keys=True).encode()
        w.write_record(w.create_warc_record(
            f.url, "metadata", payload=io.BytesIO(meta), length=len(meta),
            warc_content_type="application/json",
            warc_headers_dict={"WARC-Date": date,
                               "WARC-Concurrent-To": resp.rec_headers.get_header(
                                   "WARC-Record-ID")}))
        self.fh.flush()
        return offset

    def close(self) -> None:
        self.fh.close()


def _client(profile: SiteProfile, transport: httpx.BaseTransport | None = None,
            ) -> httpx.Client:
    return httpx.Client(timeout=profile.timeout_seconds, follow_redirects=False,
                        proxy=profile.proxy, transport=transport, trust_env=False,
                        headers={"User-Agent": profile.user_agent,
                                 "Accept-Encoding": "identity"})


def _fetch(client: httpx.Client, p: SiteProfile, limiter: _HostLimiter, url: str, kind: str,
           depth: int, state: CrawlPage | None) -> _Fetch:
    """GET `url` (worker thread): conditional for a known ad, size-capped, retried with
    backoff on timeouts, connection errors, 5xx and 429; never follows a redirect itself."""
    headers = {"User-Agent": p.user_agent, "Accept-Encoding": "identity"}
    if state is not None and kind == "ad" and state.content_hash:
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
    host = urlsplit(url).netloc
    f = _Fetch(url, kind, depth, [("Host", host), *headers.items()], datetime.now(UTC))
    for attempt in range(p.retries + 1):
        if attempt:
            time.sleep(min(30.0, max(0.05, p.delay_seconds) * 2 ** attempt))
        limiter.wait(host)
        f.fetched_at = datetime.now(UTC)
        f.error = f.detail = ""
        f.status, f.body = 0, b""
        try:
            with client.stream("GET", url, headers=headers) as r:
                f.status, f.reason = r.status_code, r.reason_phrase
                f.headers = list(r.headers.multi_items())
                chunks, size = [], 0
                for chunk in r.iter_bytes():  # decoded: a gzip bomb is capped as it inflates
                    size += len(chunk)
                    if size > p.max_page_bytes:
                        f.error, f.detail = "too_large", f"over {p.max_page_bytes:,} bytes"
                        break
                    chunks.append(chunk)
                f.body = b"".join(chunks)
        except httpx.TimeoutException as exc:
            f.error, f.detail = "timeout", str(exc) or "timed out"
            continue
        except (httpx.TransportError, httpx.DecodingError) as exc:
            f.error, f.detail = "connect", str(exc) or type(exc).__name__
            continue
        if f.status >= 500 or f.status == 429:
            f.error, f.detail = f"http_{f.status}", f.reason
            continue
        break
    return f


class Crawler:
    """One crawl of one profile; `run()` returns the summary."""

    def __init__(self, store: Store, profile: SiteProfile, *, warc_dir: str | Path,
                 progress: Callable[[Event], None] | None = None,
                 resolver: Resolver = resolve, batch_size: int = 200,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.store = store
        self.profile = profile
        self.warc_dir = Path(warc_dir)
        self.progress = progress or (lambda e: None)
        self.resolver = resolver
        self.batch_size = batch_size
        self.transport = transport
        self.summary = CrawlSummary(profile.name)
        self.limiter = _HostLimiter(profile.delay_seconds)
        self.host_blocked: dict[str, str | None] = {}
        self.robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self.seen: set[str] = set()
        self.pending: list[tuple[dict[str, Any], CrawlPage]] = []
        self.listing_states: list[CrawlPage] = []
        self.ingests: list[IngestSummary] = []

    # ---- the crawl (main thread) --------------------------------------------------------
    def _emit(self, event: str, **fields: Any) -> None:
        self.progress({"event": event, **fields})

    def _allowed(self, client: httpx.Client, url: str, other: _Warc) -> str | None:
        """None when `url` may be fetched; else the skip kind (counted)."""
        p = self.profile
        host = urlsplit(url).hostname or ""
        if host not in self.host_blocked:
            self.host_blocked[host] = blocked_reason(host,
                                                     allow_private=p.allow_private_addresses,
                                                     resolver=self.resolver)
            if self.host_blocked[host]:
                self._emit("blocked", host=host, reason=self.host_blocked[host])
        if self.host_blocked[host]:
            return "private"
        if not p.obey_robots:
            return None
        origin = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
        if origin not in self.robots:
            self.robots[origin] = self._robots(client, origin, other)
        rp = self.robots[origin]
        if rp is not None and not rp.can_fetch(p.user_agent, url):
            return "robots"
        return None

    def _robots(self, client: httpx.Client, origin: str,
                other: _Warc) -> urllib.robotparser.RobotFileParser | None:
        f = _fetch(client, self.profile, self.limiter, f"{origin}/robots.txt", "robots", 0,
                   None)
        rp = urllib.robotparser.RobotFileParser()
        if f.status:
            other.write(f)
        if f.error or f.status >= 500:
            # robots.txt unreachable: treat the site as closed (RFC 9309 2.3.1.4)
            self.summary.errors[f"robots_{f.error or f'http_{f.status}'}"] += 1
            rp.parse(["User-agent: *", "Disallow: /"])
            self._emit("robots", origin=origin, rule="unreachable: site treated as disallowed")
            return rp
        if f.status >= 400:
            return None  # no robots.txt: everything allowed
        rp.parse(f.body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace").splitlines())
        return rp

    def run(self) -> CrawlSummary:
        p = self.profile
        s = self.summary
        if not p.obey_robots:
            s.robots_override = p.robots_override_reason
        self.warc_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        base = f"{p.name}-{stamp}"
        ads_warc = _Warc(self.warc_dir / f"{base}.warc.gz", p)
        other = _Warc(self.warc_dir / f"{base}-other.warc.gz", p)
        s.warc_file, s.other_warc_file = ads_warc.path.name, other.path.name
        jsonl = self.warc_dir / f"{base}.jsonl"
        states = self.store.crawl_pages(p.name)
        frontier: deque[tuple[str, str, int]] = deque()
        for url in p.start_urls:
            self.seen.add(url)
            frontier.append((url, p.kind_of(url) or "listing", 0))
        started = time.monotonic()
        last_ok = started
        stall_said = False
        inflight: dict[Future[_Fetch], str] = {}
        try:
            with _client(p, self.transport) as client, ThreadPoolExecutor(p.concurrency) as pool:
                while frontier or inflight:
                    while frontier and len(inflight) < p.concurrency:
                        if s.pages + len(inflight) >= p.max_pages:
                            s.skipped["max_pages"] += len(frontier)
                            frontier.clear()
                            break
                        url, kind, depth = frontier.popleft()
                        why = self._allowed(client, url, other)
                        if why:
                            s.skipped[why] += 1
                            continue
                        fut = pool.submit(_fetch, client, p, self.limiter, url, kind,
                                          depth, states.get(url))
                        inflight[fut] = url
                    if not inflight:
                        continue
                    done, _ = wait(list(inflight), timeout=5.0, return_when=FIRST_COMPLETED)
                    for fut in done:
                        inflight.pop(fut)
                        f = fut.result()
                        if self._handle(f, frontier, states, ads_warc, other, jsonl):
                            last_ok = time.monotonic()
                            stall_said = False
                    if time.monotonic() - last_ok > STALL_SECONDS and not stall_said:
                        stall_said = True
                        self._emit("stall", seconds=round(time.monotonic() - last_ok),
                                   reason=self._why_stalled())
                    self._emit("progress", **self._live(started))
                self._flush(jsonl, force=True)
        finally:
            ads_warc.close()
            other.close()
        s.seconds = time.monotonic() - started
        s.ingest = _merge(self.ingests)
        s.stop_reason = self._stop_reason()
        s.warnings = self._warnings()
        self._emit("summary", **s.to_dict())
        return s

    def _live(self, started: float) -> dict[str, Any]:
        s = self.summary
        secs = max(1e-9, time.monotonic() - started)
        return {"pages": s.pages, "pages_per_second": round(s.pages / secs, 2),
                "ads_found": s.ads_found, "ads_new": s.ads_new, "ads_changed": s.ads_changed,
                "errors": sum(s.errors.values())}

    def _handle(self, f: _Fetch, frontier: deque[tuple[str, str, int]],
                states: dict[str, CrawlPage], ads_warc: _Warc, other: _Warc,
                jsonl: Path) -> bool:
        """Record one fetch; True when it was a successful page."""
        p, s = self.profile, self.summary
        if not f.status:
            s.errors[f.error] += 1
            self._emit("error", url=f.url, kind=f.error, detail=f.detail)
            return False
        s.pages += 1
        is_ad = f.kind == "ad" and f.status == 200 and not f.error
        offset = (ads_warc if is_ad else other).write(f)
        if f.error:
            s.errors[f.error] += 1
            self._emit("error", url=f.url, kind=f.error, detail=f.detail, status=f.status)
            return False
        if f.status in REDIRECT_CODES:
            location = dict((k.lower(), v) for k, v in f.headers).get("location", "")
            links = page_links(p, f'<a href="{_attr(location)}"></a>'.encode(), f.url)
            s.skipped["off_site"] += links.off_site
            self._queue(frontier, links.ads, "ad", f.depth)
            self._queue(frontier, links.listings, "listing", f.depth)
            return True
        if f.status == 304:
            s.not_modified += 1
            s.ads_found += 1
            s.ads_unchanged += 1
            return True
        if f.status >= 400:
            s.errors[f"http_{f.status}"] += 1
            self._emit("error", url=f.url, kind=f"http_{f.status}", status=f.status)
            return False
        ctype = dict((k.lower(), v) for k, v in f.headers).get("content-type", "")
        if "html" not in ctype.lower():
            s.skipped["not_html"] += 1
            return True
        hdr = dict((k.lower(), v) for k, v in f.headers)
        if f.kind == "listing":
            s.listings += 1
            links = page_links(p, f.body, f.url)
            s.skipped["off_site"] += links.off_site
            if f.depth + 1 > p.max_depth:
                s.skipped["max_depth"] += len(links.ads) + len(links.listings)
            else:
                self._queue(frontier, links.ads, "ad", f.depth + 1)
                self._queue(frontier, links.listings, "listing", f.depth + 1)
            self.listing_states.append(CrawlPage(f.url, "listing", f.fetched_at, f.status,
                                                 None, hdr.get("etag"),
                                                 hdr.get("last-modified")))
            return True
        s.ads_found += 1
        data = extract_ad(p, f.body, f.url)
        if not data.get("title") and not data.get("body"):
            s.empty_ads += 1
            self._emit("empty", url=f.url)
            return True
        digest = content_hash(data)
        state = CrawlPage(f.url, "ad", f.fetched_at, f.status, digest, hdr.get("etag"),
                          hdr.get("last-modified"), ads_warc.path.name, offset)
        old = states.get(f.url)
        if old is not None and old.content_hash == digest:
            s.ads_unchanged += 1
            self.listing_states.append(state)  # keeps the newest validators, not re-ingested
            return True
        if old is None or not old.content_hash:
            s.ads_new += 1
        else:
            s.ads_changed += 1
        extra = dict(data.get("extra") or {})
        extra["warc"] = {"file": ads_warc.path.name, "offset": offset}
        extra["crawl"] = {"profile": p.name, "fetched_at": f.fetched_at.isoformat(),
                          "payload_sha256": hashlib.sha256(f.body).hexdigest()}
        data["extra"] = extra
        self.pending.append((data, state))
        self._flush(jsonl)
        return True

    def _queue(self, frontier: deque[tuple[str, str, int]], urls: list[str], kind: str,
               depth: int) -> None:
        for url in urls:
            if url not in self.seen:
                self.seen.add(url)
                frontier.append((url, kind, depth))

    def _flush(self, jsonl: Path, *, force: bool = False) -> None:
        if not self.pending and not (force and self.listing_states):
            return
        if self.pending and (force or len(self.pending) >= self.batch_size):
            with open(jsonl, "a", encoding="utf-8") as fh:
                for data, _ in self.pending:
                    fh.write(json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n")
            chunk = jsonl.with_name(f"{jsonl.stem}-{len(self.ingests):04d}.jsonl")
            with open(chunk, "w", encoding="utf-8") as fh:
                for data, _ in self.pending:
                    fh.write(json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n")
            try:
                result = ingest(self.store, [str(chunk)], default_source=self.profile.source,
                                options=PipelineOptions(region=self.profile.country),
                                workers=0)
            finally:
                chunk.unlink(missing_ok=True)
            self.ingests.append(result)
            states = [st for _, st in self.pending]
            self.pending = []
            self.store.save_crawl_pages(self.profile.name, [*self.listing_states, *states])
            self.listing_states = []
        elif force and self.listing_states:
            self.store.save_crawl_pages(self.profile.name, self.listing_states)
            self.listing_states = []

    def _why_stalled(self) -> str:
        s = self.summary
        if s.errors:
            kinds = ", ".join(f"{k} x{n}" for k, n in s.errors.most_common(3))
            return f"every recent fetch failed ({kinds})"
        return "waiting on slow responses"

    def _stop_reason(self) -> str:
        s = self.summary
        if s.skipped["max_pages"]:
            return f"max_pages ({self.profile.max_pages:,}) reached"
        if s.pages == 0:
            unreachable = [k for k in s.errors if k.startswith("robots_")]
            if s.skipped["robots"] and unreachable:
                return (f"robots.txt could not be fetched ({', '.join(unreachable)}): the site "
                        "is treated as disallowing everything")
            if s.skipped["robots"]:
                return "every start URL is disallowed by robots.txt"
            if s.skipped["private"]:
                return "every start URL is on a non-public address (allow_private_addresses)"
            if s.errors:
                return "no page could be fetched: " + ", ".join(
                    f"{k} x{n}" for k, n in s.errors.most_common())
        return "done: every matching link within the caps was fetched"

    def _warnings(self) -> list[str]:
        s, out = self.summary, []
        if s.listings and not s.ads_found and not s.errors:
            out.append("listing pages were fetched but no link matched ad_patterns")
        if s.empty_ads:
            out.append(f"{s.empty_ads:,} ad pages where the title and body selectors matched "
                       "nothing (try `tracelight crawl check`)")
        if s.skipped["robots"]:
            out.append(f"{s.skipped['robots']:,} URLs skipped: disallowed by robots.txt")
        if s.skipped["max_depth"]:
            out.append(f"{s.skipped['max_depth']:,} links beyond max_depth not followed")
        if s.errors:
            out.append("errors: " + ", ".join(f"{k} x{n}" for k, n in s.errors.most_common()))
        return out


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _merge(parts: list[IngestSummary]) -> IngestSummary | None:
    if not parts:
        return None
    out = IngestSummary(run_pk=parts[-1].run_pk, status=parts[-1].status)
    for part in parts:
        out.read += part.read
        out.new += part.new
        out.updated += part.updated
        out.unchanged += part.unchanged
        out.rejected += part.rejected
        out.seconds += part.seconds
        out.problems += part.problems
    return out


def crawl(store: Store, profile: SiteProfile, *, warc_dir: str | Path,
          progress: Callable[[Event], None] | None = None, resolver: Resolver = resolve,
          batch_size: int = 200) -> CrawlSummary:
    """Crawl `profile` into WARC files under `warc_dir` and ingest new and changed ads."""
    return Crawler(store, profile, warc_dir=warc_dir, progress=progress, resolver=resolver,
                   batch_size=batch_size).run()


@dataclass(frozen=True)
class PageCheck:
    url: str
    status: int
    kind: str | None
    record: dict[str, Any]
    ad_links: list[str]
    listing_links: list[str]
    off_site: int
    error: str = ""


def check_page(profile: SiteProfile, url: str, *, resolver: Resolver = resolve) -> PageCheck:
    """Fetch one page (robots and address rules apply) and show what the profile reads."""
    if not profile.host_allowed(url):
        raise InputError(f"{url}: not an http(s) URL on the profile's allowed_hosts")
    host = urlsplit(url).hostname or ""
    why = blocked_reason(host, allow_private=profile.allow_private_addresses, resolver=resolver)
    if why:
        raise InputError(f"{url}: {why}")
    with _client(profile) as client:
        f = _fetch(client, profile, _HostLimiter(0), url, profile.kind_of(url) or "listing", 0,
                   None)
    if not f.status:
        raise InputError(f"{url}: fetch failed ({f.error}: {f.detail})")
    links = page_links(profile, f.body, url)
    record = extract_ad(profile, f.body, url) if f.status == 200 else {}
    return PageCheck(url, f.status, profile.kind_of(url), record, links.ads, links.listings,
                     links.off_site, f.error)
