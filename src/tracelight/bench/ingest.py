"""`tracelight bench ingest`: generated ads through `tracelight ingest` on SQLite and PostgreSQL.

Generation and ingest each run in a child process, so the ingest's peak memory is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from tracelight.bench.measure import report, say, timed
from tracelight.errors import TracelightError

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _child_ingest(path: str, db_url: str, workers: int | None) -> tuple[float, dict[str, object]]:
    """Run `tracelight ingest` in a child process so its peak memory is measured alone."""
    cmd = [sys.executable, "-m", "tracelight", "ingest", path, "--db", db_url,
           "--format", "jsonl", "--rejects", os.devnull]
    if workers:
        cmd += ["--workers", str(workers)]
    with timed() as t:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TracelightError(f"ingest failed: {done.stderr.strip()[-500:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # the ingest process reports its own peak and its workers' (the generator's are not in it)
    return t.seconds, {**out, "peak_mb": out["peak_rss_mib"]}


def run(n_ads: int = 20_000, seed: int = 7, workers: int | None = None,
        pg_url: str = DEFAULT_PG_URL) -> None:
    """Ingest N generated ads (extraction and scoring on) into SQLite, then PostgreSQL when a
    server answers at `pg_url` (a scratch database is created there and dropped afterwards)."""
    import sqlalchemy as sa

    with tempfile.TemporaryDirectory(prefix="tracelight-bench-") as tmp:
        # Generate in a child too: Linux keeps a process's peak memory across fork and exec,
        # so a generator run in this process would be counted as the ingest's memory.
        with timed() as t:
            subprocess.run([sys.executable, "-m", "tracelight", "demo-generate", tmp,
                            "--ads", str(n_ads), "--seed", str(seed), "--no-images",
                            "--format", "jsonl"], check=True, capture_output=True)
        say(f"generated {n_ads} ads in {t.seconds:.1f} s", err=True)
        ads_file = str(Path(tmp) / "ads.jsonl")
        seconds, out = _child_ingest(ads_file, f"sqlite:///{tmp}/bench.db", workers)
        report("ingest sqlite", n_ads, seconds, "ads", child_peak_rss_mib=f"{out['peak_mb']:.0f}")
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
            seconds, out = _child_ingest(ads_file, url, workers)
            report("ingest postgresql", n_ads, seconds, "ads",
                   child_peak_rss_mib=f"{out['peak_mb']:.0f}")
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
