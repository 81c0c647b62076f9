"""The pure linking core: evidence, hubs, components, stable ids, incremental == rebuild."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.demo import linkads as synth
from tracelight.link import (
    FeatureTable,
    LinkAd,
    LinkConfig,
    compare,
    evidence,
    link_batch,
    minhash,
    pairwise_scores,
)
from tracelight.link.cluster import assign_ids
from tracelight.link.text import cleaned_text, sentence_text, wording_batch
from tracelight.records import Mention

T0 = datetime(2026, 3, 1, tzinfo=UTC)
WORDS = ["amber", "velvet", "orchid", "lantern", "harbor", "meadow", "cobalt", "saffron",
         "willow", "ember", "quartz", "juniper", "marble", "tundra", "cedar", "falcon", "prism",
         "lotus", "canyon", "ivory"]


def _phone_ad(key: str, body: str, phone: str, *, days: int = 0, city: str = "Austin",
              name: str | None = None) -> LinkAd:
    text = f"{body} Call {phone}."
    start = text.index(phone)
    mentions = [Mention("phone", phone, "body", start, start + len(phone), raw=phone)]
    if name:
        text = f"I am {name}. " + text
        mentions = [Mention("name", name, "body", 5, 5 + len(name), raw=name),
                    *[Mention(m.kind, m.value, m.field, m.start + 7 + len(name),
                              m.end + 7 + len(name), raw=m.raw) for m in mentions]]
    return LinkAd(key=key, body=text, posted_at=T0 + timedelta(days=days), location=city,
                  mentions=tuple(mentions))


def _random_text(rng: random.Random, sentences: int = 6) -> str:
    return " ".join(" ".join(rng.choice(WORDS) + str(rng.randint(0, 0)).replace("0", "")
                             for _ in range(rng.randint(6, 10))).capitalize() + "."
                    for _ in range(sentences))


def _template(rng: random.Random) -> list[list[str]]:
    return [[f"{rng.choice(WORDS)}{rng.choice('abcdefghij')}" for _ in range(9)]
            for _ in range(7)]


def _edit(rng: random.Random, tpl: list[list[str]]) -> str:
    sents = [list(s) for s in tpl]
    s = rng.choice(sents)
    s[rng.randrange(len(s))] = "swapped"
    rng.shuffle(sents)  # sentence reordering keeps every shingle
    if rng.random() < 0.5:
        del sents[0]
    return " ".join(" ".join(x).capitalize() + "." for x in sents)


def _networks(result) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    return {frozenset(n.ad_ids) for n in result.networks if n.size >= 2}


def _footer_ad(key: str, body: str, own: str, site: str) -> LinkAd:
    """An advertiser's ad: its own phone, then the site's footer with the site's helpline."""
    text = f"{body} Call {own}. Questions about listings call our help line {site} any day."
    mentions = [Mention("phone", p, "body", text.index(p), text.index(p) + len(p), raw=p)
                for p in (own, site)]
    return LinkAd(key=key, body=text, posted_at=T0, location="Austin",
                  mentions=tuple(mentions))


def test_site_footer_phone_beside_each_advertisers_contact_is_a_hub() -> None:
    rng = random.Random(1)
    ads = [_footer_ad(f"s{i}", _random_text(rng), f"+1512555{3000 + i}", "+17025550100")
           for i in range(40)]
    result = link_batch(ads)
    assert _networks(result) == set()
    hubs = [h for h in result.hubs if h.kind == "phone"]
    assert [(h.value, h.ads) for h in hubs] == [("+17025550100", 40)]
    assert hubs[0].groups and hubs[0].groups > 8
    assert "beside other contacts in 40 of its 40 ads" in hubs[0].reason


def test_sole_contact_of_a_network_with_rewritten_ads_is_not_a_hub() -> None:
    """One number, the only contact of 40 ads whose text is written afresh each time: the
    network an investigator most needs, never a hub (issue 12)."""
    rng = random.Random(1)
    ads = [_phone_ad(f"s{i}", _random_text(rng), "+17025550100", days=i) for i in range(40)]
    result = link_batch(ads)
    assert _networks(result) == {frozenset(a.key for a in ads)}
    assert not [h for h in result.hubs if h.kind == "phone"]


def test_network_phone_in_many_ads_is_not_a_hub() -> None:
    rng = random.Random(2)
    tpl = _template(rng)
    ads = [_phone_ad(f"n{i}", _edit(rng, tpl), "+13125550199", days=i) for i in range(25)]
    result = link_batch(ads)
    assert _networks(result) == {frozenset(a.key for a in ads)}
    assert not [h for h in result.hubs if h.kind == "phone"]


def test_template_edits_link_without_shared_contacts() -> None:
    rng = random.Random(3)
    tpl = _template(rng)
    ads = [_phone_ad(f"t{i}", _edit(rng, tpl), f"+1512555{1000 + i}", name="Ivy")
           for i in range(6)]
    other = [_phone_ad(f"o{i}", _random_text(rng), f"+1213555{2000 + i}") for i in range(6)]
    result = link_batch(ads + other)
    assert _networks(result) == {frozenset(a.key for a in ads)}
    (net,) = [n for n in result.networks if n.size >= 2]
    assert {e.kind for e in net.evidence} <= {"wording", "template"}
    assert all(e.strength == "medium" for e in net.evidence)
    assert len(net.evidence) == net.size - 1  # one explaining edge per join


NAMES6 = ["Ivy", "Opal", "Wren", "Skye", "Faye", "Nell"]
CITIES6 = ["Austin", "Boston", "Denver", "Tampa", "Reno", "Omaha"]


def test_template_alone_never_joins_ads_whose_contacts_names_and_cities_disagree() -> None:
    """An ad builder's text used by six unrelated advertisers: their phones, names and cities
    all differ, so the shared template must not join them."""
    rng = random.Random(3)
    tpl = _template(rng)
    ads = [_phone_ad(f"t{i}", _edit(rng, tpl), f"+1512555{1000 + i}", city=CITIES6[i],
                     name=NAMES6[i]) for i in range(6)]
    result = link_batch(ads)
    assert _networks(result) == set()
    assert result.stats["wording_refused"] >= 5
    off = link_batch(ads, config=LinkConfig(contradiction_rule="off"))
    assert _networks(off) == {frozenset(a.key for a in ads)}  # what the rule prevents


def test_template_and_a_shared_phone_join_whatever_else_differs() -> None:
    rng = random.Random(4)
    tpl = _template(rng)
    ads = [_phone_ad(f"t{i}", _edit(rng, tpl), "+15125550142", city=CITIES6[i],
                     name=NAMES6[i]) for i in range(3)]
    result = link_batch(ads)
    assert _networks(result) == {frozenset(a.key for a in ads)}


def test_an_ad_without_contacts_cannot_bridge_two_advertisers() -> None:
    rng = random.Random(5)
    tpl = _template(rng)
    ads = [_phone_ad(k, _edit(rng, tpl), f"+151255500{i:02d}", city=CITIES6[i],
                     name=NAMES6[i]) for i, k in enumerate("abd")]
    bridge = LinkAd("c", body=_edit(rng, tpl), posted_at=T0, location="Reno")
    result = link_batch([*ads, bridge])
    assert all(n.size <= 2 for n in result.networks)  # c joins one of them, never two


def test_a_text_only_two_small_advertisers_write_may_join_them() -> None:
    """Two groups of at most `wording_small_group` ads whose contacts differ, writing a text
    nobody else writes, in one city: one author with two phones is the likelier story. When
    their names and cities differ too, everything but the text disagrees: no join (issue 12)."""
    rng = random.Random(6)
    tpl = _template(rng)
    ads = [_phone_ad(k, _edit(rng, tpl), f"+151255501{i:02d}", city="Tampa",
                     name=NAMES6[i]) for i, k in enumerate("ab")]
    assert _networks(link_batch(ads)) == {frozenset({"a", "b"})}
    strict = link_batch(ads, config=LinkConfig(wording_max_writers=1))
    assert _networks(strict) == set()
    apart = [_phone_ad(k, _edit(rng, tpl), f"+151255502{i:02d}", city=CITIES6[i],
                       name=NAMES6[i]) for i, k in enumerate("cd")]
    assert _networks(link_batch(apart)) == set()


def test_slots_are_blanked_so_a_filled_template_is_the_same_template() -> None:
    base = ("Sweet {name} here in {city}, {age} years young and new to the area. "
            "My cozy studio near the harbor has soft music and fresh towels. "
            "Gentlemen who are patient and polite are welcome every evening.")

    def ad(key: str, name: str, city: str, age: int) -> LinkAd:
        body = base.format(name=name, city=city, age=age)
        found = [Mention(kind, v, "body", body.index(v), body.index(v) + len(v))
                 for kind, v in (("name", name), ("location", city))]
        return LinkAd(key, body=body, mentions=tuple(found))  # as the extractor gives them

    a, b = ad("a", "Amber", "Dallas", 21), ad("b", "Ruby", "Miami", 24)
    ev = compare(a, b)
    assert any(e.kind == "template" and e.strength == "medium" for e in ev)


def test_weak_evidence_is_shown_but_never_merges() -> None:
    rng = random.Random(4)
    a = _phone_ad("w1", _random_text(rng), "+14045550101", name="Jade", city="Miami")
    b = _phone_ad("w2", _random_text(rng), "+14045550102", name="Jade", city="Miami", days=2)
    assert any(e.kind == "name_city" and e.strength == "weak" for e in compare(a, b))
    assert _networks(link_batch([a, b])) == set()


def test_boilerplate_sentence_is_reported_and_ignored() -> None:
    rng = random.Random(5)
    footer = ("All advertisers confirm they are adults and post independently on this "
              "board today.")
    ads = [LinkAd(f"b{i}", body=f"{_random_text(rng, 2)} {footer}") for i in range(60)]
    result = link_batch(ads, config=LinkConfig(shingle_hub_ads=50))
    assert _networks(result) == set()
    (hub,) = [h for h in result.hubs if h.kind == "sentence"]
    assert hub.ads == 60
    ad = next(a for a in ads if a.key == hub.example)
    assert sentence_text(ad.title, ad.body, ad.mentions, int(hub.value[1:], 16)) == \
        cleaned_text("", footer).strip().rstrip(".")


def test_network_record_fields() -> None:
    rng = random.Random(6)
    tpl = _template(rng)
    ads = [_phone_ad("r1", _edit(rng, tpl), "+13055550111", days=0, city="Miami", name="Ivy"),
           _phone_ad("r2", _edit(rng, tpl), "+13055550111", days=3, city="Miami"),
           _phone_ad("r3", _edit(rng, tpl), "+13055550111", days=9, city="Tampa")]
    ads = [LinkAd(a.key, a.title, a.body, a.posted_at, a.location, a.mentions,
                  risk=0.5 + i / 10) for i, a in enumerate(ads)]
    (net,) = [n for n in link_batch(ads).networks if n.size >= 2]
    d = net.to_dict()
    assert d["ad_ids"] == ["r1", "r2", "r3"]
    assert d["phones"] == ["+13055550111"] and d["names"] == ["Ivy"]
    assert [loc["city"] for loc in d["locations"]] == ["Miami", "Tampa"]
    assert d["locations"][0]["ads"] == 2
    assert d["first_seen"].startswith("2026-03-01") and d["last_seen"].startswith("2026-03-10")
    assert {"kind": "phone", "value": "+13055550111", "strength": "strong",
            "ad_ids": ["r1", "r2", "r3"]} in d["evidence"]
    assert d["size"] == 3 and d["risk"]["max"] == 0.7


def test_ids_are_stable_when_membership_barely_changes() -> None:
    ads, _ = synth.generate(600, seed=11)
    first = link_batch(ads[:500])
    second = link_batch(ads[500:], state=first.state)
    kept = [n for n in first.networks if n.size >= 3]
    for net in kept:
        after = {second.state.assignment[k] for k in net.ad_ids}
        if len(after) == 1:
            assert after == {net.network_id}
    # a rebuild from scratch keeps them too, when told the previous assignment
    again = link_batch(ads, previous=second.state.assignment)
    assert again.state.assignment == second.state.assignment


@pytest.mark.slow
def test_incremental_equals_rebuild() -> None:
    ads, _ = synth.generate(1500, seed=12)
    state = None
    before_last: dict[str, str] = {}
    for i in range(0, 1500, 400):
        before_last = dict(state.assignment) if state else {}
        res = link_batch(ads[i:i + 400], state=state)
        state = res.state
    # same networks as linking everything at once, in any order...
    assert _networks(res) == _networks(link_batch(list(reversed(ads))))
    # ...and the same records, ids included, when both keep ids against the same run
    full = link_batch(list(reversed(ads)), previous=before_last)
    assert {h.value for h in res.hubs} == {h.value for h in full.hubs}
    assert [n.to_dict() for n in res.networks] == [n.to_dict() for n in full.networks]


def test_removed_and_replaced_ads() -> None:
    rng = random.Random(7)
    tpl = _template(rng)
    ads = [_phone_ad(f"x{i}", _edit(rng, tpl), "+16025550123") for i in range(3)]
    res = link_batch(ads)
    assert _networks(res) == {frozenset({"x0", "x1", "x2"})}
    res = link_batch([], state=res.state, removed=["x2"])
    assert _networks(res) == {frozenset({"x0", "x1"})}
    replaced = _phone_ad("x1", _random_text(rng), "+16025550999")
    res = link_batch([replaced], state=res.state)
    assert _networks(res) == set()


def test_assign_ids_majority_and_merge() -> None:
    prev = {"a": "net-A", "b": "net-A", "c": "net-A", "d": "net-D", "e": "net-D"}
    ids = assign_ids([["a", "b", "d", "e", "z"], ["c"]], prev)
    assert ids[0] == "net-A"  # merge keeps the id of the bigger overlap
    assert ids[1] != "net-A"
    assert assign_ids([["q", "r"]], None) == assign_ids([["q", "r"]], {})


def test_feature_table_round_trip() -> None:
    ads, _ = synth.generate(50, seed=3)
    table = FeatureTable.from_ads(ads)
    back = FeatureTable.from_bytes(table.to_bytes())
    assert back is not None and back.keys == table.keys
    assert np.array_equal(back.shingles, table.shingles)
    assert back.ident_vocab == table.ident_vocab and back.names == table.names


def test_quality_on_synthetic_corpus() -> None:
    ads, truth = synth.generate(2000, seed=5)
    res = link_batch(ads)
    sizes = Counter(res.state.assignment.values())
    pred = {k: v if sizes[v] > 1 else None for k, v in res.state.assignment.items()}
    scores = pairwise_scores(pred, truth)
    assert scores.precision >= 0.97 and scores.recall >= 0.93
    assert any(h.value == synth.SITE_PHONE for h in res.hubs)


def test_pairwise_scores_counts() -> None:
    s = pairwise_scores({"a": "x", "b": "x", "c": "x", "d": None},
                        {"a": "1", "b": "1", "c": "2", "d": "2"})
    assert (s.predicted_pairs, s.true_pairs, s.correct_pairs) == (3, 2, 1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), max_size=30), min_size=2, max_size=12),
       st.data())
def test_exact_jaccard_matches_sets(rows: list[list[int]], data: st.DataObject) -> None:
    vals = [np.unique(np.array(r, dtype=np.uint32)) for r in rows]
    offsets = np.zeros(len(vals) + 1, dtype=np.int64)
    np.cumsum([v.size for v in vals], out=offsets[1:])
    flat = np.concatenate(vals) if vals else np.zeros(0, np.uint32)
    a = np.array(data.draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, max_size=20)))
    b = np.array(data.draw(st.lists(st.integers(0, len(rows) - 1), min_size=a.size,
                                    max_size=a.size)))
    got = minhash.exact_jaccard(flat, offsets, a, b)
    for i in range(a.size):
        x, y = set(vals[a[i]].tolist()), set(vals[b[i]].tolist())
        want = len(x & y) / len(x | y) if x | y else 0.0
        assert abs(float(got[i]) - want) < 1e-6


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_wording_features_are_deterministic_and_batch_independent(text: str) -> None:
    one = wording_batch([cleaned_text("", text)])
    two = wording_batch([cleaned_text("", "other words entirely here ok"),
                         cleaned_text("", text)])
    n0, n1 = one.shingle_offsets[1], two.shingle_offsets[1]
    assert np.array_equal(one.shingles[:n0], two.shingles[n1:])


def _pdq(seed: int, flips: int = 0) -> str:
    rng = random.Random(seed)
    bits = rng.getrandbits(256)
    for i in rng.sample(range(256), flips) if flips else []:
        bits ^= 1 << i
    return f"{bits:064x}"


def test_images_exact_and_near_duplicate_are_strong_evidence() -> None:
    rng = random.Random(8)
    base = _pdq(1)
    near = f"{int(base, 16) ^ 0b1011:064x}"  # 3 bits apart: an edited copy
    ads = [LinkAd("i1", body=_random_text(rng), image_sha256=("a" * 64,), image_pdq=(base,)),
           LinkAd("i2", body=_random_text(rng), image_sha256=("a" * 64,), image_pdq=(base,)),
           LinkAd("i3", body=_random_text(rng), image_sha256=("b" * 64,), image_pdq=(near,)),
           LinkAd("i4", body=_random_text(rng), image_pdq=(_pdq(2),))]
    result = link_batch(ads)
    assert _networks(result) == {frozenset({"i1", "i2", "i3"})}
    (net,) = [n for n in result.networks if n.size >= 2]
    kinds = {e.kind: e for e in net.evidence}
    assert kinds["image"].ad_ids == ("i1", "i2")
    assert set(kinds["image_near"].ad_ids) == {"i1", "i2", "i3"}
    assert any(e.kind == "image_near" for e in compare(ads[0], ads[2]))
    builtin = evidence.near_duplicate_pdq_pairs([base, near, _pdq(2)], 31)
    assert builtin == [(0, 1)]


@settings(max_examples=15, deadline=None)
@given(st.integers(5, 60), st.integers(0, 2**16), st.sampled_from(CITIES6))
def test_a_networks_only_contact_is_never_a_hub(size: int, seed: int, city: str) -> None:
    rng = random.Random(seed)
    ads = [_phone_ad(f"n{i}", _random_text(rng), "+13125550199", days=i % 30,
                     city=rng.choice([city, "Austin"])) for i in range(size)]
    result = link_batch(ads)
    assert not [h for h in result.hubs if h.kind == "phone"]
    assert _networks(result) == {frozenset(a.key for a in ads)}


@settings(max_examples=15, deadline=None)
@given(st.integers(10, 50), st.integers(0, 2**16))
def test_a_footer_phone_beside_every_advertisers_own_is_a_hub(advertisers: int,
                                                               seed: int) -> None:
    rng = random.Random(seed)
    ads = [_footer_ad(f"s{i}", _random_text(rng), f"+1512555{3000 + i}", "+17025550100")
           for i in range(advertisers)]
    result = link_batch(ads)
    assert [h.value for h in result.hubs if h.kind == "phone"] == ["+17025550100"]
    assert _networks(result) == set()
