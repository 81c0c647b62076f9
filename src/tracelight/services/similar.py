"""Use case: the ads closest to one ad in contacts, images and wording (`tracelight similar`).

Candidates come from the store (shared identifiers, identical pictures, the ad's network,
full-text matches on its rarer words); the pure linker's evidence ranks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracelight.kinds import STRONG
from tracelight.link.evidence import (
    MEDIUM,
    WEAK,
    Evidence,
    compare,
    shingle_set,
    shingle_sets,
    similarity_score,
)
from tracelight.link.features import LinkAd
from tracelight.link.text import cleaned_text
from tracelight.services.link import link_ads_of, stored_hubs
from tracelight.store import Store, StoredAd

# what a similarity score means (tracelight.link.evidence.similarity_score): said by the CLI's
# help and header and by docs/networks.md
SCORE_SCALE = ("score = points: +10 for each shared phone, email, handle or identical image; "
               "up to +5 for shared wording or template (5 x its similarity, 0-1), and for "
               "the same author or Bitcoin owner (5 x its confidence); up to +0.5 "
               "for each weak hint (writing style; same name and city within a week). 10 or "
               "more means at least one shared contact or image; below 10, resemblance only.")
STRONG_KINDS = STRONG  # identifiers that link ads (kinds.yaml: strong)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SimilarAd:
    """One ad resembling the asked-for ad, with the evidence that says why."""

    ad_id: str
    source: str
    score: float
    network_id: str | None
    reasons: list[dict[str, Any]] = field(default_factory=list)  # Evidence, less its ad ids
    title: str = ""
    posted_at: datetime | None = None
    location: str | None = None

    @property
    def ref(self) -> str:
        """The ad's public reference, SOURCE/ID (tracelight.services.adref)."""
        return f"{self.source}/{self.ad_id}"

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "ad_id": self.ad_id, "source": self.source,
                "score": self.score,
                "network_id": self.network_id, "reasons": self.reasons, "title": self.title,
                "posted_at": self.posted_at, "location": self.location}


def distinctive_words(ad: LinkAd, n: int = 10) -> list[str]:
    """Longer alphabetic words of the ad's own wording (contacts removed): rarer words make
    the full-text index return ads written from the same template."""
    words = {w for w in _WORD.findall(cleaned_text(ad.title, ad.body, ad.mentions))
             if len(w) >= 5 and w.isalpha()}
    return sorted(words, key=lambda w: (-len(w), w))[:n]


def _delta(a: Any) -> str:
    if a.via != "payment":
        return "its address is written in the ad"
    return (f"paid {a.delay_s / 60:.1f} min before posting, ${a.diff_usd:+.2f} from the price, "
            f"{a.candidates} candidate payment(s)")


def external_reasons(store: Store, ad: StoredAd, limit: int) -> dict[int, list[Evidence]]:
    """Author and wallet-owner evidence between `ad` and other stored ads, by their pk."""
    from tracelight.services.authorship import author_detail

    out: dict[int, list[Evidence]] = {}
    for x in store.author_links_of(ad.pk, limit):
        other = x.ad_b_pk if x.ad_a_pk == ad.pk else x.ad_a_pk
        out.setdefault(other, []).append(Evidence(
            "author", author_detail(x.matched), MEDIUM if x.linkable else WEAK, (), x.score))
    mine = store.btc_attributions(ad_pks=[ad.pk])
    if mine:
        me = mine[0]
        theirs = [a for a in store.btc_attributions(owner=me.owner) if a.ad_pk != ad.pk]
        for a in theirs[:limit]:
            strong_enough = me.strength == a.strength == "medium"
            out.setdefault(a.ad_pk, []).append(Evidence(
                "wallet_owner", f"paid for by Bitcoin owner {me.owner} ({len(theirs) + 1} ads); "
                f"this ad: {_delta(me)}; that ad: {_delta(a)}",
                MEDIUM if strong_enough else WEAK, (), min(me.confidence, a.confidence)))
    return out


def similar_ads(store: Store, ad: StoredAd, *, k: int = 20,
                candidates_per_source: int = 100) -> list[SimilarAd]:
    """The ads closest to `ad` in contacts, images and wording, each with its reasons."""
    (target,) = link_ads_of(store, [ad], {ad.pk: ad.ad_id})
    cands: dict[int, None] = {}
    for pk in store.ads_sharing_entities(ad.pk, STRONG_KINDS, candidates_per_source):
        cands[pk] = None
    for pk in store.ads_sharing_images(ad.pk, candidates_per_source):
        cands[pk] = None
    net = store.network_id_of(ad.pk)
    if net:
        for pk in store.member_pks(net, candidates_per_source):
            cands[pk] = None
    for pk in store.ads_with_words(distinctive_words(target), ad.pk, 50):
        cands[pk] = None
    external = external_reasons(store, ad, candidates_per_source)
    for pk in external:
        cands[pk] = None
    cands.pop(ad.pk, None)
    pks = list(cands)
    stored = {a.pk: a for a in store.get_ads_by_pks(pks)}
    keys = {pk: stored[pk].ad_id for pk in pks if pk in stored}
    hubs = {(h.kind, h.value) for h in stored_hubs(store) if h.kind != "sentence"}
    nets = store.network_ids_of(pks)
    mine = shingle_set(target)
    by_key = {key: pk for pk, key in keys.items()}
    rows: list[SimilarAd] = []
    cand_ads = link_ads_of(store, list(stored.values()), keys)
    for cand, theirs in zip(cand_ads, shingle_sets(cand_ads), strict=True):
        ev = compare(target, cand, a_shingles=mine, b_shingles=theirs, hubs=hubs, style=False)
        # writing style is the costliest reason: only weighed for ads already related
        pk = by_key[cand.key]
        if ev:
            ev += [e for e in compare(target, cand, a_shingles=mine, b_shingles=theirs,
                                      hubs=hubs) if e.kind == "style"]
        ev += external.get(pk, [])
        if not ev:
            continue
        reasons = [{k: v for k, v in e.to_dict().items() if k != "ad_ids"} for e in ev]
        rows.append(SimilarAd(ad_id=cand.key, source=stored[pk].source,
                              score=similarity_score(ev), network_id=nets.get(pk),
                              reasons=reasons, title=cand.title, posted_at=cand.posted_at,
                              location=cand.location))
    rows.sort(key=lambda r: (-r.score, r.ad_id))
    return rows[:k]
