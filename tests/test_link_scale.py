"""Linking at scale: the miss and wrong-merge classes found on the 30,000-ad demo market
(issue 12, docs/networks.md "What the misses were").

(h) a big network's own template, carried by more ads than the boilerplate count, is still
    the network's wording: its contactless ads join it;
(i) a site's text on many ads with no contact of their own stays boilerplate;
(j) an ad builder's text shared by many unrelated advertisers never corroborates a shared
    name and city (two strangers called Anna in Houston who picked it stay apart);
(k) ads with little distinctive wording join by it only where a name and the city agree, and
    never between advertisers whose contacts disagree.
"""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np

# the synthetic vocabulary, names and cities of the link-quality tests
from test_link_quality import CITIES, NAMES, SITE, SYL, T0
from tracelight.link import LinkAd, link_batch
from tracelight.link.metrics import bucket_scores
from tracelight.records import Mention

_R = random.Random(0)
POOL = ["".join(_R.choice(SYL) for _ in range(3)) for _ in range(5000)]


def _sentence(rng: random.Random, k: int = 9) -> str:
    return " ".join(rng.choice(POOL) for _ in range(k)).capitalize() + "."


def _fresh(rng: random.Random, n: int = 6) -> list[str]:
    return [_sentence(rng) for _ in range(n)]


def _phone(i: int) -> str:
    return f"+1{[512, 312, 713, 305][i % 4]}{2000000 + i * 7919 % 7000000}"


def ad(key: str, sentences: list[str], phones: list[str], *, name: str, city: str,
       day: float = 0, footer: str | None = None) -> LinkAd:
    text, mentions = "", []

    def add(s: str, kind: str | None = None, value: str = "") -> None:
        nonlocal text
        if kind:
            mentions.append(Mention(kind, value, "body", len(text), len(text) + len(s), raw=s))
        text += s

    add("Hi I am ")
    add(name, "name", name)
    add(" in ")
    add(city, "location", city)
    add(". " + " ".join(sentences) + " ")
    for p in phones:
        add("Call ")
        add(p, "phone", p)
        add(". ")
    if footer:
        add("Questions about this listing or payments call our help desk ")
        add(footer, "phone", footer)
        add(" any day.")
    return LinkAd(key=key, body=text, posted_at=T0 + timedelta(days=day), location=city,
                  mentions=tuple(mentions))


def _independents(rng: random.Random, n: int, start: int = 0, footer: float = 0.3,
                  ) -> list[LinkAd]:
    return [ad(f"ind{start + i}", _fresh(rng, 4), [_phone(start + i)], name=rng.choice(NAMES),
               city=rng.choice(CITIES), day=rng.uniform(0, 200),
               footer=SITE if rng.random() < footer else None) for i in range(n)]


def _networks(result) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    return {frozenset(n.ad_ids) for n in result.networks if n.size >= 2}


# -- (h) a big network's own template ------------------------------------------------------

def _big_network(rng: random.Random, size: int = 160) -> list[LinkAd]:
    """One template over `size` ads (each keeps ~90 % of its sentences), three phones in turn
    with overlap at each switch, a third of the ads with no phone ("message me here")."""
    tpl = _fresh(rng, 8)
    phones = [_phone(9000 + j) for j in range(3)]
    out = []
    for i in range(size):
        j = i * 3 // size
        cur = [phones[j]] + ([phones[j - 1]] if j and i * 3 % size < 12 else [])
        contactless = rng.random() < 0.33
        out.append(ad(f"big{i}", [s for s in tpl if rng.random() < 0.9],
                      [] if contactless else cur, name=rng.choice(["Opal", "Wren"]),
                      city=rng.choice(["Reno", "Omaha"]), day=i * 0.5,
                      footer=SITE if rng.random() < 0.3 else None))
    return out


def test_h_big_networks_own_template_is_its_wording_not_boilerplate() -> None:
    """160 ads of one network share its template: every template shingle is in more than
    `shingle_hub_ads` (100) ads. Counted alone that is boilerplate, and the network's ads
    without a phone fell out of it (30,000-ad demo market: > 100 bucket recall 0.887). One
    writer holds nearly all of those ads: it is the network's own wording."""
    rng = random.Random(31)
    net = _big_network(rng)
    result = link_batch(net + _independents(rng, 300))
    truth = {a.key: ("N" if a.key.startswith("big") else None) for a in net}
    truth.update({f"ind{i}": None for i in range(300)})
    scores = bucket_scores(dict(result.state.assignment), truth)
    assert scores[">100"]["recall"] == 1.0 and scores[">100"]["precision"] == 1.0
    assert scores["singletons"]["wrongly_merged"] == 0
    assert result.stats["network_wording_kept"] > 0


def test_i_site_text_on_contactless_ads_stays_boilerplate() -> None:
    """The protection kept: a site's sentences on 150 ads whose only contact is the site's
    helpline (a hub) have no writer at all: still boilerplate, and those ads stay apart."""
    rng = random.Random(32)
    site_text = _fresh(rng, 3)
    ads = [ad(f"s{i}", [*site_text, *_fresh(rng, 2)], [], name=NAMES[i % 20],
              city=CITIES[i % 16], day=i, footer=SITE) for i in range(150)]
    ads += _independents(rng, 450, footer=0.1)
    result = link_batch(ads)
    assert SITE in {h.value for h in result.hubs}
    merged = {k for net in _networks(result) for k in net if k.startswith("s")}
    assert len(merged) <= 2


def test_shingle_writers_counts_groups_with_contacts() -> None:
    from tracelight.link.hubs import shingle_writers

    # rows 0-2 carry shingle 7 (groups 0, 0, 1); row 3 carries 7 and 9 (group 2, contactless)
    shingles = np.array([7, 7, 7, 7, 9], np.uint32)
    offsets = np.array([0, 1, 2, 3, 5])
    labels = np.array([0, 0, 1, 2])
    has_contact = np.array([True, True, False])
    ads_n, cont_n, writers, top = shingle_writers(shingles, offsets, labels, has_contact,
                                                  np.array([7, 9], np.uint32))
    assert ads_n.tolist() == [4, 1] and cont_n.tolist() == [3, 0]
    assert writers.tolist() == [2, 0] and top.tolist() == [2, 0]


# -- (j) ad-builder text is the service's, not an author's ---------------------------------

def _builder_market(rng: random.Random, n: int = 30) -> tuple[list[str], list[LinkAd]]:
    builder = _fresh(rng, 6)
    ads = [ad(f"b{i}", [s for s in builder if rng.random() < 0.9] + [_sentence(rng)],
              [_phone(100 + i)], name=POOL[4000 + i].capitalize(), city=CITIES[i % 16],
              day=rng.uniform(0, 100)) for i in range(n)]
    return builder, ads


def test_j_builder_text_does_not_corroborate_same_name_same_city_strangers() -> None:
    """Two strangers called Anna in Houston, each with her own phone, both picked the ad
    builder thirty other advertisers use: the shared text is the builder's, so the name and
    city it 'corroborates' are a coincidence (the wrong merge left on the demo market)."""
    rng = random.Random(33)
    builder, ads = _builder_market(rng)
    annas = [ad(f"anna{i}", [s for s in builder if rng.random() < 0.9] + [_sentence(rng)],
                [_phone(500 + i)], name="Anna", city="Houston", day=10 + i) for i in range(2)]
    result = link_batch(ads + annas + _independents(rng, 100))
    assert result.network_of("anna0") != result.network_of("anna1")
    assert _networks(result) == set()


def test_j_builder_text_does_not_pull_in_a_contactless_ad_on_a_name() -> None:
    rng = random.Random(34)
    builder, ads = _builder_market(rng)
    ads.append(ad("lone", list(builder), [], name=POOL[4003].capitalize(), city="Tulsa"))
    result = link_batch(ads + _independents(rng, 100))
    assert _networks(result) == set()


def test_j_one_authors_template_under_two_phones_still_joins_on_name_and_city() -> None:
    """The counterpart: a template no one else writes, one name and city, two phones."""
    rng = random.Random(35)
    _builder, ads = _builder_market(rng)
    tpl = _fresh(rng, 7)
    mine = [ad(f"t{i}", [s for s in tpl if rng.random() < 0.9], [_phone(700 + i // 3)],
               name="Opal", city="Reno", day=i) for i in range(6)]
    result = link_batch(ads + mine + _independents(rng, 100))
    assert _networks(result) == {frozenset(a.key for a in mine)}


# -- (k) little distinctive wording --------------------------------------------------------

def test_k_short_wording_joins_only_where_name_and_city_agree() -> None:
    """An ad whose wording is mostly boilerplate keeps 3-5 distinctive shingles: enough to
    join its network when the name and the city agree too, never on the city alone."""
    rng = random.Random(36)
    boiler = _fresh(rng, 3)
    fillers = [ad(f"f{i}", [*boiler, *_fresh(rng, 3)], [_phone(i)], name=NAMES[i % 20],
                  city=CITIES[i % 16]) for i in range(120)]  # makes `boiler` boilerplate
    own = "Lamo kasu vivo rate bafi."  # five words: three distinctive shingles
    net = [ad("n0", [*boiler, own], [_phone(900)], name="Opal", city="Reno"),
           ad("n1", [*boiler, own], [], name="Opal", city="Reno"),
           ad("x1", [*boiler, own], [], name="Iris", city="Reno"),
           ad("x2", [*boiler, own], [_phone(901)], name="Opal", city="Reno")]
    result = link_batch(fillers + net)
    assert result.network_of("n0") == result.network_of("n1")
    assert result.network_of("x1") != result.network_of("n0")
    # an advertiser with a phone of her own: a few shared shingles never outweigh contacts
    # that disagree (at 300,000 ads, strangers with one common name in one popular city
    # share that much by chance)
    assert result.network_of("x2") != result.network_of("n0")


def test_miss_breakdown_classes_each_missed_part() -> None:
    from tracelight.bench.link_quality import miss_breakdown

    ads = [ad("a", ["x"], [_phone(1)], name="A", city="Reno"),
           ad("b", ["x"], [_phone(1)], name="A", city="Reno"),
           ad("c", ["x"], [], name="A", city="Reno"),  # no contact: only wording could join
           ad("d", ["x"], [_phone(2)], name="A", city="Reno")]  # another phone
    truth: dict[str, str | None] = {k: "N" for k in "abcd"}
    out = miss_breakdown(ads, {"a": "p", "b": "p", "c": "q", "d": "r"}, truth)
    assert out["2-5"] == {"no contact": 2, "contacts disjoint": 2}
