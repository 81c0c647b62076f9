"""Use case: crawl one site profile into WARC evidence and ingest only the ads that changed.

Fetching is httpx (synchronous, a small thread pool per crawl; docs/crawl.md says why not
Scrapy). Every response is written to WARC by the one writer thread with request, response and
metadata (payload SHA-256, fetch time) records: ad pages to NAME.warc.gz, everything else
(robots.txt, listing pages, redirects, errors, 304s) to NAME-other.warc.gz. Ads whose extracted
content hash differs from the last crawl's are written to NAME.jsonl (each carrying
extra.warc = {"file", "offset"}) and ingested through services.ingest, in batches, with the
crawl state saved after each batch (a `kill -9` loses at most the batch in flight).

Images of new and changed ads are fetched once (on the allowed or image hosts, through the same
address guard and robots rules), checked (size cap, decodable under the pixel limit), kept in
the content-addressed image store and written to the ad WARC; the ad is ingested once its images
are in, and the image stage reads them back from the store. An image URL already kept by an
earlier crawl is never fetched again.

The frontier is saved as NAME.frontier.jsonl in the WARC folder (queued URLs, then those done,
appended at each checkpoint after the crawl state is committed): a crawl killed with `kill -9`
resumes from it without fetching again what it finished. A crawl that ends removes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
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

from tracelight import settings
from tracelight.blobs import ImageStore
from tracelight.collect.extract import content_hash, extract_ad, page_links
from tracelight.collect.guard import Resolver, blocked_reason, resolve
from tracelight.collect.profile import SiteProfile
from tracelight.errors import InputError
from tracelight.images.hashing import hash_bytes
from tracelight.ingest.runner import IngestSummary
from tracelight.pipeline import PipelineOptions
from tracelight.records import ImageInfo
from tracelight.services.ingest import ingest
from tracelight.store import Store
from tracelight.store.crawl import CrawlPage

MAX_ROBOTS_BYTES = 500_000
STALL_SECONDS = 30.0  # no page fetched successfully for this long: say why
EARLY_EMPTY = 10  # this many ad pages in a row with no title or body: warn at once
CHECKPOINT_SECONDS = 1.0  # crawl state and frontier saved at least this often
MAX_IMAGES_PER_AD = 50
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
    images_fetched: int = 0  # downloaded and kept in the image store this crawl
    images_known: int = 0  # already kept by an earlier crawl: not fetched again
    images_failed: int = 0  # refused or not fetched (the reason is the image error on the ad)
    resumed: int = 0  # pages an interrupted crawl had finished: not fetched again
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
                "images_fetched": self.images_fetched, "images_known": self.images_known,
                "images_failed": self.images_failed, "resumed": self.resumed,
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
    image: ImageInfo | None = None  # an image's hashes, computed in the worker thread


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


def _fast_writer(fh: BinaryIO) -> Any:
    """warcio's WARCWriter, writing each record as its own gzip member (as warcio does) at zlib
    level 6 rather than 9 (about half the CPU for a file a few per cent larger), with record ids
    (random UUIDs) drawn from a generator seeded once from the OS, not one urandom call each."""
    import random
    import uuid
    import zlib

    from warcio.warcwriter import WARCWriter

    rng = random.Random(os.urandom(32))

    class Writer(WARCWriter):
        @classmethod
        def _make_warc_id(cls) -> str:
            return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"

        def _write_warc_record(self, out: Any, record: Any) -> None:
            buf = io.BytesIO()
            self.gzip = False
            try:
                super()._write_warc_record(buf, record)
            finally:
                self.gzip = True
            z = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS + 16)
            out.write(z.compress(buf.getbuffer()) + z.flush())

    return Writer(fh, gzip=True)


class _Warc:
    """One gzip WARC file written by one thread; offsets are those of response records."""

    def __init__(self, path: Path, profile: SiteProfile) -> None:
        self.path = path
        self.fh: BinaryIO = open(path, "ab")  # noqa: SIM115 (closed by close())
        self.writer = _fast_writer(self.fh)
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


class _Journal:
    """The saved frontier of one profile: JSON lines `{"q": URL, "k": KIND, "d": DEPTH}` for
    each URL queued and `{"done": URL}` for each one finished, appended (and fsynced) at each
    checkpoint. A torn last line (a kill mid-write) is skipped; so is any line naming a URL the
    profile would not fetch (the file is checked like any input)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queued: list[tuple[str, str, int]] = []
        self.done: list[str] = []
        self.fh: Any = None

    def load(self, profile: SiteProfile) -> tuple[list[tuple[str, str, int]], set[str]] | None:
        """(every URL queued, in order; the URLs done) of an interrupted crawl, or None."""
        if not self.path.is_file():
            return None
        queued: dict[str, tuple[str, str, int]] = {}
        done: set[str] = set()
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(row, dict):
                    continue
                if isinstance(row.get("done"), str):
                    done.add(row["done"])
                    continue
                url, kind, depth = row.get("q"), row.get("k"), row.get("d")
                if (isinstance(url, str) and kind in ("listing", "ad") and
                        isinstance(depth, int) and profile.host_allowed(url)):
                    queued.setdefault(url, (url, kind, depth))
        return list(queued.values()), done

    def queue(self, url: str, kind: str, depth: int) -> None:
        self.queued.append((url, kind, depth))

    def mark(self, url: str) -> None:
        self.done.append(url)

    def flush(self) -> None:
        if not self.queued and not self.done:
            return
        if self.fh is None:
            self.fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (finish closes)
        lines = [json.dumps({"q": u, "k": k, "d": d}) for u, k, d in self.queued]
        lines += [json.dumps({"done": u}) for u in self.done]
        self.fh.write("".join(line + "\n" for line in lines))
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.queued, self.done = [], []

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def finish(self) -> None:
        """The crawl ended: the next one starts afresh."""
        self.close()
        self.path.unlink(missing_ok=True)


@dataclass
class _Waiting:
    """A new or changed ad whose images are still being fetched."""

    data: dict[str, Any]
    state: CrawlPage
    missing: set[str]


def _client(profile: SiteProfile, transport: httpx.BaseTransport | None = None,
            ) -> httpx.Client:
    return httpx.Client(timeout=profile.timeout_seconds, follow_redirects=False,
                        proxy=profile.proxy, transport=transport, trust_env=False,
                        headers={"User-Agent": profile.user_agent,
                                 "Accept-Encoding": "identity"})


def _fetch(client: httpx.Client, p: SiteProfile, limiter: _HostLimiter, url: str, kind: str,
           depth: int, state: CrawlPage | None, max_bytes: int | None = None) -> _Fetch:
    """GET `url` (worker thread): conditional for a known ad, size-capped, retried with
    backoff on timeouts, connection errors, 5xx and 429; never follows a redirect itself."""
    headers = {"User-Agent": p.user_agent, "Accept-Encoding": "identity"}
    if state is not None and kind == "ad" and state.content_hash:
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
    cap = max_bytes or p.max_page_bytes
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
                    if size > cap:
                        f.error, f.detail = "too_large", f"over {cap:,} bytes"
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
    if kind == "image" and f.status == 200 and not f.error:
        f.image = hash_bytes(f.body)  # decoding and PDQ off the main loop
    return f


class Crawler:
    """One crawl of one profile; `run()` returns the summary."""

    def __init__(self, store: Store, profile: SiteProfile, *, warc_dir: str | Path,
                 progress: Callable[[Event], None] | None = None,
                 resolver: Resolver = resolve, batch_size: int = 200,
                 transport: httpx.BaseTransport | None = None,
                 image_dir: str | Path | None = None, fresh: bool = False) -> None:
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
        self.listing_states: list[CrawlPage] = []  # states to save at the next checkpoint
        self.ingests: list[IngestSummary] = []
        folder = image_dir if image_dir is not None else settings.get("image_dir")
        self.image_dir = Path(folder) if folder else None
        self.image_store = ImageStore(self.image_dir) if self.image_dir else None
        self.image_max = settings.get_int("image_max_bytes")
        self.image_results: dict[str, str] = {}  # URL -> "sha256:HEX" | "error:REASON"
        self.image_waiters: dict[str, list[str]] = {}  # image URL -> ad URLs waiting on it
        self.image_infos: dict[str, ImageInfo] = {}  # hashed this crawl, by SHA-256 (until
        # the ads showing them are ingested)
        self.waiting: dict[str, _Waiting] = {}
        self.journal = _Journal(self.warc_dir / f"{profile.name}.frontier.jsonl")
        if fresh:  # the operator asked to start over: forget an interrupted crawl's frontier
            self.journal.path.unlink(missing_ok=True)
        self.empty_run = 0
        self.jsonl = self.warc_dir / "unused.jsonl"
        self.last_checkpoint = time.monotonic()

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
        jsonl = self.jsonl = self.warc_dir / f"{base}.jsonl"
        states = self.store.crawl_pages(p.name)
        frontier: deque[tuple[str, str, int]] = deque()
        saved = self.journal.load(p)
        if saved is not None:
            queued, done = saved
            for url, kind, depth in queued:
                self.seen.add(url)
                if url not in done:
                    frontier.append((url, kind, depth))
            s.resumed = len(done & self.seen)
            self._emit("resume", done=s.resumed, queued=len(frontier),
                       journal=self.journal.path.name)
        if not frontier and not s.resumed:
            for url in p.start_urls:
                if url not in self.seen:
                    self.seen.add(url)
                    kind = p.kind_of(url) or "listing"
                    frontier.append((url, kind, 0))
                    self.journal.queue(url, kind, 0)
        started = time.monotonic()
        last_ok = started
        stall_said = False
        finished = False
        inflight: dict[Future[_Fetch], str] = {}
        try:
            with _client(p, self.transport) as client, ThreadPoolExecutor(p.concurrency) as pool:
                while frontier or inflight:
                    while frontier and len(inflight) < p.concurrency:
                        url, kind, depth = frontier.popleft()
                        in_flight = sum(1 for k in inflight.values() if k != "image")
                        if kind != "image" and s.pages + in_flight >= p.max_pages:
                            s.skipped["max_pages"] += 1
                            continue
                        why = self._allowed(client, url, other)
                        if why:
                            s.skipped[why] += 1
                            if kind == "image":
                                self._image_result(url, f"error:not fetched ({why})")
                            else:
                                self.journal.mark(url)
                            continue
                        fut = pool.submit(_fetch, client, p, self.limiter, url, kind,
                                          depth, None if kind == "image" else states.get(url),
                                          self.image_max if kind == "image" else None)
                        inflight[fut] = kind
                    if not inflight:
                        continue
                    done_now, _ = wait(list(inflight), timeout=5.0,
                                       return_when=FIRST_COMPLETED)
                    for fut in done_now:
                        inflight.pop(fut)
                        f = fut.result()
                        if self._handle(f, frontier, states, ads_warc, other, jsonl):
                            last_ok = time.monotonic()
                            stall_said = False
                    if time.monotonic() - last_ok > STALL_SECONDS and not stall_said:
                        stall_said = True
                        self._emit("stall", seconds=round(time.monotonic() - last_ok),
                                   reason=self._why_stalled())
                    if time.monotonic() - self.last_checkpoint >= CHECKPOINT_SECONDS:
                        self._checkpoint()
                    self._emit("progress", **self._live(started))
                for ad_url in list(self.waiting):  # images that never came: ingest anyway
                    self._release(ad_url)
                self._flush(jsonl, force=True)
                finished = True
        finally:
            ads_warc.close()
            other.close()
            if finished:
                self.journal.finish()
            else:
                self.journal.close()
        s.seconds = time.monotonic() - started
        s.ingest = _merge(self.ingests)
        s.stop_reason = self._stop_reason()
        s.warnings = self._warnings()
        self._emit("summary", **s.to_dict())
        return s

    def _checkpoint(self) -> None:
        """Commit the crawl state of what is finished, then append the frontier to the
        journal: what the journal calls done is always in the store."""
        if self.listing_states:
            self.store.save_crawl_pages(self.profile.name, self.listing_states)
            self.listing_states = []
        self.journal.flush()
        self.last_checkpoint = time.monotonic()

    # ---- images ---------------------------------------------------------------------------
    def _await_images(self, data: dict[str, Any], state: CrawlPage,
                      frontier: deque[tuple[str, str, int]], states: dict[str, CrawlPage],
                      jsonl: Path) -> None:
        """Queue the images of a new or changed ad that are not kept yet; the ad is ingested
        once they are in (or could not be fetched)."""
        p, s = self.profile, self.summary
        urls = [u for u in data.get("images") or [] if isinstance(u, str)]
        if len(urls) > MAX_IMAGES_PER_AD:
            urls = data["images"] = urls[:MAX_IMAGES_PER_AD]
        missing: set[str] = set()
        for url in urls if p.download_images and self.image_store is not None else []:
            if url in self.image_results:
                continue
            if url in self.image_waiters:
                missing.add(url)
                self.image_waiters[url].append(state.url)
                continue
            old = states.get(url)
            if (old is not None and old.kind == "image" and old.content_hash
                    and self.image_store is not None and self.image_store.has(old.content_hash)):
                s.images_known += 1
                self.image_results[url] = f"sha256:{old.content_hash}"
                continue
            if not p.host_allowed(url, image=True):
                s.images_failed += 1
                self.image_results[url] = ("error:image not on the profile's allowed_hosts or "
                                           "image_hosts: not fetched")
                continue
            missing.add(url)
            self.image_waiters[url] = [state.url]
            frontier.appendleft((url, "image", 0))  # first: the ad waits on it
        if missing:
            self.waiting[state.url] = _Waiting(data, state, missing)
        else:
            self.pending.append((data, state))
            self._flush(jsonl)

    def _image_fetched(self, f: _Fetch, ads_warc: _Warc) -> None:
        s = self.summary
        if not f.status:
            self._emit("error", url=f.url, kind=f.error, detail=f.detail)
            s.errors[f"image_{f.error}"] += 1
            return self._image_result(f.url, f"error:download failed ({f.error})")
        offset = ads_warc.write(f)
        if f.error or f.status != 200:
            why = f.error or f"http_{f.status}"
            s.errors[f"image_{why}"] += 1
            self._emit("error", url=f.url, kind=f"image_{why}", status=f.status)
            return self._image_result(f.url, f"error:download failed ({why})")
        info = f.image or hash_bytes(f.body)
        if info.error or not info.sha256 or self.image_store is None:
            return self._image_result(f.url, f"error:download refused: {info.error}")
        self.image_store.put(f.body, info.sha256)
        self.image_infos[info.sha256] = info
        if len(self.image_infos) > 4096:  # bounded: an older one is hashed again if reused
            del self.image_infos[next(iter(self.image_infos))]
        hdr = dict((k.lower(), v) for k, v in f.headers)
        self.listing_states.append(CrawlPage(f.url, "image", f.fetched_at, f.status,
                                             info.sha256, hdr.get("etag"),
                                             hdr.get("last-modified"), ads_warc.path.name,
                                             offset))
        s.images_fetched += 1
        self._image_result(f.url, f"sha256:{info.sha256}")

    def _image_result(self, url: str, value: str) -> None:
        if not value.startswith("sha256:"):
            self.summary.images_failed += 1
        self.image_results[url] = value
        for ad_url in self.image_waiters.pop(url, []):
            w = self.waiting.get(ad_url)
            if w is not None:
                w.missing.discard(url)
                if not w.missing:
                    self._release(ad_url)

    def _release(self, ad_url: str) -> None:
        w = self.waiting.pop(ad_url)
        self.pending.append((w.data, w.state))
        self._flush(self.jsonl)

    def _live(self, started: float) -> dict[str, Any]:
        s = self.summary
        secs = max(1e-9, time.monotonic() - started)
        return {"pages": s.pages, "pages_per_second": round(s.pages / secs, 2),
                "ads_found": s.ads_found, "ads_new": s.ads_new, "ads_changed": s.ads_changed,
                "images": s.images_fetched, "errors": sum(s.errors.values()),
                "errors_by_kind": dict(s.errors)}

    def _handle(self, f: _Fetch, frontier: deque[tuple[str, str, int]],
                states: dict[str, CrawlPage], ads_warc: _Warc, other: _Warc,
                jsonl: Path) -> bool:
        """Record one fetch; True when it was a successful page."""
        p, s = self.profile, self.summary
        if f.kind == "image":
            self._image_fetched(f, ads_warc)
            return False
        if f.kind != "ad" or f.status not in (200,) or f.error:
            self.journal.mark(f.url)  # finished here (a new or changed ad: once ingested)
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
            self.journal.mark(f.url)
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
            self.empty_run += 1
            self.journal.mark(f.url)
            self._emit("empty", url=f.url)
            if self.empty_run == EARLY_EMPTY:
                self._emit("stall", seconds=0, reason=(
                    f"the last {EARLY_EMPTY} ad pages matched neither the title nor the body "
                    "selector: check the profile with `tracelight crawl check`"))
            return True
        self.empty_run = 0
        digest = content_hash(data)
        state = CrawlPage(f.url, "ad", f.fetched_at, f.status, digest, hdr.get("etag"),
                          hdr.get("last-modified"), ads_warc.path.name, offset)
        old = states.get(f.url)
        if old is not None and old.content_hash == digest:
            s.ads_unchanged += 1
            self.listing_states.append(state)  # keeps the newest validators, not re-ingested
            self.journal.mark(f.url)
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
        self._await_images(data, state, frontier, states, jsonl)
        return True

    def _queue(self, frontier: deque[tuple[str, str, int]], urls: list[str], kind: str,
               depth: int) -> None:
        for url in urls:
            if url not in self.seen:
                self.seen.add(url)
                frontier.append((url, kind, depth))
                self.journal.queue(url, kind, depth)

    def _flush(self, jsonl: Path, *, force: bool = False) -> None:
        """Ingest the pending ads once a batch is full (or `force`), then checkpoint."""
        if self.pending and (force or len(self.pending) >= self.batch_size):
            with open(jsonl, "a", encoding="utf-8") as fh:
                for data, _ in self.pending:
                    fh.write(json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n")
            chunk = jsonl.with_name(f"{jsonl.stem}-{len(self.ingests):04d}.jsonl")
            with open(chunk, "w", encoding="utf-8") as fh:
                for data, _ in self.pending:
                    fh.write(json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n")
            remote = {u: self.image_results[u] for data, _ in self.pending
                      for u in data.get("images") or [] if u in self.image_results}
            infos = {v[7:]: self.image_infos[v[7:]] for v in remote.values()
                     if v[7:] in self.image_infos}
            opts = PipelineOptions(region=self.profile.country,
                                   image_dir=str(self.image_dir) if self.image_dir else None,
                                   remote_images=tuple(sorted(remote.items())),
                                   remote_infos=tuple(infos.values()))
            try:
                result = ingest(self.store, [str(chunk)], default_source=self.profile.source,
                                options=opts, workers=0)
            finally:
                chunk.unlink(missing_ok=True)
            self.ingests.append(result)
            self.listing_states += [st for _, st in self.pending]
            for _, st in self.pending:
                self.journal.mark(st.url)
            self.pending = []
            self._checkpoint()
        elif force:
            self._checkpoint()

    def _why_stalled(self) -> str:
        s = self.summary
        if s.skipped["robots"] and not s.pages:
            return f"every URL so far is disallowed by robots.txt ({s.skipped['robots']:,})"
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
          batch_size: int = 200, image_dir: str | Path | None = None,
          fresh: bool = False) -> CrawlSummary:
    """Crawl `profile` into WARC files under `warc_dir` and ingest new and changed ads; their
    images are kept under `image_dir` (default: the image_dir setting)."""
    return Crawler(store, profile, warc_dir=warc_dir, progress=progress, resolver=resolver,
                   batch_size=batch_size, image_dir=image_dir, fresh=fresh).run()


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
