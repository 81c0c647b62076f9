"""One ad in, every entity out: the pure function `ingest` stores and `tracelight extract` prints.

`extract_record(record, region)` reads the title, the body, the ad's URL (phones hidden in
slugs) and its location field, and returns an `Extraction`: mentions with spans into the
original text of each field, plus the per-kind summary of the JSON contract (docs/extraction.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from tracelight import kinds as entity_kinds
from tracelight.extract.interface import Context
from tracelight.extract.normalize import fold
from tracelight.extract.places import phone_region
from tracelight.extract.regions import RegionPlan, plan_for, text_hints
from tracelight.extract.registry import EXTRACTORS
from tracelight.records import AdRecord, Mention

KINDS = entity_kinds.KINDS  # declared in kinds.yaml, in the order mentions of one span list
_FIELD_ORDER = {"title": 0, "body": 1, "url": 2, "location": 3}
_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}
# kinds whose spans are taken whole (crypto addresses: their digits are no phone or price)
_CLAIMING = frozenset(k for ex in EXTRACTORS if ex.claims_span for k in ex.kinds)


def _find(text: str, region: str, want: frozenset[str], lenient: bool = False,
          field: str = "body", plan: RegionPlan | None = None) -> list[Mention]:
    """Every registered extractor that reads a wanted kind, over one text; spans index `text`."""
    ctx = Context.of(text, region=region, field=field, kinds=want, lenient=lenient, plan=plan)
    out: list[Mention] = []
    if plan is not None and "phone" in want:
        # large cities named in the title or body: the least trusted evidence of the country
        # a national phone number belongs to (regions.py)
        hints = text_hints(ctx.low, ctx.words)
        if hints:
            ctx = replace(ctx, plan=plan.with_text(hints))
    for ex in EXTRACTORS:
        if not want.isdisjoint(ex.kinds):
            out += ex.extract(text, ctx)
    out = arbitrate(out, len(text))
    out.sort(key=lambda m: (m.start, _KIND_ORDER[m.kind], m.end))
    return out


# Trust of the kinds that read the same digits: a crypto address (claimed whole), then a
# valid phone, then a price (a currency or a unit binds it), then an age.
_TRUST = ("phone", "price", "age")
_BEATEN_BY = {"phone": frozenset({"price", "age", "age_review"}),
              "price": frozenset({"age", "age_review"})}


def arbitrate(found: list[Mention], length: int) -> list[Mention]:
    """One arbitration step over overlapping candidates of all kinds (issue 13).

    Digits inside a span an extractor claims (crypto) are part of it: every other mention
    overlapping it goes. Then a valid phone explains its digits better than a price or an
    age read from its groups (`115 hour 404-555-0143` gives no 404/hour), and a price bound
    by a currency or a unit better than an age. Each level is a mask of what its mentions
    cover, one byte a character, so a check costs the span's length, never one comparison
    per other mention: linear in the text and the mentions.
    """
    levels: list[tuple[frozenset[str], frozenset[str] | None]] = [(_CLAIMING, None)]
    levels += [(frozenset({k}), _BEATEN_BY[k]) for k in _TRUST if k in _BEATEN_BY]
    out = found
    for winners, losers in levels:
        spans = [(m.start, m.end) for m in out if m.kind in winners]
        if not spans:
            continue
        covered = bytearray(length)
        for s, e in spans:
            covered[s:e] = b"\x01" * (e - s)
        out = [m for m in out if m.kind in winners or (losers is not None and
                                                      m.kind not in losers)
               or covered.find(1, m.start, m.end) < 0]
    return out


def _moved(found: Iterable[Mention], field: str, text: str, shift: int) -> list[Mention]:
    """Mentions found in a joined text, re-based onto one of its parts."""
    return [Mention(kind=m.kind, value=m.value, field=field, start=m.start - shift,
                    end=m.end - shift, obfuscated=m.obfuscated,
                    raw=text[m.start - shift:m.end - shift], region=m.region,
                    region_why=m.region_why) for m in found]


def extract_text(text: str, field: str = "body", region: str = "US", *,
                 kinds: Iterable[str] = KINDS) -> list[Mention]:
    """Mentions found in one piece of text (a title, a body, OCR text of "image:N").

    Spans index `text` exactly as given: ``text[m.start:m.end] == m.raw``.
    """
    if not text:
        return []
    region = (region or "US").upper()
    return _find(text, region, frozenset(kinds), field == "location", field)


@lru_cache(maxsize=4096)
def _location_hits(location: str, region: str) -> tuple[Mention, ...]:
    # location fields repeat ("Seattle, WA") across thousands of ads
    return tuple(_find(location, region, frozenset({"location"}), True, "location"))


# Title and body are read as one text with a separator no reader crosses (records never hold
# NUL): one pass instead of two halves the fixed cost per ad.
_JOIN = "\n\x00\n"
_PHONE_EMAIL = frozenset({"phone", "email"})  # what an ad's URL may hide in its slug
_ALL = frozenset(KINDS)


@dataclass
class Extraction:
    """Everything read from one ad. `mentions` are in field order, then text order."""

    mentions: list[Mention] = field(default_factory=list)
    # social/payment value -> the handle as first written ("cashapp:name12" -> "$Name12")
    written: dict[str, str] = field(default_factory=dict)

    def values(self, kind: str) -> list[str]:
        """Distinct values of one kind, in order of first appearance."""
        seen: dict[str, None] = {}
        for m in self.mentions:
            if m.kind == kind:
                seen.setdefault(m.value, None)
        return list(seen)

    @property
    def obfuscated_phone(self) -> bool:
        return any(m.kind == "phone" and m.obfuscated for m in self.mentions)

    def to_dict(self, ad_id: str) -> dict[str, Any]:
        """The JSON object `tracelight extract` prints for one ad (docs/extraction.md)."""

        def split(kind: str, a: str, b: str) -> list[dict[str, str]]:
            out = []
            for v in self.values(kind):
                left, _, right = v.partition(":")
                out.append({a: left, b: self.written.get(v, right)})
            return out

        prices = []
        for v in self.values("price"):
            amount, _, rest = v.partition(" ")
            cur, _, minutes = rest.partition("/")
            prices.append({"amount": int(amount), "currency": cur,
                           "minutes": int(minutes) if minutes else None})
        locations = []
        for v in self.values("location"):
            parts = [p.strip() for p in v.split(",")]
            city, region, country = ([*parts, "", "", ""])[:3] if len(parts) == 3 else (
                parts[0], "", parts[-1])
            locations.append({"city": city, "region": region, "country": country})
        phones = self.values("phone")
        read_for: dict[str, tuple[str, str]] = {}
        for m in self.mentions:
            if m.kind == "phone" and m.region_why:
                read_for.setdefault(m.value, (m.region, m.region_why))
        phone_regions = []
        for p in phones:
            desc, cc = phone_region(p)
            entry: dict[str, str] = {"phone": p, "region": desc, "country": cc}
            if p in read_for:  # the country it was read for, and the evidence (regions.py)
                entry["read_for"], entry["why"] = read_for[p]
            phone_regions.append(entry)
        return {
            "id": ad_id,
            "phones": phones,
            "emails": self.values("email"),
            "urls": self.values("url"),
            "social": split("social", "platform", "handle"),
            "payment_handles": split("payment", "service", "handle"),
            "crypto": split("crypto", "currency", "address"),
            # a number, or "low-high" for a range kept as a range ("18-35")
            "ages": [int(a) if a.isdecimal() else a for a in self.values("age")],
            "prices": prices,
            "locations": locations,
            "names": self.values("name"),
            "obfuscated_phone": self.obfuscated_phone,
            "phone_regions": phone_regions,
            # ages under 18 told in narrative ("when I was about 16"): for review, not stated
            "ages_to_review": [int(a) for a in self.values("age_review") if a.isdecimal()],
            "mentions": [m.to_dict() for m in self.mentions],
        }


def extract_record(record: AdRecord, region: str = "US") -> Extraction:
    """Read every entity from an ad's title, body, URL and location field."""
    region = (region or "US").upper()
    title, body = record.title, record.body
    # the countries a national phone number may belong to, most trusted first (regions.py)
    plan = plan_for(region, record.location, record.url)
    mentions: list[Mention] = []
    if title and body:
        joined = title + _JOIN + body
        cut = len(title) + len(_JOIN)
        found = _find(joined, region, _ALL, plan=plan)
        mentions += _moved((m for m in found if m.end <= len(title)), "title", title, 0)
        mentions += _moved((m for m in found if m.start >= cut), "body", body, cut)
    elif title or body:
        mentions += _find(title or body, region, _ALL, field="title" if title else "body",
                          plan=plan)
    if record.url:
        mentions += _find(record.url, region, _PHONE_EMAIL, field="url", plan=plan)
    if record.location:
        mentions += _location_hits(record.location, region)
    return Extraction(mentions, _written(mentions))


def _written(mentions: list[Mention]) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in mentions:
        if m.kind in ("social", "payment") and m.value not in out:
            handle = m.value.partition(":")[2]
            raw = fold(m.raw)
            k = raw.lower().rfind(handle)
            if k >= 0:
                start = k - 1 if k > 0 and raw[k - 1] == "$" else k
                out[m.value] = raw[start:k + len(handle)]
    return out
