"""`tracelight bench check`: latency and throughput of `POST /api/v1/check` on loopback.

Generates N demo ads, ingests and links them (child processes, as `tracelight ingest` and
`tracelight link` would) into a scratch SQLite database, adds a hash bank of random MD5 and
PDQ hashes, starts `tracelight serve --api-only --workers W` in a child process, and sends
checks from C client threads over keep-alive connections (standard library http.client):
first text only, then each with one 800x600 JPEG (base64). Prints p50/p99 and checks/s
against the targets (p50 < 10 ms, p99 < 50 ms, >= 300 checks/s text-only; p99 < 100 ms with
an image), the server's CPU seconds per check and the load generator's own CPU (its client
threads share the machine's cores with the server). Figures, never assertions.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tracelight.bench.measure import say, tree_cpu_by_pid, tree_cpu_s
from tracelight.bench.web import _free_port, _pct, _tracelight
from tracelight.errors import TracelightError


def _bodies(corpus: Path, n: int, seed: int) -> list[bytes]:
    rows = []
    with (corpus / "ads.jsonl").open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= 5000:
                break
            ad = json.loads(line)
            rows.append({"title": ad.get("title", ""), "body": ad.get("body", ""),
                         "location": ad.get("location")})
    rng = random.Random(seed)
    return [json.dumps(rng.choice(rows)).encode() for _ in range(n)]


def _jpeg(width: int = 800, height: int = 600, seed: int = 1) -> bytes:
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, width * height * 3).reshape(height, width, 3)
    noise = rng.integers(0, 40, (height, width, 3))
    out = io.BytesIO()
    Image.fromarray((base + noise).clip(0, 255).astype("uint8")).save(out, format="JPEG",
                                                                       quality=85)
    return out.getvalue()


def _load(folder: Path, db_url: str, n_ads: int, bank_hashes: int, seed: int) -> str:
    from tracelight.images.banks import BankEntry
    from tracelight.services.banks import import_bank
    from tracelight.store import open_store
    from tracelight.store.accounts import Accounts
    from tracelight.web.auth import hash_password

    corpus = folder / "corpus"
    store = open_store(db_url)
    try:
        if store.count_ads() < n_ads or not (corpus / "ads.jsonl").is_file():
            say(f"generating {n_ads} demo ads, then ingest and link ...", err=True)
            _tracelight("demo-generate", str(corpus), "--ads", str(n_ads), "--seed", str(seed),
                        "--no-images", "--format", "jsonl")
            _tracelight("ingest", str(corpus / "ads.jsonl"), "--db", db_url, "--rejects",
                        os.devnull, "--format", "jsonl")
            _tracelight("link", "--db", db_url, "--format", "jsonl")
        if bank_hashes and not any(True for _ in store.iter_bank_hashes(bank="bench")):
            rng = random.Random(seed)
            entries = [BankEntry("pdq", f"{rng.getrandbits(256):064x}") if i % 2
                       else BankEntry("md5", f"{rng.getrandbits(128):032x}")
                       for i in range(bank_hashes)]
            import_bank(store, "bench", entries)
        accounts = Accounts(store)
        if accounts.password_hash("bench-platform") is None:
            accounts.add_user("bench-platform", hash_password("bench-password-123"), "analyst")
        return accounts.create_token("bench-platform", "bench check", scope="check")
    finally:
        store.close()


def _phase(port: int, token: str, bodies: list[bytes], clients: int,
           ) -> tuple[list[float], float, list[str]]:
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    chunks = [bodies[i::clients] for i in range(clients)]

    def connect() -> http.client.HTTPConnection:
        # http.client sends a request's headers and body in two writes: without TCP_NODELAY,
        # Nagle holds the body until the server ACKs the headers, which it delays by ~40 ms
        # (a platform's HTTP client sets it, as httpx does); measure the server, not that
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.connect()
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def worker(mine: list[bytes]) -> None:
        conn = connect()
        local: list[float] = []
        for body in mine:
            t = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/check", body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    with lock:
                        errors.append(f"HTTP {resp.status}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(type(exc).__name__)
                conn.close()
                conn = connect()
                continue
            local.append((time.perf_counter() - t) * 1000)
        conn.close()
        with lock:
            times.extend(local)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return times, time.perf_counter() - t0, errors


def _settle(pid: int, limit: float = 300.0) -> float:
    """Wait until the server's background warm-up (each worker scores every network once
    after it starts answering) is over: its CPU use falls below a tenth of a core for a
    second. Returns the seconds waited (at most `limit`)."""
    t0 = time.monotonic()
    before = tree_cpu_s(pid)
    while time.monotonic() - t0 < limit:
        time.sleep(1.0)
        now = tree_cpu_s(pid)
        if now - before < 0.1:
            break
        before = now
    return time.monotonic() - t0


def _report(label: str, times: list[float], seconds: float, errors: list[str],
            p50_target: float | None, p99_target: float, rate_target: float | None,
            cpu: float = 0.0, client_cpu: float = 0.0) -> None:
    p50, p99 = _pct(times, 0.50), _pct(times, 0.99)
    rate = len(times) / seconds if seconds else 0.0

    def mark(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    parts = [f"{label}: {len(times)} checks in {seconds:.1f} s = {rate:.0f} checks/s"
             + (f" (target >= {rate_target:.0f}: {mark(rate >= rate_target)})"
                if rate_target else ""),
             f"  p50 {p50:.1f} ms" + (f" (target < {p50_target:.0f}: {mark(p50 < p50_target)})"
                                      if p50_target else ""),
             f"  p99 {p99:.1f} ms (target < {p99_target:.0f}: {mark(p99 < p99_target)})",
             f"  max {max(times, default=float('nan')):.1f} ms, errors {len(errors)}"
             + (f" (first: {errors[0]})" if errors else ""),
             f"  server CPU {cpu:.1f} s = {cpu / len(times) * 1000 if times else 0:.2f} ms "
             f"per check (about {len(times) / cpu if cpu else 0:.0f} checks per CPU-second); "
             f"load average {os.getloadavg()[0]:.1f}",
             f"  load generator CPU {client_cpu:.1f} s = "
             f"{client_cpu / len(times) * 1000 if times else 0:.2f} ms per check, "
             f"{100 * client_cpu / (cpu + client_cpu) if cpu + client_cpu else 0:.0f} % of "
             f"server + client (it shares the cores)"]
    for p in parts:
        say(p)


def run(n_ads: int = 20_000, checks: int = 2000, image_checks: int = 300, clients: int = 8,
        workers: int = 2, bank_hashes: int = 100_000, seed: int = 7,
        keep: Path | None = None) -> None:
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="tl-bench-check-") as tmp:
            return run(n_ads, checks, image_checks, clients, workers, bank_hashes, seed,
                       Path(tmp))
    folder = keep
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'bench.db'}"
    t0 = time.perf_counter()
    token = _load(folder, db_url, n_ads, bank_hashes, seed)
    say(f"store: {n_ads:,} ads, linked, bank of {bank_hashes:,} hashes; ready in "
        f"{time.perf_counter() - t0:.1f} s ({folder})", err=True)
    bodies = _bodies(folder / "corpus", checks, seed)
    picture = base64.b64encode(_jpeg()).decode()
    with_image = [json.dumps({**json.loads(b), "images": [{"data": picture}]}).encode()
                  for b in bodies[:image_checks]]
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tracelight", "serve", "--api-only",
                               "--db", db_url, "--port", str(port), "--workers", str(workers)],
                              env={**os.environ, "PYTHONUNBUFFERED": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read().decode()[-500:] if server.stderr else ""
                raise TracelightError(f"server did not start: {err}")
            time.sleep(0.2)
        _phase(port, token, bodies[:50], clients)  # warm both workers (imports, caches)
        settled = _settle(server.pid)
        say(f"server warm-up in the background (network ranking): {settled:.0f} s until idle",
            err=True)
        say(f"tracelight serve --api-only --workers {workers}, {clients} client threads, "
            f"loopback ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
        cpu0, own0, by0 = tree_cpu_s(server.pid), time.process_time(), tree_cpu_by_pid(server.pid)
        times, seconds, errors = _phase(port, token, bodies, clients)
        cpu1, own1, by1 = tree_cpu_s(server.pid), time.process_time(), tree_cpu_by_pid(server.pid)
        _report("text only", times, seconds, errors, 10, 50, 300, cpu1 - cpu0, own1 - own0)
        split = sorted((by1[p] - by0.get(p, 0.0) for p in by1), reverse=True)
        say("  server CPU by process: " + ", ".join(f"{c:.1f} s" for c in split if c >= 0.05))
        times, seconds, errors = _phase(port, token, with_image, clients)
        _report(f"one 800x600 JPEG ({len(picture) * 3 // 4 // 1024} KiB)", times, seconds,
                errors, None, 100, None, tree_cpu_s(server.pid) - cpu1,
                time.process_time() - own1)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
