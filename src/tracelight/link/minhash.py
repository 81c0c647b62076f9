"""MinHash signatures and LSH candidate pairs, in numpy.

One-permutation hashing (OPH) with rotation densification: each shingle is hashed once and
falls into one of `num_perm` bins, keeping the bin minimum. That is `num_perm` times less work
than classic MinHash (datasketch's `MinHash.update` does one hash per permutation per shingle;
see docs/networks.md for the measured difference) with the same Jaccard estimator.
"""

from __future__ import annotations

import numpy as np

EMPTY = np.uint32(0xFFFFFFFF)
_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a cheap, well-spread 64-bit hash of 64-bit inputs."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) * _C1
        z ^= z >> np.uint64(30)
        z *= _C2
        z ^= z >> np.uint64(27)
        z *= _C3
        z ^= z >> np.uint64(31)
    return z


def signatures(shingles: np.ndarray, offsets: np.ndarray, num_perm: int = 64,
               chunk_rows: int = 100_000) -> np.ndarray:
    """(n_ads, num_perm) uint32 signatures; rows of ads without shingles are all EMPTY."""
    if num_perm & (num_perm - 1) or not 8 <= num_perm <= 256:
        raise ValueError("num_perm must be a power of two between 8 and 256")
    n = offsets.size - 1
    bits = int(num_perm).bit_length() - 1
    sig = np.full(n * num_perm, EMPTY, dtype=np.uint32)
    # a few ads at a time: the 64-bit temporaries of all shingles at once would be the run's
    # peak memory at a million ads
    step = max(1, chunk_rows // 4)
    for a0 in range(0, n, step):
        a1 = min(n, a0 + step)
        lo, hi = int(offsets[a0]), int(offsets[a1])
        if hi == lo:
            continue
        h = _mix(shingles[lo:hi])
        bins = (h >> np.uint64(64 - bits)).astype(np.int64)
        vals = (h & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        vals[vals == EMPTY] = EMPTY - 1
        ad = np.repeat(np.arange(a0, a1, dtype=np.int64), np.diff(offsets[a0:a1 + 1]))
        np.minimum.at(sig, ad * num_perm + bins, vals)
    out: np.ndarray = sig.reshape(n, num_perm)
    for start in range(0, n, chunk_rows):
        _densify(out[start:start + chunk_rows])
    return out


def _densify(sig: np.ndarray) -> None:
    """Fill empty bins from the next filled bin to the right (circular), in place."""
    k = sig.shape[1]
    filled = sig != EMPTY
    need = ~filled.all(axis=1) & filled.any(axis=1)
    if not need.any():
        return
    rows = np.nonzero(need)[0]
    f2 = np.concatenate([filled[rows], filled[rows]], axis=1)
    cols = np.arange(2 * k, dtype=np.int32)
    idx = np.where(f2, cols, 4 * k).astype(np.int32)
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1][:, :k]
    dist = (nxt - cols[:k]).astype(np.uint32)
    src = sig[rows][np.arange(rows.size)[:, None], nxt % k]
    with np.errstate(over="ignore"):
        filler = src + dist * np.uint32(0x9E3779B1)
    sub = sig[rows]
    sub[~filled[rows]] = filler[~filled[rows]]
    sig[rows] = sub


def estimate(sig: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 500_000) -> np.ndarray:
    """Estimated Jaccard similarity of ad pairs (a[i], b[i])."""
    out = np.empty(a.size, dtype=np.float32)
    for s in range(0, a.size, chunk):
        out[s:s + chunk] = (sig[a[s:s + chunk]] == sig[b[s:s + chunk]]).mean(axis=1)
    return out


def group_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                max_all: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs inside groups of `order[starts[g]:starts[g]+sizes[g]]`.

    Groups up to `max_all` members give every pair; bigger ones give a star from their first
    member (quadratic blow-up on repeated texts is avoided, connectivity is kept).
    """
    small = sizes <= max_all
    s_st, s_sz = starts[small], sizes[small]
    outs_a: list[np.ndarray] = []
    outs_b: list[np.ndarray] = []
    if s_st.size:
        # element at offset o pairs with offsets o+1..m-1
        elem_pos = np.repeat(s_st, s_sz) + _ranges(s_sz)
        elem_cnt = np.repeat(s_sz, s_sz) - 1 - _ranges(s_sz)
        left = np.repeat(elem_pos, elem_cnt)
        right = left + 1 + _ranges(elem_cnt)
        outs_a.append(order[left])
        outs_b.append(order[right])
    b_st, b_sz = starts[~small], sizes[~small]
    if b_st.size:
        first = np.repeat(b_st, b_sz - 1)
        other = np.repeat(b_st, b_sz - 1) + 1 + _ranges(b_sz - 1)
        outs_a.append(order[first])
        outs_b.append(order[other])
    if not outs_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(outs_a), np.concatenate(outs_b)


def unique_sorted(x: np.ndarray) -> np.ndarray:
    """np.unique(x) by a sort: numpy 2.4's hash-based unique of int64 keys such as
    `lo * n + hi` was 50x slower here (1.8 s against 0.04 s for 2M keys; it made LSH most of
    a 30,000-ad link)."""
    if x.size == 0:
        return x
    s = np.sort(x)
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """Concatenated arange(l) for each l in lengths."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)


def lsh_pairs(sig: np.ndarray, usable: np.ndarray, bands: int, rows: int,
              max_bucket: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Unique candidate pairs (a < b) that agree on all `rows` values of at least one band."""
    if bands * rows > sig.shape[1]:
        raise ValueError("bands * rows exceeds the signature length")
    nodes = np.nonzero(usable)[0].astype(np.int64)
    keys_all: list[np.ndarray] = []
    n = sig.shape[0]
    for band in range(bands):
        key = band_keys(sig[nodes], band, rows)
        a, b = bucket_pairs(key, nodes, max_bucket)
        if a.size:
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            keys_all.append(unique_sorted(lo * n + hi))
    if not keys_all:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    uniq = unique_sorted(np.concatenate(keys_all))
    return uniq // n, uniq % n


def band_keys(sig: np.ndarray, band: int, rows: int) -> np.ndarray:
    """The LSH bucket key of each signature row in `band` (uint64): rows whose `rows` values
    of the band agree share it (an engine groups by it to find the same candidates)."""
    block = sig[:, band * rows:(band + 1) * rows].astype(np.uint64)
    key = np.full(sig.shape[0], np.uint64(band), dtype=np.uint64)
    for r in range(rows):
        key = _mix(key ^ block[:, r])
    return key


def bucket_pairs(key: np.ndarray, members: np.ndarray,
                 max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of `members` that share a `key` value (buckets of one yield nothing)."""
    order = np.argsort(key, kind="stable")
    k_sorted = key[order]
    brk = np.ones(k_sorted.size + 1, dtype=bool)
    brk[1:-1] = k_sorted[1:] != k_sorted[:-1]
    starts = np.nonzero(brk)[0]
    sizes = np.diff(starts)
    multi = sizes >= 2
    return group_pairs(members[order], starts[:-1][multi], sizes[multi], max_bucket)


def exact_jaccard(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray,
                  chunk: int = 2_000_000) -> np.ndarray:
    """Exact Jaccard of ragged rows a[i], b[i] (values sorted and unique within each row).

    Vectorised: the smaller row of each pair is looked up in the other through one global
    sorted key array (row << 32 | value), so no Python runs per pair.
    """
    sizes = np.diff(offsets)
    swap = sizes[a] > sizes[b]
    small = np.where(swap, b, a)
    large = np.where(swap, a, b)
    keys = (np.repeat(np.arange(sizes.size, dtype=np.uint64), sizes) << np.uint64(32)) | \
        values.astype(np.uint64)
    inter = np.zeros(a.size, dtype=np.int64)
    n_small = sizes[small]
    cum = np.concatenate([[0], np.cumsum(n_small)])
    start = 0
    while start < a.size:
        stop = int(np.searchsorted(cum, cum[start] + chunk, side="right")) - 1
        stop = max(stop, start + 1)
        sel = slice(start, stop)
        lens = n_small[sel]
        pair_of = np.repeat(np.arange(start, stop, dtype=np.int64), lens)
        elem = np.repeat(offsets[:-1][small[sel]], lens) + _ranges(lens)
        q = (large[pair_of].astype(np.uint64) << np.uint64(32)) | values[elem].astype(np.uint64)
        pos = np.searchsorted(keys, q)
        pos[pos == keys.size] = 0
        hit = keys[pos] == q
        inter[start:stop] = np.bincount(pair_of[hit] - start, minlength=stop - start)
        start = stop
    union = sizes[a] + sizes[b] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0).astype(np.float32)
