"""`tracelight bench web`: p95 page times under concurrent users, on loopback.

Loads N synthetic ads into a scratch SQLite database, starts `tracelight serve` in a child
process (so the load generator does not share its interpreter), logs in U users and has each
run a bounded loop over the queue, search, ad and network pages. Prints p50/p95/max per page.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import click

from tracelight.cli.bench_cmd import bench, peak_rss_mb
from tracelight.cli.common import progress_bar


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if pid == root or int(fields[1]) == root:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _login(client: object, base: str, username: str, password: str) -> None:
    import re
    page = client.get(base + "/login")  # type: ignore[attr-defined]
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if found is None:
        raise click.ClickException("bench: no login form")
    token = found.group(1)
    r = client.post(base + "/login", data={"username": username, "password": password,  # type: ignore[attr-defined]
                                           "csrf_token": token, "next": "/queue"})
    if r.status_code >= 400 or "tl_session" not in client.cookies:  # type: ignore[attr-defined]
        raise click.ClickException(f"bench login failed: HTTP {r.status_code}")


@bench.command("web")
@click.option("--ads", "n_ads", type=int, default=100_000, show_default=True,
              help="Synthetic ads to load.")
@click.option("--users", type=int, default=10, show_default=True, help="Concurrent users.")
@click.option("--rounds", type=int, default=20, show_default=True,
              help="Loops per user; each loop opens one page of every kind.")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Server processes (tracelight serve --workers).")
@click.option("--think-ms", type=int, default=0, show_default=True,
              help="Pause between one user's pages (0: each user clicks as fast as pages come).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False), default=None,
              help="Keep the scratch database in this folder (default: a temporary one).")
def bench_web(n_ads: int, users: int, rounds: int, workers: int, think_ms: int, seed: int,
              keep: str | None) -> None:
    """Page times (p50/p95/max) for queue, search, ad and network pages under load."""
    import httpx

    from tracelight.services import networks as network_service
    from tracelight.store import open_store
    from tracelight.store.accounts import Accounts
    from tracelight.web.auth import hash_password
    from tracelight.web.sample import make_ads, phone_for

    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tl-bench-web-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'bench.db'}"
    store = open_store(db_url)
    have = store.count_ads()
    t0 = time.perf_counter()
    if have < n_ads:
        batch: list = []
        with progress_bar(total=n_ads - have) as bar:
            task = bar.add_task("loading ads", total=n_ads - have, info="")
            for i, item in enumerate(make_ads(n_ads, seed=seed)):
                if i < have:
                    continue
                batch.append(item)
                if len(batch) == 2000:
                    store.write_batch(None, batch)
                    bar.advance(task, len(batch))
                    batch = []
            if batch:
                store.write_batch(None, batch)
                bar.advance(task, len(batch))
    load_s = time.perf_counter() - t0
    accounts = Accounts(store)
    password = "bench-password-123"
    for u in range(users):
        name = f"bench{u}"
        if accounts.password_hash(name) is None:
            accounts.add_user(name, hash_password(password), "admin" if u == 0 else "analyst")
    networks = network_service.summaries(network_service.network_queue(store, 50))
    max_pk = store.count_ads()
    store.close()
    click.echo(f"loaded {n_ads} ads in {load_s:.1f} s ({folder})", err=True)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "tracelight", "serve", "--db", db_url,
                               "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
                raise click.ClickException(f"server did not start: {err}")
            time.sleep(0.2)
        times: dict[str, list[float]] = {"queue": [], "search": [], "ad": [], "network": []}
        errors: list[str] = []
        lock = threading.Lock()
        n_groups = max(1, n_ads // 8)

        def user_loop(u: int) -> None:
            rnd = random.Random(seed * 100 + u)
            with httpx.Client(timeout=30) as client:
                _login(client, base, f"bench{u}", password)
                # one unmeasured warm-up round: first-use caches, connection pools
                for url in ("/queue", "/search?kind=q&q=Ana", "/ads/1"):
                    client.get(base + url)
                barrier.wait()
                for _ in range(rounds):
                    urls = [
                        ("queue", "/queue" + rnd.choice(["", "?page=3", "?city=Seattle",
                                                         "?source=board-b&page=2",
                                                         "?category=massage"])),
                        ("search", rnd.choice([
                            f"/search?kind=phone&q={phone_for(rnd.randrange(n_groups))[1]}",
                            "/search?kind=q&q=friendly+company",
                            f"/search?kind=q&q={rnd.choice(['Bella', 'Reno', 'fresh'])}"])),
                        ("ad", f"/ads/{rnd.randint(1, max_pk)}"),
                    ]
                    if networks:
                        urls.append(("network", f"/networks/{rnd.choice(networks)['id']}"))
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
        threads = [threading.Thread(target=user_loop, args=(u,)) for u in range(users)]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        cpu_before = _tree_cpu_s(server.pid)
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        server_cpu = _tree_cpu_s(server.pid) - cpu_before
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    total = sum(len(v) for v in times.values())
    load = os.getloadavg()[0]
    click.echo(f"web: {n_ads} ads, {users} concurrent users (think time {think_ms} ms), "
               f"{workers} server processes, "
               f"{os.cpu_count()} CPUs (load average {load:.1f} at the end)")
    click.echo(f"web: {total} pages in {wall:.1f} s = "
               f"{total / wall:.1f} pages/s; server CPU {server_cpu * 1000 / max(total, 1):.0f} ms "
               f"per page; {len(errors)} errors; client peak RSS {peak_rss_mb():.0f} MiB")
    for kind, values in times.items():
        if not values:
            click.echo(f"  {kind:8s} n/a (networks not built)")
            continue
        click.echo(f"  {kind:8s} n={len(values):4d}  p50 {_pct(values, .5) * 1000:6.0f} ms  "
                   f"p95 {_pct(values, .95) * 1000:6.0f} ms  max {max(values) * 1000:6.0f} ms")
    for e in errors[:5]:
        click.echo(f"  error: {e}", err=True)
