"""The storage contract: SQLite and PostgreSQL must behave the same (fixture `store` runs both)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracelight.errors import NotFoundError
from tracelight.records import AdRecord, ImageInfo, Mention, ProcessedAd, utcnow
from tracelight.store import AdFilter, Store


def _ad(i: int, body: str = "", **kw: object) -> ProcessedAd:
    rec = AdRecord(id=str(i), source=str(kw.pop("source", "site")), title=f"Ad {i}",
                   body=body or f"Sweet girl number {i}, call today",
                   posted_at=datetime(2026, 1, 1 + i % 28, tzinfo=UTC),
                   location=str(kw.pop("location", "Seattle, WA")))
    return ProcessedAd(record=rec, **kw)  # type: ignore[arg-type]


def test_new_unchanged_updated(store: Store) -> None:
    r1 = store.write_batch(None, [_ad(1), _ad(2)])
    assert (r1.new, r1.updated, r1.unchanged) == (2, 0, 0)
    r2 = store.write_batch(None, [_ad(1), _ad(2, body="edited text")])
    assert (r2.new, r2.updated, r2.unchanged) == (0, 1, 1)
    ad = store.get_ad("2")
    assert ad.body == "edited text" and ad.revision == 2
    revs = store.revisions(ad.pk)
    assert [r["revision"] for r in revs] == [1, 2]
    assert revs[0]["body"] == "Sweet girl number 2, call today"
    assert store.count_ads() == 2


def test_duplicates_in_one_run_are_refused(store: Store) -> None:
    run = store.start_run(["f"], None)
    r = store.write_batch(run, [_ad(1), _ad(1, body="other")])
    assert r.new == 1 and len(r.rejected) == 1 and "duplicate id '1'" in r.rejected[0][1]
    r = store.write_batch(run, [_ad(1, body="later batch")])
    assert r.updated == 0 and len(r.rejected) == 1
    assert store.get_ad("1").revision == 1


def test_mentions_entities_and_lookup(store: Store) -> None:
    m = Mention("phone", "+12065550143", "body", 5, 17, True, "two0six...")
    store.write_batch(None, [_ad(1, mentions=[m]), _ad(2, mentions=[m]), _ad(3)])
    total, found = store.find_by_entity("phone", ["+12065550143"])
    assert total == 2 and {a.ad_id for a in found} == {"1", "2"}
    got = store.mentions_for([found[0].pk])[found[0].pk]
    assert got == [m]
    assert store.find_by_entity("phone", ["+10000000000"]) == (0, [])


def test_changed_ad_replaces_its_mentions(store: Store) -> None:
    m1 = Mention("email", "a@x.org", "body", 0, 7)
    m2 = Mention("email", "b@x.org", "body", 0, 7)
    store.write_batch(None, [_ad(1, mentions=[m1])])
    store.write_batch(None, [_ad(1, body="new words", mentions=[m2])])
    assert store.find_by_entity("email", ["a@x.org"])[0] == 0
    assert store.find_by_entity("email", ["b@x.org"])[0] == 1


def test_full_text_search(store: Store) -> None:
    store.write_batch(None, [_ad(1, body="Blonde visiting downtown"), _ad(2, body="brunette"),
                             _ad(3, body="downtown only")])
    total, found = store.search_text("downtown")
    assert total == 2 and {a.ad_id for a in found} == {"1", "3"}
    assert store.search_text('downtown" OR "x')[0] == 0  # operators are words, not syntax
    assert store.search_text("   ") == (0, [])
    store.write_batch(None, [_ad(1, body="no longer matching")])
    assert store.search_text("downtown")[0] == 1


def test_filters_sorting_and_streaming(store: Store) -> None:
    store.write_batch(None, [_ad(i, location="Portland, OR" if i % 2 else "Seattle, WA",
                                 risk=i / 10) for i in range(1, 8)])
    assert store.count_ads(AdFilter(location="portland")) == 4
    ranked = [a.ad_id for a in store.iter_ads(sort="risk", limit=3)]
    assert ranked == ["7", "6", "5"]
    since = datetime(2026, 1, 5, tzinfo=UTC)
    assert {a.ad_id for a in store.iter_ads(AdFilter(since=since))} == {"4", "5", "6", "7"}
    assert len(list(store.iter_ads())) == 7


def test_ambiguous_and_missing_ids(store: Store) -> None:
    store.write_batch(None, [_ad(1, source="a"), _ad(1, source="b")])
    with pytest.raises(NotFoundError, match="several sources"):
        store.get_ad("1")
    assert store.get_ad("1", "b").source == "b"
    with pytest.raises(NotFoundError):
        store.get_ad("404")


def test_find_ads_by_ref_and_ad_refs(store: Store) -> None:
    store.write_batch(None, [_ad(1, source="a"), _ad(1, source="b"), _ad(2, source="a/x")])
    found = store.find_ads_by_ref([(None, "1")])
    assert [(a.source, a.ad_id) for a in found] == [("a", "1"), ("b", "1")]
    assert [a.source for a in store.find_ads_by_ref([("b", "1"), ("a/x", "2")])] == ["a/x", "b"]
    assert store.find_ads_by_ref([("a", "2"), (None, "x" * 600)]) == []
    assert store.find_ads_by_ref([]) == []
    pks = [a.pk for a in found]
    assert store.ad_refs([*pks, 999_999]) == {pks[0]: ("a", "1"), pks[1]: ("b", "1")}


def test_images_are_hashes_only(store: Store) -> None:
    img = ImageInfo(0, "images/a.jpg", sha256="ab" * 32, md5="cd" * 16, pdq="f" * 64,
                    quality=90, width=10, height=10)
    missing = ImageInfo(1, "images/gone.jpg", error="file not found")
    store.write_batch(None, [_ad(1, images=[img, missing]), _ad(2, images=[img])])
    ad = store.get_ad("1")
    rows = store.images_for(ad.pk)
    assert rows[0].sha256 == "ab" * 32 and rows[1].error == "file not found"


def test_image_migration_reads_and_writes(store: Store) -> None:
    """The repository calls services/image_migrate.py makes, on both backends."""
    img = ImageInfo(0, "/abs/a.jpg", sha256="cd" * 32, md5="m", pdq=None, quality=None,
                    width=10, height=10, stored_path="/old/place/a.jpg")
    other = ImageInfo(0, "images/b.jpg", sha256="ef" * 32, md5="m", pdq=None, quality=None,
                      width=10, height=10, stored_path="/old/place/b.jpg")
    store.write_batch(None, [_ad(1, images=[img]), _ad(2, images=[other])])
    keys = {sha: (pk, path) for pk, sha, path in store.iter_image_keys()}
    assert keys["cd" * 32][1] == "/old/place/a.jpg"
    store.set_image_key(keys["ef" * 32][0], "ef/" + "ef" * 32)
    store.drop_image_bytes(keys["cd" * 32][0], "image migration: gone")
    after = {sha: path for _pk, sha, path in store.iter_image_keys()}
    assert after == {"cd" * 32: None, "ef" * 32: "ef/" + "ef" * 32}
    ad1, ad2 = store.get_ad("1"), store.get_ad("2")
    assert store.images_for(ad1.pk)[0].error == "image migration: gone"
    assert store.unflagged_image_refs() == [(ad2.pk, 0, "images/b.jpg")]
    store.flag_ad_image(ad2.pk, 0, "image migration: refused")
    assert store.images_for(ad2.pk)[0].error == "image migration: refused"
    assert store.unflagged_image_refs() == []


def test_runs_are_recorded(store: Store) -> None:
    run = store.start_run(["a.jsonl"], "rej.txt")
    store.update_run(run, status="done", read=3)
    [row] = store.runs()
    assert row["status"] == "done" and row["read"] == 3 and row["paths"] == ["a.jsonl"]


def test_capped_text_search_counts_no_further_than_the_cap(store: Store) -> None:
    store.write_batch(None, [_ad(i, body=f"common word {i}") for i in range(1, 8)])
    total, found = store.search_text("common", limit=3, cap=5)
    assert total == 6 and len(found) == 3  # "5+": more than the cap
    total, found = store.search_text("common word 3", cap=5)
    assert total == 1 and found[0].ad_id == "3"


def _ranking_ads() -> list[ProcessedAd]:
    # "rose" in all 8; ad 6 says it most often, then ad 2: relevance puts them first
    bodies = {2: "rose rose rose garden", 6: "rose rose rose rose rose rose"}
    return [_ad(i, body=bodies.get(i, f"a rose and many other words here, number {i}"))
            for i in range(1, 9)]


def test_text_search_ranks_every_match_under_the_rank_cap(store: Store) -> None:
    store.write_batch(None, _ranking_ads())
    page = store.search_text_page("rose", limit=3, rank_cap=8)
    assert (page.total, page.ranked, page.capped) == (8, 8, False)
    assert [a.ad_id for a in page.ads][:2] == ["6", "2"]
    again = store.search_text_page("rose", limit=3, offset=3, rank_cap=8)
    assert {a.ad_id for a in page.ads}.isdisjoint(a.ad_id for a in again.ads)


def test_text_search_ranks_only_the_first_matches_past_the_rank_cap(store: Store) -> None:
    store.write_batch(None, _ranking_ads())
    page = store.search_text_page("rose", limit=10, rank_cap=3)
    # more ads match than are ranked: the page says so, the exact count still comes back,
    # and only the first 3 the index yields (the first stored, on a fresh table) are ranked
    assert (page.total, page.ranked, page.capped) == (8, 3, True)
    assert [a.ad_id for a in page.ads] == ["2", "1", "3"]
    assert store.search_text_page("rose", limit=10, offset=3, rank_cap=3).ads == []
    counted = store.search_text_page("rose", limit=2, cap=5, rank_cap=3)
    assert (counted.total, counted.capped, len(counted.ads)) == (6, True, 2)  # "5+"
    wide = store.search_text_page("rose", limit=2, cap=4, rank_cap=6)
    assert (wide.total, wide.ranked, wide.capped) == (5, 6, True)
    assert [a.ad_id for a in wide.ads] == ["6", "2"]
    assert store.search_text_page("garden rose", rank_cap=1).capped is False
    assert store.search_text_page("   ", rank_cap=1).total == 0


def test_store_implements_every_repository_protocol(store: Store) -> None:
    from tracelight.store import interfaces
    from tracelight.store.accounts import Accounts
    from tracelight.store.cases import Cases, Watchlists

    for proto in (interfaces.AdRepo, interfaces.SearchRepo, interfaces.NetworkRepo,
                  interfaces.BankRepo, interfaces.WorkspaceRepo, interfaces.StoreInterface):
        assert isinstance(store, proto), proto.__name__
    assert isinstance(Accounts(store), interfaces.AccountRepo)
    assert isinstance(Cases(store), interfaces.CaseRepo)
    assert isinstance(Watchlists(store), interfaces.WatchlistRepo)


def test_queue_page_filters_and_orders(store: Store) -> None:
    items = [ProcessedAd(AdRecord(id=str(i), source="s" if i % 2 else "t", body=f"ad {i}",
                                  location="Portland, OR" if i < 4 else "Reno, NV",
                                  extra={"category": "a" if i < 6 else "b"}),
                         risk=None if i == 7 else round(i / 10, 2)) for i in range(8)]
    store.write_batch(None, items)
    total, ads, scored = store.queue_page(AdFilter(), limit=3)
    assert scored and total == 7 and [a.ad_id for a in ads] == ["6", "5", "4"]
    total, ads, _ = store.queue_page(AdFilter(location="portland", source="s"), limit=10)
    assert (total, [a.ad_id for a in ads]) == (2, ["3", "1"])
    total, ads, _ = store.queue_page(AdFilter(category="b", min_risk=0.65), limit=10)
    assert [a.ad_id for a in ads] == []
    assert store.queue_page(AdFilter(category="a"), limit=2, offset=1)[1][0].ad_id == "4"


def test_networks_round_trip_as_records(store: Store) -> None:
    from tracelight.store.networks import LinkRunRow, NetworkRow, StoredHub

    store.write_batch(None, [ProcessedAd(AdRecord(id=str(i), source="s", body=f"ad {i}"),
                                         risk=i / 10) for i in range(4)])
    pks = {a.ad_id: a.pk for a in store.iter_ads(sort="ingested")}
    assert store.last_link_run() is None and store.count_networks() == 0
    net = NetworkRow("n1", 3, None, None, 0.3, {"network_id": "n1", "ad_ids": ["1", "2", "3"]},
                     [pks["1"], pks["2"], pks["3"]],
                     [{"kind": "phone", "value": "+12065550100", "strength": "strong",
                       "ad_ids": ["1", "2"]}])
    store.save_link_run([net], [StoredHub("phone", "+1", 99, 9, "site phone", "0")],
                        {"features": b"x" * 10, "assignment": b"{}"},
                        LinkRunRow(started=utcnow(), mode="rebuild", ads=4, new_ads=4,
                                   stats={"networks": 1}))
    assert store.count_networks() == 1 and store.network_id_of(pks["2"]) == "n1"
    record = store.network_record("n1")
    assert record["ad_ids"] == ["1", "2", "3"] and record["evidence"][0]["kind"] == "phone"
    assert [r["network_id"] for r in store.iter_network_records()] == ["n1"]
    assert store.member_risks(["n1"])["n1"] == [("1", 0.1, None), ("2", 0.2, None),
                                                 ("3", 0.3, None)]
    assert store.link_blobs(["features", "hashes"]) == {"features": b"x" * 10, "hashes": None}
    assert store.hubs()[0].reason == "site phone"
    last = store.last_link_run()
    assert last is not None and last.mode == "rebuild" and last.networks == 1


def test_banks_round_trip(store: Store) -> None:
    from tracelight.store.image_banks import FoundMatch

    sha = "ab" * 32
    store.write_batch(None, [ProcessedAd(AdRecord(id="1", source="s", body="x"),
                                         images=[ImageInfo(position=0, original="a.jpg",
                                                           sha256=sha, md5="cd" * 16)])])
    name, created, added = store.add_bank_hashes(" known ", [("sha256", sha, "lbl")])
    assert (name, created, added) == ("known", True, 1)
    assert store.add_bank_hashes("known", [("sha256", sha, "lbl")])[1:] == (False, 0)
    assert [h.value for h in store.iter_bank_hashes(bank="known")] == [sha]
    assert store.record_bank_matches([FoundMatch(sha, "known", "sha256", sha, 0)]) == [0]
    assert store.record_bank_matches([FoundMatch(sha, "known", "sha256", sha, 0)]) == []
    assert store.is_bank_matched(sha) and store.bank_match_rows()[0]["ads"] == ["s/1"]
    hits, matched = store.ads_with_images(store.image_pks_with_digest(sha, None))
    assert [h.ad_id for h in hits] == ["1"] and matched
    assert store.list_banks()[0].matches == 1
    store.delete_bank("known")
    assert not store.is_bank_matched(sha) and store.list_banks() == []


def test_batch_writes_without_copy_store_the_same(store: Store,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk insert's plain path (SQLAlchemy executemany: PostgreSQL drivers without
    psycopg 3's COPY) stores what the fast path stores."""
    m = Mention("phone", "+12065550101", "body", 0, 12, raw="206 555 0101")
    fast = store.write_batch(None, [_ad(1, mentions=[m], risk=0.3)])
    if store.dialect == "postgresql":
        monkeypatch.setattr(store.engine.dialect, "driver", "psycopg2-like")
    plain = store.write_batch(None, [_ad(2, mentions=[m], risk=0.3)])
    assert (fast.new, plain.new) == (1, 1)
    got = store.mentions_for([fast.written_pks[0], plain.written_pks[0]])
    assert got[fast.written_pks[0]] == got[plain.written_pks[0]] == [
        Mention("phone", "+12065550101", "body", 0, 12, raw="206 555 0101")]
    one, two = store.get_ads_by_pks([fast.written_pks[0], plain.written_pks[0]])
    assert (one.risk, one.images, one.extra) == (two.risk, two.images, two.extra)
