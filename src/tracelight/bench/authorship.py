"""`tracelight bench authorship`: the same-author model on synthetic authors it never saw
(TPR at 1% and 0.1% FPR, R-precision, candidate recall, pairs/s, ads/s), the network recall
it and Bitcoin owners add on ads whose phones all rotate (pairwise precision), Bitcoin
ad -> owner attribution (precision/recall with unrelated payments arriving every minute),
owner clustering pairwise F1 (with and without the change heuristic), and transactions
ingested and clustered per second (`--txs`, 1,000,000 for the issue's target)."""

from __future__ import annotations

import time
from datetime import timedelta

from tracelight.bench.measure import peak_rss_mb, say


def _pairwise(groups: list[list[str]], truth: dict[str, str]) -> tuple[float, float]:
    """Pairwise precision and recall of `groups` against truth (key -> author)."""
    from collections import Counter

    tp = pred = 0
    for g in groups:
        c = Counter(truth[k] for k in g)
        n = len(g)
        pred += n * (n - 1) // 2
        tp += sum(v * (v - 1) // 2 for v in c.values())
    true = sum(v * (v - 1) // 2 for v in Counter(truth.values()).values())
    return (tp / pred if pred else 1.0), (tp / true if true else 1.0)


def network_gain(model: object, seed: int, n_authors: int = 150, noise: float = 20.0,
                 days: float = 2.0) -> dict[str, float]:
    """Networks from identifiers only, + author edges, + author and wallet-owner edges, on
    synthetic authors never seen in training whose phones rotate (pairwise vs authorship)."""
    from tracelight.authorship import bitcoin as b
    from tracelight.authorship.consensus import average_linkage, link_map, owner_joins, within
    from tracelight.authorship.features import featurise
    from tracelight.authorship.model import AuthorModel, Corpus, candidate_pairs
    from tracelight.demo.authors import generate
    from tracelight.demo.payments import generate_btc
    from tracelight.link import LinkAd, link_batch
    from tracelight.link.external import ExternalEdge
    from tracelight.records import Mention

    assert isinstance(model, AuthorModel)
    d = generate_btc(generate(n_authors, singletons=n_authors, seed=seed + 2000),
                     seed=seed + 2000, days=days, noise_per_minute=noise)
    ads = d.ads
    truth = {a.id: a.author for a in ads}
    link_ads = []
    for a in ads:
        s0 = a.body.find(a.phone)
        ments = (Mention("phone", "+1" + "".join(ch for ch in a.phone if ch.isdigit()), "body", s0,
                         s0 + len(a.phone), raw=a.phone),) if s0 >= 0 else ()
        link_ads.append(LinkAd(a.id, title=a.title, body=a.body, posted_at=a.posted_at,
                               location=a.location, mentions=ments))
    t0 = time.perf_counter()
    corpus = Corpus.of(featurise([f"{a.title}\n{a.body}" for a in ads]))
    scored = model.score_pairs(corpus, candidate_pairs(corpus.style, x=corpus.weighted))
    edges = [(ads[p.i].id, ads[p.j].id, p.score) for p in scored]
    groups = average_linkage(edges, 0.5)
    author = [ExternalEdge(edges[i][0], edges[i][1], "author", edges[i][2], "")
              for i in within(edges, groups)]
    author_s = time.perf_counter() - t0
    posts = [p for a in ads if (p := b.posting(a.id, a.posted_at, d.tiers[a.id], d.prices))]
    own = b.owners(d.txs, frozenset(d.wallets))
    ms = b.attribute(b.match(posts, d.txs, d.wallets, b.Rates(d.rates)), d.txs, own)
    size: dict[str, int] = {}
    for o in own.values():
        size[o] = size.get(o, 0) + 1
    owned: dict[str, list[str]] = {}
    for m in ms:
        if m.owner and m.candidates <= 1 and size.get(m.owner, 0) <= 500:
            owned.setdefault(m.owner, []).append(m.ad_id)
    wallet = [ExternalEdge(a, k, "wallet_owner", 1.0, "") for _o, a, k in
              owner_joins(owned, groups, link_map(edges))]
    wallet_old = [ExternalEdge(a, k, "wallet_owner", 1.0, "") for _o, a, k in
                  owner_joins(owned, groups)]
    out: dict[str, float] = {}
    by_group: dict[str, list[str]] = {}
    for k, g in groups.items():
        by_group.setdefault(g, []).append(k)
    out["groups_precision"], out["groups_recall"] = _pairwise(
        [g for g in by_group.values() if len(g) >= 2], truth)
    for name, ext in (("identifiers", []), ("author", author),
                      ("author_wallet", author + wallet),
                      ("author_wallet_unchecked", author + wallet_old), ("author_raw",
                       [ExternalEdge(x, y, "author", w, "") for x, y, w in edges])):
        res = link_batch(link_ads, external_edges=ext)
        prec, rec = _pairwise([n.ad_ids for n in res.networks if n.size >= 2], truth)
        out[f"{name}_precision"], out[f"{name}_recall"] = prec, rec
    say(f"networks on {len(ads)} ads by {2 * n_authors} unseen authors, every phone rotated "
        f"({len(author)} author edges kept of {len(edges)} over threshold, "
        f"{len(wallet)} wallet-owner edges; author search+scoring {author_s:.1f} s):")
    for name, label in (("groups", "author groups alone (average linkage, no linker)"),
                        ("identifiers", "identifiers only"), ("author", "+ author"),
                        ("author_wallet", "+ author + wallet owner"),
                        ("author_wallet_unchecked",
                         "+ author + wallet owner, style not consulted"),
                        ("author_raw", "+ author, every pair over threshold (no consensus)")):
        say(f"  {label:<52} pairwise precision {out[name + '_precision']:.3f} "
            f"recall {out[name + '_recall']:.3f}")
    return out


def tx_throughput(n_tx: int, seed: int = 7, store_url: str | None = None) -> dict[str, float]:
    """Write n_tx synthetic transactions as JSON Lines, then read (parse) and cluster them;
    with store_url, also store them (tracelight btc ingest-payments' path)."""
    import json
    import random
    import tempfile
    from datetime import UTC, datetime
    from pathlib import Path

    from tracelight.authorship import bitcoin as b

    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    n_owners = max(n_tx // 5, 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "txs.jsonl"
        t0 = time.perf_counter()
        with path.open("w", encoding="utf-8") as f:
            for i in range(n_tx):
                o = rng.randrange(n_owners)
                ins = [f"bc1qbench{o:08d}{rng.randrange(4)}" for _ in range(rng.randint(1, 3))]
                outs = [{"address": f"bc1qbench{rng.randrange(n_owners):08d}"
                                    f"{rng.randrange(4)}", "btc": round(rng.random(), 8)}
                        for _ in range(rng.randint(1, 2))]
                f.write(json.dumps({"txid": f"bench-{i:09d}", "time": start + i,
                                    "inputs": ins, "outputs": outs}) + "\n")
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with path.open(encoding="utf-8") as f:
            txs = b.parse_tx_lines(f, path.name)
        parse_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        own = b.owners(txs)
        cluster_s = time.perf_counter() - t0
        out = {"txs": float(n_tx), "parse_s": parse_s, "cluster_s": cluster_s}
        say(f"{n_tx:,} transactions (written in {gen_s:.1f} s, {path.stat().st_size >> 20} "
            f"MiB): parsed in {parse_s:.1f} s ({n_tx / parse_s:,.0f} tx/s), clustered "
            f"(common input) in {cluster_s:.1f} s ({n_tx / cluster_s:,.0f} tx/s) into "
            f"{len(set(own.values())):,} owners over {len(own):,} addresses")
        del txs, own
        if store_url:
            from tracelight.services.btc import ingest_payments
            from tracelight.store import open_store

            store = open_store(store_url)
            try:
                t0 = time.perf_counter()
                res = ingest_payments(store, path)
                store_s = time.perf_counter() - t0
            finally:
                store.close()
            out["store_s"] = store_s
            say(f"  stored (btc ingest-payments into {store_url.split(':')[0]}): {res.new:,} "
                f"new in {store_s:.1f} s ({n_tx / store_s:,.0f} tx/s)")
        say(f"  total read+cluster{'+store' if store_url else ''} "
            f"{parse_s + cluster_s + out.get('store_s', 0.0):.1f} s; peak RSS "
            f"{peak_rss_mb():.0f} MiB")
    return out


def run(n_authors: int = 300, test_authors: int = 200, seed: int = 7, btc_authors: int = 200,
        days: float = 7.0, noise: float = 20.0, n_tx: int = 0,
        tx_store: str | None = None) -> dict[str, float]:
    from tracelight.authorship import bitcoin as b
    from tracelight.authorship.evaluate import evaluate, train
    from tracelight.authorship.features import featurise
    from tracelight.authorship.model import lsh_candidate_pairs
    from tracelight.demo.authors import generate
    from tracelight.demo.payments import generate_btc

    out: dict[str, float] = {}
    tr = generate(n_authors, singletons=n_authors, seed=seed)
    t0 = time.perf_counter()
    model = train([f"{a.title}\n{a.body}" for a in tr], [a.author for a in tr], seed=seed)
    train_s = time.perf_counter() - t0
    say(f"authorship train: {len(tr)} ads by {2 * n_authors} authors in {train_s:.1f} s; "
        f"threshold {model.threshold:.3f} (<= 1% FPR on held-out authors)")
    te = generate(test_authors, singletons=test_authors, seed=seed + 1000)
    texts, authors = [f"{a.title}\n{a.body}" for a in te], [a.author for a in te]
    ev = evaluate(model, texts, authors, seed=seed)
    say(f"held-out: {ev.test_ads} ads, {ev.test_pairs} pairs ({ev.test_positive_pairs} "
        f"same-author; negatives are nearest-neighbour look-alikes + random pairs)")
    say(f"  TPR at 1% FPR {ev.tpr_at_1pct:.3f}   TPR at 0.1% FPR {ev.tpr_at_01pct:.3f}   "
        f"R-precision {ev.r_precision:.3f}")
    say(f"  candidates (k-NN, k=20): {ev.candidate_pairs} pairs of "
        f"{len(te) * (len(te) - 1) // 2}; same-author pairs found {ev.blocking_recall:.3f}")
    say(f"  links over threshold: pairwise precision {ev.linked_precision:.3f}, "
        f"recall {ev.linked_recall:.3f}")
    say(f"  featurise {ev.test_ads / ev.seconds_featurise:,.0f} ads/s; pair scoring "
        f"{ev.pairs_scored / max(ev.seconds_pairs, 1e-9):,.0f} pairs/s")
    style = featurise(texts)
    t0 = time.perf_counter()
    lsh = lsh_candidate_pairs(style)
    lsh_s = time.perf_counter() - t0
    same = {(i, j) for i in range(len(authors)) for j in range(i + 1, len(authors))
            if authors[i] == authors[j]}
    say(f"  LSH alternative (datasketch, 5-gram Jaccard >= 0.15): {len(lsh)} pairs in "
        f"{lsh_s:.2f} s, same-author pairs found {len(same & set(lsh)) / max(len(same), 1):.3f}")
    out.update({"tpr_at_1pct": ev.tpr_at_1pct, "tpr_at_01pct": ev.tpr_at_01pct,
                "r_precision": ev.r_precision, "blocking_recall": ev.blocking_recall,
                "linked_precision": ev.linked_precision, "linked_recall": ev.linked_recall})

    t0 = time.perf_counter()
    d = generate_btc(generate(btc_authors, singletons=btc_authors, seed=seed), seed=seed,
                     days=days, noise_per_minute=noise)
    gen_s = time.perf_counter() - t0
    posts = [p for a in d.ads if (p := b.posting(a.id, a.posted_at, d.tiers[a.id], d.prices))]
    t0 = time.perf_counter()
    own = b.owners(d.txs, frozenset(d.wallets))
    own_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ms = b.attribute(b.match(posts, d.txs, d.wallets, b.Rates(d.rates),
                             window=timedelta(minutes=10)), d.txs, own)
    match_s = time.perf_counter() - t0
    s = b.score_attribution(ms, own, d.truth_ad_owner, d.truth_address_owner)
    sure = b.score_attribution([m for m in ms if m.confidence >= 0.99], own, d.truth_ad_owner,
                               d.truth_address_owner)
    say(f"bitcoin: {len(d.ads)} ads ({s.ads} paid in BTC), {len(d.txs):,} transactions over "
        f"{days:g} days, {noise:g} unrelated payments/min into the wallet (generated in "
        f"{gen_s:.1f} s)")
    say(f"  owners (common input): {len(d.txs) / max(own_s, 1e-9):,.0f} tx/s; address "
        f"clusters pairwise P {s.cluster_precision:.3f} R {s.cluster_recall:.3f} "
        f"F1 {s.cluster_f1:.3f}")
    say(f"  ad -> owner: precision {s.precision:.3f} recall {s.recall:.3f} "
        f"({s.attributed} attributed, {s.correct} right) in {match_s:.2f} s; "
        f"confidence 1 only: precision {sure.precision:.3f} recall {sure.recall:.3f}")
    own_c = b.owners(d.txs, frozenset(d.wallets), change=True)
    ms_c = b.attribute(b.match(posts, d.txs, d.wallets, b.Rates(d.rates),
                               window=timedelta(minutes=10)), d.txs, own_c)
    s_c = b.score_attribution(ms_c, own_c, d.truth_ad_owner, d.truth_address_owner)
    say(f"  with the change heuristic (off by default): clusters P {s_c.cluster_precision:.3f} "
        f"R {s_c.cluster_recall:.3f} F1 {s_c.cluster_f1:.3f}; ad -> owner precision "
        f"{s_c.precision:.3f} recall {s_c.recall:.3f}")
    top = b.owner_spend(ms)[:3]
    say("  top owners' spend: " + ", ".join(f"{r['ads']} ads ${r['usd']:,.0f}" for r in top))
    say(f"peak RSS {peak_rss_mb():.0f} MiB")
    out.update({"btc_precision": s.precision, "btc_recall": s.recall,
                "btc_cluster_f1": s.cluster_f1, "btc_cluster_f1_change": s_c.cluster_f1})
    out.update(network_gain(model, seed, noise=noise))
    if n_tx:
        out.update(tx_throughput(n_tx, seed, tx_store))
    say(f"peak RSS {peak_rss_mb():.0f} MiB")
    return out
