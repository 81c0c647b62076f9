"""`link_batch`: ads in, networks out. Pure: no database, no CLI; callable from ingest or a
distributed engine.

Incremental linking keeps a `LinkState` (the per-ad features and the last assignment). Adding
ads featurises only the new ads; the global steps (document frequencies, hubs, LSH, components)
are re-run over the stored features, which takes seconds even at a million ads. Because every
global step works on the rows sorted by key, adding ads in any number of batches gives exactly
the networks a full rebuild gives.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from tracelight.link import minhash
from tracelight.link.cluster import (
    Network,
    _iso,
    assign_ids,
    components,
    group_rows,
    itinerary,
    risk_summary,
)
from tracelight.link.contradiction import (
    EXTERNAL_OFFSET,
    RULES,
    Agreement,
    common_names,
    corroborated,
    no_contact,
    one_sided,
)
from tracelight.link.evidence import (
    MEDIUM,
    Evidence,
    PairFinder,
    pdq_groups,
    strength_of,
    wording_kind,
    wording_pairs,
)
from tracelight.link.external import ExternalEdge, edge_rows
from tracelight.link.features import IMAGE_KIND, IMAGE_NEAR_KIND, FeatureTable, LinkAd, take_ragged
from tracelight.link.hubs import (
    Hub,
    HubRules,
    constrained_merge,
    drop_values,
    frequent,
    frequent_values,
    identifier_hubs,
    shingle_writers,
    value_counts,
)
from tracelight.link.text import CONTACT_KINDS

CONTRADICTION_RULES = RULES


@dataclass(frozen=True)
class LinkConfig:
    """Tuning knobs; defaults measured on the demo corpus (docs/networks.md)."""

    num_perm: int = 64  # MinHash bins
    bands: int = 32  # LSH bands x rows <= num_perm; 32 x 2 finds most pairs from Jaccard 0.2
    rows: int = 2
    wording_threshold: float = 0.45  # Jaccard of wording shingles to link (medium evidence)
    wording_prefilter: float = 0.3  # MinHash estimate below this is not checked exactly
    template_threshold: float = 0.8  # at or above: same template, only slots differ
    min_shingles: int = 6  # ads with less distinctive wording than this link by wording ...
    short_shingles: int = 3  # ... only from this many, and only where a name and the city agree
    shingle_hub_ads: int = 100  # a shingle/sentence in this many ads is boilerplate
    max_bucket: int = 64  # LSH buckets larger than this give a star, not all pairs
    hub_check_ads: int = 5  # identifiers in this many ads are tested for being hubs
    hub_beside_share: float = 0.5  # ... "beside other contacts" in this share of its ads
    hub_min_groups: int = 10  # ... whose ads fall into this many groups sharing nothing else
    hub_small_groups: int = 5  # ... or this many, when that is half its ads beside others
    hub_boilerplate_share: float = 0.8  # a main contact inside one boilerplate sentence
    hub_min_cities: int = 8  # ... in this share of its ads, over this many cities: a hub
    hub_max_ads: int = 2000  # an identifier in this many ads is a hub whatever else holds
    pdq_threshold: int = 31  # PDQ Hamming distance for near-duplicate images
    hub_image_ads: int = 2  # images are tested from this many ads (stock photos) ...
    hub_image_groups: int = 3  # ... and are hubs beside this many groups (half of the ads)
    # "names+city": wording joins two groups that both hold contacts of their own (which
    # then disagree) only when the two ads also share a name and a city; "off": never refuse.
    contradiction_rule: str = "names+city"
    wording_max_writers: int = 2  # ... unless at most this many groups with contacts write
    wording_small_group: int = 5  # ... the text and both groups hold at most this many ads
    # an ad with no contact of its own joins a group with contacts by wording (or a few-ad
    # photo) only when a name or the city agrees
    contactless_needs_name_or_city: bool = True
    # a photo in fewer ads than this (default: any photo) joins groups whose contacts disagree
    # only through the contradiction test (a stock photo reused by unrelated advertisers is
    # not a hub when each of them uses it often)
    photo_free_ads: int = 1 << 30
    # a name on this share of the ads (and 20 ads or more) is common: it corroborates wording
    # only together with the city
    common_name_share: float = 0.02
    # a shingle in shingle_hub_ads ads or more that one advertiser dominates (a big network's
    # own template) stays in the wording (False: every such shingle is boilerplate)
    network_wording: bool = True
    # a wording edge whose two ads both have wording neighbours from this many other
    # advertisers (groups with contacts) shares an ad builder's or stock text: it does not
    # corroborate a name or city (0: off)
    service_writers: int = 3

    def __post_init__(self) -> None:
        if self.contradiction_rule not in CONTRADICTION_RULES:
            raise ValueError(f"contradiction_rule must be one of {', '.join(CONTRADICTION_RULES)}"
                             f", not {self.contradiction_rule!r}")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def hub_rules(self) -> HubRules:
        return HubRules(check_ads=self.hub_check_ads, max_ads=self.hub_max_ads,
                        beside_share=self.hub_beside_share, min_groups=self.hub_min_groups,
                        small_groups=self.hub_small_groups,
                        boilerplate_share=self.hub_boilerplate_share,
                        min_cities=self.hub_min_cities, image_ads=self.hub_image_ads,
                        image_groups=self.hub_image_groups)


@dataclass
class LinkState:
    """What the next incremental run needs: features of every ad, and who was in which network."""

    table: FeatureTable = field(default_factory=FeatureTable)
    assignment: dict[str, str] = field(default_factory=dict)  # ad key -> network id

    def assignment_bytes(self) -> bytes:
        return json.dumps(self.assignment, separators=(",", ":")).encode()


@dataclass
class LinkResult:
    networks: list[Network]
    hubs: list[Hub]
    state: LinkState
    stats: dict[str, Any] = field(default_factory=dict)

    def network_of(self, key: str) -> str | None:
        return self.state.assignment.get(key)


def link_batch(ads: Iterable[LinkAd] = (), *, state: LinkState | None = None,
               removed: Iterable[str] = (), config: LinkConfig | None = None,
               previous: Mapping[str, str] | None = None, pdq_finder: PairFinder | None = None,
               progress: Callable[[int], None] | None = None,
               min_record_size: int = 1,
               external_edges: Sequence[ExternalEdge] = ()) -> LinkResult:
    """Link `ads` (plus the ads already in `state`) into networks.

    ads: new or changed ads (an ad whose key is already in `state` replaces it).
    removed: keys of ads to forget.
    previous: key -> network id to keep ids stable against (default: the state's assignment).
    min_record_size: build full records only for networks at least this big (all ads still
    get a network id in `state.assignment`).
    external_edges: medium evidence from outside the linker (tracelight.link.external).
    """
    cfg = config or LinkConfig()
    t0 = time.perf_counter()
    new = FeatureTable.from_ads(ads, progress=progress)
    old = state.table if state else FeatureTable()
    old = old.without(set(new.keys) | set(removed))
    table = FeatureTable.concat([old, new]).canonical()
    n_new = len(new)
    del new, old  # the canonical copy is all that is needed from here: free the rest
    t_feat = time.perf_counter() - t0
    prev = previous if previous is not None else (state.assignment if state else None)
    result = link_table(table, cfg, previous=prev, pdq_finder=pdq_finder,
                        min_record_size=min_record_size, external_edges=external_edges)
    result.stats["featurise_s"] = round(t_feat, 3)
    result.stats["new_ads"] = n_new
    return result


def identifier_runs(el_rows: np.ndarray, el_ids: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, identifier) elements sorted by identifier then row, and their runs: (rows, ids,
    each run's identifier, size and start). The local linker and the engine's both ask it."""
    order = np.lexsort((el_rows, el_ids))
    el_rows, el_ids = el_rows[order], el_ids[order]
    brk = np.ones(el_ids.size + 1, dtype=bool)
    brk[1:-1] = el_ids[1:] != el_ids[:-1]
    starts = np.nonzero(brk)[0]
    g_ids = el_ids[starts[:-1]] if el_ids.size else el_ids
    return el_rows, el_ids, g_ids, np.diff(starts), starts[:-1]


def _identifier_elements(table: FeatureTable, cfg: LinkConfig, pdq_finder: PairFinder | None,
                         ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """(row, identifier id) for every identifier occurrence, PDQ groups included."""
    n = len(table)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(table.ident_off))
    ids = table.ident_ids.astype(np.int64)
    vocab = list(table.ident_vocab)
    all_pdq = [p for ps in table.pdq for p in ps]
    if all_pdq:
        rep = pdq_groups(all_pdq, cfg.pdq_threshold, pdq_finder)
        group_id: dict[str, int] = {}
        extra_rows: list[int] = []
        extra_ids: list[int] = []
        for r, ps in enumerate(table.pdq):
            for gid in sorted({rep[p] for p in ps}):
                if gid not in group_id:
                    group_id[gid] = len(vocab)
                    vocab.append((IMAGE_NEAR_KIND, gid))
                extra_rows.append(r)
                extra_ids.append(group_id[gid])
        rows = np.concatenate([rows, np.asarray(extra_rows, np.int64)])
        ids = np.concatenate([ids, np.asarray(extra_ids, np.int64)])
    return rows, ids, vocab


def boilerplate_share(sentences: np.ndarray, se_off: np.ndarray, se_vals: np.ndarray,
                      se_counts: np.ndarray, n: int, rows: np.ndarray, lift: float) -> float:
    """Share of `rows` carrying one boilerplate sentence at least `lift` times as often as
    the corpus does (the most common such sentence); 0 when there is none.

    sentences/se_off: the rows' sentence hashes (ragged); se_vals/se_counts: the boilerplate
    sentences (sorted) and their counts over the corpus of `n` ads. Only the boilerplate
    sentences of `rows` matter, so an engine may pass just those.
    """
    if se_vals.size == 0 or rows.size == 0:
        return 0.0
    vals, _off = take_ragged(sentences, se_off, rows)
    vals = vals[np.isin(vals, se_vals)]
    if vals.size == 0:
        return 0.0
    u, counts, _f = value_counts(vals)
    share = counts / rows.size
    base = se_counts[np.searchsorted(se_vals, u)] / max(n, 1)
    lifted = share[share >= lift * base]
    return float(lifted.max()) if lifted.size else 0.0


def link_table(table: FeatureTable, cfg: LinkConfig, *, previous: Mapping[str, str] | None,
               pdq_finder: PairFinder | None = None, min_record_size: int = 1,
               external_edges: Sequence[ExternalEdge] = ()) -> LinkResult:
    """The global steps over a canonical (key-sorted) feature table.

    external_edges: medium edges (author, wallet owner, room) joined like wording edges,
    under the same contradiction test; edges naming unknown ads are ignored.
    """
    n = len(table)
    keys = table.keys
    stats: dict[str, Any] = {"ads": n}
    times: dict[str, float] = {}
    t = time.perf_counter()

    # -- wording: boilerplate out, MinHash, LSH, verified pairs
    city_no: dict[str, int] = {}
    city_ids = np.fromiter((-1 if c is None else city_no.setdefault(c.casefold(), len(city_no))
                            for c in table.cities), dtype=np.int64, count=n)
    hubs: list[Hub] = []
    se_vals, se_counts, se_first = frequent(table.sentences, cfg.shingle_hub_ads)
    se_rows = np.searchsorted(table.se_off, se_first, side="right") - 1
    for val, cnt, row in zip(se_vals.tolist(), se_counts.tolist(), se_rows.tolist(),
                             strict=True):
        hubs.append(Hub("sentence", f"#{val:016x}", int(cnt), None,
                        f"sentence in {cnt} ads: boilerplate, ignored when comparing wording",
                        keys[row]))
    banned = frequent_values(table.shingles, cfg.shingle_hub_ads)
    stats["boilerplate_shingles"] = int(banned.size)
    wa, wb, ws, distinct = _wording(table, cfg, banned, times, city_ids)
    stats["wording_pairs"] = int(wa.size)
    t = time.perf_counter()

    # -- identifiers: document frequency, hubs by what sits beside them
    el_rows, el_ids, vocab = _identifier_elements(table, cfg, pdq_finder)
    el_rows, el_ids, g_ids, g_size, g_start = identifier_runs(el_rows, el_ids)
    shared = g_size >= 2
    is_contact = np.fromiter((k in CONTACT_KINDS for k, _v in vocab), dtype=bool,
                             count=len(vocab))

    boiler = partial(boilerplate_share, table.sentences, table.se_off, se_vals, se_counts, n)
    is_image = np.fromiter((k in (IMAGE_KIND, IMAGE_NEAR_KIND) for k, _v in vocab), dtype=bool,
                           count=len(vocab))
    text_groups = components(n, wa, wb)
    hub_rows = identifier_hubs(n, el_rows, el_ids, g_start, g_size, g_ids, is_contact,
                               is_image, city_ids, boiler, cfg.hub_rules(),
                               text_groups=text_groups, posted=table.posted)
    hub_ids = {h[0] for h in hub_rows}
    for ident, count, n_groups, reason in hub_rows:
        i = int(np.searchsorted(g_ids, ident))
        kind, value = vocab[ident]
        hubs.append(Hub(kind, value, count, n_groups, reason, keys[int(el_rows[g_start[i]])]))
    stats["hubs"] = len(hubs)
    times["hubs_s"] = time.perf_counter() - t
    t = time.perf_counter()

    # -- strong evidence joins; wording joins what it does not contradict
    def stars(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        st, sz = g_start[mask], g_size[mask]
        a = np.repeat(el_rows[st], sz - 1)
        b = el_rows[np.repeat(st, sz - 1) + 1 + minhash._ranges(sz - 1)]
        return a, b

    not_hub = ~np.isin(g_ids, np.fromiter(hub_ids, np.int64, len(hub_ids)))
    # a photo that is not a hub joins two groups whose contacts disagree only as the
    # contradiction test allows (contradiction.corroborated: a shared name and the city);
    # a stock photo reused by strangers is not always a hub
    few_photo = shared & not_hub & is_image[g_ids] & (g_size < cfg.photo_free_ads)
    joined = shared & not_hub & ~few_photo
    ja, jb = stars(joined)
    strong_labels = components(n, ja, jb)
    own_contact = is_contact[el_ids] & np.repeat(not_hub, g_size)
    has_contact = np.zeros(int(strong_labels.max()) + 1 if n else 0, dtype=bool)
    has_contact[strong_labels[el_rows[own_contact]]] = True
    names, cities = table.names, city_ids

    # -- who writes the wording: a big network's own template is not boilerplate however many
    # of its ads carry it (the hub test above ran on the boilerplate of raw counts)
    if cfg.network_wording and n and banned.size:
        t2 = time.perf_counter()
        final_banned = network_wording(table, cfg, banned, strong_labels, has_contact)
        stats["network_wording_kept"] = int(banned.size - final_banned.size)
        if final_banned.size != banned.size:
            wa, wb, ws, distinct = _wording(table, cfg, final_banned, {}, city_ids)
            text_groups = components(n, wa, wb)
            stats["boilerplate_shingles"] = int(final_banned.size)
            stats["wording_pairs"] = int(wa.size)
        times["network_wording_s"] = time.perf_counter() - t2
    nbr_off, nbr = _adjacency(n, wa, wb)

    rule = cfg.contradiction_rule
    # how many advertisers (groups holding contacts of their own) write each text: a text
    # that two of them share may be one author's; an ad builder's is shared by many
    n_strong = int(strong_labels.max()) + 1 if n else 1
    with_contact = has_contact[strong_labels]
    pairs = minhash.unique_sorted(text_groups[with_contact] * n_strong
                                  + strong_labels[with_contact])
    writers = np.bincount(pairs // n_strong, minlength=int(text_groups.max()) + 1 if n else 0)
    strong_size = np.bincount(strong_labels, minlength=n_strong)

    agreement = Agreement(
        rule=rule, cities=cities, names=names,
        common_names=common_names(names, cfg.common_name_share), text_groups=text_groups,
        writers=writers, strong_labels=strong_labels, strong_size=strong_size,
        max_writers=cfg.wording_max_writers, small_group=cfg.wording_small_group,
        template_threshold=cfg.template_threshold,
        contactless_check=cfg.contactless_needs_name_or_city,
        short=distinct < cfg.min_shingles, nbr_off=nbr_off, nbr=nbr,
        has_contact=has_contact, service_writers=cfg.service_writers)

    pa, pb = stars(few_photo)
    photo_score = np.full(pa.size, 2.0, dtype=np.float32)  # ahead of any wording edge
    ea, eb, es, ext = (edge_rows(external_edges, {k: r for r, k in enumerate(keys)})
                       if external_edges else (wa[:0], wb[:0], np.zeros(0, np.float32), []))
    # external edges meet their own test (contradiction.external_ok): lifted above any other
    es = (es + np.float32(EXTERNAL_OFFSET)).astype(np.float32)
    ext_of = {(int(a), int(b), float(s)): e
              for a, b, s, e in zip(ea.tolist(), eb.tolist(), es.tolist(), ext, strict=True)}
    uf, used, refused = constrained_merge(
        strong_labels, has_contact, np.concatenate([pa, wa, ea]), np.concatenate([pb, wb, eb]),
        np.concatenate([photo_score, ws.astype(np.float32), es]),
        partial(corroborated, agreement), partial(one_sided, agreement),
        partial(no_contact, agreement))
    external_used = [(a, b, ext_of[(a, b, s)]) for a, b, s in used if (a, b, s) in ext_of]
    medium_edges = [e for e in used if e[2] <= 1.0 and e not in ext_of]
    stats["wording_refused"] = refused
    stats["external_edges"] = len(ext)
    stats["external_used"] = len(external_used)
    roots = np.array([uf.find(x) for x in range(len(uf.parent))], dtype=np.int64)
    final = roots[strong_labels] if n else strong_labels
    if few_photo.any():  # list a few-ad photo as evidence where it did join its ads
        lab = final[el_rows]
        lo = np.minimum.reduceat(lab, g_start) if lab.size else lab
        hi = np.maximum.reduceat(lab, g_start) if lab.size else lab
        joined = joined | (few_photo & (lo == hi))
    groups = group_rows(final)
    group_of_row = np.empty(n, dtype=np.int64)
    for gi, rows in enumerate(groups):
        group_of_row[rows] = gi
    member_keys = [[keys[r] for r in rows.tolist()] for rows in groups]
    ids = assign_ids(member_keys, previous)
    assignment = {k: ids[gi] for gi, ks in enumerate(member_keys) for k in ks}
    times["components_s"] = time.perf_counter() - t
    t = time.perf_counter()

    networks = _records(table, cfg, groups, ids, group_of_row, g_ids, g_start, g_size, el_rows,
                        joined, vocab, hub_ids, medium_edges, min_record_size,
                        external_used)
    times["records_s"] = time.perf_counter() - t
    stats["networks"] = sum(1 for g in groups if g.size >= 2)
    stats["ads_in_networks"] = int(sum(g.size for g in groups if g.size >= 2))
    stats.update({k: round(v, 3) for k, v in times.items()})
    return LinkResult(networks=networks, hubs=hubs,
                      state=LinkState(table=table, assignment=assignment), stats=stats)


def _wording(table: FeatureTable, cfg: LinkConfig, banned: np.ndarray,
             times: dict[str, float], city_ids: np.ndarray,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Verified wording pairs (a, b, exact Jaccard) with the `banned` shingles left out, and
    each row's count of distinctive shingles."""
    t = time.perf_counter()
    sh, sh_off = drop_values(table.shingles, table.sh_off, banned)
    distinct = np.diff(sh_off)
    usable = distinct >= min(cfg.min_shingles, cfg.short_shingles or cfg.min_shingles)
    sig = minhash.signatures(sh, sh_off, cfg.num_perm)
    times["minhash_s"] = times.get("minhash_s", 0.0) + time.perf_counter() - t
    t = time.perf_counter()
    wa, wb, ws = wording_pairs(sig, usable, sh, sh_off, bands=cfg.bands, rows=cfg.rows,
                               threshold=cfg.wording_threshold,
                               prefilter=cfg.wording_prefilter, max_bucket=cfg.max_bucket,
                               short=usable & (distinct < cfg.min_shingles), city=city_ids)
    times["lsh_s"] = times.get("lsh_s", 0.0) + time.perf_counter() - t
    return wa, wb, ws, distinct


def network_wording(table: FeatureTable, cfg: LinkConfig, banned: np.ndarray,
                    strong_labels: np.ndarray, has_contact: np.ndarray) -> np.ndarray:
    """The boilerplate shingles (sorted) once the advertisers are known (strong groups).

    A shingle in `shingle_hub_ads` ads or more stays in the wording when one writer dominates
    it: most of its ads carry a contact and one group holds most of those (a big network's
    own template over its many ads, posted under rotating phones), and it is in fewer than
    `hub_max_ads` ads. Others (a site's text, stock phrases) stay boilerplate.
    """
    ads_n, cont_n, _writers, top = shingle_writers(
        table.shingles, table.sh_off, strong_labels, has_contact, banned)
    dominated = (2 * cont_n >= ads_n) & (2 * top >= cont_n) & (cont_n > 0)
    own = banned[(ads_n < cfg.hub_max_ads) & dominated]
    return np.setdiff1d(banned, own).astype(banned.dtype)


def _adjacency(n: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR neighbour lists (sorted) of the undirected wording graph."""
    src = np.concatenate([a, b]).astype(np.int64)
    dst = np.concatenate([b, a]).astype(np.int64)
    order = np.lexsort((dst, src))
    off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=off[1:])
    return off, dst[order]


def _records(table: FeatureTable, cfg: LinkConfig, groups: list[np.ndarray], ids: list[str],
             group_of_row: np.ndarray, g_ids: np.ndarray, g_start: np.ndarray,
             g_size: np.ndarray, el_rows: np.ndarray, joined: np.ndarray,
             vocab: list[tuple[str, str]], hub_ids: set[int],
             medium_edges: list[tuple[int, int, float]], min_size: int,
             external: Sequence[tuple[int, int, ExternalEdge]] = ()) -> list[Network]:
    keys = table.keys
    evidence: dict[int, list[Evidence]] = {}
    for i in np.nonzero(joined)[0].tolist():
        rows = el_rows[g_start[i]:g_start[i] + g_size[i]]
        gi = int(group_of_row[rows[0]])
        if groups[gi].size < min_size:
            continue
        kind, value = vocab[int(g_ids[i])]
        evidence.setdefault(gi, []).append(
            Evidence(kind, value, strength_of(kind), tuple(keys[r] for r in rows.tolist())))
    for a, b, s in medium_edges:
        gi = int(group_of_row[a])
        if groups[gi].size < min_size:
            continue
        kind = wording_kind(s, cfg.template_threshold)
        evidence.setdefault(gi, []).append(
            Evidence(kind, f"estimated {s:.0%} of wording shingles shared", MEDIUM,
                     (keys[a], keys[b]), score=s))
    for a, b, e in external:
        gi = int(group_of_row[a])
        if groups[gi].size >= min_size:
            evidence.setdefault(gi, []).append(
                Evidence(e.kind, e.detail, MEDIUM, (keys[a], keys[b]),
                         score=min(max(float(e.score), 0.0), 1.0)))
    hub_rows: dict[int, list[int]] = {}
    for i in np.nonzero(np.isin(g_ids, list(hub_ids)))[0].tolist() if hub_ids else []:
        for r in el_rows[g_start[i]:g_start[i] + g_size[i]].tolist():
            hub_rows.setdefault(r, []).append(int(g_ids[i]))
    out: list[Network] = []
    for gi, rows in enumerate(groups):
        if rows.size < min_size:
            continue
        rl = rows.tolist()
        posted = table.posted[rows]
        order = sorted(range(len(rl)), key=lambda j: (posted[j] != posted[j], posted[j],
                                                      keys[rl[j]]))
        rl = [rl[j] for j in order]
        idents: dict[str, set[str]] = {}
        excluded: dict[int, int] = {}
        for r in rl:
            for kind, value in table.idents_of(r):
                idents.setdefault(kind, set()).add(value)
            for h in hub_rows.get(r, ()):
                excluded[h] = excluded.get(h, 0) + 1
        names = sorted({nm for r in rl for nm in table.names[r]})
        valid = posted[~np.isnan(posted)]
        out.append(Network(
            network_id=ids[gi], ad_ids=[keys[r] for r in rl],
            phones=sorted(idents.pop("phone", set())), emails=sorted(idents.pop("email", set())),
            names=names,
            locations=itinerary([table.cities[r] for r in rl], table.posted[rl].tolist()),
            first_seen=_iso(float(valid.min())) if valid.size else None,
            last_seen=_iso(float(valid.max())) if valid.size else None,
            evidence=sorted(evidence.get(gi, []),
                            key=lambda e: (e.strength != "strong", e.kind, e.value)),
            identifiers={k: sorted(v) for k, v in sorted(idents.items())},
            hubs_excluded=[{"kind": vocab[h][0], "value": vocab[h][1], "ads": c}
                           for h, c in sorted(excluded.items(), key=lambda x: vocab[x[0]])],
            risk=risk_summary(table.risk[rows])))
    return out
