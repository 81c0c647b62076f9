"""Shared fixtures: stores on both backends, and the PostgreSQL server CI provides.

PostgreSQL tests run against a real server. Locally they skip with a visible reason when none
is reachable; in CI (CI=true) an unreachable server is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests judge correctness, never speed (speed is for `tracelight bench`): no per-example
# deadline and no "too slow" health check, so a loaded machine cannot fail them.
hypothesis_settings.register_profile(
    "tracelight", deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
hypothesis_settings.load_profile("tracelight")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PG_ADMIN_URL = os.environ.get("TRACELIGHT_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_reachable() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: no server to test against
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is unreachable in CI: {problem}")
        pytest.skip(f"no PostgreSQL server reachable at {PG_ADMIN_URL} ({problem}); "
                    "set TRACELIGHT_TEST_PG_URL to run these tests")
    name = f"tracelight_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
        hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_server_url: str) -> str:
    """The session's PostgreSQL database, emptied before each test."""
    engine = sa.create_engine(pg_server_url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "select tablename from pg_tables where schemaname = 'public' "
            "and tablename <> 'alembic_version'"))]
        if tables:
            # the audit log refuses TRUNCATE (migration 0005); a test reset may bypass triggers
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                 + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return pg_server_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracelight.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracelight.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[object]:
    from tracelight.store import open_store

    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def receiver() -> Iterator[Any]:
    """A webhook receiver on 127.0.0.1 (tests/local_servers.py), closed after the test."""
    from local_servers import Receiver

    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="session")
def demo_corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo corpus (120 ads with pictures and ground truth) for the whole session; tests
    build their stores from it by running the real pipeline (see web_helpers.build_store)."""
    from web_helpers import demo_corpus

    return demo_corpus(tmp_path_factory.mktemp("demo-corpus"))
