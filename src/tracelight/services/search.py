"""Use case: find ads by words, by an identifier typed any way a person writes it, or by an
image hash (the workspace's search box and its JSON API).

Identifiers are normalised as the store keys them (tracelight.kinds, kinds.yaml); handles and emails
also match what is stored under other spellings ("@name" typed, "x:name" stored).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from tracelight import kinds, settings
from tracelight.errors import UsageError
from tracelight.services import adref
from tracelight.store import Store, StoredAd
from tracelight.store.search import TextPage
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
    order: str = field(default="")  # ORDERS key: how `ads` are ordered
    # full text: True when more ads matched than are ranked (search_rank_cap), so the
    # order is the best of the first `ranked` matches only
    capped: bool = False
    ranked: int = 0

    @property
    def order_words(self) -> str:
        return ORDERS.get(self.order, "")


# how results are ordered: key -> what the page says
ORDERS = {
    "relevance": "best matches first (full-text relevance: how often and where the words "
                 "appear)",
    "newest": f"newest first (more than {TEXT_CAP:,} matches: too many to rank)",
    "ranked_first": "best matches first among the first matches found (more ads match "
                    "than are ranked: search_rank_cap)",
    "posted": "newest posting first",
    "photo": "closest images first (identical ones, then by PDQ distance)",
}


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
        page = text_search_page(store, query, limit=limit, offset=offset, cap=TEXT_CAP)
        return SearchResult(page.total, page.ads, kind, query, [query],
                            "ranked_first" if page.capped else "relevance",
                            capped=page.capped, ranked=page.ranked)
    if kind == "image_hash":
        total, found = store.ads_with_image_hash(query, limit=limit, offset=offset)
        return SearchResult(total, found, kind, query, [query.lower()], "posted")
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
    return SearchResult(total, found, kind, query, values, "posted")


def text_search(store: Store, query: str, *, limit: int = 25, offset: int = 0,
                cap: int | None = None) -> tuple[int, list[StoredAd]]:
    """Ads containing every word of `query`, best first; when the text is an ad's exact
    reference (SOURCE/ID, or a bare id), that ad comes first (on the first page)."""
    page = text_search_page(store, query, limit=limit, offset=offset, cap=cap)
    return page.total, page.ads


def text_search_page(store: Store, query: str, *, limit: int = 25, offset: int = 0,
                     cap: int | None = None, rank_cap: int | None = None) -> TextPage:
    """text_search, saying how many matches were ranked: at most `rank_cap` (the
    search_rank_cap setting by default), the first the index yields."""
    if rank_cap is None:
        rank_cap = settings.get_int("search_rank_cap")
    exact = adref.find_ads(store, query)
    page = store.search_text_page(query, limit=limit, offset=offset, cap=cap,
                                  rank_cap=rank_cap)
    if not exact:
        return page
    pks = {a.pk for a in exact}
    rest = [a for a in page.ads if a.pk not in pks]
    extra = len(exact) - (len(page.ads) - len(rest))
    if offset:
        return replace(page, total=page.total + extra, ads=rest)
    return replace(page, total=page.total + extra, ads=(exact + rest)[:limit])


# ---- snippets -----------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)  # the words full-text search matches (store FTS_TOKEN)


def _fold(word: str) -> str:
    """A word as full-text search compares it: case and diacritics removed."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def query_terms(query: str) -> frozenset[str]:
    return frozenset(_fold(w) for w in _WORD.findall(query or ""))


def highlight_terms(text: str, terms: frozenset[str]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is a searched word) segments. Plain text: the caller escapes
    every piece and marks the matching ones."""
    out: list[tuple[str, bool]] = []
    at = 0
    for m in _WORD.finditer(text):
        if _fold(m.group()) in terms:
            if m.start() > at:
                out.append((text[at:m.start()], False))
            out.append((m.group(), True))
            at = m.end()
    if at < len(text):
        out.append((text[at:], False))
    return out


def snippet(text: str, terms: frozenset[str], *, width: int = 220) -> list[tuple[str, bool]]:
    """A passage of about `width` characters around the first searched word in `text`, with
    the searched words flagged; the start of the text when none occurs. Whitespace is
    collapsed; "…" shows where text was cut."""
    flat = " ".join((text or "").split())
    if not flat:
        return []
    first = next((m for m in _WORD.finditer(flat) if _fold(m.group()) in terms), None)
    start = 0 if first is None else max(0, first.start() - width // 3)
    if start:
        space = flat.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 30 else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.find(" ", end)
        end = space if 0 <= space - end < 30 else end
    segs = highlight_terms(flat[start:end], terms)
    if start:
        segs.insert(0, ("…", False))
    if end < len(flat):
        segs.append(("…", False))
    return segs
