"""Hubs: identifiers, images and sentences shared by an implausible number of ads.

A site's own phone in every footer, a stock photo, a boilerplate sentence: each would join
thousands of unrelated ads into one "network". They are detected, reported (they are leads in
their own right: who runs the site?) and excluded from joining.

Two tests, both data-driven:
- wording: a sentence or shingle found in `shingle_hub_ads` ads or more is boilerplate; its
  shingles are dropped before MinHash (so its sentence cannot make two ads look alike);
- identifiers: a phone (email, image...) in `hub_check_ads` ads or more is tested against the
  rest of the evidence. A network's phone sits in ads that are linked anyway (other phones,
  the same template); a site phone sits in ads that are otherwise unrelated. When joining on it
  would merge more than `hub_max_groups` groups that nothing else links (and more than
  `hub_group_ratio` of its ads), it is a hub - unless its ads also share the same few other
  contacts (one advertiser whose ads are each written afresh, not a site footer).
  Identifiers are tested from the least to the most frequent, each accepted one merging its
  groups first, so one network's several phones confirm one another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Hub:
    kind: str  # phone, email, social, payment, crypto, image, image_near, sentence
    value: str
    ads: int  # ads that carry it
    groups: int | None  # otherwise-unrelated groups it would have joined (identifiers)
    reason: str
    example: str | None = None  # key of one ad that carries it

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "ads": self.ads, "groups": self.groups,
                "reason": self.reason, "example": self.example}


def value_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct values, how many times each occurs, index of its first occurrence)."""
    if values.size == 0:
        return values, np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(values, kind="stable")
    s = values[order]
    brk = np.ones(s.size, dtype=bool)
    brk[1:] = s[1:] != s[:-1]
    starts = np.nonzero(brk)[0]
    counts = np.diff(np.append(starts, s.size))
    return s[starts], counts, order[starts]


def frequent(values: np.ndarray, min_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values occurring at least `min_count` times: (values sorted, counts, first index)."""
    uniq, counts, first = value_counts(values)
    sel = counts >= min_count
    return uniq[sel], counts[sel], first[sel]


def frequent_values(values: np.ndarray, min_count: int) -> np.ndarray:
    """The sorted values occurring at least `min_count` times (a sort, no index arrays)."""
    if values.size == 0:
        return values
    s = np.sort(values)
    brk = np.ones(s.size + 1, dtype=bool)
    brk[1:-1] = s[1:] != s[:-1]
    starts = np.nonzero(brk)[0]
    counts = np.diff(starts)
    return s[starts[:-1][counts >= min_count]]


def drop_values(values: np.ndarray, offsets: np.ndarray,
                banned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove every occurrence of the sorted `banned` values from ragged rows."""
    if banned.size == 0 or values.size == 0:
        return values, offsets
    keep = np.empty(values.size, dtype=bool)
    for s in range(0, values.size, 4_000_000):  # chunks bound the index temporaries
        part = values[s:s + 4_000_000]
        pos = np.searchsorted(banned, part)
        pos[pos == banned.size] = 0
        keep[s:s + part.size] = banned[pos] != part
    kept = np.zeros(values.size + 1, dtype=np.int64)
    np.cumsum(keep, out=kept[1:])
    return values[keep], kept[offsets]


class UnionFind:
    """Union-find over 0..n-1 with path halving; the smaller root wins (deterministic)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


def test_identifiers(candidates: list[tuple[int, str, str, np.ndarray]], base_labels: np.ndarray,
                     n_labels: int, *, max_groups: int, ratio: float, max_ads: int,
                     co_identifiers: Callable[[int], list[int]] | None = None,
                     ) -> tuple[set[int], list[tuple[int, int, int, str]], UnionFind]:
    """Decide which frequent identifiers are hubs.

    candidates: (identifier id, kind, value, rows carrying it), any order.
    base_labels: component of each row under the evidence not being tested.
    Returns (accepted ids, hubs as (id, ads, groups, reason), union-find over base labels
    with the accepted identifiers applied).
    """
    uf = UnionFind(n_labels)
    accepted: set[int] = set()
    hubs: list[tuple[int, int, int, str]] = []
    for ident, _kind, _value, rows in sorted(candidates, key=lambda c: (c[3].size, c[1], c[2])):
        roots = sorted({uf.find(x) for x in set(base_labels[rows].tolist())})
        groups = len(roots)
        if rows.size >= max_ads:
            hubs.append((ident, int(rows.size), groups,
                         f"in {rows.size} ads, at or over the {max_ads}-ad limit"))
            continue
        if groups > max_groups and groups > ratio * rows.size and not (
                co_identifiers and _one_advertiser(ident, rows, co_identifiers)):
            hubs.append((ident, int(rows.size), groups,
                         f"would join {groups} groups of ads that nothing else links"))
            continue
        accepted.add(ident)
        for r in roots[1:]:
            uf.union(roots[0], r)
    return accepted, hubs, uf


def _one_advertiser(ident: int, rows: np.ndarray,
                    co_identifiers: Callable[[int], list[int]]) -> bool:
    """Do the ads carrying `ident` carry the same few other contacts too?

    A site phone sits next to each advertiser's own contact (many distinct co-identifiers);
    a network's phone travels with the network's other phones and handles (few). When most
    ads have no other contact the question cannot be answered, and the groups test stands.
    """
    with_co = 0
    distinct: set[int] = set()
    for r in rows.tolist():
        others = [i for i in co_identifiers(r) if i != ident]
        if others:
            with_co += 1
            distinct.update(others)
    return with_co >= 0.5 * rows.size and len(distinct) < 0.5 * with_co
