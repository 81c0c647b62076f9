"""Schema upgrades never lose data; databases from elsewhere are refused with a clear reason."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from tracelight.errors import StoreError
from tracelight.records import AdRecord, Mention, ProcessedAd
from tracelight.store import db, open_store


def _config(conn: sa.Connection):  # type: ignore[no-untyped-def]
    return db._alembic_config(conn)


def test_every_migration_upgrades_with_data_kept(db_url: str) -> None:
    engine = db.make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0001")
    # data written at the oldest schema...
    store = open_store(db_url, migrate=False)
    store.write_batch(None, [ProcessedAd(AdRecord(id="1", source="s", body="call 2065550143"),
                                         [Mention("phone", "+12065550143", "body", 5, 15)])])
    # ...survives every later migration
    store = open_store(db_url)
    assert store.get_ad("1").body == "call 2065550143"
    assert store.find_by_entity("phone", ["+12065550143"])[0] == 1
    assert store.search_text("call")[0] == 1
    with engine.connect() as conn:
        current = {r[0] for r in conn.execute(sa.text("select version_num from alembic_version"))}
    assert current == db.schema_heads()
    if engine.dialect.name == "sqlite" and db.schema_heads() != {"0001"}:
        assert list(Path(engine.url.database).parent.glob("*.bak")), "backup before upgrade"
    engine.dispose()


def test_downgrade_and_upgrade_round_trip(db_url: str) -> None:
    open_store(db_url).close()
    engine = db.make_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(_config(conn), "base")
    with engine.connect() as conn:
        assert not engine.dialect.has_table(conn, "ads")
    engine.dispose()
    open_store(db_url).write_batch(None, [ProcessedAd(AdRecord(id="1", source="s", body="x"))])


def test_newer_schema_is_refused(sqlite_url: str) -> None:
    open_store(sqlite_url).close()
    engine = db.make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("update alembic_version set version_num = '9999_future'"))
    with pytest.raises(StoreError, match="does not know"):
        open_store(sqlite_url)


def test_foreign_and_broken_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("create table ads (x int)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a tracelight database"):
        open_store(f"sqlite:///{other}")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a SQLite database"):
        open_store(f"sqlite:///{junk}")
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path / 'no' / 'dir.db'}")


def test_unreachable_server_and_bad_urls() -> None:
    with pytest.raises(StoreError, match="cannot reach database"):
        open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/x")
    try:
        open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/x")
    except StoreError as exc:
        assert "secret" not in str(exc)
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("::nonsense")
    with pytest.raises(StoreError, match="unsupported database"):
        open_store("mysql://x@localhost/db")


def test_locked_database_is_reported(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(sqlite_url)
    path = sa.engine.make_url(sqlite_url).database
    holder = sqlite3.connect(path)
    holder.execute("begin exclusive")
    monkeypatch.setattr(db, "_sqlite_pragmas", db._sqlite_pragmas)
    fast = sa.create_engine(sqlite_url, connect_args={"timeout": 0.2})
    store.engine = fast
    with pytest.raises(StoreError, match="locked"):
        store.write_batch(None, [ProcessedAd(AdRecord(id="1", source="s", body="x"))])
    holder.rollback()
    holder.close()
