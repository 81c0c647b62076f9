"""The store calls shared signals and evidence bundles add, on both backends: named
watchlists with source and TLP, their hits over stored ads (contacts, image hashes, the ad's
own URL, ad-text hashes), and the audit log's chain of custody for a set of targets."""

from __future__ import annotations

from typing import Any

from tracelight.records import AdRecord, ImageInfo, Mention, ProcessedAd
from tracelight.store.audit import AuditLog, entry_hash
from tracelight.store.cases import Watchlists
from tracelight.values import ad_text_hash


def _ad(n: int, phone: str) -> ProcessedAd:
    body = f"Call me {n}"
    return ProcessedAd(
        record=AdRecord(id=f"a{n}", source="s", title=f"T{n}", body=body,
                        url=f"https://s.example/{n}"),
        mentions=[Mention("phone", phone, "body", 0, 5, raw=phone)],
        images=[ImageInfo(position=0, original=f"p{n}.jpg", sha256=f"{n:064x}", md5=f"{n:032x}",
                          pdq=None, quality=None, width=1, height=1)] if n == 1 else [])


def test_named_watchlists_and_their_hits(store: Any) -> None:
    store.write_batch(None, [_ad(1, "+12065550101"), _ad(2, "+12065550102"),
                             _ad(3, "+12065550103")])
    pks = {a.ad_id: a.pk for a in store.iter_ads()}
    w = Watchlists(store)
    assert w.add("ana", "phone", "+12065550101", watchlist="p", source="f.json", tlp="amber")
    assert w.add("ana", "image", f"{1:032x}", "[md5]", watchlist="p", tlp="green")
    assert w.add("ana", "url", "https://s.example/2", watchlist="p", tlp="clear")
    assert w.add("ana", "text", ad_text_hash("T3", "Call me 3"), watchlist="p", tlp="red")
    assert w.add("ana", "phone", "+19995550000", watchlist="p")
    assert not w.add("ana", "phone", "+12065550101", watchlist="p")  # once per list
    assert w.add("ana", "phone", "+12065550101", watchlist="other", tlp="green")
    assert w.add("bo", "phone", "+12065550102")  # a personal watch: no list
    entries = w.watchlist("p")
    assert [e["tlp"] for e in entries] == ["amber", "green", "clear", "red", None]
    assert entries[0]["source"] == "f.json"
    assert w.watchlist_names() == [("other", 1), ("p", 5)]
    assert w.watchlist("") == [] and w.hits("") == {}
    hits = w.hits("p")
    assert [hits[e["id"]] for e in entries] == [[pks["a1"]], [pks["a1"]], [pks["a2"]],
                                                [pks["a3"]], []]
    assert {x["watchlist"] for x in w.list_watches("ana")} == {"p", "other"}
    assert [x["watchlist"] for x in w.list_watches("bo")] == [None]
    assert not w.add("bo", "phone", "+12065550102")  # a personal watch, once


def test_chain_of_custody_for_targets(store: Any) -> None:
    log = AuditLog(store)
    log.append("bo", "case.view", "case 1")
    log.append("bo", "ad.view", "s/a1")
    log.append("cy", "case.view", "case 2")
    log.append("bo", "image.view", "ad 5 image 0", detail={"sha256": "x"})
    got = log.chain_for(["case 1", "s/a1"], ["ad 5 image "])
    assert [e["target"] for e in got] == ["case 1", "s/a1", "ad 5 image 0"]
    for e in got:
        assert e["row_hash"] == entry_hash(e["seq"], e["at"], e["username"], e["action"],
                                           e["target"], e["reason"], e["detail"], e["ip"],
                                           e["prev_hash"])
    assert got[1]["prev_hash"] == got[0]["row_hash"]
    seq, head = log.head()
    assert seq == 4 and head == log.verify().head_hash
    assert log.chain_for([], []) == []
