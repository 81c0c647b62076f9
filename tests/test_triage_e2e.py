"""The triage done-when, end to end on SQLite and PostgreSQL: review states and bulk actions
through the workspace (a network closed at once, with the count of its ads), assignment and
the "mine" view (web and CLI), the label loop (verdicts -> `risk train --from-reviews` ->
`risk promote` -> the model card on the About page and in `risk card`), the digest, and
"since my last visit" (kept across refreshes, moved by the button, logout or the next
login, audited). Also: the store's SQL for the open queue agrees with the review rules."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from score_fixtures import labelled_corpus
from tracelight.cli.main import cli
from tracelight.records import AdRecord, ProcessedAd, utcnow
from tracelight.services import review
from tracelight.services.queue import ad_queue
from tracelight.store import AdFilter, Store, open_store
from tracelight.store.accounts import Accounts
from tracelight.store.audit import AuditLog
from tracelight.store.reviews import ReviewChange
from tracelight.web.app import create_app
from tracelight.web.auth import LoginLimiter, hash_password
from web_helpers import PASSWORD, login


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def _link(store: Store, nets: dict[str, list[str]]) -> None:
    from tracelight.store.networks import LinkRunRow, NetworkRow

    pks = {a.ad_id: a.pk for a in store.iter_ads()}
    store.save_link_run(
        [NetworkRow(nid, len(ids), None, None, 0.9, {"network_id": nid, "ad_ids": ids},
                    [pks[i] for i in ids], []) for nid, ids in nets.items()], [], {},
        LinkRunRow(started=utcnow(), mode="rebuild", ads=len(pks), new_ads=len(pks),
                   stats={"networks": len(nets)}))


def _refs(html: str) -> list[str]:
    return re.findall(r'name="ref" value="([^"]+)"', html)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _client(app: Any, user: str) -> TestClient:
    c = TestClient(app)
    assert login(c, user).status_code == 303
    return c


@pytest.mark.slow
def test_triage_done_when_end_to_end(db_url: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    monkeypatch.setenv("TRACELIGHT_MODEL_DIR", str(models))
    items, labels = labelled_corpus()
    for i, it in enumerate(items):  # a scored queue: ad0000 first
        it.risk = round(1 - i / 1000, 4)
    store = open_store(db_url)
    try:
        store.write_batch(None, items)
        _link(store, {"n-a": ["ad0001", "ad0002", "ad0003", "ad0004"],
                      "n-b": ["ad0010", "ad0011", "ad0012"]})
        accounts = Accounts(store)
        for name, role in {"root": "admin", "bo": "analyst", "cy": "viewer"}.items():
            accounts.add_user(name, hash_password(PASSWORD), role)
        app = create_app(store, secret_key="test-secret", limiter=LoginLimiter())
        bo = _client(app, "bo")

        # -- the queue, selections and the bulk-action bar; a network closed at once
        page = bo.get("/queue")
        assert page.status_code == 200 and "<kbd>j</kbd>" in page.text  # keys listed
        assert "<kbd>w</kbd> select the whole network of the row" in page.text
        refs = _refs(page.text)
        assert refs[0] == "fixture/ad0000" and "network:n-a" in refs
        assert refs.count("network:n-a") == 5  # its 4 ads' "whole network" boxes, the side list
        form = {"csrf_token": _token(page.text), "action": "mark", "state": "no concern",
                "reason": review.REASONS[1],
                "ref": ["fixture/ad0000", "network:n-a", "network:n-a"]}  # named twice: once
        r = bo.post("/queue/review", data=form, follow_redirects=False)
        assert r.status_code == 303
        after = bo.get(r.headers["location"])
        assert "no concern: 5 ad(s) in 1 network(s) touched" in after.text
        assert "5 closed ad(s) hidden" in after.text
        shown = _refs(after.text)
        assert not {"fixture/ad0000", "fixture/ad0001", "network:n-a"} & set(shown)
        assert shown[0] == "fixture/ad0005"
        cy = _client(app, "cy")  # a viewer may look, not act
        assert cy.post("/queue/review", data={**form, "csrf_token": _token(
            cy.get("/queue").text)}).status_code == 403

        # -- assignment and the "mine" view, web and CLI
        r = bo.post("/queue/review", data={"csrf_token": form["csrf_token"],
                                           "action": "assign", "to": "bo",
                                           "ref": ["fixture/ad0005", "network:n-b"]})
        assert "assigned: 4 ad(s) in 1 network(s) touched" in r.text
        mine = _refs(bo.get("/queue?view=mine").text)
        assert [x for x in mine if x.startswith("fixture/")] == [
            "fixture/ad0005", "fixture/ad0010", "fixture/ad0011", "fixture/ad0012"]
        code, out, err = _cli("queue", "--mine", "--as", "bo", "--format", "jsonl",
                              "--db", db_url)
        assert code == 0, err
        got = [json.loads(line) for line in out.splitlines()]
        assert {g.get("ad_id") or g.get("ref", "").split("/")[-1] for g in got
                if g.get("kind", "ad") == "ad"} >= {"ad0005", "ad0010"}
        code, out, _ = _cli("review", "list", "--state", "no-concern", "--kind", "network",
                            "--format", "jsonl", "--db", db_url)
        assert [json.loads(x)["ref"] for x in out.splitlines()] == ["network:n-a"]

        # -- a closed ad that changed comes back as new, with the change named
        store.write_batch(None, [ProcessedAd(AdRecord(id="ad0001", source="fixture",
                                                      title="Ad 1", body="new words"),
                                             risk=0.9999)])
        again = bo.get("/queue").text
        assert "fixture/ad0001" in _refs(again)
        assert "revised (revision 1 -&gt; 2) since marked no concern by bo" in again

        # -- the label loop: verdicts the default weights get backwards teach a candidate
        pos = [f"fixture/{k}" for k, v in labels.items() if not v]
        neg = [f"fixture/{k}" for k, v in labels.items() if v]
        assert _cli("review", "mark", *pos, "--state", "escalated", "--as", "bo",
                    "--db", db_url)[0] == 0
        assert _cli("review", "mark", *neg, "--state", "no-concern", "--reason",
                    "duplicate", "--as", "bo", "--db", db_url)[0] == 0
        code, out, err = _cli("risk", "train", "--from-reviews", "--folds", "0",
                              "--format", "jsonl", "--db", db_url,
                              "--model-dir", str(models))
        assert code == 0, err
        assert json.loads(out)["better"] and json.loads(out)["version"] == 1
        about = bo.get("/about").text
        assert "default weights" in about and "None waiting" not in about  # v1 waits
        code, out, err = _cli("risk", "promote", "1", "--as", "root", "--db", db_url,
                              "--model-dir", str(models))
        assert code == 0, err
        about = bo.get("/about")
        assert about.status_code == 200
        n_labels = len(store.review_labels())
        for text in ("Model card: risk-model-v1", "review verdicts", f"{n_labels} ads",
                     "Held-out figures", "Largest feature weights", "roc_auc",
                     "Review labels", db_url.split(":")[0].split("+")[0]):
            assert text in about.text, text
        code, out, err = _cli("risk", "card", "--format", "jsonl", "--db", db_url,
                              "--model-dir", str(models))
        assert code == 0, err
        card = [json.loads(x) for x in out.splitlines()]
        assert card[0]["section"] == "model" and card[0]["name"] == "risk-model-v1"
        assert card[0]["labels"]["ads"] == n_labels and card[0]["features"]
        assert card[-1]["section"] == "data" and card[-1]["labels"] == n_labels
        code, out, err = _cli("risk", "card", "--db", db_url, "--model-dir", str(models))
        assert code == 0 and "risk-model-v1" in out and "Data and versions" in out
        assert max(len(line) for line in out.splitlines()) <= 80

        # -- the digest
        code, out, err = _cli("digest", "--since", "24h", "--format", "jsonl",
                              "--db", db_url)
        assert code == 0, err
        head = json.loads(out.splitlines()[0])
        assert head["section"] == "digest" and head["new_ads"] == len(items)
        assert any(json.loads(x).get("network") == "n-b" for x in out.splitlines()[1:])

        # -- since my last visit: refreshing keeps it, the button and logout move it
        first = bo.get("/new").text
        assert "First visit" in first and f"{len(items)} new ad(s)" in first
        assert "First visit" in bo.get("/new").text  # a refresh loses nothing
        until = re.search(r'name="until" value="([^"]+)"', first).group(1)
        r = bo.post("/new/seen", data={"csrf_token": _token(first), "until": until},
                    follow_redirects=False)
        assert r.status_code == 303
        seen = bo.get("/new").text
        assert "Since your last visit" in seen and "0 new ad(s)" in seen
        store.write_batch(None, [ProcessedAd(AdRecord(id="late", source="fixture",
                                                      title="Late", body="late ad"))])
        _link(store, {"n-b": ["ad0010", "ad0011", "ad0012", "late"]})
        later = bo.get("/new").text
        assert "1 new ad(s)" in later and "n-b" in later
        assert "1 new ad(s)" in bo.get("/new").text  # still there after a refresh
        bo.post("/logout", data={"csrf_token": _token(later)})
        bo = _client(app, "bo")
        assert "0 new ad(s)" in bo.get("/new").text  # logging out marked it seen
        other = _client(app, "cy")  # per user: cy's first visit still sees everything
        assert "First visit" in other.get("/new").text
        hows = [e["detail"]["how"] for e in AuditLog(store).iter()
                if e["action"] == "visit.seen" and e["username"] == "bo"]
        assert hows == ["button", "logout"]
        assert AuditLog(store).verify().ok
    finally:
        store.close()


def test_open_queue_sql_agrees_with_the_review_rules(store: Store) -> None:
    """Every kind of review row: the store's join hides exactly what services.review does."""
    store.write_batch(None, [ProcessedAd(AdRecord(id=str(i), source="s", title=f"Ad {i}",
                                                  body=f"ad {i}"), risk=1 - i / 100)
                             for i in range(1, 10)])
    pk = {a.ad_id: a.pk for a in store.iter_ads()}
    past, future = utcnow() - timedelta(days=1), utcnow() + timedelta(days=30)
    rows = [("1", "new", None, 1), ("2", "in review", None, 1), ("3", "no concern", None, 1),
            ("4", "escalated", None, 1), ("5", "needs follow-up", future, 1),
            ("6", "needs follow-up", past, 1), ("7", "no concern", None, 0),  # revised since
            ("8", "escalated", None, None)]
    for ad_id, state, follow, seen in rows:
        store.set_reviews([ReviewChange("ad", str(pk[ad_id]), seen)], state=state, by="ana",
                          follow_up=follow)
    now = utcnow()
    _, open_ads, _ = store.queue_page(AdFilter(), limit=50, open_at=now)
    notes = review.annotate_ads(store, list(store.iter_ads()))
    assert {a.ad_id for a in open_ads} == {a.ad_id for a in store.iter_ads()
                                           if not notes[a.pk].hidden}
    assert {a.ad_id for a in open_ads} == {"1", "2", "6", "7", "9"}
    assert store.closed_count(AdFilter(), now) == 4
    _, fresh, _ = store.queue_page(AdFilter(), limit=50, open_at=now, unreviewed=True)
    assert [a.ad_id for a in fresh] == ["1", "9"]
    assert store.closed_count(AdFilter(source="other"), now) == 0


@pytest.mark.slow
def test_open_queue_walks_the_risk_index_past_closed_ads(store: Store) -> None:
    """More ads than COUNT_CAP, more than COUNT_CAP of the riskiest closed: the page comes from
    the ordered walk with the closed ads left out (filtering a capped scan in Python once
    showed an empty queue here)."""
    from tracelight.store.workspace import COUNT_CAP

    n = COUNT_CAP + 100
    store.write_batch(None, [ProcessedAd(AdRecord(id=f"{i:05d}", source="s", title="t",
                                                  body="b"), risk=1 - i / (2 * n))
                             for i in range(n)])
    pk = {a.ad_id: a.pk for a in store.iter_ads()}
    closed = [*range(0, 40, 2), *range(40, COUNT_CAP + 40)]
    store.set_reviews([ReviewChange("ad", str(pk[f"{i:05d}"]), 1) for i in closed],
                      state="no concern", by="ana", reason="x")
    page = ad_queue(store, limit=10, calibration=False)
    assert page.hidden == COUNT_CAP + 1  # capped, like the total: "1,000+"
    assert [a.ad_id for a in page.ads] == [f"{i:05d}" for i in range(1, 20, 2)]
    deep = ad_queue(store, limit=5, offset=20, calibration=False)
    assert [a.ad_id for a in deep.ads] == [f"{i:05d}" for i in range(1040, 1045)]
    src = ad_queue(store, AdFilter(source="s"), limit=5, offset=5, calibration=False)
    assert [a.ad_id for a in src.ads] == [f"{i:05d}" for i in range(11, 20, 2)]
    cal = ad_queue(store, limit=20, seed=1)
    assert len(cal.calibration) == 1 and all(int(a.ad_id) >= 1040 for a in cal.ads
                                             if a.pk in cal.calibration)


def test_cli_digest_since_last_visit(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    try:
        store.write_batch(None, [ProcessedAd(AdRecord(id="1", source="s", title="t",
                                                      body="b"))])
    finally:
        store.close()

    def new_ads(*extra: str) -> int:
        code, out, err = _cli("digest", "--since", "last", "--as", "ana", "--format",
                              "jsonl", "--db", sqlite_url, *extra)
        assert code == 0, err
        return int(json.loads(out.splitlines()[0])["new_ads"])

    assert new_ads() == 1 and new_ads() == 1  # listing it does not mark it seen
    assert new_ads("--mark-seen") == 1 and new_ads() == 0
    r = CliRunner().invoke(cli, ["digest", "--since", "24h", "--mark-seen", "--db",
                                 sqlite_url])
    assert r.exit_code != 0 and "goes with --since last" in str(r.exception)


def test_audit_append_many_keeps_the_chain(store: Store) -> None:
    log = AuditLog(store)
    first = log.append("ana", "x.one", "a")
    seqs = log.append_many([{"username": "ana", "action": "review.mark", "target": f"s/{i}",
                             "detail": {"i": i}} for i in range(3)])
    assert seqs == [first + 1, first + 2, first + 3] and log.append_many([]) == []
    assert log.append("bo", "x.two") == first + 4
    got = [e for e in log.iter() if e["action"] == "review.mark"]
    assert [e["target"] for e in got] == ["s/0", "s/1", "s/2"] and got[2]["detail"] == {"i": 2}
    assert log.verify().ok
