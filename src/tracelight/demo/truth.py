"""The ground truth written next to the demo ads, and the measures derived from it.

truth.jsonl has one object per ad, in the order of ads.jsonl (see docs/demo.md). The helpers
here let benchmarks read it back and compute the planted pairs, without knowing how the
generator works.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

TRUTH_FIELDS = ("id", "network_id", "phones", "image_phones", "emails", "social",
                "payment_handles", "crypto", "ages", "names", "prices", "city", "region",
                "country", "obfuscated_phone", "label", "traps", "indicators", "hub_phones",
                "phone_text", "images")


def load_truth(path: str | Path) -> list[dict[str, Any]]:
    """truth.jsonl (or the folder holding it) as a list of dicts, in ad order."""
    p = Path(path)
    if p.is_dir():
        p = p / "truth.jsonl"
    with p.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def networks(truth: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """network_id -> member ad ids (independent ads are in no network)."""
    out: dict[str, list[str]] = defaultdict(list)
    for t in truth:
        if t["network_id"] is not None:
            out[t["network_id"]].append(t["id"])
    return dict(out)


def planted_pairs(truth: Iterable[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """Every unordered pair of ads (a, b) with a < b that the corpus plants in one network."""
    for ids in networks(truth).values():
        yield from combinations(sorted(ids), 2)


def pairwise_scores(truth: list[dict[str, Any]], predicted: Iterable[Iterable[str]]
                    ) -> dict[str, float]:
    """Pairwise precision/recall/F1 of predicted clusters (lists of ad ids) against the truth."""
    gold = {t["id"]: t["network_id"] for t in truth}
    tp = fp = 0
    for cluster in predicted:
        ids = sorted(set(cluster))
        for a, b in combinations(ids, 2):
            if gold.get(a) is not None and gold.get(a) == gold.get(b):
                tp += 1
            else:
                fp += 1
    total = sum(1 for _ in planted_pairs(truth))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / total if total else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": float(total)}


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _keys(t: dict[str, Any], with_images: bool) -> list[str]:
    hubs = set(t.get("hub_phones", []))
    phones = t["phones"] + (t["image_phones"] if with_images else [])
    keys = [f"phone:{p}" for p in phones if p not in hubs]
    keys += [f"email:{e}" for e in t["emails"]]
    keys += [f"social:{s['platform']}:{s['handle'].lower()}" for s in t["social"]]
    keys += [f"pay:{p['service']}:{p['handle'].lower()}" for p in t["payment_handles"]]
    keys += [f"crypto:{c['address']}" for c in t["crypto"]]
    if with_images:
        keys += [f"image:{i['source']}" for i in t.get("images", [])]
    return keys


def identifier_linking(truth: list[dict[str, Any]], *, with_images: bool = False
                       ) -> dict[str, float]:
    """P/R of linking on *perfectly extracted* identifiers (site hub phones ignored).

    This is the ceiling contact-based linking can reach on the corpus; wording has to carry
    the rest. `with_images` adds perfect near-duplicate image matching.
    """
    uf = _UnionFind()
    for t in truth:
        uf.find("ad:" + t["id"])
        for k in _keys(t, with_images):
            uf.union("ad:" + t["id"], k)
    clusters: dict[str, list[str]] = defaultdict(list)
    for t in truth:
        clusters[uf.find("ad:" + t["id"])].append(t["id"])
    return pairwise_scores(truth, clusters.values())


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
