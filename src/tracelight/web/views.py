"""View models shared by the pages and the JSON API: one function per thing a user looks at.

Pages render these dicts with templates; the API returns them as JSON. Nothing here knows
about HTTP.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from markupsafe import Markup, escape

from tracelight.errors import NotFoundError, UsageError
from tracelight.store import StoredAd
from tracelight.store import workspace as ws
from tracelight.web import integrations as integ

SEARCH_KINDS = ("q", "phone", "email", "handle", "crypto", "image_hash")
LINK_KINDS = ("phone", "email", "social", "crypto", "payment")


def reasons_view(reasons: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Reasons as the scorer stored them, in one shape: label, weight, evidence spans."""
    out = []
    for r in reasons or []:
        if not isinstance(r, dict):
            out.append({"code": str(r), "label": str(r), "weight": None, "evidence": []})
            continue
        evidence = r.get("evidence") or r.get("spans") or []
        if isinstance(evidence, dict):
            evidence = [evidence]
        if not evidence and "start" in r and "end" in r:
            evidence = [{"field": r.get("field", "body"), "start": r["start"], "end": r["end"],
                         "text": r.get("text", "")}]
        weight = r.get("contribution", r.get("weight", r.get("score")))
        code = str(r.get("code", ""))
        out.append({"code": code,
                    "label": r.get("label") or r.get("title")
                    or (code.replace("_", " ").capitalize() if code else None)
                    or r.get("description") or "indicator",
                    "description": r.get("description", ""),
                    "strength": r.get("strength", ""),
                    "weight": weight if isinstance(weight, (int, float)) else None,
                    "detail": r.get("detail", ""),
                    "evidence": [e for e in evidence if isinstance(e, dict)]})
    out.sort(key=lambda r: -(r["weight"] or 0))
    return out


def ad_summary(ad: StoredAd) -> dict[str, Any]:
    reasons = reasons_view(ad.reasons)
    return {"id": ad.ad_id, "pk": ad.pk, "source": ad.source, "title": ad.title or
            ad.body[:80], "url": ad.url, "posted_at": ad.posted_at, "location": ad.location,
            "category": ad.extra.get("category") if isinstance(ad.extra, dict) else None,
            "risk": ad.risk, "top_reasons": list(dict.fromkeys(r["label"] for r in reasons))[:3]}


# ---- search -----------------------------------------------------------------------------------

@dataclass
class SearchResult:
    total: int
    ads: list[StoredAd]
    kind: str
    query: str
    looked_for: list[str]  # normalised values actually searched, shown to the user

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "results": [ad_summary(a) for a in self.ads],
                "kind": self.kind, "query": self.query, "looked_for": self.looked_for}


def search(store: Any, kind: str, query: str, *, region: str, limit: int = 25,
           offset: int = 0) -> SearchResult:
    query = (query or "").strip()
    if kind not in SEARCH_KINDS:
        raise UsageError(f"unknown search kind {kind!r}", hint="one of " + ", ".join(SEARCH_KINDS))
    if not query:
        return SearchResult(0, [], kind, query, [])
    if len(query) > 500:
        raise UsageError("search text is longer than 500 characters")
    if kind == "q":
        total, found = ws.text_search(store, query, limit=limit, offset=offset)
        return SearchResult(total, found, kind, query, [query])
    if kind == "image_hash":
        total, found = ws.ads_with_image_hash(store, query, limit=limit, offset=offset)
        return SearchResult(total, found, kind, query, [query.lower()])
    entity_kind = {"handle": "social"}.get(kind, kind)
    if kind == "phone" and integ.normalize_phone(query, region) is None:
        raise UsageError(f"{query!r} is not a phone number tracelight can read",
                         hint=f"write it with +country code, or as written in {region}")
    values = integ.lookup_values(entity_kind, query, region)
    if entity_kind in ("social", "email"):
        # also what is stored under other spellings ("@name" typed, "x:name" stored)
        values += [v for v in ws.entity_values(store, entity_kind, query) if v not in values]
    if not values:
        return SearchResult(0, [], kind, query, [])
    total, found = store.find_by_entity(entity_kind, values, limit=limit, offset=offset)
    return SearchResult(total, found, kind, query, values)


# ---- ad ---------------------------------------------------------------------------------------

# A segment lists at most this many of the marks over it (the rest are counted in "more"):
# overlapping marks in a real ad are two or three deep, and a bounded list keeps the page
# linear in the text when a hostile ad stacks thousands of marks on one stretch.
MAX_MARKS_PER_SEGMENT = 8


def _sweep(text: str, field: str,
           spans: list[dict[str, Any]]) -> Iterator[tuple[int, int, list[dict[str, Any]], int]]:
    """(start, end, marks, more) for each segment of `text`: the first marks over it in the
    order given (at most MAX_MARKS_PER_SEGMENT; the same list object while they do not
    change) and how many more there are.

    One sweep over the sorted boundaries that keeps the first open marks in a short sorted
    list and the others in a heap: O((n + m) log m) for m marks, where scanning every mark
    for every segment was quadratic (8,000 marks took 4 s)."""
    n = len(text)
    marks = [s for s in spans if s.get("field") == field
             and type(s.get("start")) is int and type(s.get("end")) is int
             and 0 <= s["start"] < s["end"] <= n]
    if not marks:
        yield 0, n, [], 0
        return
    opens: dict[int, list[int]] = defaultdict(list)
    closes: dict[int, list[int]] = defaultdict(list)
    for i, m in enumerate(marks):
        opens[m["start"]].append(i)
        closes[m["end"]].append(i)
    cuts = sorted({0, n, *opens, *closes})
    top: list[int] = []  # the smallest indices of the open marks, sorted, at most K
    rest: list[int] = []  # heap of the other open marks (every one above top's); lazy
    closed = bytearray(len(marks))
    n_open = 0
    k = MAX_MARKS_PER_SEGMENT
    on: list[dict[str, Any]] = []
    for a, b in pairwise(cuts):
        dirty = False
        for i in closes.get(a, ()):
            closed[i] = 1
            n_open -= 1
            j = bisect_left(top, i)
            if j < len(top) and top[j] == i:
                del top[j]
                dirty = True
        for i in opens.get(a, ()):
            n_open += 1
            if len(top) < k or i < top[-1]:
                insort(top, i)
                dirty = True
                if len(top) > k:
                    heapq.heappush(rest, top.pop())
            else:
                heapq.heappush(rest, i)
        while len(top) < k and rest:
            i = heapq.heappop(rest)
            if not closed[i]:
                top.append(i)
                dirty = True
        if dirty:
            on = [marks[i] for i in top]
        yield a, b, on, n_open - len(top)


def highlight(text: str, field: str, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cut `text` into segments, each with the marks (identifiers, indicators) over it.

    Overlapping spans are fine: boundaries are merged and each segment lists the marks over
    it in the order given, at most MAX_MARKS_PER_SEGMENT of them, with `more` counting the
    rest. Linear in the text and n log n in the marks (see `_sweep`).
    """
    return [{"text": text[a:b], "marks": on, "more": more}
            for a, b, on, more in _sweep(text, field, spans)]


def _open_tag(marks: list[dict[str, Any]], more: int) -> str:
    classes = escape(" ".join(f"m-{m.get('class', '')}" for m in marks))
    title = "; ".join(str(m.get("label", "")) for m in marks)
    if more:
        title += f"; and {more} more"
    return f'<mark class="{classes}" title="{escape(title)}">'


def highlight_html(segments: list[dict[str, Any]]) -> Markup:
    """The segments as escaped HTML: plain text, and `<mark>` for each marked segment with
    its marks' classes and labels (what the ad page shows)."""
    return Markup("".join(
        f"{_open_tag(seg['marks'], seg.get('more', 0))}{escape(seg['text'])}</mark>"
        if seg["marks"] else escape(seg["text"]) for seg in segments))


def render_highlight(text: str, field: str, spans: list[dict[str, Any]]) -> Markup:
    """`highlight_html(highlight(text, field, spans))` in one pass, without the segment
    dicts: markupsafe's C escaper per segment, and one opening tag per change of marks (a
    template loop per segment cost ten times as much on an ad with 100,000 marks)."""
    parts: list[str] = []
    last: tuple[list[dict[str, Any]] | None, int] = (None, -1)
    tag = ""
    for a, b, on, more in _sweep(text, field, spans):
        if not on:
            parts.append(escape(text[a:b]))
            continue
        if last[0] is not on or last[1] != more:
            tag, last = _open_tag(on, more), (on, more)
        parts.append(f"{tag}{escape(text[a:b])}</mark>")
    return Markup("".join(parts))


def ad_detail(store: Any, pk: int) -> dict[str, Any]:
    ad = store.get_ad_by_pk(pk)
    mentions = store.mentions_for([pk])[pk]
    reasons = reasons_view(ad.reasons)
    spans: list[dict[str, Any]] = []
    for m in mentions:
        spans.append({"field": m.field, "start": m.start, "end": m.end, "kind": m.kind,
                      "class": "ident" if m.kind in LINK_KINDS else "fact",
                      "label": f"{m.kind}: {m.value}" + (" (hidden in text)" if m.obfuscated
                                                          else "")})
    for r in reasons:
        for e in r["evidence"]:
            spans.append({**e, "kind": "indicator", "class": "indicator", "label": r["label"]})
    identifiers: dict[tuple[str, str], dict[str, Any]] = {}
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for m in mentions:
        key = (m.kind, m.value)
        item = identifiers.setdefault(key, {"kind": m.kind, "value": m.value, "raw": [],
                                            "obfuscated": False})
        if m.raw and m.raw not in seen[key]:  # a set: an ad may spell one value 10,000 ways
            seen[key].add(m.raw)
            item["raw"].append(m.raw)
        item["obfuscated"] |= m.obfuscated
    images = []
    for img in store.images_for(pk):
        withheld = bool(img.get("sha256")) and integ.bank_matched(store, img)
        images.append({**img, "withheld": withheld,
                       "available": bool(img.get("stored_path")) and not withheld})
    return {
        "ad": ad, "summary": ad_summary(ad), "reasons": reasons,
        "title_html": render_highlight(ad.title, "title", spans),
        "body_html": render_highlight(ad.body, "body", spans),
        "identifiers": sorted(identifiers.values(),
                              key=lambda i: (i["kind"] not in LINK_KINDS, i["kind"], i["value"])),
        "images": images,
        "similar": ws.ads_sharing(store, pk),
        "networks": integ.networks_for_ad(store, pk),
        "revisions": store.revisions(pk),
    }


def ad_json(detail: dict[str, Any]) -> dict[str, Any]:
    ad: StoredAd = detail["ad"]
    out = ad.to_dict()
    out["pk"] = ad.pk
    out["reasons"] = detail["reasons"]
    out["identifiers"] = detail["identifiers"]
    out["images"] = [{k: img.get(k) for k in ("position", "sha256", "pdq", "width", "height",
                                               "withheld")} for img in detail["images"]]
    out["similar"] = [{**ad_summary(s["ad"]), "shared": s["shared"]} for s in detail["similar"]]
    out["networks"] = detail["networks"]
    out["revisions"] = [{"revision": r["revision"], "seen_at": r["seen_at"],
                         "title": r["title"]} for r in detail["revisions"]]
    return out


# ---- network ----------------------------------------------------------------------------------

def network_detail(store: Any, network_id: str, *, max_ads: int = 400) -> dict[str, Any]:
    found = integ.network_members(store, network_id)
    if found is None:
        if not integ.networks_available(store):
            raise NotFoundError("networks not built yet",
                                hint="run the linker (tracelight link) to build them")
        raise NotFoundError(f"no network {network_id!r}")
    summary, pks = found
    ads = store.get_ads_by_pks(pks[:max_ads])
    mentions = store.mentions_for([a.pk for a in ads])
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    ident_ads: dict[tuple[str, str], set[int]] = defaultdict(set)
    for ad in ads:
        nodes.append({"data": {"id": f"ad{ad.pk}", "label": ad.ad_id[:24], "type": "ad",
                               "href": f"/ads/{ad.pk}", "risk": ad.risk or 0}})
        for m in mentions.get(ad.pk, []):
            if m.kind in LINK_KINDS:
                ident_ads[(m.kind, m.value)].add(ad.pk)
    for (kind, value), members in sorted(ident_ads.items()):
        nid = f"{kind}:{value}"
        nodes.append({"data": {"id": nid, "label": value[:28], "type": kind}})
        for pk in sorted(members):
            edges.append({"data": {"id": f"e{pk}-{nid}", "source": f"ad{pk}", "target": nid}})
    dated = sorted((a for a in ads if a.posted_at), key=lambda a: a.posted_at)
    per_day = Counter(a.posted_at.date().isoformat() for a in dated)
    # Itinerary: consecutive runs of postings in one place, in time order (a schematic,
    # not a map: no tiles to fetch, works offline).
    stops: list[dict[str, Any]] = []
    for a in dated:
        place = (a.location or "unknown place").strip()
        if stops and stops[-1]["place"] == place:
            stops[-1]["last"] = a.posted_at
            stops[-1]["n"] += 1
        else:
            stops.append({"place": place, "first": a.posted_at, "last": a.posted_at, "n": 1})
    names = Counter(m.value for ms in mentions.values() for m in ms if m.kind == "name")
    return {
        "summary": summary, "ads": ads, "n_members": len(pks), "truncated": len(pks) > max_ads,
        "elements": {"nodes": nodes, "edges": edges},
        "timeline": sorted(per_day.items()),
        "timeline_max": max(per_day.values(), default=0),
        "itinerary": stops,
        "identifiers": [{"kind": k, "value": v, "n_ads": len(s)}
                        for (k, v), s in sorted(ident_ads.items(), key=lambda kv: -len(kv[1]))],
        "names": names.most_common(30),
        "evidence": [{"ad": ad_summary(a), "shared": sorted(
            f"{m.kind} {m.value}" for m in {(m.kind, m.value): m for m in
                                             mentions.get(a.pk, [])
                                             if m.kind in LINK_KINDS}.values())}
            for a in ads],
    }


def network_json(detail: dict[str, Any]) -> dict[str, Any]:
    return {**detail["summary"], "n_ads": detail["n_members"],
            "ads": [ad_summary(a) for a in detail["ads"]],
            "identifiers": detail["identifiers"], "names": detail["names"],
            "timeline": detail["timeline"],
            "itinerary": detail["itinerary"], "graph": detail["elements"]}
