"""What made the check API fast keeps its security properties: group-committed audit appends
(every caller's entry durable and chained before it returns), the in-memory bank index and
network summaries reloaded when the store changes, indexed identifier look-ups, a token
revoked is refused at once, and the server warms up before it answers."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tracelight.images.banks import BankEntry
from tracelight.services.banks import import_bank
from tracelight.services.check import Checker, image_from_hashes
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.store.audit import AuditLog
from tracelight.web.auth import hash_password
from web_helpers import make_app


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    s = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    yield s
    s.close()


@pytest.mark.slow
def test_concurrent_audit_appends_are_each_committed_and_chained(db_url: str) -> None:
    store = open_store(db_url)
    try:
        log = AuditLog(store)
        seqs: list[int] = []
        lock = threading.Lock()

        def caller(n: int) -> None:
            for i in range(15):
                seq = log.append(f"svc{n}", "api.check", detail={"action": "allow", "i": i})
                with lock:
                    seqs.append(seq)

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(seqs) == list(range(1, 121))  # each caller got its own entry
        _n, entries = Accounts(store).audit_entries(action="api.check", limit=None)
        assert len(entries) == 120
        assert {e["username"] for e in entries} == {f"svc{n}" for n in range(8)}
        assert log.verify().ok
    finally:
        store.close()


def test_a_failed_group_commit_fails_every_caller_and_writes_nothing(
        store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog(store)
    log.append("svc", "first")

    def broken(entries: Any) -> list[int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(AuditLog, "_write_values", lambda self, entries: broken(entries))
    with pytest.raises(RuntimeError, match="disk full"):
        log.append("svc", "api.check")
    monkeypatch.undo()
    assert log.append("svc", "after") == 2  # nothing half-written: the chain goes on
    assert log.verify().ok


def test_bank_index_reloads_when_a_bank_changes(store: Any) -> None:
    checker = Checker(store, ttl=3600)
    picture = {"md5": hashlib.md5(b"pic").hexdigest()}
    ad = {"title": "a", "body": "b"}
    assert checker.check(ad, [image_from_hashes(**picture)]).bank_hits == []
    assert checker.refresh() is False  # nothing changed: one fingerprint query, no reload
    import_bank(store, "new-bank", [BankEntry("md5", picture["md5"], "x")])
    assert checker.refresh() is True
    hits = checker.check(ad, [image_from_hashes(**picture)]).bank_hits
    assert [h["bank"] for h in hits] == ["new-bank"]
    store.delete_bank("new-bank")
    assert checker.refresh() is True
    assert checker.check(ad, [image_from_hashes(**picture)]).bank_hits == []


def test_without_the_refresher_a_check_sees_a_new_bank_after_ttl(store: Any) -> None:
    checker = Checker(store, ttl=0)
    digest = hashlib.md5(b"other").hexdigest()
    checker.check({"title": "a"})
    import_bank(store, "late", [BankEntry("md5", digest, None)])
    got = checker.check({"title": "a"}, [image_from_hashes(md5=digest)])
    assert got.decision.action == "block"


@pytest.mark.slow
def test_network_summaries_forgotten_after_a_link_run(store: Any, tmp_path: Path) -> None:
    from tracelight.services.ingest import ingest
    from tracelight.services.link import update_networks
    path = tmp_path / "a.jsonl"
    path.write_text("".join(
        f'{{"id": "n{i}", "source": "s", "body": "call 206-555-0143 #{i}"}}\n'
        for i in range(3)), encoding="utf-8")
    ingest(store, [str(path)], workers=1)
    checker = Checker(store, ttl=3600)
    checker.warm()
    assert checker.check({"body": "call 206 555 0143"}).networks == []  # not linked yet
    update_networks(store)
    checker.refresh()
    assert checker.rank_networks() == 1
    [net] = checker.check({"body": "call 206 555 0143"}).networks
    assert net["size"] == 3 and net["matched"] == [{"kind": "phone", "value": "+12065550143"}]


def test_identifier_lookups_use_the_indexes(store: Any) -> None:
    """The row-value IN form this replaced made SQLite scan every mention per check."""
    from tracelight.store import networks as repo
    with store.engine.connect() as conn:
        for stmt, params in ((repo._ENTITY_PKS, {"kind": "phone", "values": ["+1"]}),
                             (repo._NETWORKS_OF_ENTITIES, {"pks": [1, 2]}),
                             (repo._NETWORKS_OF_IMAGES, {"digests": ["a" * 64]})):
            sql = str(stmt.params(**params).compile(
                store.engine, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql))
            assert "SCAN mentions" not in plan and "SCAN entities" not in plan, plan
            assert "SCAN images" not in plan and "SCAN ad_images" not in plan, plan


def test_a_revoked_token_is_refused_on_the_next_call(store: Any, tmp_path: Path) -> None:
    accounts = Accounts(store)
    accounts.add_user("svc", hash_password("correct horse battery"), "analyst")
    token = accounts.create_token("svc", "platform", scope="check")
    c = TestClient(make_app(store, tmp_path))
    c.headers["Authorization"] = f"Bearer {token}"
    assert c.post("/api/v1/check", json={"title": "a"}).status_code == 200
    [info] = accounts.list_tokens("svc")
    accounts.revoke_token(info.id)
    assert c.post("/api/v1/check", json={"title": "a"}).status_code == 401
    _n, entries = accounts.audit_entries(action="api.check", limit=None)
    assert [(e["username"], e["detail"]["action"]) for e in entries] == [("svc", "allow")]


@pytest.mark.slow
def test_warm_app_loads_before_serving_and_stops_its_refresher(store: Any) -> None:
    from tracelight.web.app import create_app
    app = create_app(store, secret_key="k", api_only=True, warm=True)
    with TestClient(app) as c:
        checker = app.state.checker
        assert checker._index is not None and checker._refresher is not None
        assert c.get("/healthz").status_code == 200
    assert checker._refresher is None  # stopped with the app


def _check_client(store: Any, tmp_path: Path, scope: str = "check") -> tuple[TestClient, str]:
    accounts = Accounts(store)
    if accounts.password_hash("svc") is None:
        accounts.add_user("svc", hash_password("correct horse battery"), "analyst")
    token = accounts.create_token("svc", "platform", scope=scope)
    c = TestClient(make_app(store, tmp_path))
    c.headers["Authorization"] = f"Bearer {token}"
    return c, token


def test_a_token_revoked_by_another_process_is_refused_after_the_poll(
        store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token cache: a revocation made elsewhere (another worker, `tracelight token
    revoke`: here a second Store over the same database) empties it at the next fingerprint
    read (every TOKEN_POLL_SECONDS; 0 here, so at the next call)."""
    from tracelight.store import accounts as acc
    monkeypatch.setattr(acc, "TOKEN_POLL_SECONDS", 0.0)
    c, _token = _check_client(store, tmp_path)
    assert c.post("/api/v1/check", json={"title": "a"}).status_code == 200
    other = open_store(store.url)
    try:
        [info] = Accounts(other).list_tokens("svc")
        Accounts(other).revoke_token(info.id)
    finally:
        other.close()
    assert c.post("/api/v1/check", json={"title": "a"}).status_code == 401


def test_a_user_disabled_in_this_process_is_refused_at_once(store: Any, tmp_path: Path) -> None:
    c, _token = _check_client(store, tmp_path)
    assert c.post("/api/v1/check", json={"title": "a"}).status_code == 200
    Accounts(store).set_disabled("svc")
    assert c.post("/api/v1/check", json={"title": "a"}).status_code == 401


def test_token_cache_off_looks_every_call_up(store: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelight.store.accounts import MISS
    monkeypatch.setenv("TRACELIGHT_TOKEN_CACHE_SECONDS", "0")
    c, token = _check_client(store, tmp_path)
    assert c.post("/api/v1/check", json={"title": "a"}).status_code == 200
    assert Accounts(store).cached_token_holder(token) is MISS
    monkeypatch.setenv("TRACELIGHT_TOKEN_CACHE_SECONDS", "5")
    assert c.post("/api/v1/check", json={"title": "a"}).status_code == 200
    assert Accounts(store).cached_token_holder(token) is not MISS  # answered from memory


def test_fast_path_refusals_are_audited_and_carry_the_security_headers(
        store: Any, tmp_path: Path) -> None:
    """The lean ASGI path (FastCheck) refuses as the full stack does: a read-scoped token
    on /api/v1/check is a 403 on the record, with the same headers as every answer."""
    c, _token = _check_client(store, tmp_path, scope="read")
    r = c.post("/api/v1/check", json={"title": "a"})
    assert r.status_code == 403 and "scope" in r.json()["detail"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    _n, denied = Accounts(store).audit_entries(action="access.denied", limit=None)
    assert [(e["username"], e["target"]) for e in denied] == [("svc", "/api/v1/check")]
    ok, _t = _check_client(store, tmp_path)
    r = ok.post("/api/v1/check", content=b"{not json", headers={"x-tracelight-reason": "t"})
    assert r.status_code == 400 and r.json() == {"detail": "the body is not valid UTF-8 JSON"}
    r = ok.post("/api/v1/check", json={"title": "a"}, headers={"x-tracelight-reason": "ticket 9"})
    assert r.status_code == 200 and r.headers["content-security-policy"]
    _n, checks = Accounts(store).audit_entries(action="api.check", limit=None)
    assert [(e["username"], e["reason"], e["ip"]) for e in checks] == [
        ("svc", "ticket 9", "testclient")]


def test_watch_added_in_another_process_is_seen_after_the_poll(
        store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelight.store import cases
    from tracelight.store.cases import Watchlists
    monkeypatch.setattr(cases, "WATCH_POLL_SECONDS", 0.0)
    checker = Checker(store, ttl=3600)
    ad = {"body": "call 206 555 0143"}
    assert checker.check(ad).watchlist_hits == []
    other = open_store(store.url)
    try:
        Watchlists(other).add("ana", "phone", "+12065550143", watchlist="partner")
    finally:
        other.close()
    [hit] = checker.check(ad).watchlist_hits
    assert hit["watchlist"] == "partner" and hit["matched"] == "+12065550143"
    Watchlists(store).remove("ana", hit["id"])  # in this process: forgotten at once
    monkeypatch.setattr(cases, "WATCH_POLL_SECONDS", 3600.0)
    assert checker.check(ad).watchlist_hits == []


@pytest.mark.slow
def test_in_memory_lookups_agree_with_the_store_on_both_backends(db_url: str,
                                                                 tmp_path: Path) -> None:
    """The network identifier index, the token cache's fingerprint and the link run's kept
    blob, on SQLite and PostgreSQL."""
    from tracelight.services.ingest import ingest
    from tracelight.services.link import update_networks
    store = open_store(db_url)
    try:
        path = tmp_path / "a.jsonl"
        path.write_text("".join(
            f'{{"id": "n{i}", "source": "s", "body": "call 206-555-0143 or mail a@b.org #{i}"}}\n'
            for i in range(3)), encoding="utf-8")
        ingest(store, [str(path)], workers=1)
        update_networks(store)
        index = store.network_entities(["phone", "email"])
        pairs = [("phone", "+12065550143"), ("email", "a@b.org")]
        [nid] = store.networks_for_entities(pairs)
        assert {p: index[p] for p in pairs} == {p: [nid] for p in pairs}
        store.save_link_blob("high_risk", b'["x"]')
        store.save_link_blob("high_risk", b'["y"]')
        assert store.link_blobs(["high_risk"])["high_risk"] == b'["y"]'
        accounts = Accounts(store)
        accounts.add_user("svc", hash_password("correct horse battery"), "analyst")
        token = accounts.create_token("svc", scope="check")
        assert accounts.token_holder(token) is not None
        assert accounts.token_holder(token) is not None  # from memory now
        [info] = accounts.list_tokens("svc")
        accounts.revoke_token(info.id)
        assert accounts.token_holder(token) is None
    finally:
        store.close()


@pytest.mark.slow
def test_a_hub_identifier_ties_a_check_to_no_network(store: Any, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A phone the linker reported as a hub (a site's number, a hotline: in thousands of
    unrelated ads) joins no ads, so a check that mentions it is tied to no network through
    it (at 200k ads one such phone was in 2,358 networks), in memory or from the store."""
    from tracelight.services.ingest import ingest
    from tracelight.services.link import update_networks
    from tracelight.store.networks import StoredHub
    path = tmp_path / "a.jsonl"
    path.write_text("".join(
        f'{{"id": "n{i}", "source": "s", "body": "call 206-555-0143 #{i}"}}\n'
        for i in range(3)), encoding="utf-8")
    ingest(store, [str(path)], workers=1)
    update_networks(store)
    ad = {"body": "call 206 555 0143"}
    assert len(Checker(store).check(ad).networks) == 1
    monkeypatch.setattr(type(store), "hubs", lambda self: [
        StoredHub("phone", "+12065550143", 5000, 900, "shared by too many unrelated ads")])
    assert Checker(store).check(ad).networks == []
    warm = Checker(store)
    warm.index_networks()
    assert warm.check(ad).networks == []
