"""Hubs: identifiers, images and sentences shared by an implausible number of ads.

A site's own phone in every footer, a stock photo, a boilerplate sentence: each would join
thousands of unrelated ads into one "network". They are detected, reported (they are leads in
their own right: who runs the site?) and excluded from joining.

Two tests, both data-driven:
- wording: a sentence or shingle found in `shingle_hub_ads` ads or more is boilerplate; its
  shingles are dropped before MinHash (so its sentence cannot make two ads look alike);
- identifiers (`identifier_hubs`): a phone (email, image...) in `hub_check_ads` ads or more is
  judged by what sits beside it, not by how many groups it would merge. A site's or service's
  number sits beside each advertiser's own contact: most of its ads carry another contact,
  and those ads fall into many groups that share nothing else (no other phone, email, handle
  or photo). A network's contact is the only contact of its ads (a trafficker posting many
  possible victims under one number, every ad rewritten) or sits beside the network's same
  few other contacts: it is not a hub, however many ads it is in (up to `hub_max_ads`). A main
  contact is a hub only when it sits inside the same boilerplate sentence in most of its ads
  and spreads over many cities (a site's helpline in "contact through the site" ads).
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
    groups: int | None  # groups of its ads that share nothing else (identifiers beside others)
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


def _star_pairs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every position to the first position holding the same key."""
    if keys.size < 2:
        z = np.zeros(0, np.int64)
        return z, z
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    first = np.ones(k.size, dtype=bool)
    first[1:] = k[1:] != k[:-1]
    head = order[np.nonzero(first)[0]][np.cumsum(first) - 1]
    keep = ~first
    return head[keep], order[keep]


@dataclass(frozen=True)
class HubRules:
    """Thresholds of the hub test (LinkConfig carries them; docs/networks.md explains them)."""

    check_ads: int = 5  # identifiers in this many ads are tested
    max_ads: int = 2000  # ... and are hubs whatever else holds in this many
    beside_share: float = 0.5  # "sits beside other contacts": in at least this share of ads
    min_groups: int = 10  # ... of this many groups that share nothing else: a hub
    small_groups: int = 5  # ... or this many, when they are half of the ads beside others
    boilerplate_share: float = 0.8  # a main contact inside boilerplate in this share of ads
    min_cities: int = 8  # ... spread over this many cities: a site's number, not a network's
    image_ads: int = 2  # images (stock photos) are tested from this many ads
    image_groups: int = 3  # ... and are hubs beside this many groups, half of their ads


def identifier_hubs(n_rows: int, el_rows: np.ndarray, el_ids: np.ndarray, g_start: np.ndarray,
                    g_size: np.ndarray, g_ids: np.ndarray, is_contact: np.ndarray,
                    is_image: np.ndarray, city_ids: np.ndarray,
                    boiler: Callable[[np.ndarray, float], float], rules: HubRules,
                    text_groups: np.ndarray | None = None,
                    posted: np.ndarray | None = None,
                    ) -> list[tuple[int, int, int | None, str]]:
    """Which frequent identifiers are hubs, by what sits beside them.

    el_rows/el_ids: (row, identifier) occurrences sorted by identifier; g_*: the run of each
    identifier. is_contact: per identifier id, whether it is a way to reach the advertiser.
    city_ids: per row, a city number (-1: none). boiler(rows): the share of those rows that
    carry the same boilerplate sentence (the most common one) at least `lift` times as often
    as the corpus does. text_groups: per row, its group under wording evidence (ads of one
    template count as sharing something). posted: per row, posting time in epoch seconds
    (NaN: none), used to describe a hub's posting rhythm in its reason.

    A site's number sits beside each advertiser's own contact: its ads carry other contacts,
    and those ads fall into many groups that share nothing but it (no other phone, email,
    handle or photo). A network's contact is the only or main contact of its ads, or sits
    beside the same few other contacts of the network. Returns (identifier id, ads, groups
    beside it or None, reason in words) for every hub.
    """
    hubs: list[tuple[int, int, int | None, str]] = []
    if g_ids.size == 0:
        return hubs
    n_vocab = int(el_ids.max()) + 1
    if text_groups is not None and text_groups.size == n_rows:
        # a row's wording group acts as one more thing its ads can share (ids past the vocab)
        el_rows = np.concatenate([el_rows, np.arange(n_rows, dtype=np.int64)])
        el_ids = np.concatenate([el_ids, n_vocab + text_groups.astype(np.int64)])
        is_contact = np.concatenate([is_contact, np.zeros(n_rows, dtype=bool)])
    contact_el = is_contact[el_ids]

    def count_contacts(found: set[int]) -> np.ndarray:
        """Contacts per row, hubs found so far left out: beside a site's phone is not beside
        another advertiser."""
        mask = contact_el
        if found:
            mask = mask & ~np.isin(el_ids, np.fromiter(found, np.int64, len(found)))
        return np.bincount(el_rows[mask], minlength=n_rows)

    contact_count = count_contacts(set())
    img = is_image[g_ids]
    cand = np.nonzero((g_size >= rules.check_ads) | (img & (g_size >= rules.image_ads)))[0]
    suspects: list[int] = []

    def main_contact(i: int) -> tuple[int, int, int | None, str] | None:
        """A main contact of its ads is a network's, unless it is over the cap or sits in a
        site's boilerplate across many cities."""
        ident, size = int(g_ids[i]), int(g_size[i])
        if size >= rules.max_ads:
            return (ident, size, None, f"in {size} ads, at or over the {rules.max_ads}-ad limit")
        rows = el_rows[g_start[i]:g_start[i] + size]
        cities = city_ids[rows]
        n_cities = np.unique(cities[cities >= 0]).size
        if n_cities >= rules.min_cities:
            share = boiler(rows, 2.0)
            if share >= rules.boilerplate_share:
                return (ident, size, None,
                        f"the only contact of most of its {size} ads, but inside the same "
                        f"boilerplate sentence in {share:.0%} of them, across {n_cities} "
                        f"cities: a site's or service's number")
        return None

    def beside_share_met(i: int, counts: np.ndarray) -> bool:
        ident, size = int(g_ids[i]), int(g_size[i])
        rows = el_rows[g_start[i]:g_start[i] + size]
        others = counts[rows] - (1 if is_contact[ident] else 0)
        return bool(np.count_nonzero(others > 0) >= rules.beside_share * size)

    for i in cand.tolist():
        if beside_share_met(i, contact_count):
            suspects.append(i)
            continue
        hub = main_contact(i)
        if hub is not None:
            hubs.append(hub)
    # groups beside each suspect: its ads, joined when they share any identifier but it (and
    # but the hubs found so far: two ads that share only a site's phone share nothing). After
    # each pass the hubs found are no longer "other contacts": a network's only phone that sat
    # beside a site's footer phone is then the main contact of its ads again.
    found = {h[0] for h in hubs}
    remaining = suspects
    for _pass in range(6):
        new = _beside_hubs(n_rows, el_rows, el_ids, g_start, g_size, g_ids, is_contact, img,
                           contact_count, city_ids, boiler, rules, remaining, found, posted)
        if not new:
            break
        hubs.extend(new)
        found.update(h[0] for h in new)
        contact_count = count_contacts(found)
        still: list[int] = []
        for i in remaining:
            if int(g_ids[i]) in found:
                continue
            if beside_share_met(i, contact_count):
                still.append(i)
                continue
            hub = main_contact(i)
            if hub is not None:
                hubs.append(hub)
                found.add(hub[0])
        remaining = still
    return hubs


def _beside_hubs(n_rows: int, el_rows: np.ndarray, el_ids: np.ndarray, g_start: np.ndarray,
                 g_size: np.ndarray, g_ids: np.ndarray, is_contact: np.ndarray,
                 img: np.ndarray, contact_count: np.ndarray, city_ids: np.ndarray,
                 boiler: Callable[[np.ndarray, float], float], rules: HubRules,
                 suspects: list[int], found: set[int], posted: np.ndarray | None = None,
                 ) -> list[tuple[int, int, int | None, str]]:
    hubs: list[tuple[int, int, int | None, str]] = []
    if not suspects:
        return hubs
    sus = np.asarray(suspects, dtype=np.int64)
    sizes = g_size[sus]
    node_owner = np.repeat(np.arange(sus.size, dtype=np.int64), sizes)
    node_row = el_rows[np.repeat(g_start[sus], sizes) + _ranges(sizes)]
    by_row = np.lexsort((el_ids, el_rows))
    row_ids = el_ids[by_row]
    row_off = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(el_rows, minlength=n_rows), out=row_off[1:])
    lens = (row_off[1:] - row_off[:-1])[node_row]
    elem_node = np.repeat(np.arange(node_row.size, dtype=np.int64), lens)
    elem_id = row_ids[np.repeat(row_off[:-1][node_row], lens) + _ranges(lens)]
    own = g_ids[sus][node_owner[elem_node]]
    keep = elem_id != own
    if found:
        keep &= ~np.isin(elem_id, np.fromiter(found, np.int64, len(found)))
    elem_node, elem_id = elem_node[keep], elem_id[keep]
    n_vocab = int(el_ids.max()) + 1
    a, b = _star_pairs(node_owner[elem_node] * n_vocab + elem_id)
    a, b = elem_node[a], elem_node[b]
    labels = _components(node_row.size, a, b)
    others_n = contact_count[node_row] - is_contact[g_ids[sus][node_owner]].astype(np.int64)
    beside = others_n > 0
    pair = _unique(node_owner[beside] * node_row.size + labels[beside])
    groups = np.bincount(pair // node_row.size, minlength=sus.size)
    n_beside = np.bincount(node_owner[beside], minlength=sus.size)
    for j, i in enumerate(suspects):
        ident, size = int(g_ids[i]), int(g_size[i])
        ng, nb = int(groups[j]), int(n_beside[j])
        small = rules.image_groups if img[i] else rules.small_groups
        capped = size >= rules.max_ads
        if capped or ng >= rules.min_groups or (ng >= small and 2 * ng >= nb):
            rows = el_rows[g_start[i]:g_start[i] + size]
            cities = city_ids[rows]
            n_cities = np.unique(cities[cities >= 0]).size
            share = boiler(rows, 1.1)  # a sentence every ad carries (the intro) is not it
            words = (f"beside other contacts in {nb} of its {size} ads, which fall into {ng} "
                     f"groups sharing no other phone, email, handle or photo")
            words += _neighbours(rows, ident, row_ids, row_off, is_contact, found)
            words += f"; in {n_cities} cities"
            words += _rhythm(posted, rows)
            if share >= 0.5:
                words += f"; inside the same boilerplate sentence in {share:.0%} of them"
            if capped:
                words += f"; at or over the {rules.max_ads}-ad limit"
            what = (": a stock or shared picture, not one advertiser's" if img[i] else
                    ": a site's or service's contact, not an advertiser's")
            hubs.append((ident, size, ng, words + what))
    return hubs


def _neighbours(rows: np.ndarray, ident: int, row_ids: np.ndarray, row_off: np.ndarray,
                is_contact: np.ndarray, found: set[int]) -> str:
    """How many distinct contacts sit beside `ident` in `rows`, and how concentrated: a site's
    phone sits beside hundreds, none in many of its ads; a network's second phone beside the
    same few."""
    lens = row_off[rows + 1] - row_off[rows]
    ids = row_ids[np.repeat(row_off[rows], lens) + _ranges(lens)]
    ids = ids[(ids != ident) & is_contact[ids]]
    if found:
        ids = ids[~np.isin(ids, np.fromiter(found, np.int64, len(found)))]
    if ids.size == 0:
        return ""
    _u, counts = np.unique(ids, return_counts=True)
    return (f"; beside {counts.size} distinct other contacts, the commonest in "
            f"{int(counts.max())} of its ads")


def _rhythm(posted: np.ndarray | None, rows: np.ndarray) -> str:
    """Posting rhythm of a hub's ads: span in days and the busiest day."""
    if posted is None or posted.size == 0:
        return ""
    ts = posted[rows]
    ts = ts[~np.isnan(ts)]
    if ts.size < 2:
        return ""
    days = np.floor(ts / 86400.0).astype(np.int64)
    _d, per_day = np.unique(days, return_counts=True)
    span = int(days.max() - days.min()) + 1
    return f"; posted over {span} days, on {per_day.size} of them, up to {int(per_day.max())} a day"


def _unique(x: np.ndarray) -> np.ndarray:
    """np.unique by a sort (numpy 2.4's hash-based unique is far slower on int64 keys)."""
    if x.size == 0:
        return x
    s = np.sort(x)
    return s[np.concatenate([[True], s[1:] != s[:-1]])]


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """0..len-1 for each length, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    starts = np.cumsum(lengths) - lengths
    return np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, np.int64)
    if a.size == 0:
        return np.arange(n, dtype=np.int64)
    g = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    return connected_components(g, directed=False)[1].astype(np.int64)


def constrained_merge(labels: np.ndarray, has_contact: np.ndarray, wa: np.ndarray,
                      wb: np.ndarray, ws: np.ndarray,
                      corroborated: Callable[[int, int, float, int, int], bool],
                      one_sided: Callable[[int, int, float], bool] | None = None,
                      no_contact: Callable[[int, int, float], bool] | None = None,
                      group_size: np.ndarray | None = None,
                      ) -> tuple[UnionFind, list[tuple[int, int, float]], int]:
    """Join groups (labels) by wording edges, best first, refusing contradicted joins.

    has_contact: per group, whether it holds a contact of its own (hubs excluded). Two groups
    that both hold contacts never share one (they would be one group), so their contacts
    disagree: wording alone cannot join them; the edge needs `corroborated(a, b, score, na,
    nb)` (the two ads' own names and cities agree; na and nb: the ads the two groups hold as
    merged so far, so a test may refuse to bridge two groups that other edges have already
    grown). The merged group holds the contacts of both, so an ad
    without contacts cannot bridge two advertisers. Returns (union-find over labels, the
    edges used, edges refused). one_sided(a, b, score), when given, is asked for an edge
    between a group with contacts and one without (an ad with no contact of its own, or only
    a site's): an ad builder's text must not pull a contactless ad into a stranger's network.
    no_contact(a, b, score), when given, is asked for an edge between two contactless groups.
    """
    n_labels = int(labels.max()) + 1 if labels.size else 0
    uf = UnionFind(n_labels)
    contact = has_contact.astype(bool).tolist()
    # ads per group (default: the rows that carry each label); a caller that passes only
    # the rows on edges (the engine's merge) gives the groups' real sizes
    size = (np.asarray(group_size, dtype=np.int64).tolist() if group_size is not None
            else np.bincount(labels, minlength=n_labels).tolist() if labels.size else [])
    used: list[tuple[int, int, float]] = []
    refused = 0
    if wa.size == 0:
        return uf, used, refused
    order = np.lexsort((wb, wa, -ws))
    la, lb = labels[wa].tolist(), labels[wb].tolist()
    for i in order.tolist():
        ra, rb = uf.find(la[i]), uf.find(lb[i])
        if ra == rb:
            continue
        a, b = int(wa[i]), int(wb[i])
        if contact[ra] and contact[rb]:
            if not corroborated(a, b, float(ws[i]), size[ra], size[rb]):
                refused += 1
                continue
        elif contact[ra] or contact[rb]:
            if one_sided is not None and not one_sided(a, b, float(ws[i])):
                refused += 1
                continue
        elif no_contact is not None and not no_contact(a, b, float(ws[i])):
            refused += 1
            continue
        uf.union(ra, rb)
        root = uf.find(ra)
        contact[root] = contact[ra] or contact[rb]
        size[root] = size[ra] + size[rb]
        used.append((a, b, float(ws[i])))
    return uf, used, refused


def shingle_writers(shingles: np.ndarray, offsets: np.ndarray, labels: np.ndarray,
                    has_contact: np.ndarray, values: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Who writes each of the sorted `values` (shingles): (ads, ads with a contact, writers,
    the commonest writer's ads), one entry per value.

    labels: per row, its group under strong evidence (identifiers that are not hubs);
    has_contact: per group, whether it holds a contact of its own. *Writers* are the distinct
    groups with contacts among the shingle's ads: a network's own template has one that
    writes most of its ads (or the few its phone rotation left apart); an ad builder's text
    or a stock phrase has as many as the advertisers who picked it, none of them dominant.
    Values must be unique within each row (as FeatureTable keeps them). Vectorised: one pass
    over the occurrences in slices, one sort of the (value, group) pairs of `values` only.
    """
    z = np.zeros(values.size, np.int64)
    if shingles.size == 0 or values.size == 0:
        return z, z.copy(), z.copy(), z.copy()
    n_groups = int(labels.max()) + 1 if labels.size else 1
    ads_n = np.zeros(values.size, np.int64)
    keys: list[np.ndarray] = []
    step = 8_000_000
    for lo in range(0, shingles.size, step):  # slices bound the index temporaries
        part = shingles[lo:lo + step]
        pos = np.searchsorted(values, part)
        pos[pos == values.size] = 0
        hit = values[pos] == part
        pos = pos[hit]
        ads_n += np.bincount(pos, minlength=values.size)
        row = np.searchsorted(offsets, np.nonzero(hit)[0] + lo, side="right") - 1
        grp = labels[row]
        contact = has_contact[grp]
        keys.append(pos[contact].astype(np.int64) * n_groups + grp[contact])
    pair, per_pair = np.unique(np.concatenate(keys), return_counts=True)
    owner = pair // n_groups
    with_contact = np.bincount(owner, weights=per_pair, minlength=values.size).astype(np.int64)
    writers = np.bincount(owner, minlength=values.size).astype(np.int64)
    top = np.zeros(values.size, np.int64)
    np.maximum.at(top, owner, per_pair)
    return ads_n, with_contact, writers, top
