"""Features of one ad: which indicators fire, each with the evidence that made it fire.

Input is plain data — an AdRecord and the Mentions extraction found in it (kinds phone, email,
age, price, location, name, ...; `obfuscated` set on hidden contacts) — plus optional corpus
statistics and network facts. Output is an AdFeatures: indicator code -> hits with spans.
Pure: no database, web or CLI imports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from tracelight.records import AdRecord, Evidence, Mention
from tracelight.score.catalogue import Catalogue, load_catalogue
from tracelight.score.matcher import fold, words_of
from tracelight.score.stats import (
    CHEAP_FRACTION,
    HIGH_VOLUME_ADS,
    MANY_NAMES,
    CorpusStats,
    city_of,
    hourly_rate,
)

TEXT_FIELDS = ("title", "body", "url")
_FIELD_SEP = "\nqqqqqq\n"  # a word in no phrase: matches never run from one field into the next
NETWORK_MIN_SIZE = 5
NETWORK_MIN_CITIES = 3

_THIRD_WORDS = ("she", "her", "hers", "herself")
_FIRST_WORDS = ("i", "me", "my", "mine", "myself", "im")
_THIRD = re.compile(r"\b(?:she|her|hers|herself)\b")


class Hit(NamedTuple):
    code: str
    evidence: Evidence
    detail: str = ""


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """What the linker knows about the network an ad belongs to (optional input)."""

    network_id: str
    size: int
    cities: int = 1


@dataclass
class AdFeatures:
    ad_id: str
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    text: str = ""  # folded title + body, for text models

    def add(self, hit: Hit) -> None:
        self.hits.setdefault(hit.code, []).append(hit)

    @property
    def fired(self) -> set[str]:
        return set(self.hits)


def _field_text(record: AdRecord, name: str) -> str:
    if name == "title":
        return record.title
    if name == "body":
        return record.body
    if name == "url":
        return record.url or ""
    return ""


def _mention_evidence(record: AdRecord, m: Mention) -> Evidence:
    # the span as it stands in the field; OCR'd image text has no field text, so the raw form
    source = _field_text(record, m.field)
    text = source[m.start:m.end] if source else ""
    return Evidence(m.field, m.start, m.end, text or m.raw or m.value)


def _age(value: str) -> int | None:
    """A stated age; a range ("16-25", several people) counts by its youngest end."""
    try:
        return int(float(value.split("-", 1)[0] if value[1:].count("-") == 1 else value))
    except (TypeError, ValueError):
        return None


def extract_features(record: AdRecord, mentions: Sequence[Mention], *,
                     catalogue: Catalogue | None = None, stats: CorpusStats | None = None,
                     network: NetworkInfo | None = None) -> AdFeatures:
    """All indicator hits for one ad. Corpus and network indicators need `stats` / `network`."""
    cat = catalogue or load_catalogue()
    feats = AdFeatures(ad_id=record.id)
    # Title, body and URL are folded and matched as ONE text (one pass instead of three),
    # joined by a sentinel word that no phrase contains, so no phrase runs across fields.
    # Offsets are mapped back to each field afterwards.
    fields = [(name, raw) for name in TEXT_FIELDS if (raw := _field_text(record, name))]
    joined = _FIELD_SEP.join(raw for _n, raw in fields)
    folded = fold(joined)
    bounds = []
    pos = 0
    for name, raw in fields:
        bounds.append((pos, pos + len(raw), name, raw))
        pos += len(raw) + len(_FIELD_SEP)
    for m in cat.matcher.find_folded(folded):
        for lo, hi, name, raw in bounds:
            if lo <= m.start < hi:
                s, e = m.start - lo, min(m.end, hi) - lo
                feats.add(Hit(m.key, Evidence(name, s, e, raw[s:e]), m.detail))
                break
    folded_body = ""
    text_parts = []
    for lo, hi, name, _raw in bounds:
        if name == "body":
            folded_body = folded[lo:hi]
        if name != "url":
            text_parts.append(folded[lo:hi])
    feats.text = "\n".join(text_parts)
    _third_person(record, folded_body, feats)
    _mention_features(record, mentions, feats)
    if stats is not None:
        _corpus_features(record, mentions, stats, feats)
    if network is not None:
        _network_features(network, feats)
    return feats


def _third_person(record: AdRecord, folded: str, feats: AdFeatures) -> None:
    # Counting runs in C (split + list.count); the regex only runs to place the evidence span
    # in the few ads where the indicator fires.
    if not folded or ("she" not in folded and "her" not in folded):
        return
    words = words_of(folded)
    third = sum(words.count(w) for w in _THIRD_WORDS)
    if third < 2:
        return
    first = sum(words.count(w) for w in _FIRST_WORDS)
    if third > first:
        m = _THIRD.search(folded)
        if m is None:
            return
        feats.add(Hit("third_person_language",
                      Evidence("body", m.start(), m.end(), record.body[m.start():m.end()]),
                      f"{third} third-person vs {first} first-person words"))


def _mention_features(record: AdRecord, mentions: Sequence[Mention], feats: AdFeatures) -> None:
    for m in mentions:
        if m.kind == "age":
            age = _age(m.value)
            if age is None:
                continue
            if age < 18:
                feats.add(Hit("stated_age_under_18", _mention_evidence(record, m),
                              f"stated age {age}"))
            elif age <= 22:
                feats.add(Hit("stated_age_18_to_22", _mention_evidence(record, m),
                              f"stated age {age}"))
        elif m.obfuscated and m.kind == "phone":
            feats.add(Hit("obscured_phone", _mention_evidence(record, m),
                          f"phone {m.value} written to evade search"))
        elif m.obfuscated and m.kind == "email":
            feats.add(Hit("obscured_email", _mention_evidence(record, m),
                          f"email {m.value} written to evade search"))


def _corpus_features(record: AdRecord, mentions: Sequence[Mention], stats: CorpusStats,
                     feats: AdFeatures) -> None:
    city = city_of(record, mentions)
    seen: set[str] = set()
    for m in mentions:
        if m.kind == "price" and city:
            rate = hourly_rate(m.value)
            if rate is not None:
                median = stats.median_rate(city, rate[1])
                if median and rate[0] < CHEAP_FRACTION * median \
                        and "price_below_local_median" not in feats.hits:
                    feats.add(Hit("price_below_local_median", _mention_evidence(record, m),
                                  f"{rate[0]:.0f} {rate[1]}/hour vs local median "
                                  f"{median:.0f} in {city}"))
        if m.kind not in ("phone", "email") or m.value in seen:
            continue
        seen.add(m.value)
        if m.kind == "phone":
            names = stats.names_for(m.value)
            if len(names) >= MANY_NAMES and "phone_many_names" not in feats.hits:
                shown = ", ".join(sorted(names)[:5])
                feats.add(Hit("phone_many_names", _mention_evidence(record, m),
                              f"phone {m.value} used with {len(names)} names: {shown}"))
            ads = stats.ads_for(m.value)
            if ads >= HIGH_VOLUME_ADS and "high_posting_volume" not in feats.hits:
                feats.add(Hit("high_posting_volume", _mention_evidence(record, m),
                              f"phone {m.value} in {ads} ads"))
        circuit = stats.circuit(m.value)
        if circuit is not None and "many_cities_short_time" not in feats.hits:
            feats.add(Hit("many_cities_short_time", _mention_evidence(record, m),
                          f"{m.value} seen in {circuit[0]} cities within {circuit[1]} days"))


def _network_features(network: NetworkInfo, feats: AdFeatures) -> None:
    if network.size >= NETWORK_MIN_SIZE:
        text = f"network {network.network_id}: {network.size} ads"
        feats.add(Hit("network_size", Evidence("network", 0, 0, text), text))
    if network.cities >= NETWORK_MIN_CITIES:
        text = f"network {network.network_id}: {network.cities} cities"
        feats.add(Hit("network_spread", Evidence("network", 0, 0, text), text))
