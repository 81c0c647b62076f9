"""One ad in, every entity out: the pure function `ingest` stores and `tracelight extract` prints.

`extract_record(record, region)` reads the title, the body, the ad's URL (phones hidden in
slugs) and its location field, and returns an `Extraction`: mentions with spans into the
original text of each field, plus the per-kind summary of the JSON contract (docs/extraction.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tracelight.extract.ages import find_ages
from tracelight.extract.crypto import find_crypto
from tracelight.extract.emails import find_emails
from tracelight.extract.handles import find_urls_and_handles
from tracelight.extract.names import find_names
from tracelight.extract.normalize import fold, lower, word_set
from tracelight.extract.phones import find_phones
from tracelight.extract.places import find_places, phone_region
from tracelight.extract.prices import find_prices
from tracelight.records import AdRecord, Mention

KINDS = ("phone", "email", "url", "social", "payment", "crypto", "age", "price", "location",
         "name")
_FIELD_ORDER = {"title": 0, "body": 1, "url": 2, "location": 3}


# (kind, value, start, end, obfuscated): what the readers find, before it becomes a Mention
_Hit = tuple[str, str, int, int, bool]
_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def _find(text: str, region: str, want: frozenset[str], lenient: bool = False) -> list[_Hit]:
    """Every reader over one text; spans index `text`."""
    folded = fold(text)
    low = lower(folded)
    words = word_set(low)
    out: list[_Hit] = []
    if "phone" in want:
        out += [("phone", h.e164, h.start, h.end, h.obfuscated)
                for h in find_phones(text, folded, region, low, words)]
    if "email" in want:
        out += [("email", h.value, h.start, h.end, h.obfuscated)
                for h in find_emails(text, folded, low)]
    if want & {"url", "social", "payment"}:
        for h in find_urls_and_handles(folded, low, words):
            if h.kind not in want:
                continue
            # handles are case-insensitive on every platform: the value (what the store
            # keys on and `values.normalize_lookup` builds) is lower-case, without @ or $
            value = h.handle if h.kind == "url" else \
                f"{h.platform}:{h.handle.lstrip('@$').lower()}"
            out.append((h.kind, value, h.start, h.end,
                        text[h.start:h.end] != folded[h.start:h.end]))
    if "crypto" in want:
        # ETH is case-insensitive once its checksum is verified: keyed lower-case
        for c in find_crypto(folded):
            addr = c.address.lower() if c.currency == "ETH" else c.address
            out.append(("crypto", f"{c.currency}:{addr}", c.start, c.end, False))
    if "age" in want:
        out += [("age", str(h.age), h.start, h.end, False) for h in find_ages(folded, low, words)]
    if "price" in want:
        out += [("price", h.value, h.start, h.end, False)
                for h in find_prices(folded, region, low, words)]
    if "location" in want:
        out += [("location", h.value, h.start, h.end, False)
                for h in find_places(folded, region, lenient=lenient, words=words)]
    if "name" in want:
        out += [("name", h.name, h.start, h.end, False) for h in find_names(folded, low, words)]
    crypto = [(h[2], h[3]) for h in out if h[0] == "crypto"]
    if crypto:
        # digits inside an address are part of it, never a phone, price or age (a mask of
        # what addresses cover: a span check costs its length, not one per address)
        covered = bytearray(len(text))
        for s, e in crypto:
            covered[s:e] = b"\x01" * (e - s)
        out = [h for h in out if h[0] == "crypto" or covered.find(1, h[2], h[3]) < 0]
    out.sort(key=lambda h: (h[2], _KIND_ORDER[h[0]], h[3]))
    return out


def _mentions(hits: Iterable[_Hit], field: str, text: str, shift: int = 0) -> list[Mention]:
    return [Mention(kind=k, value=v, field=field, start=s - shift, end=e - shift,
                    obfuscated=o, raw=text[s - shift:e - shift]) for k, v, s, e, o in hits]


def extract_text(text: str, field: str = "body", region: str = "US", *,
                 kinds: Iterable[str] = KINDS) -> list[Mention]:
    """Mentions found in one piece of text (a title, a body, OCR text of "image:N").

    Spans index `text` exactly as given: ``text[m.start:m.end] == m.raw``.
    """
    if not text:
        return []
    region = (region or "US").upper()
    return _mentions(_find(text, region, frozenset(kinds), field == "location"), field, text)


@lru_cache(maxsize=4096)
def _location_hits(location: str, region: str) -> tuple[_Hit, ...]:
    # location fields repeat ("Seattle, WA") across thousands of ads
    return tuple(_find(location, region, frozenset({"location"}), True))


# Title and body are read as one text with a separator no reader crosses (records never hold
# NUL): one pass instead of two halves the fixed cost per ad.
_JOIN = "\n\x00\n"
_PHONE_EMAIL = frozenset({"phone", "email"})
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
        phone_regions = []
        for p in phones:
            desc, cc = phone_region(p)
            phone_regions.append({"phone": p, "region": desc, "country": cc})
        return {
            "id": ad_id,
            "phones": phones,
            "emails": self.values("email"),
            "urls": self.values("url"),
            "social": split("social", "platform", "handle"),
            "payment_handles": split("payment", "service", "handle"),
            "crypto": split("crypto", "currency", "address"),
            "ages": [int(a) for a in self.values("age")],
            "prices": prices,
            "locations": locations,
            "names": self.values("name"),
            "obfuscated_phone": self.obfuscated_phone,
            "phone_regions": phone_regions,
            "mentions": [m.to_dict() for m in self.mentions],
        }


def extract_record(record: AdRecord, region: str = "US") -> Extraction:
    """Read every entity from an ad's title, body, URL and location field."""
    region = (region or "US").upper()
    title, body = record.title, record.body
    mentions: list[Mention] = []
    if title and body:
        joined = title + _JOIN + body
        cut = len(title) + len(_JOIN)
        hits = _find(joined, region, _ALL)
        mentions += _mentions((h for h in hits if h[3] <= len(title)), "title", title)
        mentions += _mentions((h for h in hits if h[2] >= cut), "body", body, cut)
    elif title or body:
        mentions += _mentions(_find(title or body, region, _ALL), "title" if title else "body",
                              title or body)
    if record.url:
        mentions += _mentions(_find(record.url, region, _PHONE_EMAIL), "url", record.url)
    if record.location:
        mentions += _mentions(_location_hits(record.location, region), "location",
                              record.location)
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
