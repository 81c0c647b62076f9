"""Use cases of the authorship model: train it, evaluate it on authors never seen, and link
stored ads that one person probably wrote (stored as author links with the habits that agree).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelight.authorship.evaluate import Evaluation, evaluate, train
from tracelight.authorship.features import featurise
from tracelight.authorship.model import AuthorModel, Corpus, ModelFormatError, candidate_pairs
from tracelight.blobs import ImageRefused, read_regular_file
from tracelight.demo.authors import generate
from tracelight.errors import InputError, UsageError
from tracelight.link.external import ExternalEdge
from tracelight.store import AdFilter, Store
from tracelight.store.authorship import AuthorLink

MAX_MODEL_BYTES = 1_000_000
MAX_LINK_ADS = 200_000


@dataclass(frozen=True, slots=True)
class TrainResult:
    path: str
    ads: int
    authors: int
    threshold: float
    evaluation: Evaluation


@dataclass(frozen=True, slots=True)
class LinkResult:
    ads: int
    candidate_pairs: int
    links: int
    threshold: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"ads": self.ads, "candidate_pairs": self.candidate_pairs, "links": self.links,
                "threshold": round(self.threshold, 4), "seconds": round(self.seconds, 2),
                "ads_per_s": round(self.ads / self.seconds, 1) if self.seconds else None}


@dataclass(frozen=True, slots=True)
class SameAuthor:
    ad_id: str
    source: str
    score: float
    matched: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"ad_id": self.ad_id, "source": self.source, "score": round(self.score, 3),
                "strength": "medium", "matched": "; ".join(self.matched)}


def synthetic(n_authors: int, seed: int) -> tuple[list[str], list[str]]:
    ads = generate(n_authors, singletons=n_authors, seed=seed)
    return [f"{a.title}\n{a.body}" for a in ads], [a.author for a in ads]


def train_model(out: Path, *, n_authors: int = 300, seed: int = 7) -> TrainResult:
    """Train on synthetic authors (seed), evaluate on others (seed + 1000), save as JSON."""
    if n_authors < 10:
        raise UsageError(f"--authors must be at least 10, got {n_authors}")
    texts, authors = synthetic(n_authors, seed)
    model = train(texts, authors, seed=seed)
    t_texts, t_authors = synthetic(max(n_authors // 2, 10), seed + 1000)
    ev = evaluate(model, t_texts, t_authors, seed=seed)
    model.stats.update({"tpr_at_1pct": ev.tpr_at_1pct, "tpr_at_01pct": ev.tpr_at_01pct,
                        "r_precision": ev.r_precision, "train_seed": seed})
    try:
        out.write_text(model.to_json(), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the model to {out}: {exc.strerror}") from None
    return TrainResult(str(out), len(texts), len(set(authors)), model.threshold, ev)


def load_model(path: Path) -> AuthorModel:
    try:
        data = read_regular_file(path, MAX_MODEL_BYTES)
    except ImageRefused as exc:
        raise InputError(f"cannot read the model {path}: {exc.reason}") from None
    try:
        return AuthorModel.from_json(data.decode("utf-8", errors="replace"))
    except ModelFormatError as exc:
        raise InputError(f"{path}: {exc}") from None


def evaluate_model(path: Path, *, n_authors: int = 150, seed: int = 11) -> Evaluation:
    """The saved model on synthetic authors it never saw (seed)."""
    model = load_model(path)
    texts, authors = synthetic(n_authors, seed)
    return evaluate(model, texts, authors, seed=seed)


def link_stored(store: Store, model_path: Path, *, min_score: float | None = None,
                limit: int = MAX_LINK_ADS, source: str | None = None) -> LinkResult:
    """Score candidate pairs of stored ads (of `source` only, when given) and replace the
    stored author links with those at or over the model's threshold (chosen for <= 1% FPR) or
    `min_score`."""
    model = load_model(model_path)
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise UsageError(f"--min-score must be between 0 and 1, got {min_score}")
    t0 = time.perf_counter()
    pks: list[int] = []
    texts: list[str] = []
    for ad in store.iter_ads(AdFilter(source=source) if source else None, limit=limit):
        pks.append(ad.pk)
        texts.append(f"{ad.title}\n{ad.body}" if ad.title else ad.body)
    corpus = Corpus.of(featurise(texts))
    cands = candidate_pairs(corpus.style, x=corpus.weighted)
    scored = model.score_pairs(corpus, cands, min_score)
    n = store.replace_author_links([AuthorLink(pks[s.i], pks[s.j], s.score, s.matched,
                                               s.score >= model.threshold) for s in scored])
    return LinkResult(len(pks), len(cands), n,
                      model.threshold if min_score is None else min_score,
                      time.perf_counter() - t0)


def same_author(store: Store, ad_id: str, source: str | None = None,
                limit: int = 50) -> list[SameAuthor]:
    """Stored ads linked to AD by the authorship model, strongest first."""
    ad = store.get_ad(ad_id, source)  # NotFoundError when there is no such ad
    links = store.author_links_of(ad.pk, limit)
    others = [x.ad_b_pk if x.ad_a_pk == ad.pk else x.ad_a_pk for x in links]
    refs = store.ad_refs(others)
    out = []
    for x, pk in zip(links, others, strict=True):
        src, aid = refs.get(pk, ("", str(pk)))
        out.append(SameAuthor(aid, src, x.score, x.matched))
    return out


def author_edges(store: Store, key_of: Mapping[int, str]) -> list[ExternalEdge]:
    """The stored author links at or over the model's <= 1%-FPR threshold, as medium edges
    for the linker (ads not in `key_of`, pk -> ad key, are left out)."""
    out = []
    for x in store.iter_author_links(linkable_only=True):
        a, b = key_of.get(x.ad_a_pk), key_of.get(x.ad_b_pk)
        if a is not None and b is not None:
            out.append(ExternalEdge(a, b, "author", x.score, author_detail(x.matched)))
    return out


def author_detail(matched: tuple[str, ...] | list[str]) -> str:
    return "; ".join(matched) or "same writing style"


def model_summary(path: Path) -> dict[str, Any]:
    m = load_model(path)
    return {"threshold": m.threshold, **{k: v for k, v in m.stats.items()
                                         if isinstance(v, int | float | str)}}


def dumps_eval(ev: Evaluation) -> str:
    return json.dumps({r["metric"]: r["value"] for r in ev.rows()}, allow_nan=False)
