"""Triage that remembers, on both backends: review states in the store, the service's marks
and assignments (audited, verdicts kept as labels), the queue hiding what is closed and showing
it again when it changed, and the `tracelight review` / `queue --mine|--all` commands."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from tracelight.cli.main import cli
from tracelight.errors import NotFoundError, UsageError
from tracelight.records import AdRecord, ProcessedAd, utcnow
from tracelight.services import review
from tracelight.services.networks import network_queue
from tracelight.services.queue import CALIBRATION_EVERY, ad_queue
from tracelight.store import Store, open_store
from tracelight.store.audit import AuditLog
from tracelight.store.reviews import ReviewChange


def _ad(i: int, body: str = "") -> ProcessedAd:
    return ProcessedAd(AdRecord(id=str(i), source="s", title=f"Ad {i}",
                                body=body or f"ad number {i}"), risk=1 - i / 100)


def _link(store: Store, nid: str, ids: list[str]) -> None:
    from tracelight.store.networks import LinkRunRow, NetworkRow

    pks = {a.ad_id: a.pk for a in store.iter_ads()}
    store.save_link_run(
        [NetworkRow(nid, len(ids), None, None, 0.9, {"network_id": nid, "ad_ids": ids},
                    [pks[i] for i in ids], [])], [], {},
        LinkRunRow(started=utcnow(), mode="rebuild", ads=len(pks), new_ads=len(pks),
                   stats={"networks": 1}))


def test_store_review_rows(store: Store) -> None:
    store.write_batch(None, [_ad(1)])
    n = store.set_reviews([ReviewChange("ad", "1", 1), ReviewChange("network", "n", 3)],
                          state="in review", by="ana", assignee="bo")
    assert n == 2 and store.review_counts() == {"in review": 2}
    store.set_reviews([ReviewChange("ad", "1", 1)], state="no concern", by="cy",
                      reason="duplicate")
    got = store.reviews_for("ad", ["1", "2"])
    assert list(got) == ["1"] and got["1"].assignee == "bo" and got["1"].state == "no concern"
    assert got["1"].changed_by == "cy" and got["1"].changed_at.tzinfo is not None
    assert [r.kind for r in store.list_reviews(state="in review")] == ["network"]
    assert store.list_reviews(assignee="bo", kind="ad")[0].reason == "duplicate"
    assert store.review_labels() == []


def test_mark_hides_and_revision_brings_back(store: Store) -> None:
    store.write_batch(None, [_ad(i) for i in range(1, 6)])
    res = review.mark(store, ["s/1", "2"], "no-concern", "ana", reason="duplicate")
    assert (res.ads, res.networks, res.labels) == (2, 0, 2)
    page = ad_queue(store, limit=10)
    assert [a.ad_id for a in page.ads] == ["3", "4", "5"] and page.hidden == 2
    every = ad_queue(store, limit=10, show_all=True)
    assert len(every.ads) == 5 and every.notes[every.ads[0].pk].state == "no concern"
    # ad 1 is revised: back as new, with the change named
    store.write_batch(None, [_ad(1, "ad number 1, new text")])
    page = ad_queue(store, limit=10)
    first = page.ads[0]
    assert first.ad_id == "1" and page.notes[first.pk].state == "new"
    assert "revised (revision 1 -> 2) since marked no concern by ana" in page.notes[first.pk].note
    labels = store.review_labels()
    assert [lb.label for lb in labels] == [0, 0] and labels[0].labelled_by == "ana"
    entries = [e for e in AuditLog(store).iter() if e["action"] == "review.mark"]
    assert [e["target"] for e in entries] == ["s/1", "s/2"]
    assert entries[0]["detail"]["reason"] == "duplicate"
    assert AuditLog(store).verify().ok


def test_network_mark_touches_its_ads_and_growth_reopens(store: Store) -> None:
    store.write_batch(None, [_ad(i) for i in range(1, 5)])
    _link(store, "n1", ["1", "2", "3"])
    res = review.mark(store, ["network:n1"], "escalated", "ana")
    assert (res.ads, res.networks, res.labels) == (3, 1, 3)
    assert "3 ad(s) in 1 network(s) touched" in res.summary()
    assert [a.ad_id for a in ad_queue(store, limit=10).ads] == ["4"]
    assert network_queue(store, 10) == []
    assert [n.id for n in network_queue(store, 10, show_all=True)] == ["n1"]
    assert {lb.via for lb in store.review_labels()} == {"network:n1"}
    _link(store, "n1", ["1", "2", "3", "4"])  # the network gained an ad
    assert [n.id for n in network_queue(store, 10)] == ["n1"]
    notes = review.annotate_networks(store, [("n1", 4)])
    assert notes["n1"].note.startswith("gained 1 ad(s) since marked escalated")


def test_assign_follow_up_and_errors(store: Store) -> None:
    store.write_batch(None, [_ad(i) for i in range(1, 4)])
    review.assign(store, ["s/1", "s/2"], "bo", "ana")
    mine = ad_queue(store, mine="bo")
    assert [a.ad_id for a in mine.ads] == ["1", "2"]
    assert mine.notes[mine.ads[0].pk].note == "in review by bo"
    assert ad_queue(store, mine="cy").ads == []
    review.mark(store, ["s/3"], "needs-follow-up", "ana",
                follow_up=review.parse_follow_up("2999-01-01"))
    assert [a.ad_id for a in ad_queue(store).ads] == ["1", "2"]
    review.mark(store, ["s/3"], "needs follow-up", "ana",
                follow_up=review.parse_follow_up("2000-01-01"))
    page = ad_queue(store)
    assert page.notes[page.ads[-1].pk].note == "follow-up due 2000-01-01"
    with pytest.raises(UsageError, match="needs a reason"):
        review.mark(store, ["s/1"], "no concern", "ana")
    with pytest.raises(UsageError, match="unknown review state"):
        review.mark(store, ["s/1"], "closed", "ana")
    with pytest.raises(UsageError, match="needs a date"):
        review.mark(store, ["s/1"], "needs-follow-up", "ana")
    with pytest.raises(NotFoundError):
        review.mark(store, ["s/1", "s/999"], "escalated", "ana")
    with pytest.raises(NotFoundError):
        review.mark(store, ["network:nope"], "escalated", "ana")
    assert store.review_labels() == []  # nothing half-written
    with pytest.raises(UsageError, match="not a date"):
        review.parse_follow_up("tomorrow")


def test_calibration_slice_is_random_unreviewed_and_inserted(store: Store) -> None:
    store.write_batch(None, [_ad(i) for i in range(1, 100)])
    page = ad_queue(store, limit=40, seed=3)
    assert len(page.ads) == 42 and len(page.calibration) == 2
    cal = [i for i, a in enumerate(page.ads) if a.pk in page.calibration]
    assert cal == [CALIBRATION_EVERY - 1, 2 * CALIBRATION_EVERY - 1]
    top = {a.ad_id for a in ad_queue(store, limit=40, calibration=False).ads}
    assert all(a.ad_id not in top for a in page.ads if a.pk in page.calibration)
    assert ad_queue(store, limit=40, offset=40).calibration == frozenset()


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_cli_review_and_queue(db_url: str) -> None:
    store = open_store(db_url)
    try:
        store.write_batch(None, [_ad(i) for i in range(1, 5)])
        _link(store, "n1", ["3", "4"])
    finally:
        store.close()
    code, out, err = _cli("review", "mark", "s/1", "--state", "no-concern", "--reason",
                          "duplicate", "--as", "ana", "--db", db_url)
    assert code == 0, err
    assert out.strip() == "no concern: 1 ad(s) touched, 1 label(s) stored"
    code, out, _ = _cli("review", "mark", "network:n1", "--state", "escalated", "--as", "ana",
                        "--db", db_url)
    assert code == 0 and "2 ad(s) in 1 network(s) touched" in out
    code, out, _ = _cli("review", "assign", "s/2", "--to", "bo", "--as", "ana", "--db", db_url)
    assert code == 0 and "assigned to bo: 1 ad(s) touched" in out
    code, out, _ = _cli("queue", "--format", "jsonl", "--db", db_url)
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["ref"] for r in rows] == ["s/2"]
    assert rows[0]["review"] == "in review (in review by bo)"
    code, out, _ = _cli("queue", "--all", "--format", "jsonl", "--db", db_url)
    assert len([x for x in out.splitlines() if '"kind": "ad"' in x]) == 4
    net_rows = [json.loads(x) for x in out.splitlines() if '"kind": "network"' in x]
    assert net_rows[0]["review"] == "escalated (escalated by ana)"
    code, out, _ = _cli("queue", "--mine", "--as", "bo", "--format", "jsonl", "--db", db_url)
    assert [json.loads(x)["ref"] for x in out.splitlines()] == ["s/2"]
    code, out, _ = _cli("review", "list", "--state", "escalated", "--format", "jsonl",
                        "--db", db_url)
    got: list[dict[str, Any]] = [json.loads(x) for x in out.splitlines()]
    assert sorted(r["ref"] for r in got) == ["network:n1", "s/3", "s/4"]


def _main_exit(capsys: Any, *args: str) -> tuple[int, str]:
    from tracelight.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(exc.value.code or 0), err


def test_cli_errors_are_one_line(sqlite_url: str, capsys: Any) -> None:
    open_store(sqlite_url).close()
    code, err = _main_exit(capsys, "review", "mark", "s/1", "--state", "no-concern",
                           "--reason", "x", "--db", sqlite_url)
    assert code != 0 and "s/1" in err
    code, err = _main_exit(capsys, "review", "mark", "s/1", "--state", "needs-follow-up",
                           "--follow-up", "soon", "--db", sqlite_url)
    assert code != 0 and "not a date" in err
    code, err = _main_exit(capsys, "review", "assign", "network:", "--to", "bo",
                           "--db", sqlite_url)
    assert code != 0 and "empty" in err


def test_digest_watched_grew_and_hits(store: Store, tmp_path: Any) -> None:
    from datetime import timedelta

    from tracelight.records import Mention
    from tracelight.services.digest import digest, parse_since
    from tracelight.services.watchlists import notify_watchers
    from tracelight.store.cases import Watchlists

    old = utcnow() - timedelta(days=3)
    store.write_batch(None, [_ad(i) for i in range(1, 4)], now=old)
    phone = "+12065550199"
    fresh = [_ad(4), _ad(5), ProcessedAd(AdRecord(id="6", source="s", body="call"),
                                         mentions=[Mention("phone", phone, "body", 0, 4)])]
    store.write_batch(None, fresh)
    _link(store, "n1", ["1", "2", "4", "5"])
    review.assign(store, ["network:n1"], "bo", "ana")
    Watchlists(store).add("cy", "phone", phone, watchlist="team")
    notify_watchers(store, [a.pk for a in store.iter_ads() if a.ad_id == "6"])
    d = digest(store, parse_since("24h"), "ana")
    assert d.new_ads == 3
    assert d.watched == [{"network": "n1", "state": "in review", "assignee": "bo",
                          "new_ads": 2, "ads": ["s/4", "s/5"]}]
    assert d.grew == [{"network": "n1", "new_ads": 2, "size": 4, "ads": ["s/4", "s/5"]}]
    assert [(h["value"], h["ad"], h["watchlist"]) for h in d.hits] == [(phone, "s/6", "team")]
    md = d.markdown()
    assert "## Networks that grew (1)" in md and "s/4" in md and "+12065550199" in md
    assert [r["section"] for r in d.records()] == ["digest", "watched_network",
                                                   "network_grew", "watchlist_hit"]
    with pytest.raises(UsageError):
        parse_since("yesterday")


def test_cli_digest(sqlite_url: str, tmp_path: Any) -> None:
    store = open_store(sqlite_url)
    try:
        store.write_batch(None, [_ad(1)])
    finally:
        store.close()
    code, out, err = _cli("digest", "--since", "7d", "--db", sqlite_url)
    assert code == 0, err
    assert out.startswith("# tracelight digest") and "1 new ad(s)" in out
    target = tmp_path / "d.jsonl"
    code, _, err = _cli("digest", "--format", "jsonl", "--out", str(target), "--db", sqlite_url)
    assert code == 0, err
    head = json.loads(target.read_text().splitlines()[0])
    assert head["section"] == "digest" and head["new_ads"] == 1
    code, _, _ = _cli("digest", "--out", str(target), "--db", sqlite_url)
    assert code != 0  # never overwrites


def test_store_implements_review_and_digest_repos(store: Store) -> None:
    from tracelight.store import interfaces

    assert isinstance(store, interfaces.ReviewRepo)
    assert isinstance(store, interfaces.DigestRepo)
    assert isinstance(store, interfaces.StoreInterface)
