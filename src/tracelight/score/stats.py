"""Corpus statistics that some indicators need: local price medians, names per phone,
cities per identifier over time, ads per phone.

Built in one pass over a batch or a store (`CorpusStats.build(pairs)` or `add()` one ad at a
time), then read in O(1) per ad while scoring. Plain data: `to_dict()` / `from_dict()` let a
caller keep it next to a model or in the database.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracelight.records import AdRecord, Mention

# Thresholds, documented in docs/risk.md.
MIN_CITY_PRICES = 5          # fewer prices than this in a city: no local median, no signal
CHEAP_FRACTION = 0.5         # an hourly rate under half the local median is "far below"
MANY_NAMES = 3               # one phone with this many different names
CIRCUIT_CITIES = 3           # this many cities ...
CIRCUIT_DAYS = 30            # ... within this many days
HIGH_VOLUME_ADS = 10         # a phone in this many ads

_DURATION_MIN = {
    "qk": 15, "qv": 15, "quick": 15, "hh": 30, "hhr": 30, "half": 30, "hr": 60, "h": 60,
    "hour": 60, "fh": 60, "ss": 30, "ov": 600, "overnight": 600, "night": 600,
}
_NUM = re.compile(r"\d+(?:\.\d+)?")


def parse_price(value: str) -> tuple[float, str, int] | None:
    """(amount, currency, minutes) from a price mention's value, or None.

    Accepts the extraction helper's normalised forms ("150 USD/60", "150 USD 60min",
    "150|USD|30", JSON-ish "amount=150 currency=USD minutes=30") and falls back on the first
    number as amount per hour. Unparseable values give None (no price signal, never an error).
    """
    if not value:
        return None
    text = value.lower()
    nums = _NUM.findall(text)
    if not nums:
        return None
    amount = float(nums[0])
    if amount <= 0:
        return None
    cur_m = re.search(r"\b([a-z]{3})\b", text.replace("min", " "))
    currency = cur_m.group(1).upper() if cur_m and cur_m.group(1) not in _DURATION_MIN else "USD"
    minutes = 60
    if len(nums) > 1:
        try:
            minutes = max(1, int(float(nums[1])))
        except ValueError:
            minutes = 60
    else:
        for word, mins in _DURATION_MIN.items():
            if re.search(rf"\b{word}\b", text):
                minutes = mins
                break
    return amount, currency, minutes


def hourly_rate(value: str) -> tuple[float, str] | None:
    parsed = parse_price(value)
    if parsed is None:
        return None
    amount, currency, minutes = parsed
    return amount * 60.0 / minutes, currency


def city_of(record: AdRecord, mentions: Sequence[Mention]) -> str | None:
    """The ad's city, lower-cased: the record's location, else the first location mention."""
    if record.location and record.location.strip():
        return " ".join(record.location.lower().split())
    for m in mentions:
        if m.kind == "location" and m.value:
            return " ".join(m.value.lower().split())
    return None


@dataclass
class CorpusStats:
    n_ads: int = 0
    rates: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    phone_names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    phone_ads: Counter[str] = field(default_factory=Counter)
    # identifier -> [(unix day, city)]: phones and emails seen with a city and a date
    sightings: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    _medians: dict[str, float] | None = field(default=None, repr=False)
    _circuits: dict[str, tuple[int, int]] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, pairs: Iterable[tuple[AdRecord, Sequence[Mention]]]) -> CorpusStats:
        stats = cls()
        for record, mentions in pairs:
            stats.add(record, mentions)
        return stats

    def add(self, record: AdRecord, mentions: Sequence[Mention]) -> None:
        self._medians = None
        self._circuits = None
        self.n_ads += 1
        city = city_of(record, mentions)
        phones = {m.value for m in mentions if m.kind == "phone" and m.value}
        emails = {m.value for m in mentions if m.kind == "email" and m.value}
        names = {m.value.lower() for m in mentions if m.kind == "name" and m.value}
        for phone in phones:
            self.phone_ads[phone] += 1
            self.phone_names[phone].update(names)
        if city:
            for m in mentions:
                if m.kind == "price":
                    rate = hourly_rate(m.value)
                    if rate is not None:
                        self.rates[f"{city}|{rate[1]}"].append(rate[0])
            if record.posted_at is not None:
                day = int(record.posted_at.timestamp() // 86400)
                for ident in phones | emails:
                    self.sightings[ident].append((day, city))

    # -- lookups -------------------------------------------------------------------------------
    def median_rate(self, city: str, currency: str) -> float | None:
        if self._medians is None:
            self._medians = {k: statistics.median(v) for k, v in self.rates.items()
                             if len(v) >= MIN_CITY_PRICES}
        return self._medians.get(f"{city}|{currency}")

    def names_for(self, phone: str) -> set[str]:
        return self.phone_names.get(phone, set())

    def ads_for(self, phone: str) -> int:
        return self.phone_ads.get(phone, 0)

    def circuit(self, ident: str) -> tuple[int, int] | None:
        """(distinct cities, days spanned) of the densest 30-day window, when it is a circuit."""
        if self._circuits is None:
            self._circuits = {}
            for key, seen in self.sightings.items():
                found = _densest_window(seen)
                if found is not None:
                    self._circuits[key] = found
        return self._circuits.get(ident)

    # -- persistence -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "n_ads": self.n_ads,
            "rates": dict(self.rates),
            "phone_names": {k: sorted(v) for k, v in self.phone_names.items()},
            "phone_ads": dict(self.phone_ads),
            "sightings": {k: [list(x) for x in v] for k, v in self.sightings.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusStats:
        stats = cls(n_ads=int(data.get("n_ads", 0)))
        for k, v in data.get("rates", {}).items():
            stats.rates[k] = [float(x) for x in v]
        for k, v in data.get("phone_names", {}).items():
            stats.phone_names[k] = set(v)
        stats.phone_ads.update(data.get("phone_ads", {}))
        for k, v in data.get("sightings", {}).items():
            stats.sightings[k] = [(int(d), str(c)) for d, c in v]
        return stats


def _densest_window(seen: list[tuple[int, str]]) -> tuple[int, int] | None:
    if len(seen) < CIRCUIT_CITIES or len({c for _, c in seen}) < CIRCUIT_CITIES:
        return None
    ordered = sorted(seen)
    best: tuple[int, int] | None = None
    lo = 0
    counts: Counter[str] = Counter()
    for day, city in ordered:
        counts[city] += 1
        while day - ordered[lo][0] > CIRCUIT_DAYS:
            old = ordered[lo][1]
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
            lo += 1
        if len(counts) >= CIRCUIT_CITIES and (best is None or len(counts) > best[0]):
            best = (len(counts), day - ordered[lo][0])
    return best
