"""`tracelight bench rooms`: hotel-room matching on the synthetic gallery, against baselines.

One run generates the gallery (demo/rooms.py) in memory, extracts features (the ingest cost),
trains the visual words, indexes, then answers occluded queries three ways:

- rooms: visual words + RANSAC verification (tracelight.rooms), the foreground masked;
- PDQ: the nearest gallery photo by PDQ Hamming distance (what tracelight matched before);
- colour histogram: the nearest gallery photo by a 8x8x8 RGB histogram (Hellinger distance).

Figures: top-1 and top-20 hotel accuracy for each, query latency (mean, p95), ingest
photos/s (decode + features + words), and memory per 100,000 gallery photos projected from
the measured index size.
"""

from __future__ import annotations

import time

import numpy as np

from tracelight.bench.measure import ProgressFactory, no_progress, peak_rss_mb, report, say


def _hist(rgb: np.ndarray) -> np.ndarray:
    q = (rgb // 32).reshape(-1, 3).astype(np.int64)
    h = np.bincount(q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2], minlength=512).astype(np.float32)
    return np.sqrt(h / max(1.0, h.sum()))


def run(hotels: int = 2000, chains: int = 50, photos: int = 10, queries: int = 1000,
        seed: int = 7, words: int = 32768, auto_mask: bool = True,
        progress: ProgressFactory = no_progress) -> dict[str, float]:
    import cv2
    import faiss
    import pdqhash

    from tracelight.demo import rooms as gen
    from tracelight.rooms import RoomIndex, decode, extract, rank, train_codebook
    from tracelight.rooms.verify import VERIFY_TOP

    cv2.setNumThreads(1)  # a shared machine: no thread pools spinning
    faiss.omp_set_num_threads(1)
    rows = gen.hotels(seed, hotels, chains)
    n_img = hotels * photos
    feats, ids, hids = [], [], []
    pdq_rows, hist_rows = [], []
    gen_s = ingest_s = ingest_cpu = 0.0
    with progress("gallery: render + features", n_img) as advance:
        for h in rows:
            t0 = time.perf_counter()
            blobs = list(gen.gallery_photos(seed, h, photos))
            t1 = time.perf_counter()
            c1 = time.process_time()
            for p, data in enumerate(blobs):
                rgb = decode(data)
                feats.append(extract(rgb))
                ids.append(f"{h.hotel_id}/{p}")
                hids.append(h.hotel_id)
                # baselines (not counted in the ingest figure)
                t2, c2 = time.perf_counter(), time.process_time()
                bits, _q = pdqhash.compute(np.ascontiguousarray(rgb))
                pdq_rows.append(np.packbits(bits.astype(np.uint8) > 0))
                hist_rows.append(_hist(rgb))
                t1 += time.perf_counter() - t2
                c1 += time.process_time() - c2
            t3 = time.perf_counter()
            ingest_cpu += time.process_time() - c1
            gen_s += t1 - t0
            ingest_s += t3 - t1
            advance(photos)
    t0 = time.perf_counter()
    with progress("visual words: training", None):
        codebook = train_codebook([f.desc for f in feats[:: max(1, n_img // 4000)]], words)
    train_s = time.perf_counter() - t0
    t0, ci = time.perf_counter(), time.process_time()
    index = RoomIndex(codebook)
    with progress("indexing", n_img) as advance:
        for i, f in enumerate(feats):
            index.add(ids[i], hids[i], f)
            advance(1)
        index.candidates(feats[0], 1)  # builds the tf-idf matrix
    index_s = time.perf_counter() - t0
    index_cpu = time.process_time() - ci
    del feats
    report("rooms ingest (decode + ORB features, 480x360 JPEG)", n_img, ingest_s, "photos",
           photos_per_cpu_s=f"{n_img / max(ingest_cpu, 1e-9):.0f}")
    report("rooms index (visual words + tf-idf)", n_img, index_s, "photos",
           photos_per_cpu_s=f"{n_img / max(index_cpu, 1e-9):.0f}",
           codebook_words=index.k, codebook_train_s=f"{train_s:.1f}")

    pdq_index = faiss.IndexBinaryFlat(256)
    pdq_index.add(np.stack(pdq_rows))
    hist_index = faiss.IndexFlatL2(512)
    hist_index.add(np.stack(hist_rows))
    hid_arr = np.array(hids)

    def hotel_ranks(img_order: np.ndarray) -> list[str]:
        seen: list[str] = []
        for h in hid_arr[img_order]:
            if h not in seen:
                seen.append(str(h))
            if len(seen) >= 20:
                break
        return seen

    hits = {"rooms": [0, 0], "pdq": [0, 0], "histogram": [0, 0]}
    lat: list[float] = []
    cpu: list[float] = []
    verified_top1 = 0
    # why a query's hotel is not first: not among the verified candidates (retrieval), among
    # them but verified on none of its photos (verification), or verified and outranked
    misses = {"retrieval": 0, "verification": 0, "outranked": 0}
    with progress("queries", queries) as advance:
        for q in range(queries):
            h = rows[int(np.random.default_rng([seed, 6, q]).integers(0, len(rows)))]
            data, _frac = gen.query_photo(seed, h, q)
            t0, c0 = time.perf_counter(), time.process_time()
            qf = extract(decode(data), auto_mask=auto_mask)
            best = rank(index, qf, k=20)
            lat.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            got = [m.hotel_id for m in best]
            verified_top1 += bool(best) and best[0].inliers > 0
            if not got or got[0] != h.hotel_id:
                shortlisted = {c.hotel_id for c in index.candidates(qf, VERIFY_TOP)}
                mine = [m for m in best if m.hotel_id == h.hotel_id]
                misses["retrieval" if h.hotel_id not in shortlisted else
                       "outranked" if mine and mine[0].inliers > 0 else "verification"] += 1
            rgb = decode(data)
            bits, _ = pdqhash.compute(np.ascontiguousarray(rgb))
            _, pi = pdq_index.search(np.packbits(bits.astype(np.uint8) > 0)[None, :], 200)
            _, hi = hist_index.search(_hist(rgb)[None, :], 200)
            for name, lst in (("rooms", got), ("pdq", hotel_ranks(pi[0])),
                              ("histogram", hotel_ranks(hi[0]))):
                hits[name][0] += bool(lst) and lst[0] == h.hotel_id
                hits[name][1] += h.hotel_id in lst[:20]
            advance(1)
            if (q + 1) % 100 == 0 and q + 1 < queries:  # a long run shows where it stands
                say(f"rooms after {q + 1} queries: " + "  ".join(
                    f"{k} top-1 {v[0] / (q + 1):.3f} top-20 {v[1] / (q + 1):.3f}"
                    for k, v in hits.items())
                    + f"  cpu_ms_per_query {np.mean(cpu) * 1000:.0f}", err=True)
    out: dict[str, float] = {}
    for name, (t1, t20) in hits.items():
        say(f"rooms accuracy [{name}]: top-1 {t1 / queries:.3f}  top-20 {t20 / queries:.3f}  "
            f"({queries} occluded queries, {hotels} hotels in {chains} chains x {photos} photos)")
        out[f"{name}_top1"] = t1 / queries
        out[f"{name}_top20"] = t20 / queries
    la = np.array(lat)
    report("rooms query (decode + mask + features + words + RANSAC, k=20)", queries,
           float(la.sum()), "queries", mean_ms=f"{la.mean() * 1000:.0f}",
           p95_ms=f"{np.percentile(la, 95) * 1000:.0f}", max_ms=f"{la.max() * 1000:.0f}",
           cpu_ms_per_query=f"{np.mean(cpu) * 1000:.0f}",
           verified_top1=f"{verified_top1 / queries:.3f}")
    say("rooms top-1 misses: " + ", ".join(f"{k} {v}" for k, v in misses.items())
        + f" (of {queries}; retrieval = the hotel not among the {VERIFY_TOP} candidates "
          "verified, verification = among them but verified on none of its photos, "
          "outranked = verified, another hotel first)")
    nb = index.nbytes()
    per100k = {k: v / n_img * 100_000 / 2**20 for k, v in nb.items()}
    say(f"rooms memory per 100,000 gallery photos (projected from {n_img}): "
        f"words {per100k['words']:.0f} MiB, keypoints {per100k['keypoints']:.0f} MiB "
        f"(memory-mapped from disk when loaded), total {sum(per100k.values()):.0f} MiB; "
        f"peak RSS of this run {peak_rss_mb():.0f} MiB; generation {gen_s:.1f} s")
    out.update({f"miss_{k}": v / queries for k, v in misses.items()})
    out.update(ingest_per_s=n_img / ingest_s, query_mean_s=float(la.mean()),
               query_p95_s=float(np.percentile(la, 95)))
    return out
