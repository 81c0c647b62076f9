"""Which pairwise author and wallet-owner links may join ads into networks.

Pair links chain: at 1% FPR a few wrong pairs between two authors' ads would, by union, merge
both authors' whole networks. `average_linkage` groups ads only where the links between two
groups are, on average (a missing pair counts 0), at least `tau`: one wrong pair between two
authors with several ads each never merges them. `owner_joins` then lets a Bitcoin owner join
its ads to the author group most of them belong to, except ads that author evidence already
puts in another group of two or more, or whose author links all lead elsewhere (two writers:
the payment match is the likelier error).
Pure functions over (key, key, weight) tuples; deterministic.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def average_linkage(edges: Iterable[tuple[str, str, float]], tau: float = 0.5
                    ) -> dict[str, str]:
    """key -> group label (the group's smallest key) for every key in `edges`: greedy
    average-linkage over the sparse graph, merging the best pair of groups while the mean
    weight over all their cross pairs is >= tau."""
    nbr: dict[str, dict[str, float]] = {}
    for a, b, w in edges:
        if a == b:
            continue
        nbr.setdefault(a, {})
        nbr.setdefault(b, {})
        w = max(float(w), nbr[a].get(b, 0.0))  # one weight per pair: the best
        nbr[a][b] = nbr[b][a] = w
    size = dict.fromkeys(nbr, 1)
    members = {k: [k] for k in nbr}
    heap = [(-w, a, b) for a, d in nbr.items() for b, w in d.items() if a < b]
    heapq.heapify(heap)
    while heap:
        neg, a, b = heapq.heappop(heap)
        if a not in members or b not in members or b not in nbr[a]:
            continue
        avg = nbr[a][b] / (size[a] * size[b])
        if abs(avg + neg) > 1e-12:
            continue  # stale entry: the groups changed since it was pushed
        if avg < tau:
            break
        if a > b:
            a, b = b, a
        for c, w in nbr.pop(b).items():
            if c == a:
                continue
            nbr[a][c] = nbr[a].get(c, 0.0) + w
            nbr[c][a] = nbr[a][c]
            del nbr[c][b]
        del nbr[a][b]
        members[a].extend(members.pop(b))
        size[a] += size.pop(b)
        for c, w in nbr[a].items():
            heapq.heappush(heap, (-w / (size[a] * size[c]), min(a, c), max(a, c)))
    out: dict[str, str] = {}
    for ks in members.values():
        label = min(ks)
        for k in ks:
            out[k] = label
    return out


def within(edges: Sequence[tuple[str, str, float]], groups: Mapping[str, str]
           ) -> list[int]:
    """Indexes of the edges whose two ends are in one group."""
    return [i for i, (a, b, _w) in enumerate(edges)
            if a in groups and groups.get(a) == groups.get(b)]


def owner_joins(owner_ads: Mapping[str, Sequence[str]], groups: Mapping[str, str],
                linked: Mapping[str, Iterable[str]] | None = None,
                ) -> list[tuple[str, str, str]]:
    """(owner, anchor ad, ad) joins: each owner's ads to one anchor in the author group most
    of them are in (or its first ad), leaving out ads in another author group of two or
    more. linked (ad -> the ads its author links reach, over the threshold), when given:
    an ad whose author links all lead away from the owner's group and its other ads is left
    out too (style says another writer); an ad with no author link joins on the payment."""
    gsize = Counter(groups.values())
    members: dict[str, set[str]] = {}
    for k, label in groups.items():
        members.setdefault(label, set()).add(k)
    out: list[tuple[str, str, str]] = []
    for owner, ads in sorted(owner_ads.items()):
        ks = sorted(set(ads))
        multi = Counter(groups[k] for k in ks if k in groups and gsize[groups[k]] >= 2)
        main = min(multi.items(), key=lambda kv: (-kv[1], kv[0]))[0] if multi else None
        anchor = next((k for k in ks if main is not None and groups.get(k) == main), ks[0])
        target = set(ks) | (members[main] if main is not None else set())
        for k in ks:
            g = groups.get(k)
            if k == anchor or (g is not None and gsize[g] >= 2 and g != main):
                continue
            if g != main and linked is not None:
                reach = set(linked.get(k, ())) - {k}
                if reach and not reach & target:
                    continue
            out.append((owner, anchor, k))
    return out


def link_map(edges: Iterable[tuple[str, str, float]]) -> dict[str, set[str]]:
    """ad -> the ads its links reach (both directions)."""
    out: dict[str, set[str]] = {}
    for a, b, _w in edges:
        if a != b:
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out


__all__ = ["average_linkage", "link_map", "owner_joins", "within"]
