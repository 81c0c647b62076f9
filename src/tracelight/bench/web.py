"""`tracelight bench web`: p50/p95/max page times under concurrent users, on loopback.

Generates N demo ads and runs them through the real pipeline (`tracelight ingest` with
extraction and scoring, then `tracelight link`, each in a child process) into a scratch SQLite
database, starts `tracelight serve` in a child
process (so the load generator does not share its interpreter), logs in U users and has each
run a bounded loop over the queue, search, ad and network pages.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from tracelight.bench.measure import peak_rss_mb, say, tree_cpu_s
from tracelight.errors import TracelightError, UsageError

PASSWORD = "bench-password-123"


def require_httpx() -> Any:
    """httpx is the load generator's client, a development dependency: say so plainly."""
    try:
        import httpx
    except ImportError:
        raise UsageError("`tracelight bench web` needs the httpx package, which is not "
                         "installed", hint="pip install httpx, or pip install -e '.[dev]' "
                         "in a source checkout") from None
    return httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _login(client: Any, base: str, username: str, password: str) -> None:
    page = client.get(base + "/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if found is None:
        raise TracelightError("bench: no login form")
    r = client.post(base + "/login", data={"username": username, "password": password,
                                           "csrf_token": found.group(1), "next": "/queue"})
    if r.status_code >= 400 or "tl_session" not in client.cookies:
        raise TracelightError(f"bench login failed: HTTP {r.status_code}")


@dataclass
class Pools:
    """What the simulated users ask for, taken from the demo corpus itself."""

    phones: list[str] = field(default_factory=list)  # as written in the ads
    words: list[str] = field(default_factory=list)  # names and cities
    cities: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _pools(folder: Path, limit: int = 2000) -> Pools:
    pools = Pools()
    with (folder / "truth.jsonl").open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n >= limit:
                break
            t = json.loads(line)
            pools.phones += [p["raw"] for p in t.get("phone_text", [])]
            pools.words += t.get("names", [])[:1]
            if t.get("city"):
                pools.cities.append(t["city"])
    with (folder / "ads.jsonl").open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n >= limit:
                break
            pools.sources.append(json.loads(line)["source"])
    pools.words += pools.cities
    pools.sources = sorted(set(pools.sources))
    pools.phones = pools.phones or ["555"]
    pools.words = pools.words or ["demo"]
    return pools


def _tracelight(*args: str) -> None:
    """Run one `tracelight` command in a child process (its memory is not the client's)."""
    done = subprocess.run([sys.executable, "-m", "tracelight", *args], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise TracelightError(f"tracelight {args[0]} failed: {done.stderr.strip()[-500:]}")


def _load(folder: Path, db_url: str, n_ads: int, seed: int, users: int
          ) -> tuple[list[str], list[str], Pools]:
    """Generate, ingest and link the demo corpus (once: a kept folder is reused) and add the
    users. Returns up to 2,000 ad addresses (/ads/SOURCE/ID), up to 50 network ids and the
    request pools."""
    from tracelight.services.adref import ad_url
    from tracelight.services.link import stored_networks
    from tracelight.store import open_store
    from tracelight.store.accounts import Accounts
    from tracelight.web.auth import hash_password

    corpus = folder / "corpus"
    store = open_store(db_url)
    try:
        if store.count_ads() < n_ads or not (corpus / "truth.jsonl").is_file():
            say(f"generating {n_ads} demo ads, then ingest (extract, score) and link ...",
                err=True)
            _tracelight("demo-generate", str(corpus), "--ads", str(n_ads), "--seed", str(seed),
                        "--no-images", "--format", "jsonl")
            _tracelight("ingest", str(corpus / "ads.jsonl"), "--db", db_url, "--rejects",
                        os.devnull, "--format", "jsonl")
            _tracelight("link", "--db", db_url, "--format", "jsonl")
        accounts = Accounts(store)
        for u in range(users):
            name = f"bench{u}"
            if accounts.password_hash(name) is None:
                accounts.add_user(name, hash_password(PASSWORD), "admin" if u == 0 else "analyst")
        networks = [n.network_id for n in stored_networks(store, limit=50)]
        total = store.count_ads()
        pks = random.Random(seed).sample(range(1, total + 1), min(total, 2000))
        ad_urls = [ad_url(src, ad_id) for src, ad_id in store.ad_refs(pks).values()]
    finally:
        store.close()
    return ad_urls, networks, _pools(corpus)


def run(n_ads: int = 100_000, users: int = 10, rounds: int = 20, workers: int = 2,
        think_ms: int = 0, seed: int = 7, keep: Path | None = None) -> None:
    """Page times (p50/p95/max) for queue, search, ad and network pages under load.

    `keep`: keep the scratch database and corpus in this folder (a rerun reuses them).
    """
    httpx = require_httpx()
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="tl-bench-web-") as tmp:
            return run(n_ads, users, rounds, workers, think_ms, seed, Path(tmp))
    folder = keep
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'bench.db'}"
    t0 = time.perf_counter()
    ad_urls, networks, pools = _load(folder, db_url, n_ads, seed, users)
    say(f"loaded {n_ads} ads in {time.perf_counter() - t0:.1f} s ({folder})", err=True)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "tracelight", "serve", "--db", db_url,
                               "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    times: dict[str, list[float]] = {"queue": [], "search": [], "ad": [], "network": []}
    errors: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read().decode()[-500:] if server.stderr else ""
                raise TracelightError(f"server did not start: {err}")
            time.sleep(0.2)
        lock = threading.Lock()
        city = pools.cities[0] if pools.cities else ""
        source = pools.sources[-1] if pools.sources else ""

        def user_loop(u: int) -> None:
            try:
                _user_loop(u)
            except threading.BrokenBarrierError:
                pass  # another user failed first; its error is the one reported
            except Exception as exc:  # one user failing must not leave the others waiting
                with lock:
                    failures.append(f"user {u}: {type(exc).__name__}: {exc}")
                barrier.abort()

        def _user_loop(u: int) -> None:
            rnd = random.Random(seed * 100 + u)
            with httpx.Client(timeout=30) as client:
                _login(client, base, f"bench{u}", PASSWORD)
                # one unmeasured warm-up round: first-use caches, connection pools
                for url in ("/queue", f"/search?kind=q&q={quote_plus(rnd.choice(pools.words))}",
                            ad_urls[0]):
                    client.get(base + url)
                barrier.wait()
                for _ in range(rounds):
                    urls = [
                        ("queue", "/queue" + rnd.choice([
                            "", "?page=3", f"?city={quote_plus(city)}",
                            f"?source={quote_plus(source)}&page=2", "?since=2026-09-01"])),
                        ("search", rnd.choice([
                            f"/search?kind=phone&q={quote_plus(rnd.choice(pools.phones))}",
                            "/search?kind=q&q=private+and+peaceful",
                            f"/search?kind=q&q={quote_plus(rnd.choice(pools.words))}"])),
                        ("ad", rnd.choice(ad_urls)),
                    ]
                    if networks:
                        urls.append(("network", f"/networks/{rnd.choice(networks)}"))
                    for kind, url in urls:
                        start = time.perf_counter()
                        r = client.get(base + url)
                        took = time.perf_counter() - start
                        with lock:
                            times[kind].append(took)
                            if r.status_code != 200:
                                errors.append(f"{url}: HTTP {r.status_code}")
                        if think_ms:
                            time.sleep(rnd.uniform(0.5, 1.5) * think_ms / 1000)

        barrier = threading.Barrier(users + 1)
        failures: list[str] = []
        threads = [threading.Thread(target=user_loop, args=(u,)) for u in range(users)]
        for t in threads:
            t.start()
        try:
            barrier.wait(timeout=600)
        except threading.BrokenBarrierError:
            barrier.abort()
            for t in threads:
                t.join(60)
            raise TracelightError("the load generator could not start its users: "
                                  + ("; ".join(failures[:3]) or "they did not log in within "
                                     "10 minutes")) from None
        started = time.perf_counter()
        cpu_before = tree_cpu_s(server.pid)
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        server_cpu = tree_cpu_s(server.pid) - cpu_before
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
    total = sum(len(v) for v in times.values())
    load = os.getloadavg()[0]
    say(f"web: {n_ads} ads, {users} concurrent users (think time {think_ms} ms), "
        f"{workers} server processes, "
        f"{os.cpu_count()} CPUs (load average {load:.1f} at the end)")
    say(f"web: {total} pages in {wall:.1f} s = "
        f"{total / wall:.1f} pages/s; server CPU {server_cpu * 1000 / max(total, 1):.0f} ms "
        f"per page; {len(errors)} errors; client peak RSS {peak_rss_mb():.0f} MiB")
    for kind, values in times.items():
        if not values:
            say(f"  {kind:8s} n/a (networks not built)")
            continue
        say(f"  {kind:8s} n={len(values):4d}  p50 {_pct(values, .5) * 1000:6.0f} ms  "
            f"p95 {_pct(values, .95) * 1000:6.0f} ms  max {max(values) * 1000:6.0f} ms")
    for e in errors[:5]:
        say(f"  error: {e}", err=True)
