"""Opening a database: engine settings per backend, schema migrations, and clear errors.

This is the only module that knows SQLite from PostgreSQL connection details.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from tracelight.errors import StoreError
from tracelight.jsonutil import store_dumps

MIGRATIONS = Path(__file__).parent / "migrations"


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers never block the writer and a killed writer leaves no half-written batch.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def require_existing(url: str) -> None:
    """Refuse a SQLite URL whose file does not exist yet (or is empty), for read-only use.

    Other backends are servers: their database is created by its administrator."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # make_engine explains
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    try:
        missing = not path.is_file() or path.stat().st_size == 0
    except OSError:
        missing = True
    if missing:
        raise StoreError(f"database {path} does not exist",
                         hint="to make one: tracelight ingest FILE")


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}",
                         hint="use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise StoreError(f"cannot create database {database!r}: folder {folder} "
                                 "does not exist")
        try:
            # a server runs many threads (a check API at hundreds of calls/s): keep enough
            # connections that none is opened and closed per request (pragmas each time)
            extra: dict[str, Any] = ({"pool_size": 16, "max_overflow": 16}
                                     if database and database != ":memory:" else {})
            engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=store_dumps,
                                   **extra)
        except NoSuchModuleError as exc:
            raise StoreError(f"unsupported database URL {safe_url(url)}: {exc}") from None
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg2") and "+" not in url.split(":")[0]:
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, pool_pre_ping=True, json_serializer=store_dumps,
                                 connect_args={"connect_timeout": 10})
        except NoSuchModuleError as exc:
            raise StoreError(f"unsupported database URL {safe_url(url)}: {exc}") from None
    raise StoreError(f"unsupported database {backend!r} in {safe_url(url)}",
                     hint="tracelight speaks SQLite (default) and PostgreSQL")


def _alembic_config(connection: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def schema_heads() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def migrate(engine: Engine, url: str) -> None:
    """Bring the schema to the newest version, refusing databases from a newer tracelight.

    A SQLite file that already holds data is copied aside before its schema changes, so an
    upgrade can never lose an analyst's work.
    """
    script = ScriptDirectory(str(MIGRATIONS))
    known = {rev.revision for rev in script.walk_revisions()}
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
            unknown = current - known
            if unknown:
                raise StoreError(
                    f"database {safe_url(url)} has schema version {', '.join(sorted(unknown))}, "
                    "which this tracelight does not know", hint="upgrade tracelight")
            if current == set(script.get_heads()):
                return
            is_fresh = not current and not engine.dialect.has_table(conn, "ads")
            if not is_fresh and not current:
                raise StoreError(f"{safe_url(url)} holds tables but is not a tracelight "
                                 "database")
        if not is_fresh and engine.dialect.name == "sqlite":
            db_file = engine.url.database
            if db_file and db_file != ":memory:":
                backup = f"{db_file}.before-{'-'.join(sorted(current)) or 'init'}.bak"
                _sqlite_backup(db_file, backup)
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "heads")
    except DBAPIError as exc:
        raise translate_db_error(exc, url) from None


def _sqlite_backup(db_file: str, backup: str) -> None:
    """A consistent copy through SQLite's backup API (a plain file copy would miss the WAL)."""
    src = sqlite3.connect(db_file)
    dst = sqlite3.connect(backup)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def translate_db_error(exc: DBAPIError, url: str) -> StoreError:
    """One clear line for the database failures a user can act on."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    lowered = first.lower()
    if "database is locked" in lowered:
        return StoreError(f"database {safe_url(url)} is locked by another process",
                          hint="wait for the other tracelight command to finish")
    if "file is not a database" in lowered or "file is encrypted" in lowered:
        return StoreError(f"{safe_url(url)} is not a SQLite database")
    if "unable to open database" in lowered:
        return StoreError(f"cannot open database {safe_url(url)}: {first}")
    if any(s in lowered for s in ("connection refused", "could not connect", "timeout expired",
                                  "connection failed", "does not exist", "no such host",
                                  "name or service not known")):
        return StoreError(f"cannot reach database {safe_url(url)}: {first}")
    return StoreError(f"database error on {safe_url(url)}: {first}")
