"""`tracelight bench authorship`: the same-author model on synthetic authors it never saw
(TPR at 1% and 0.1% FPR, R-precision, candidate recall, pairs/s, ads/s) and Bitcoin
ad -> owner attribution (precision/recall with unrelated payments arriving every minute)."""

from __future__ import annotations

import time
from datetime import timedelta

from tracelight.bench.measure import peak_rss_mb, say


def run(n_authors: int = 300, test_authors: int = 200, seed: int = 7, btc_authors: int = 200,
        days: float = 7.0, noise: float = 20.0) -> dict[str, float]:
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
    top = b.owner_spend(ms)[:3]
    say("  top owners' spend: " + ", ".join(f"{r['ads']} ads ${r['usd']:,.0f}" for r in top))
    say(f"peak RSS {peak_rss_mb():.0f} MiB")
    out.update({"btc_precision": s.precision, "btc_recall": s.recall,
                "btc_cluster_f1": s.cluster_f1})
    return out
