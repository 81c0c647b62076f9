"""`tracelight bench ingest`: generated ads through `tracelight ingest` on SQLite and PostgreSQL.

Generation and ingest each run in a child process, so the ingest's peak memory is its own.
Besides wall-clock ads/s each line gives the CPU seconds per 1,000 ads (the ingest process and
its workers, plus the PostgreSQL server's backends for that database) and the load average:
on a shared machine wall time measures the neighbours, CPU time the ingest.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from tracelight.bench.measure import report, say, timed
from tracelight.errors import TracelightError

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class _BackendCpu:
    """CPU seconds of the PostgreSQL backends serving one database, sampled while they live
    (a backend's /proc entry goes with its connection). Zero where /proc is not readable."""

    def __init__(self, admin: Any, database: str) -> None:
        self.admin, self.database = admin, database
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _BackendCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())

    def _loop(self) -> None:
        import sqlalchemy as sa
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(0.2):
            try:
                with self.admin.connect() as conn:
                    pids = list(conn.execute(sa.text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                        {"d": self.database}).scalars())
            except Exception:
                continue
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/stat", "rb") as fh:
                        f = fh.read().rsplit(b")", 1)[1].split()
                    self.seen[pid] = (int(f[11]) + int(f[12])) / tick
                except (OSError, ValueError, IndexError):
                    continue


def _child_ingest(path: str, db_url: str, workers: int | None, images: bool,
                  image_dir: str) -> tuple[float, dict[str, object]]:
    """Run `tracelight ingest` in a child process so its peak memory is measured alone."""
    cmd = [sys.executable, "-m", "tracelight", "ingest", path, "--db", db_url,
           "--format", "jsonl", "--rejects", os.devnull]
    if workers:
        cmd += ["--workers", str(workers)]
    if not images:
        cmd += ["--no-images"]
    cpu = _children_cpu()
    with timed() as t:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env={**os.environ, "TRACELIGHT_IMAGE_DIR": image_dir})
    if done.returncode != 0:
        raise TracelightError(f"ingest failed: {done.stderr.strip()[-500:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # the ingest process reports its own peak and its workers' (the generator's are not in it)
    return t.seconds, {**out, "peak_mb": out["peak_rss_mib"], "cpu_s": _children_cpu() - cpu}


def _line(name: str, n_ads: int, seconds: float, out: dict[str, Any], server_cpu: float,
          load: float) -> None:
    cpu = float(out["cpu_s"]) + server_cpu
    report(name, n_ads, seconds, "ads", child_peak_rss_mib=f"{out['peak_mb']:.0f}",
           cpu_s=f"{cpu:.1f}", cpu_s_per_1000_ads=f"{1000 * cpu / n_ads:.2f}",
           **({"of_which_server_cpu_s": f"{server_cpu:.1f}"} if server_cpu else {}),
           load=f"{load:.1f}-{os.getloadavg()[0]:.1f}")


def run(n_ads: int = 20_000, seed: int = 7, workers: int | None = None,
        pg_url: str = DEFAULT_PG_URL, images: bool = False) -> None:
    """Ingest N generated ads (extraction and scoring on; with `images`, the demo's pictures
    too, hashed by the workers) into SQLite, then PostgreSQL when a server answers at
    `pg_url` (a scratch database is created there and dropped afterwards)."""
    import sqlalchemy as sa

    with tempfile.TemporaryDirectory(prefix="tracelight-bench-") as tmp:
        # Generate in a child too: Linux keeps a process's peak memory across fork and exec,
        # so a generator run in this process would be counted as the ingest's memory.
        with timed() as t:
            subprocess.run([sys.executable, "-m", "tracelight", "demo-generate", tmp,
                            "--ads", str(n_ads), "--seed", str(seed),
                            *([] if images else ["--no-images"]),
                            "--format", "jsonl"], check=True, capture_output=True)
        say(f"generated {n_ads} ads in {t.seconds:.1f} s", err=True)
        ads_file = str(Path(tmp) / "ads.jsonl")
        kind = " with images" if images else ""
        load = os.getloadavg()[0]
        seconds, out = _child_ingest(ads_file, f"sqlite:///{tmp}/bench.db", workers, images,
                                     str(Path(tmp) / "kept-sqlite"))
        _line(f"ingest sqlite{kind}", n_ads, seconds, out, 0.0, load)
        try:
            admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT",
                                     connect_args={"connect_timeout": 3})
            name = f"tracelight_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # no server there: say so and stop, the SQLite figure stands
            say(f"ingest postgresql: skipped (no server at {pg_url}: "
                f"{str(exc).splitlines()[0][:100]})")
            return
        try:
            url = sa.engine.make_url(pg_url).set(database=name).render_as_string(False)
            load = os.getloadavg()[0]
            with _BackendCpu(admin, name) as server:
                seconds, out = _child_ingest(ads_file, url, workers, images,
                                             str(Path(tmp) / "kept-pg"))
            _line(f"ingest postgresql{kind}", n_ads, seconds, out, server.seconds, load)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
