"""When may wording (or a photo seen in a few ads) join two ads? Pure functions over arrays.

Shared text is evidence of one author *or of one ad-posting service* (ad builders, stock
phrases); a stock photo is shared by strangers. So between two groups whose contacts disagree
(both hold contacts of their own, none shared), such an edge joins only where something else
agrees (docs/networks.md, "Wording that respects contradictions"):

- a **rare name** both ads carry (a name on fewer than `common_name_share` of the ads, and
  fewer than 20 ads, or any name when the corpus is small), or a common name **and** the city;
- or the text has at most `max_writers` writers (groups with contacts among the ads that text
  connects), both groups hold at most `small_group` ads (as merged so far, external edges
  included), and a name or the city agrees;
- a photo (score 2) needs a shared name and the city: strangers who picked one stock photo may
  share a common name or a popular city, rarely both.

An edge from a group with contacts to a contactless one (an ad with no contact of its own,
or only a site's), or between two contactless groups, needs a name or the city to agree: when
everything but the text disagrees, the text alone does not join (a copy cross-posted without
the phone keeps both).

External edges (same author, same wallet owner, same room: tracelight.link.external) are
evidence of one person, not of a shared service, and are built to survive phone rotation; they
reach these tests with their score lifted by `EXTERNAL_OFFSET` and meet `external_ok`: between
two groups with contacts of their own they join when both groups are small (at most
`small_group` ads), else only on a rare shared name or a shared name and the city; they never
need corroboration to join a contactless ad.

`Agreement` holds the per-row and per-group arrays; `corroborated` and `one_sided` are the two
tests `hubs.constrained_merge` calls, usable as they are by any engine that feeds it edges
(e.g. `functools.partial(corroborated, agreement)`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RULES = ("name+(city|template)", "names+city", "name", "name|city", "off")
EXTERNAL_OFFSET = 3.0  # external edges' scores are lifted by this in the merge: above any other


@dataclass(frozen=True)
class Agreement:
    rule: str
    cities: np.ndarray  # per row: city number, -1 none
    names: Sequence[tuple[str, ...]]  # per row
    common_names: frozenset[str]
    text_groups: np.ndarray  # per row: component under wording edges
    writers: np.ndarray  # per text group: groups with contacts writing it
    strong_labels: np.ndarray  # per row: group under strong evidence
    strong_size: np.ndarray  # per group: ads
    max_writers: int = 2
    small_group: int = 5
    template_threshold: float = 0.8
    contactless_check: bool = True
    # per row: too little distinctive wording to stand alone (fewer than min_shingles): its
    # wording edges need a shared name and the city, whoever they join
    short: np.ndarray | None = None
    # the wording graph (CSR: row -> sorted neighbour rows) and per strong group whether it
    # holds contacts: an edge whose ads share wording neighbours from `service_writers` other
    # advertisers is service text (an ad builder's), which corroborates nothing
    nbr_off: np.ndarray | None = None
    nbr: np.ndarray | None = None
    has_contact: np.ndarray | None = None
    service_writers: int = 0


def common_names(names: Sequence[tuple[str, ...]], share: float, min_ads: int = 20,
                 ) -> frozenset[str]:
    """Names (case-folded) on at least `share` of the rows and at least `min_ads` rows."""
    counts = Counter(n.casefold() for ns in names for n in set(ns))
    limit = max(min_ads, share * len(names))
    return frozenset(n for n, c in counts.items() if c >= limit)


def _agree(ag: Agreement, a: int, b: int) -> tuple[bool, bool, bool]:
    """(same city, a shared name, a shared rare name)."""
    same_city = bool(ag.cities[a] >= 0 and ag.cities[a] == ag.cities[b])
    shared = {n.casefold() for n in ag.names[a]} & {n.casefold() for n in ag.names[b]}
    return same_city, bool(shared), bool(shared - ag.common_names)


def service_text(ag: Agreement, a: int, b: int) -> bool:
    """Do ads a and b share text that other advertisers write too? Among their common
    wording neighbours, `service_writers` or more groups with contacts (other than a's and
    b's) sign with none of a's or b's names: an ad builder's text (or stock phrases) that
    unrelated advertisers picked, not one author's. A network's template has its own ads as
    common neighbours (one group, or several phones under the same names)."""
    if ag.service_writers <= 0 or ag.nbr_off is None or ag.nbr is None:
        return False
    na = ag.nbr[ag.nbr_off[a]:ag.nbr_off[a + 1]]
    nb = ag.nbr[ag.nbr_off[b]:ag.nbr_off[b + 1]]
    if min(na.size, nb.size) < ag.service_writers:
        return False
    common = np.intersect1d(na, nb, assume_unique=True)
    if common.size < ag.service_writers:
        return False
    mine = {x.casefold() for x in (*ag.names[a], *ag.names[b])}
    skip = {int(ag.strong_labels[a]), int(ag.strong_labels[b])}
    others: set[int] = set()
    for r in common.tolist():
        g = int(ag.strong_labels[r])
        if g in skip or g in others or (ag.has_contact is not None and not ag.has_contact[g]):
            continue
        if mine & {x.casefold() for x in ag.names[r]}:
            continue
        others.add(g)
        if len(others) >= ag.service_writers:
            return True
    return False


def _short(ag: Agreement, a: int, b: int) -> bool:
    """Is either ad's distinctive wording too short to stand on its own?"""
    return ag.short is not None and bool(ag.short[a] or ag.short[b])


def external_ok(ag: Agreement, a: int, b: int) -> bool:
    """May an external edge (author, wallet owner, room) join ads a and b whose groups both
    hold contacts of their own?"""
    if ag.rule == "off":
        return True
    if (ag.strong_size[ag.strong_labels[a]] <= ag.small_group
            and ag.strong_size[ag.strong_labels[b]] <= ag.small_group):
        return True
    same_city, same_name, rare_name = _agree(ag, a, b)
    return rare_name or (same_name and same_city)


def corroborated(ag: Agreement, a: int, b: int, score: float, na: int | None = None,
                 nb: int | None = None) -> bool:
    """May an edge (wording score <= 1, photo 2, external EXTERNAL_OFFSET + score) join ads a
    and b whose groups both hold contacts of their own? na, nb: the ads the two groups hold
    as merged so far (`hubs.constrained_merge` passes them; default: their identifier
    groups' sizes). The two-small-writers exception for wording asks the merged sizes: once
    author or owner edges have grown a group past `small_group` ads, wording between it and
    another needs what the rule asks of any other edge."""
    if ag.rule == "off":
        return True
    if score >= EXTERNAL_OFFSET:
        return external_ok(ag, a, b)
    same_city, same_name, rare_name = _agree(ag, a, b)
    if score > 1.0:
        return same_name and same_city
    sa = ag.strong_size[ag.strong_labels[a]] if na is None else na
    sb = ag.strong_size[ag.strong_labels[b]] if nb is None else nb
    if service_text(ag, a, b):
        return False  # an ad builder's text is the service's, whatever name and city agree
    if _short(ag, a, b):
        # a few shared shingles between advertisers whose contacts disagree: at 300,000 ads
        # strangers with one common name in one popular city share that much by chance
        return False
    if (ag.writers[ag.text_groups[a]] <= ag.max_writers
            and sa <= ag.small_group and sb <= ag.small_group
            and (same_city or same_name)):
        return True
    name = rare_name or (same_name and same_city)
    if ag.rule == "name+(city|template)":
        return same_name and (same_city or score >= ag.template_threshold)
    if ag.rule == "names+city":
        return same_city and same_name
    if ag.rule == "name":
        return name
    return same_city or same_name  # "name|city"


def one_sided(ag: Agreement, a: int, b: int, score: float) -> bool:
    """May an edge join a group with contacts and a contactless one?"""
    if ag.rule == "off" or not ag.contactless_check or score >= EXTERNAL_OFFSET:
        return True
    same_city, same_name, _rare = _agree(ag, a, b)
    if score <= 1.0 and _short(ag, a, b):
        return same_city and same_name
    if score <= 1.0 and (same_city or same_name) and service_text(ag, a, b):
        return False
    return same_city or same_name


def no_contact(ag: Agreement, a: int, b: int, score: float) -> bool:
    """May an edge join two contactless groups? Only where a name or the city agrees: two
    strangers' ads with no contact, written from one ad builder, disagree on everything else.
    A photo (score 2) shared by two contactless ads contradicts nothing: it joins."""
    if ag.rule == "off" or not ag.contactless_check or score > 1.0:
        return True
    same_city, same_name, _rare = _agree(ag, a, b)
    if _short(ag, a, b):
        return same_city and same_name
    if (same_city or same_name) and service_text(ag, a, b):
        return False
    return same_city or same_name
