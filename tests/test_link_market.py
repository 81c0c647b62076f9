"""The realistic synthetic market (decoys present, deterministic) and the by-size metrics."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.demo import linkads, market
from tracelight.link import link_batch
from tracelight.link.metrics import bucket_scores


def _corpus(n: int = 1500, seed: int = 7):  # type: ignore[no-untyped-def]
    return linkads.generate(n, seed=seed, market="realistic")


def test_market_is_deterministic_and_the_simple_default_unchanged() -> None:
    a, ta = _corpus(400, 3)
    b, tb = _corpus(400, 3)
    assert a == b and ta == tb
    c, _ = _corpus(400, 4)
    assert a != c
    simple, _ = linkads.generate(50, seed=3)
    assert simple == linkads.generate(50, seed=3, market="simple")[0]
    assert simple[0].key == "ad00000001"  # the default corpus keeps its shape


def test_market_plants_the_decoys() -> None:
    ads, truth = _corpus()
    sizes = Counter(v for v in truth.values() if v is not None)
    phones_of: dict[str, set[str]] = {}
    for ad in ads:
        net = truth[ad.key]
        if net is not None:
            phones_of.setdefault(net, set()).update(
                m.value for m in ad.mentions if m.kind == "phone"
                and m.value not in market.SITE_PHONES.values())
    # single-contact networks of 20-100 ads and rotating multi-phone networks
    assert any(20 <= sizes[n] <= 100 and len(p) == 1 for n, p in phones_of.items())
    assert any(len(p) >= 3 for p in phones_of.values())
    assert any(s > 100 for s in sizes.values())
    # cross-posting: one network on several sources
    sources: dict[str, set[str]] = {}
    for ad in ads:
        if truth[ad.key]:
            sources.setdefault(truth[ad.key], set()).add(ad.key.split("/")[0])
    assert any(len(s) >= 2 for s in sources.values())
    # site footers with the helpline on hundreds of ads, beside the advertiser's own phone
    site = Counter(m.value for ad in ads for m in ad.mentions
                   if m.value in market.SITE_PHONES.values())
    assert min(site.values()) > 100
    # ad-builder texts and stock photos shared by unrelated advertisers
    photo_owners: dict[str, set[str]] = {}
    for ad in ads:
        for sha in ad.image_sha256:
            photo_owners.setdefault(sha, set()).add(truth[ad.key] or ad.key)
    assert any(len(o) >= 2 for sha, o in photo_owners.items())
    builder_first = {" ".join(b[0]).capitalize() for b in market._Market(7).builders}
    owners = {truth[a.key] or a.key for a in ads if any(s in a.body for s in builder_first)}
    assert len(owners) >= 3


def test_linker_on_the_market_keeps_site_phones_out_and_networks_whole() -> None:
    ads, truth = _corpus()
    result = link_batch(ads)
    hub_values = {h.value for h in result.hubs}
    assert set(market.SITE_PHONES.values()) <= hub_values
    scores = bucket_scores({k: v for k, v in result.state.assignment.items()}, truth)
    for bucket in ("6-20", "21-100", ">100"):  # the targets proper are for 30k ads (bench)
        assert scores[bucket]["precision"] >= 0.95
        assert scores[bucket]["recall"] >= 0.95
    assert scores["singletons"]["fraction"] < 0.05  # 0 at 30k; a stock photo in 2 ads is ambiguous


def test_bucket_scores_by_hand() -> None:
    truth = {"a": "N", "b": "N", "c": None, "d": "M", "e": "M", "f": "M", "g": "M", "h": "M",
             "i": "M"}
    pred = {"a": "X", "b": "X", "c": "X", "d": "Y", "e": "Y", "f": "Y", "g": None, "h": None,
            "i": None}
    s = bucket_scores(pred, truth)
    assert s["2-5"] == {"networks": 1, "true_pairs": 1, "precision": 0.3333, "recall": 1.0}
    assert s["6-20"]["recall"] == round(3 / 15, 4) and s["6-20"]["precision"] == 1.0
    assert s["singletons"] == {"ads": 1, "wrongly_merged": 1, "fraction": 1.0}


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3),
                       st.tuples(st.sampled_from([None, "N1", "N2", "N3"]),
                                 st.sampled_from([None, "P1", "P2"])), max_size=30))
def test_bucket_scores_are_bounded_and_perfect_on_truth(rows: dict) -> None:  # type: ignore[type-arg]
    truth = {k: t for k, (t, _p) in rows.items()}
    pred = {k: p for k, (_t, p) in rows.items()}
    for b, v in bucket_scores(pred, truth).items():
        if b != "singletons":
            assert 0.0 <= v["precision"] <= 1.0 and 0.0 <= v["recall"] <= 1.0
    perfect = bucket_scores(truth, truth)
    assert all(v["precision"] == 1.0 and v["recall"] == 1.0
               for b, v in perfect.items() if b != "singletons")
    assert perfect["singletons"]["wrongly_merged"] == 0


@pytest.mark.slow
def test_demo_generate_realistic_plants_the_same_decoys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The full generator's `--market realistic`: single-contact networks of 20-100 ads,
    large rotating networks, cross-posted copies, site footers beside own phones on many ads,
    ad-builder texts across advertisers, about a third of ads outside North America; the
    truth gives every ad its network id. The default corpus is unchanged."""
    import json

    from tracelight.demo import decoys, generate

    generate(tmp_path / "r", n_ads=1500, seed=3, images=False, market="realistic")
    truth = [json.loads(x) for x in
             (tmp_path / "r" / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    ads = [json.loads(x) for x in
           (tmp_path / "r" / "ads.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(truth) == len(ads) == 1500
    sizes = Counter(t["network_id"] for t in truth if t["network_id"])
    phones: dict[str, set[str]] = {}
    for t in truth:
        if t["network_id"]:
            phones.setdefault(t["network_id"], set()).update(
                p for p in t["phones"] if p not in t["hub_phones"])
    assert any(20 <= sizes[n] <= 100 and len(p) == 1 for n, p in phones.items())
    assert any(sizes[n] > 100 and len(p) >= 3 for n, p in phones.items())
    bodies = Counter(a["body"] for a in ads)
    assert any(c >= 2 for c in bodies.values())  # cross-posted copies
    footers = sum(1 for t in truth if t["hub_phones"])
    assert 0.2 * len(truth) < footers < 0.4 * len(truth)
    assert sum(1 for t in truth if t["country"] not in ("US", "CA")) > 0.25 * len(truth)
    lead = decoys.FOOTER_LEADS[0]
    assert any(lead in a["body"] for a in ads)
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):
        generate(d, n_ads=200, seed=4, images=False, market="realistic")
    assert (one / "ads.jsonl").read_bytes() == (two / "ads.jsonl").read_bytes()
