"""External medium edges (author, wallet owner, room) joining ads in the pure linker."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.link import LinkAd, LinkConfig, link_batch
from tracelight.link.evidence import strength_of
from tracelight.link.external import ExternalEdge, edge_rows
from tracelight.records import Mention

WORDS = ["amber", "velvet", "orchid", "lantern", "harbor", "meadow", "cobalt", "saffron",
         "willow", "ember", "quartz", "juniper", "marble", "tundra", "cedar", "falcon"]


def _text(rng: random.Random) -> str:
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(8)).capitalize() + "."
                    for _ in range(5))


def _ad(key: str, rng: random.Random, phone: str | None = None,
        name: str | None = None) -> LinkAd:
    body = _text(rng)
    ments = []
    if phone:
        body += f" Call {phone}."
        s = body.index(phone)
        ments.append(Mention("phone", phone, "body", s, s + len(phone), raw=phone))
    if name:
        body += f" I am {name}."
        s = body.index(name)
        ments.append(Mention("name", name, "body", s, s + len(name)))
    return LinkAd(key, body=body, mentions=tuple(ments))


def _nets(result) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    return {frozenset(n.ad_ids) for n in result.networks if n.size >= 2}


def test_author_edge_joins_ads_whose_phones_rotate_and_is_listed_as_medium() -> None:
    rng = random.Random(1)
    a, b = _ad("a", rng, "+14045550101"), _ad("b", rng, "+14045550199")
    assert _nets(link_batch([a, b])) == set()
    edge = ExternalEdge("a", "b", "author", 0.93, "same misspellings: recieve, definately")
    res = link_batch([a, b], external_edges=[edge])
    assert _nets(res) == {frozenset({"a", "b"})}
    (ev,) = [e for n in res.networks for e in n.evidence if e.kind == "author"]
    assert ev.strength == "medium" and ev.ad_ids == ("a", "b")
    assert ev.value == edge.detail and abs((ev.score or 0) - 0.93) < 1e-6
    assert res.stats["external_used"] == 1
    assert strength_of("wallet_owner") == "medium" == strength_of("room")


def test_unknown_keys_and_self_edges_are_ignored() -> None:
    rng = random.Random(2)
    a, b = _ad("a", rng), _ad("b", rng)
    edges = [ExternalEdge("a", "zz", "author", 0.9, "x"), ExternalEdge("a", "a", "room", 1, "y"),
             ExternalEdge("a", "b", "wallet_owner", float("nan"), "z")]
    res = link_batch([a, b], external_edges=edges)
    assert _nets(res) == set() and res.stats["external_edges"] == 0


def test_external_edges_meet_the_same_contradiction_test_as_wording() -> None:
    """Two groups with contacts of their own, too big to pass as one small writer, need a
    shared name under the default rule: an author edge alone does not join them."""
    rng = random.Random(3)
    g1 = [_ad(f"p{i}", rng, "+14045550101", "Amber") for i in range(6)]
    g2 = [_ad(f"q{i}", rng, "+14045550202", "Ruby") for i in range(6)]
    edge = ExternalEdge("p0", "q0", "wallet_owner", 0.99, "owner:bc1qdemo")
    res = link_batch(g1 + g2, external_edges=[edge])
    assert len(_nets(res)) == 2
    off = link_batch(g1 + g2, external_edges=[edge],
                     config=LinkConfig(contradiction_rule="off"))
    assert len(_nets(off)) == 1


def test_incremental_with_edges_equals_rebuild() -> None:
    rng = random.Random(4)
    ads = [_ad(f"k{i}", rng, f"+1404555{i:04d}") for i in range(8)]
    edges = [ExternalEdge("k1", "k5", "author", 0.8, "x"), ExternalEdge("k2", "k7", "room", 1, "y")]
    full = link_batch(ads, external_edges=edges)
    first = link_batch(ads[:4])
    inc = link_batch(ads[4:], state=first.state, external_edges=edges)
    assert _nets(full) == _nets(inc) == {frozenset({"k1", "k5"}), frozenset({"k2", "k7"})}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "x", ""]),
                          st.sampled_from(["a", "b", "c", "y"]),
                          st.floats(allow_nan=True, allow_infinity=True)), max_size=20))
def test_edge_rows_never_raise_and_clip_scores(raw: list[tuple[str, str, float]]) -> None:
    edges = [ExternalEdge(a, b, "author", s, "d") for a, b, s in raw]
    ra, rb, rs, kept = edge_rows(edges, {"a": 0, "b": 1, "c": 2})
    assert len(kept) == ra.size == rb.size == rs.size
    assert (ra < rb).all() and ((rs >= 0) & (rs <= 1)).all()


def test_wording_does_not_bridge_two_author_groups_grown_past_small() -> None:
    """Every phone rotated: author edges grow two groups of 8 ads (one phone each); a wording
    edge between one ad of each (a shared template, the same city) would join them under
    the two-small-writers exception if it asked the identifier groups' sizes (1 ad each).
    It asks the merged sizes, so the two authors stay apart (bench authorship: precision
    0.963 -> 0.992 on the rotation corpus)."""
    rng = random.Random(6)
    shared = _text(rng)

    def ad(key: str, phone: str, text: str | None = None) -> LinkAd:
        body = (text or _text(rng)) + f" Call {phone}."
        s = body.index(phone)
        return LinkAd(key, body=body, location="Reno",
                      mentions=(Mention("phone", phone, "body", s, s + len(phone), raw=phone),))

    g1 = [ad(f"a{i}", f"+1404555{i:04d}", shared if i == 0 else None) for i in range(8)]
    g2 = [ad(f"b{i}", f"+1404556{i:04d}", shared if i == 0 else None) for i in range(8)]
    assert _nets(link_batch(g1 + g2)) == {frozenset({"a0", "b0"})}  # two small writers
    edges = [ExternalEdge(f"{g}0", f"{g}{i}", "author", 0.95, "habits")
             for g in "ab" for i in range(1, 8)]
    res = link_batch(g1 + g2, external_edges=edges)
    assert _nets(res) == {frozenset(a.key for a in g1), frozenset(a.key for a in g2)}
    assert res.stats["wording_refused"] >= 1


def test_constrained_merge_passes_merged_sizes() -> None:
    import numpy as np

    from tracelight.link.hubs import constrained_merge

    seen: list[tuple[int, int, float, int, int]] = []

    def corr(a: int, b: int, s: float, na: int, nb: int) -> bool:
        seen.append((a, b, s, na, nb))
        return True

    labels = np.array([0, 0, 1, 2, 3], np.int64)  # ads 0 and 1 share a phone
    _uf, used, refused = constrained_merge(
        labels, np.ones(4, bool), np.array([0, 2, 2]), np.array([2, 3, 4]),
        np.array([0.9, 0.8, 0.7], np.float32), corr)
    assert [(na, nb) for *_x, na, nb in seen] == [(2, 1), (3, 1), (4, 1)]
    assert refused == 0 and len(used) == 3
