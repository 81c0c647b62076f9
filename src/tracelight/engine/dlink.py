"""Linking on Spark: the link core's global steps as distributed group-bys and joins.

The networks are byte-identical to `link.pipeline.link_table` on the same ads (tested:
tests/test_engine_link.py), because every decision is the core's own function, called on the
engine with the inputs it would see locally:

distributed (Spark RDDs / DataFrames over blocks of rows in linker-key order):
  - boilerplate: sentence and shingle counts over all ads (group-by value), the frequent ones
    (`LinkConfig.shingle_hub_ads`) collected;
  - MinHash signatures per block (`minhash.signatures`), LSH bucket keys per band
    (`minhash.band_keys`) grouped by (band, key); each bucket gives its pairs
    (`minhash.group_pairs`: all pairs, or a star past `max_bucket`); pairs deduplicated, joined
    to both ads' signatures and shingles and verified (`evidence.verify_pairs`);
  - identifier joins: (identifier, row) grouped by identifier, global counts per identifier;
  - connected components (wording groups, strong groups) by iterative min-label propagation
    with pointer jumping on DataFrames (no GraphFrames: it is a JVM package fetched at run
    time);
  - per-group and per-label counts (group sizes, groups holding contacts, writers per text,
    common names), and the per-edge contradiction tests (`contradiction.corroborated`,
    `one_sided`, `no_contact` on an `Agreement` of the edge's two ads);
  - the network records (`pipeline._records` per partition of whole networks) and the
    linker state's feature parts.

on the driver, sequential, over much smaller inputs:
  - near-duplicate image groups (`evidence.pdq_groups` over the distinct PDQ hashes);
  - the hub test (`hubs.identifier_hubs`): it runs passes in which hubs found change what
    "beside other contacts" means for the rest, so it is one pass over the sub-problem of
    the ads that carry an identifier in `hub_check_ads` ads or more (images: `hub_image_ads`)
    and every identifier of those ads, which is all the test ever reads;
  - the constrained merge (`hubs.constrained_merge`): edges are taken best first and a merge
    changes which later edges meet contacts on both sides, so it is one union-find pass over
    the medium edges between different strong groups, with each edge's three contradiction
    answers already computed on the engine;
  - id collisions of network ids (a 48-bit hash: practically never).

Order-dependence the local linker has and this reproduces: the hub list is in identifier
vocabulary order (first appearance in shard order, as `FeatureTable.concat` numbers them),
then near-duplicate image groups by first row; rows are numbered in linker-key order
(`FeatureTable.canonical`); the merge takes edges by (score desc, row a, row b).
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from tracelight.link import minhash
from tracelight.link.cluster import derived_id
from tracelight.link.contradiction import Agreement, corroborated, no_contact, one_sided
from tracelight.link.evidence import pdq_groups, verify_pairs
from tracelight.link.features import IMAGE_KIND, IMAGE_NEAR_KIND, FeatureTable
from tracelight.link.hubs import Hub, constrained_merge, drop_values, identifier_hubs, value_counts
from tracelight.link.pipeline import LinkConfig, _records, boilerplate_share, identifier_runs
from tracelight.link.text import CONTACT_KINDS

# a row as it travels: (key, posted, risk, city, names, pdq, idents, shingles, sentences)
Row = tuple[str, float, float, "str | None", tuple[str, ...], tuple[str, ...],
            list[tuple[str, str]], np.ndarray, np.ndarray]
IKey = tuple[str, str]  # (kind, value) of an identifier or an image_near group


def table_rows(table: FeatureTable) -> Iterator[Row]:
    for i in range(len(table)):
        yield (table.keys[i], float(table.posted[i]), float(table.risk[i]), table.cities[i],
               tuple(table.names[i]), tuple(table.pdq[i]), table.idents_of(i),
               table.shingles[table.sh_off[i]:table.sh_off[i + 1]].copy(),
               table.sentences[table.se_off[i]:table.se_off[i + 1]].copy())


def table_from_rows(rows: Sequence[Row]) -> FeatureTable:
    vocab: dict[tuple[str, str], int] = {}
    ids: list[int] = []
    offs = [0]
    for r in rows:
        for ident in r[6]:
            ids.append(vocab.setdefault((ident[0], ident[1]), len(vocab)))
        offs.append(len(ids))

    def ragged(col: int, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        parts = [np.asarray(r[col], dtype=dtype) for r in rows]
        off = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([p.size for p in parts], out=off[1:])
        return (np.concatenate(parts) if parts else np.zeros(0, dtype)), off

    sh, sh_off = ragged(7, np.uint32)
    se, se_off = ragged(8, np.uint64)
    return FeatureTable(
        keys=[r[0] for r in rows], posted=np.array([r[1] for r in rows], np.float64),
        risk=np.array([r[2] for r in rows], np.float64), cities=[r[3] for r in rows],
        names=[tuple(r[4]) for r in rows], pdq=[tuple(r[5]) for r in rows],
        ident_vocab=list(vocab), ident_ids=np.asarray(ids, dtype=np.int32),
        ident_off=np.asarray(offs, dtype=np.int64), shingles=sh, sh_off=sh_off,
        sentences=se, se_off=se_off)


@dataclass(frozen=True)
class ShardFeatures:
    """One shard's feature part, the linker key of each of its rows, and which rows are first
    occurrences (a repeated (source, id) is left out, as `engine.job.link_results` does)."""

    index: int
    path: str
    keys: list[str]
    first: list[bool]


@dataclass
class EngineLinkResult:
    hubs: list[Hub]
    stats: dict[str, Any] = field(default_factory=dict)
    networks: int = 0
    ads_in_networks: int = 0


# ---- worker-side functions (module level: Spark pickles them by reference) ---------------

def _read_table(path: str) -> FeatureTable:
    import fsspec

    with fsspec.open(path, "rb") as fh:
        table = FeatureTable.from_bytes(fh.read())
    if table is None:
        raise ValueError(f"{path}: features of another version")
    return table


def _shard_vocab(item: ShardFeatures) -> Iterator[tuple[IKey, tuple[Any, ...]]]:
    for j, ident in enumerate(_read_table(item.path).ident_vocab):
        yield (ident[0], ident[1]), (0, item.index, j, "")


def _shard_rows(item: ShardFeatures) -> Iterator[tuple[str, Row]]:
    table = _read_table(item.path)
    if len(table) != len(item.keys):
        raise ValueError(f"{item.path}: the features of this shard do not match its ads")
    for i, row in enumerate(table_rows(table)):
        if item.first[i]:
            yield item.keys[i], (item.keys[i], *row[1:])


def _to_block(items: Iterable[tuple[tuple[str, Row], int]]) -> Iterator[tuple[int, FeatureTable]]:
    got = list(items)
    if got:
        yield got[0][1], table_from_rows([row for (_k, row), _r in got])


def _sentence_counts(block: tuple[int, FeatureTable]) -> Iterator[tuple[int, tuple[int, int]]]:
    start, t = block
    vals, counts, first = value_counts(t.sentences)
    rows = np.searchsorted(t.se_off, first, side="right") - 1 + start
    for v, c, r in zip(vals.tolist(), counts.tolist(), rows.tolist(), strict=True):
        yield int(v), (int(c), int(r))


def _value_counts(block: tuple[int, FeatureTable],
                  ) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """((0, sentence), (count, first row)) and ((1, shingle), (count, 0)) of one block."""
    for v, cr in _sentence_counts(block):
        yield (0, v), cr
    vals, counts, _f = value_counts(block[1].shingles)
    for v, c in zip(vals.tolist(), counts.tolist(), strict=True):
        yield (1, int(v)), (int(c), 0)


def _sum_min(x: tuple[int, int], y: tuple[int, int]) -> tuple[int, int]:
    return x[0] + y[0], min(x[1], y[1])


def _signatures(block: tuple[int, FeatureTable], banned: np.ndarray, cfg: LinkConfig,
                ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    start, t = block
    sh, sh_off = drop_values(t.shingles, t.sh_off, banned)
    usable = np.diff(sh_off) >= cfg.min_shingles
    return start, minhash.signatures(sh, sh_off, cfg.num_perm), usable, sh, sh_off


def _band_items(w: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray], cfg: LinkConfig,
                ) -> Iterator[tuple[int, int, int]]:
    start, sig, usable, _sh, _off = w
    nodes = np.nonzero(usable)[0].astype(np.int64)
    rows = (nodes + start).tolist()
    for band in range(cfg.bands):
        keys = minhash.band_keys(sig[nodes], band, cfg.rows).view(np.int64).tolist()
        for k, r in zip(keys, rows, strict=True):
            yield band, k, r


def _bucket_pairs(rows: Sequence[int], max_bucket: int) -> Iterator[tuple[int, int]]:
    members = np.array(sorted(rows), dtype=np.int64)
    a, b = minhash.group_pairs(members, np.zeros(1, np.int64),
                               np.array([members.size], np.int64), max_bucket)
    yield from zip(a.tolist(), b.tolist(), strict=True)


def _row_wording(w: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                 ) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    start, sig, usable, sh, off = w
    for i in np.nonzero(usable)[0].tolist():
        yield start + i, (sig[i].copy(), sh[off[i]:off[i + 1]].copy())


def _verify(items: Iterable[Any], cfg: LinkConfig) -> Iterator[tuple[int, int, float]]:
    got = list(items)  # (b, ((a, sig_a, sh_a), (sig_b, sh_b)))
    if not got:
        return
    k = len(got)
    ra = [g[1][0][0] for g in got]
    rb = [g[0] for g in got]
    sig = np.vstack([g[1][0][1] for g in got] + [g[1][1][0] for g in got])
    parts = [g[1][0][2] for g in got] + [g[1][1][1] for g in got]
    off = np.zeros(2 * k + 1, dtype=np.int64)
    np.cumsum([p.size for p in parts], out=off[1:])
    sh = np.concatenate(parts).astype(np.uint32)
    a, _b, s = verify_pairs(sig, sh, off, np.arange(k, dtype=np.int64),
                           np.arange(k, 2 * k, dtype=np.int64),
                           threshold=cfg.wording_threshold, prefilter=cfg.wording_prefilter)
    for i, score in zip(a.tolist(), s.tolist(), strict=True):
        yield ra[i], rb[i], float(score)


def _elements(block: tuple[int, FeatureTable], rep: dict[str, str],
              ) -> Iterator[tuple[IKey, int]]:
    start, t = block
    for i in range(len(t)):
        r = start + i
        for kind, value in t.idents_of(i):
            yield (kind, value), r
        for gid in sorted({rep[p] for p in t.pdq[i]}):
            yield (IMAGE_NEAR_KIND, gid), r


def _attrs(x: tuple[int, tuple[Any, ...]]) -> tuple[int, tuple[Any, ...]]:
    """row -> (strong label, text group, city, names, own contact) from one multi-way
    cogroup of the row's base data, strong label, text group and own-contact mark."""
    row, (base, strong, text, own) = x
    city, names = next(iter(base))
    sl = next(iter(strong), row)
    tg = next(iter(text), row)
    return row, (sl, tg, city, names, bool(next(iter(own), False)))


def _is_image(kind: str) -> bool:
    return kind in (IMAGE_KIND, IMAGE_NEAR_KIND)


def _city_cf(city: str | None) -> str | None:
    return None if city is None else city.casefold()


def _decide(items: Iterable[Any], cfg: LinkConfig, common: frozenset[str],
            ) -> Iterator[tuple[Any, ...]]:
    """The three contradiction answers of each medium edge, by the core's own tests."""
    got = list(items)
    if not got:
        return
    k = len(got)
    # (a, b, s, la, lb, city_a, names_a, city_b, names_b, writers_a, size_a, size_b, has_a,
    #  has_b)
    city_no: dict[str, int] = {}

    def cid(c: str | None) -> int:
        return -1 if c is None else city_no.setdefault(c, len(city_no))

    cities = np.array([cid(g[5]) for g in got] + [cid(g[7]) for g in got], dtype=np.int64)
    names = [tuple(g[6]) for g in got] + [tuple(g[8]) for g in got]
    writers = np.array([g[9] for g in got] * 2, dtype=np.int64)
    sizes = np.array([g[10] for g in got] + [g[11] for g in got], dtype=np.int64)
    idx = np.arange(2 * k, dtype=np.int64)
    ag = Agreement(rule=cfg.contradiction_rule, cities=cities, names=names,
                   common_names=common, text_groups=idx, writers=writers, strong_labels=idx,
                   strong_size=sizes, max_writers=cfg.wording_max_writers,
                   small_group=cfg.wording_small_group,
                   template_threshold=cfg.template_threshold,
                   contactless_check=cfg.contactless_needs_name_or_city)
    for i, g in enumerate(got):
        s = float(g[2])
        # corroborated() asks the groups' sizes as merged so far (known only in the merge):
        # its answer when both are small and when one is not
        big = cfg.wording_small_group + 1
        yield (g[0], g[1], s, g[3], g[4], bool(g[12]), bool(g[13]),
               corroborated(ag, i, k + i, s, 0, 0), one_sided(ag, i, k + i, s),
               no_contact(ag, i, k + i, s), corroborated(ag, i, k + i, s, big, big),
               int(g[10]), int(g[11]))


def _record_part(items: Iterable[Any], cfg: LinkConfig, ids: dict[int, str],
                 medium: list[tuple[int, int, float]]) -> Iterator[tuple[Any, ...]]:
    """Network records of whole networks (one partition), by the core's `_records`."""
    got = sorted(items, key=lambda x: x[1][0])  # (final label, (row, row data, marks))
    if not got:
        return
    rows = [g[1][0] for g in got]
    local = {r: i for i, r in enumerate(rows)}
    table = table_from_rows([g[1][1] for g in got])
    labels = np.array([g[0] for g in got], dtype=np.int64)
    order = sorted(set(labels.tolist()))
    group_no = {fl: gi for gi, fl in enumerate(order)}
    group_of_row = np.array([group_no[int(x)] for x in labels.tolist()], dtype=np.int64)
    members: list[list[int]] = [[] for _ in order]
    for i, gi in enumerate(group_of_row.tolist()):
        members[gi].append(i)
    groups = [np.array(m, dtype=np.int64) for m in members]
    vocab: list[tuple[str, str]] = []
    vno: dict[tuple[str, str], int] = {}
    joined_of: dict[int, bool] = {}
    hub_ids: set[int] = set()
    el_r: list[int] = []
    el_i: list[int] = []
    for i, g in enumerate(got):
        for ikey, joined, hub in g[1][2]:
            ikey = (ikey[0], ikey[1])
            if ikey not in vno:
                vno[ikey] = len(vocab)
                vocab.append(ikey)
            j = vno[ikey]
            joined_of[j] = bool(joined)
            if hub:
                hub_ids.add(j)
            el_r.append(i)
            el_i.append(j)
    el_rows, _el_ids, g_ids, g_size, g_start = identifier_runs(
        np.asarray(el_r, dtype=np.int64), np.asarray(el_i, dtype=np.int64))
    joined = np.array([joined_of[int(j)] for j in g_ids.tolist()], dtype=bool)
    med = [(local[a], local[b], s) for a, b, s in medium if a in local]
    net_ids = [ids.get(fl) or derived_id(table.keys[members[gi][0]])
               for gi, fl in enumerate(order)]
    nets = _records(table, cfg, groups, net_ids, group_of_row, g_ids,
                    g_start, g_size, el_rows, joined, vocab, hub_ids, med, 1, ())
    for fl, gi, net in zip(order, range(len(order)), nets, strict=True):
        yield (fl, net.network_id, net.size, net.ad_ids,
               json.dumps(net.to_dict(), ensure_ascii=False, separators=(",", ":")),
               [table.keys[i] for i in members[gi]])


def _write_feature_part(out: str, index: int, blocks: Iterable[tuple[int, FeatureTable]],
                        ) -> Iterator[tuple[str, int]]:
    import fsspec

    for start, table in blocks:
        path = f"{out.rstrip('/')}/link_state/features/part-{index:05d}-{start:012d}.npz"
        with fsspec.open(path, "wb") as fh:
            fh.write(table.to_bytes())
        yield path, len(table)


# ---- connected components on DataFrames ----------------------------------------------------

def _local_stars(edges: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The components of one partition's edges, as stars from each one's smallest node: the
    same components, with a diameter of two, so the global rounds converge in one or two."""
    got = list(edges)
    if not got:
        return
    a = np.array([e[0] for e in got], dtype=np.int64)
    b = np.array([e[1] for e in got], dtype=np.int64)
    nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    from tracelight.link.cluster import components as local_components

    lab = local_components(nodes.size, inv[:a.size], inv[a.size:])
    head = np.full(int(lab.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(head, lab, nodes)
    for node, h in zip(nodes.tolist(), head[lab].tolist(), strict=True):
        if node != h:
            yield h, node


def components(spark: Any, edges: Any, max_rounds: int = 200) -> Any:
    """(node, label) for every node of the undirected `edges` RDD of (a, b): its component's
    smallest node.

    Each partition first joins its own edges (`link.cluster.components`) and hands on stars
    from each local component's smallest node; then rounds of min-label propagation with
    pointer jumping on DataFrames: a node takes the smallest label among its neighbours, then
    the label of that label. Labels only fall and are always a node of the component, so the
    fixed point is the component's minimum."""
    from pyspark.sql import functions as F

    df = spark.createDataFrame(edges.mapPartitions(_local_stars), "a long, b long")
    e = df.union(df.select(F.col("b").alias("a"), F.col("a").alias("b"))).cache()
    lab = (e.groupBy("a").agg(F.min("b").alias("m"))
           .select(F.col("a").alias("node"), F.least("a", "m").alias("label")).cache())
    for _round in range(max_rounds):
        nb = (e.join(lab.withColumnRenamed("node", "b"), "b")
              .groupBy("a").agg(F.min("label").alias("m")))
        l2 = (lab.join(nb.withColumnRenamed("a", "node"), "node")
              .select("node", F.col("label").alias("old"),
                      F.least("label", "m").alias("label")))
        l3 = (l2.join(l2.select(F.col("node").alias("label"), F.col("label").alias("up")),
                      "label")
              .select("node", "old", F.least("label", "up").alias("label"))).cache()
        changed = l3.where(F.col("label") != F.col("old")).limit(1).count()
        lab.unpersist()
        lab = l3.select("node", "label")
        if changed == 0:
            break
    else:  # pragma: no cover - needs a path longer than 2**200
        raise RuntimeError("connected components did not converge")
    e.unpersist()
    return lab.rdd.map(lambda r: (int(r[0]), int(r[1])))


# ---- the driver's plan ----------------------------------------------------------------------

def link_on_engine(spark: Any, shards: Sequence[ShardFeatures], out: str,
                   cfg: LinkConfig | None = None,
                   write_networks: Callable[[Iterator[tuple[Any, ...]]], None] | None = None,
                   say: Callable[[str], None] = lambda m: None) -> EngineLinkResult:
    """Link the ads of `shards` on Spark; stream the network rows (network_id, size, ad_ids,
    record JSON, member keys in key order), in network order, to `write_networks`; write the
    linker state's feature parts under OUT/link_state/features/."""
    cfg = cfg or LinkConfig()
    sc = spark.sparkContext
    if spark.conf.get("spark.sql.shuffle.partitions") == "200":  # the default: far too many
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2, 2 * sc.defaultParallelism)))
    parts = max(1, min(sc.defaultParallelism * 2, sum(len(s.keys) for s in shards) // 200 + 1))
    times: dict[str, float] = {}
    stats: dict[str, Any] = {}
    t = time.perf_counter()

    src = sc.parallelize(list(shards), max(1, len(shards)))
    rows = src.flatMap(_shard_rows).sortByKey(numPartitions=parts).zipWithIndex()
    blocks = rows.mapPartitions(_to_block, preservesPartitioning=True).cache()
    feature_parts = blocks.mapPartitionsWithIndex(partial(_feature_parts, out)).collect()
    n = sum(size for _p, size in feature_parts)
    stats["ads"] = n
    stats["feature_parts"] = len(feature_parts)
    times["rows_s"] = time.perf_counter() - t
    if n == 0:
        if write_networks:
            write_networks(iter(()))
        return EngineLinkResult(hubs=[], stats=stats)

    def key_of(wanted: set[int]) -> dict[int, str]:
        w = sc.broadcast(wanted)
        return dict(blocks.flatMap(lambda b: [(b[0] + i, k) for i, k in enumerate(b[1].keys)
                                              if b[0] + i in w.value]).collect())

    # -- boilerplate: sentence and shingle counts over every ad
    t = time.perf_counter()
    hub_min = cfg.shingle_hub_ads
    counted = (blocks.flatMap(_value_counts).reduceByKey(_sum_min)
               .filter(lambda kv: kv[1][0] >= hub_min).collect())
    se = sorted((v, cr) for (what, v), cr in counted if what == 0)
    se_vals = np.array([v for v, _c in se], dtype=np.uint64)
    se_counts = np.array([c for _v, (c, _r) in se], dtype=np.int64)
    first_keys = key_of({r for _v, (_c, r) in se})
    hubs: list[Hub] = [
        Hub("sentence", f"#{val:016x}", int(cnt), None,
            f"sentence in {cnt} ads: boilerplate, ignored when comparing wording",
            first_keys[row]) for val, (cnt, row) in se]
    banned = np.array(sorted(v for (what, v), _cr in counted if what == 1), dtype=np.uint32)
    stats["boilerplate_shingles"] = int(banned.size)
    b_banned = sc.broadcast(banned)
    wb = blocks.map(lambda b: _signatures(b, b_banned.value, cfg)).cache()
    times["minhash_s"] = time.perf_counter() - t

    # -- LSH: (band, bucket key) group-by, pairs per bucket, verified against both ads
    t = time.perf_counter()
    from pyspark.sql import functions as F

    band_df = spark.createDataFrame(wb.flatMap(lambda w: _band_items(w, cfg)),
                                    "band int, key long, row long")
    buckets = (band_df.groupBy("band", "key").agg(F.collect_list("row").alias("rows"))
               .where(F.size("rows") >= 2))
    max_bucket = cfg.max_bucket
    cand = spark.createDataFrame(
        buckets.rdd.flatMap(lambda r: _bucket_pairs(r["rows"], max_bucket)),
        "a long, b long").distinct()
    row_w = wb.flatMap(_row_wording)
    wording = (cand.rdd.map(lambda r: (int(r[0]), int(r[1]))).join(row_w)
               .map(lambda x: (x[1][0], (x[0], x[1][1][0], x[1][1][1]))).join(row_w)
               .mapPartitions(lambda it: _verify(it, cfg)).cache())
    stats["wording_pairs"] = int(wording.count())
    times["lsh_s"] = time.perf_counter() - t

    # -- identifiers: group-by identifier value, global counts, hubs
    t = time.perf_counter()
    pdqs = sorted(set().union(*blocks.map(lambda b: {p for ps in b[1].pdq for p in ps})
                              .collect()))
    rep = pdq_groups(pdqs, cfg.pdq_threshold) if pdqs else {}
    b_rep = sc.broadcast(rep)
    elements = blocks.flatMap(lambda b: _elements(b, b_rep.value))
    groups = elements.groupByKey().mapValues(lambda rs: sorted(rs)).cache()
    text_groups = components(spark, wording.map(lambda e: (e[0], e[1]))).cache()
    hub_list = _hubs(sc, blocks, src, groups, elements, text_groups, cfg, se_vals, se_counts,
                     n, key_of)
    hubs.extend(hub_list)
    hub_keys = {(h.kind, h.value) for h in hub_list}
    stats["hubs"] = len(hubs)
    times["hubs_s"] = time.perf_counter() - t

    # -- strong groups; medium edges through the contradiction test; final components
    t = time.perf_counter()
    b_hubs = sc.broadcast(hub_keys)
    photo_free = cfg.photo_free_ads

    def flags(kv: tuple[IKey, list[int]]) -> tuple[bool, bool]:
        """(joined, few_photo) of an identifier group."""
        (kind, value), rs = kv
        shared_ok = len(rs) >= 2 and (kind, value) not in b_hubs.value
        few = shared_ok and _is_image(kind) and len(rs) < photo_free
        return shared_ok and not few, few

    strong = components(spark, groups.filter(lambda kv: flags(kv)[0])
                        .flatMap(lambda kv: [(kv[1][0], r) for r in kv[1][1:]])).cache()
    own = (groups.filter(lambda kv: kv[0][0] in CONTACT_KINDS and kv[0] not in b_hubs.value)
           .flatMap(lambda kv: kv[1]).distinct().map(lambda r: (r, True)))
    base = blocks.flatMap(lambda b: [(b[0] + i, (_city_cf(c), tuple(nm))) for i, (c, nm)
                                     in enumerate(zip(b[1].cities, b[1].names, strict=True))])
    # row -> (strong label, text group, city, names, own contact)
    attrs = base.groupWith(strong, text_groups, own).map(_attrs).cache()
    label_stats = (attrs.map(lambda x: (x[1][0], (1, x[1][4])))
                   .reduceByKey(lambda p, q: (p[0] + q[0], p[1] or q[1])).cache())
    writers = (attrs.map(lambda x: (x[1][0], x[1][1])).join(label_stats)
               .filter(lambda x: x[1][1][1]).map(lambda x: (x[1][0], x[0])).distinct()
               .map(lambda x: (x[0], 1)).reduceByKey(operator.add))
    share_min = max(20, cfg.common_name_share * n)
    common = frozenset(blocks.flatMap(lambda b: [nm.casefold() for ns in b[1].names
                                                 for nm in set(ns)])
                       .map(lambda x: (x, 1)).reduceByKey(operator.add)
                       .filter(lambda kv: kv[1] >= share_min).keys().collect())
    has_few = not groups.filter(lambda kv: flags(kv)[1]).isEmpty()
    photo = (groups.filter(lambda kv: flags(kv)[1])
             .flatMap(lambda kv: [(kv[1][0], r, float(np.float32(2.0))) for r in kv[1][1:]]))
    medium = photo.union(wording)
    a_side = (medium.map(lambda e: (e[0], (e[1], e[2]))).join(attrs)
              .map(lambda x: (x[1][0][0], (x[0], x[1][0][1], x[1][1]))).join(attrs)
              # (a, b, s, attrs a, attrs b)
              .map(lambda x: (x[1][0][0], x[0], x[1][0][1], x[1][0][2], x[1][1]))
              .filter(lambda e: e[3][0] != e[4][0]))
    with_stats = (a_side.map(lambda e: (e[3][0], e)).join(label_stats)
                  .map(lambda x: (x[1][0][4][0], (x[1][0], x[1][1]))).join(label_stats)
                  .map(lambda x: (x[1][0][0][3][1], (x[1][0][0], x[1][0][1], x[1][1])))
                  .leftOuterJoin(writers))
    decided = with_stats.map(lambda x: (
        x[1][0][0][0], x[1][0][0][1], x[1][0][0][2], x[1][0][0][3][0], x[1][0][0][4][0],
        x[1][0][0][3][2], x[1][0][0][3][3], x[1][0][0][4][2], x[1][0][0][4][3],
        x[1][1] or 0, x[1][0][1][0], x[1][0][2][0], x[1][0][1][1], x[1][0][2][1])
    ).mapPartitions(lambda it: _decide(it, cfg, common)).collect()
    used, refused, root_of = _merge(decided, cfg.wording_small_group)
    stats["wording_refused"] = refused
    stats["external_edges"] = 0
    stats["external_used"] = 0
    medium_used = [e for e in used if e[2] <= 1.0]
    b_root = sc.broadcast(root_of)
    final = attrs.map(lambda x: (x[0], b_root.value.get(x[1][0], x[1][0]))).cache()
    few_joined = set() if not has_few else set(groups.filter(lambda kv: flags(kv)[1])
                     .flatMap(lambda kv: [(r, kv[0]) for r in kv[1]]).join(final)
                     .map(lambda x: (x[1][0], x[1][1])).groupByKey()
                     .filter(lambda kv: len(set(kv[1])) == 1).keys().collect())
    b_few = sc.broadcast(few_joined)
    times["components_s"] = time.perf_counter() - t

    # -- ids (derived from each network's smallest key) and records
    t = time.perf_counter()
    marks = groups.flatMap(lambda kv: [
        (r, (kv[0], flags(kv)[0] or kv[0] in b_few.value, kv[0] in b_hubs.value))
        for r in kv[1]] if flags(kv)[0] or kv[0] in b_hubs.value or kv[0] in b_few.value
        else [])
    row_data = blocks.flatMap(lambda b: [(b[0] + i, row) for i, row in
                                         enumerate(table_rows(b[1]))])
    # one multi-way cogroup: each row with its network and marks, keyed by its network
    per_row = (row_data.groupWith(final, marks)
               .map(lambda x: (next(iter(x[1][1])), (x[0], next(iter(x[1][0])),
                                                      list(x[1][2]))))
               .partitionBy(max(1, parts)).cache())
    b_medium = sc.broadcast(medium_used)

    def build(fixed: dict[int, str]) -> Any:
        b_fixed = sc.broadcast(fixed)
        return per_row.mapPartitions(
            lambda it: _record_part(it, cfg, b_fixed.value, b_medium.value)).cache()

    records = build({})
    # network ids are a 48-bit hash of the smallest key: on a clash the groups in network
    # order take "-2", "-3"... (link.cluster.assign_ids); practically never, then rebuilt
    clashes = (records.map(lambda r: (r[1], r[0])).groupByKey()
               .filter(lambda kv: len(kv[1]) > 1).collect())
    if clashes:
        fixed: dict[int, str] = {}
        for base_id, labels in clashes:
            for j, fl in enumerate(sorted(labels)):
                fixed[fl] = base_id if j == 0 else f"{base_id}-{j + 1}"
        records.unpersist()
        records = build(fixed)
    records = records.sortBy(lambda r: r[0]).cache()
    networks, in_networks = records.map(lambda r: (1, r[2]) if r[2] >= 2 else (0, 0)).fold(
        (0, 0), lambda p, q: (p[0] + q[0], p[1] + q[1]))
    if write_networks:
        write_networks(r[1:] for r in records.toLocalIterator())
    times["records_s"] = time.perf_counter() - t
    stats["networks"] = networks
    stats["ads_in_networks"] = in_networks
    stats.update({k: round(v, 3) for k, v in times.items()})
    for rdd in (blocks, wb, wording, groups, text_groups, strong, attrs, label_stats, final,
                per_row, records):
        rdd.unpersist()
    return EngineLinkResult(hubs=hubs, stats=stats, networks=networks,
                            ads_in_networks=in_networks)


def _feature_parts(out: str, index: int, it: Iterable[tuple[int, FeatureTable]],
                   ) -> Iterator[tuple[str, int]]:
    return _write_feature_part(out, index, it)


def _merge(decided: Sequence[tuple[Any, ...]], small_group: int,
           ) -> tuple[list[tuple[int, int, float]], int, dict[int, int]]:
    """The constrained merge (the core's `constrained_merge`) over the medium edges between
    different strong groups, each with its contradiction answers computed on the engine.
    Returns (edges used, in the merge's order; edges refused; label -> merged label)."""
    if not decided:
        return [], 0, {}
    rows = sorted({int(d[0]) for d in decided} | {int(d[1]) for d in decided})
    row_no = {r: i for i, r in enumerate(rows)}
    labels = sorted({int(d[3]) for d in decided} | {int(d[4]) for d in decided})
    label_no = {g: i for i, g in enumerate(labels)}
    row_label = np.zeros(len(rows), dtype=np.int64)
    has = np.zeros(len(labels), dtype=bool)
    size = np.zeros(len(labels), dtype=np.int64)
    answers: dict[tuple[int, int, float], tuple[bool, bool, bool, bool]] = {}
    wa, wb, ws = [], [], []
    for a, b, s, la, lb, ha, hb, c1, c2, c3, c1_big, sa, sb in decided:
        ia, ib = row_no[int(a)], row_no[int(b)]
        row_label[ia], row_label[ib] = label_no[int(la)], label_no[int(lb)]
        has[label_no[int(la)]], has[label_no[int(lb)]] = ha, hb
        size[label_no[int(la)]], size[label_no[int(lb)]] = sa, sb
        answers[(ia, ib, float(np.float32(s)))] = (c1, c2, c3, c1_big)
        wa.append(ia)
        wb.append(ib)
        ws.append(s)
    # the merge reads labels per row; labels not on an edge never change
    def corroborated_now(a: int, b: int, s: float, na: int, nb: int) -> bool:
        small = na <= small_group and nb <= small_group
        return answers[(a, b, s)][0 if small else 3]

    n_labels = int(row_label.max()) + 1
    uf, used, refused = constrained_merge(
        row_label, _pad(has, n_labels),
        np.asarray(wa, np.int64), np.asarray(wb, np.int64), np.asarray(ws, np.float32),
        corroborated_now, lambda a, b, s: answers[(a, b, s)][1],
        lambda a, b, s: answers[(a, b, s)][2], group_size=_pad(size, n_labels))
    root_of = {}
    for i, g in enumerate(labels):
        r = uf.find(i)
        if r != i:
            root_of[g] = labels[r]
    return [(rows[a], rows[b], s) for a, b, s in used], refused, root_of


def _pad(a: np.ndarray, size: int) -> np.ndarray:
    if a.size >= size:
        return a
    return np.concatenate([a, np.zeros(size - a.size, dtype=a.dtype)])


def _hubs(sc: Any, blocks: Any, src: Any, groups: Any, elements: Any, text_groups: Any,
          cfg: LinkConfig, se_vals: np.ndarray, se_counts: np.ndarray, n: int,
          key_of: Callable[[set[int]], dict[int, str]]) -> list[Hub]:
    """The hub test (`hubs.identifier_hubs`) on the driver, over the ads carrying an
    identifier frequent enough to be tested and every identifier of those ads."""
    check, image_ads = cfg.hub_check_ads, cfg.hub_image_ads
    cand = groups.filter(lambda kv: len(kv[1]) >= check
                         or (_is_image(kv[0][0]) and len(kv[1]) >= image_ads))
    sub_rows = cand.flatMap(lambda kv: [(r, None) for r in kv[1]])
    b_se = sc.broadcast({int(v) for v in se_vals.tolist()})
    info_rdd = blocks.flatMap(lambda b: [
        (b[0] + i, (_city_cf(b[1].cities[i]), float(b[1].posted[i]),
                    [int(v) for v in b[1].sentences[b[1].se_off[i]:b[1].se_off[i + 1]]
                     if int(v) in b_se.value]))
        for i in range(len(b[1]))])
    # one multi-way cogroup by row: the sub-problem's rows with their identifiers, city,
    # posting time, boilerplate sentences and text group
    got = (sub_rows.groupWith(elements.map(lambda e: (e[1], e[0])), info_rdd, text_groups)
           .filter(lambda x: any(True for _ in x[1][0]))
           .map(lambda x: (x[0], list(x[1][1]), next(iter(x[1][2])), next(iter(x[1][3]), x[0])))
           .collect())
    if not got:
        return []
    got.sort()
    sub_el = [(r, ikey) for r, ikeys, _i, _t in got for ikey in ikeys]
    info = [(r, inf) for r, _k, inf, _t in got]
    tg = {r: t for r, _k, _i, t in got}
    idents = {(k, v) for _r, (k, v) in sub_el}
    b_idents = sc.broadcast(idents)
    order = dict(src.flatMap(_shard_vocab).filter(lambda kv: kv[0] in b_idents.value)
                 .reduceByKey(min).collect())
    heads = dict(groups.filter(lambda kv: kv[0] in b_idents.value)
                 .map(lambda kv: (kv[0], kv[1][0])).collect())
    for ikey in idents:
        if ikey[0] == IMAGE_NEAR_KIND:
            order[ikey] = (1, heads[ikey], 0, ikey[1])
    vocab = sorted(idents, key=order.__getitem__)
    ident_no = {k: i for i, k in enumerate(vocab)}
    info.sort()
    rows = [r for r, _x in info]
    row_no = {r: i for i, r in enumerate(rows)}
    m = len(rows)
    el_rows = np.array([row_no[r] for r, _k in sub_el], dtype=np.int64)
    el_ids = np.array([ident_no[(k[0], k[1])] for _r, k in sub_el], dtype=np.int64)
    srt = np.lexsort((el_rows, el_ids))
    el_rows, el_ids = el_rows[srt], el_ids[srt]
    brk = np.ones(el_ids.size + 1, dtype=bool)
    brk[1:-1] = el_ids[1:] != el_ids[:-1]
    starts = np.nonzero(brk)[0]
    g_ids, g_size, g_start = el_ids[starts[:-1]], np.diff(starts), starts[:-1]
    is_contact = np.array([k in CONTACT_KINDS for k, _v in vocab], dtype=bool)
    is_image = np.array([_is_image(k) for k, _v in vocab], dtype=bool)
    city_no: dict[str, int] = {}
    city_ids = np.array([-1 if c is None else city_no.setdefault(c, len(city_no))
                         for _r, (c, _p, _s) in info], dtype=np.int64)
    posted = np.array([p for _r, (_c, p, _s) in info], dtype=np.float64)
    sents = [np.asarray(s, dtype=np.uint64) for _r, (_c, _p, s) in info]
    se_off = np.zeros(m + 1, dtype=np.int64)
    np.cumsum([s.size for s in sents], out=se_off[1:])
    sentences = np.concatenate(sents) if sents else np.zeros(0, np.uint64)
    tg_no: dict[int, int] = {}
    text = np.array([tg_no.setdefault(tg.get(r, r), len(tg_no)) for r in rows], dtype=np.int64)
    boiler = partial(boilerplate_share, sentences, se_off, se_vals, se_counts, n)
    found = identifier_hubs(m, el_rows, el_ids, g_start, g_size, g_ids, is_contact, is_image,
                            city_ids, boiler, cfg.hub_rules(), text_groups=text, posted=posted)
    examples = key_of({heads[vocab[ident]] for ident, _c, _g, _r in found})
    return [Hub(vocab[ident][0], vocab[ident][1], count, n_groups, reason,
                examples[heads[vocab[ident]]])
            for ident, count, n_groups, reason in found]
