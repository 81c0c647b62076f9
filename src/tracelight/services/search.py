"""Use case: find ads by words, by an identifier typed any way a person writes it, or by an
image hash (the workspace's search box and its JSON API).

Identifiers are normalised as the store keys them (tracelight.kinds, kinds.yaml); handles and emails
also match what is stored under other spellings ("@name" typed, "x:name" stored).
"""

from __future__ import annotations

from dataclasses import dataclass

from tracelight import kinds
from tracelight.errors import UsageError
from tracelight.services import adref
from tracelight.store import Store, StoredAd
from tracelight.values import normalize_phone

# what the workspace looks up and watches: kind -> the word it is searched as (kinds.yaml)
SEARCH_AS: dict[str, str] = {k: w for w, k in kinds.LOOKUPS.items() if k in kinds.WATCHABLE}
# search word -> label: full text, the watchable kinds, image hashes
SEARCH_KINDS = {"q": "Text", **{w: kinds.label(k) for k, w in SEARCH_AS.items()},
                "image_hash": "Image hash"}
TEXT_CAP = 2000  # text search counts stop here (see Store.search_text)


@dataclass
class SearchResult:
    total: int
    ads: list[StoredAd]
    kind: str
    query: str
    looked_for: list[str]  # normalised values actually searched, shown to the user


def search(store: Store, kind: str, query: str, *, region: str, limit: int = 25,
           offset: int = 0) -> SearchResult:
    query = (query or "").strip()
    if kind not in SEARCH_KINDS:
        raise UsageError(f"unknown search kind {kind!r}", hint="one of " + ", ".join(SEARCH_KINDS))
    if not query:
        return SearchResult(0, [], kind, query, [])
    if len(query) > 500:
        raise UsageError("search text is longer than 500 characters")
    if kind == "q":
        total, found = text_search(store, query, limit=limit, offset=offset, cap=TEXT_CAP)
        return SearchResult(total, found, kind, query, [query])
    if kind == "image_hash":
        total, found = store.ads_with_image_hash(query, limit=limit, offset=offset)
        return SearchResult(total, found, kind, query, [query.lower()])
    entity_kind = kinds.LOOKUPS[kind]
    if entity_kind == "phone" and normalize_phone(query, region) is None:
        raise UsageError(f"{query!r} is not a phone number tracelight can read",
                         hint=f"write it with +country code, or as written in {region}")
    values = kinds.normalize_lookup(entity_kind, query, region)
    if kinds.kind(entity_kind).normaliser in ("handle", "email"):
        # also what is stored under other spellings ("@name" typed, "x:name" stored)
        values += [v for v in store.entity_values(entity_kind, query) if v not in values]
    if not values:
        return SearchResult(0, [], kind, query, [])
    total, found = store.find_by_entity(entity_kind, values, limit=limit, offset=offset)
    return SearchResult(total, found, kind, query, values)


def text_search(store: Store, query: str, *, limit: int = 25, offset: int = 0,
                cap: int | None = None) -> tuple[int, list[StoredAd]]:
    """Ads containing every word of `query`, best first; when the text is an ad's exact
    reference (SOURCE/ID, or a bare id), that ad comes first (on the first page)."""
    exact = adref.find_ads(store, query)
    total, found = store.search_text(query, limit=limit, offset=offset, cap=cap)
    if not exact:
        return total, found
    pks = {a.pk for a in exact}
    rest = [a for a in found if a.pk not in pks]
    extra = len(exact) - (len(found) - len(rest))
    if offset:
        return total + extra, rest
    return total + extra, (exact + rest)[:limit]
