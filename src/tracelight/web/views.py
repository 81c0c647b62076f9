"""View models shared by the pages and the JSON API: one function per thing a user looks at.

Pages render these dicts with templates; the API returns them as JSON. Nothing here knows
about HTTP.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import pairwise
from typing import Any

from markupsafe import Markup, escape

from tracelight import kinds
from tracelight.link import geo
from tracelight.records import Reason
from tracelight.score.explain import Explanation, explain_ad, explain_network
from tracelight.services import networks as network_service
from tracelight.services.adref import ad_url, find_ads, ref_of
from tracelight.services.search import (
    SEARCH_AS,
    SEARCH_KINDS,
    TEXT_CAP,
    SearchResult,
    search,
)
from tracelight.store import Store, StoredAd, blobs

__all__ = ["SEARCH_AS", "SEARCH_KINDS", "TEXT_CAP", "SearchResult", "search"]  # the pages' search

# identifiers that link ads (kinds.yaml: strong)
LINK_KINDS = kinds.STRONG


def reasons_view(reasons: Sequence[Reason] | None) -> list[dict[str, Any]]:
    """The scorer's reasons for the pages and the API: label, weight, evidence spans."""
    out: list[dict[str, Any]] = [{"code": r.code, "label": r.title, "description": r.description,
            "strength": r.strength, "weight": r.weight, "detail": r.detail,
            "evidence": [e.to_dict() for e in r.evidence],
            **({"ad_id": r.ad_id} if r.ad_id else {})} for r in reasons or []]
    out.sort(key=lambda r: -(r["weight"] or 0))
    return out


def ad_summary(ad: StoredAd) -> dict[str, Any]:
    reasons = reasons_view(ad.reasons)
    return {"id": ad.ad_id, "pk": ad.pk, "source": ad.source, "ref": ref_of(ad),
            "href": ad_url(ad.source, ad.ad_id), "title": ad.title or
            ad.body[:80], "url": ad.url, "posted_at": ad.posted_at, "location": ad.location,
            "category": ad.extra.get("category") if isinstance(ad.extra, dict) else None,
            "risk": ad.risk,
            # what raises the score only: context is never a reason for the lead
            "top_reasons": list(dict.fromkeys(r["label"] for r in reasons
                                              if (r["weight"] or 0) > 0))[:3]}


# ---- search -----------------------------------------------------------------------------------

def search_json(result: SearchResult) -> dict[str, Any]:
    return {"total": result.total, "results": [ad_summary(a) for a in result.ads],
            "kind": result.kind, "query": result.query, "looked_for": result.looked_for,
            "order": result.order_words}


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


def explanation_view(explanation: Explanation) -> dict[str, Any]:
    """The score in words (tracelight.score.explain), exactly as `tracelight show` says it."""
    return explanation.to_dict() | {"lead_heading": explanation.lead_heading,
                                    "context_heading": explanation.context_heading,
                                    "lowering_heading": explanation.lowering_heading}


def ad_detail(store: Store, ad_or_pk: StoredAd | int) -> dict[str, Any]:
    ad = store.get_ad_by_pk(ad_or_pk) if isinstance(ad_or_pk, int) else ad_or_pk
    pk = ad.pk
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
        withheld = bool(img.sha256) and store.is_bank_matched(img.sha256 or "")
        kept = blobs.is_key(img.stored_path) and not img.error
        row = img.to_dict()
        if not kept and not img.error:
            row["error"] = ("image not in the image store (a store from an older "
                            "version: run `tracelight image migrate`)"
                            if img.stored_path else "image bytes not kept")
        images.append({**row, "withheld": withheld, "available": kept and not withheld})
    return {
        "ad": ad, "summary": ad_summary(ad), "reasons": reasons, "search_as": SEARCH_AS,
        "ref": ref_of(ad), "href": ad_url(ad.source, ad.ad_id),
        "reasons_by_code": {r["code"]: _with_ad_link(store, r) for r in reasons},
        "explanation": explanation_view(explain_ad(ad.risk, ad.reasons)),
        "title_html": render_highlight(ad.title, "title", spans),
        "body_html": render_highlight(ad.body, "body", spans),
        "identifiers": sorted(identifiers.values(),
                              key=lambda i: (i["kind"] not in LINK_KINDS, i["kind"], i["value"])),
        "images": images,
        "similar": store.ads_sharing(pk),
        "networks": network_summaries_for_ad(store, pk),
        "revisions": store.revisions(pk),
    }


def ad_json(detail: dict[str, Any]) -> dict[str, Any]:
    ad: StoredAd = detail["ad"]
    out = {"ref": detail["ref"], **ad.to_dict()}
    out["pk"] = ad.pk
    out["explanation"] = detail["explanation"]
    out["reasons"] = detail["reasons"]
    out["identifiers"] = detail["identifiers"]
    out["images"] = [{k: img.get(k) for k in ("position", "sha256", "pdq", "width", "height",
                                               "withheld", "error")} for img in detail["images"]]
    out["similar"] = [{**ad_summary(s.ad), "shared": s.shared} for s in detail["similar"]]
    out["networks"] = detail["networks"]
    out["revisions"] = [{"revision": r["revision"], "seen_at": r["seen_at"],
                         "title": r["title"]} for r in detail["revisions"]]
    return out


# ---- case ------------------------------------------------------------------------------------

def _case_ad(store: Store, ref: str) -> StoredAd | None:
    """The ad a case item names: its pk (pages add these), SOURCE/ID or a bare id."""
    from tracelight.errors import NotFoundError
    try:
        if ref.isdigit():
            return store.get_ad_by_pk(int(ref))
        source, _, ad_id = ref.rpartition("/")
        return store.get_ad(ad_id, source or None)
    except NotFoundError:
        return None


def case_items(store: Store, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A case's items with what a reader needs to judge them without opening each: an ad's
    title, risk, source, posting date and first/last seen; a network's name, risk, size and
    first/last seen. `missing` says when the ad or network is no longer in the store."""
    from tracelight.errors import NotFoundError
    out: list[dict[str, Any]] = []
    for item in items:
        row = dict(item)
        ref = str(item.get("ref") or "")
        if item.get("kind") == "ad":
            ad = _case_ad(store, ref)
            row["missing"] = ad is None
            if ad is not None:
                row["ad"] = {**ad_summary(ad), "first_seen": ad.first_seen,
                             "last_seen": ad.last_seen}
        elif item.get("kind") == "network":
            try:
                row["network"] = network_service.get_network(store, ref).summary()
                row["missing"] = False
            except NotFoundError:
                row["missing"] = True
        out.append(row)
    return out


# ---- network ----------------------------------------------------------------------------------

def top_networks(store: Store, cache: network_service.RankingCache,
                 limit: int = 20) -> list[dict[str, Any]] | None:
    """The riskiest networks' summaries (the queue's ranking), or None when not built yet."""
    if not network_service.networks_built(store):
        return None
    return network_service.summaries(cache.top(store, limit))


def network_list(store: Store, cache: network_service.RankingCache, *, sort: str,
                 limit: int, offset: int) -> dict[str, Any] | None:
    """One page of the network list with its total and order, or None when not built yet."""
    if not network_service.networks_built(store):
        return None
    found = cache.page(store, sort=sort, limit=limit, offset=offset)
    return {"total": found.total, "first": found.first, "last": found.last, "sort": found.sort,
            "order": network_service.SORTS[found.sort], "offset": found.offset,
            "limit": found.limit,
            "results": network_service.summaries(found.networks)}


def network_summaries_for_ad(store: Store, ad_pk: int) -> list[dict[str, Any]] | None:
    """The ad's network (ranked as in the queue), or None when networks are not built yet."""
    if not network_service.networks_built(store):
        return None
    return network_service.summaries(network_service.networks_for_ad(store, ad_pk))


def network_detail(store: Store, network_id: str, *, max_ads: int = 400,
                   rooms_index_dir: str | None = None) -> dict[str, Any]:
    from tracelight import settings
    from tracelight.services.room_pairs import network_rooms

    ranked = network_service.get_network(store, network_id)
    summary = ranked.summary()
    pks = store.member_pks(ranked.id, limit=5000)
    ads = store.get_ads_by_pks(pks[:max_ads])
    mentions = store.mentions_for([a.pk for a in ads])
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    ident_ads: dict[tuple[str, str], set[int]] = defaultdict(set)
    for ad in ads:
        nodes.append({"data": {"id": f"ad{ad.pk}", "label": ad.ad_id[:24], "type": "ad",
                               "href": ad_url(ad.source, ad.ad_id), "risk": ad.risk or 0}})
        for m in mentions.get(ad.pk, []):
            if m.kind in LINK_KINDS:
                ident_ads[(m.kind, m.value)].add(ad.pk)
    for (kind, value), members in sorted(ident_ads.items()):
        nid = f"{kind}:{value}"
        nodes.append({"data": {"id": nid, "label": value[:28], "type": kind}})
        for pk in sorted(members):
            edges.append({"data": {"id": f"e{pk}-{nid}", "source": f"ad{pk}", "target": nid}})
    # same author / same Bitcoin owner: drawn ad to ad (the evidence names the two ads)
    pk_of = {k: a.pk for a in ads for k in (a.ad_id, f"{a.source}/{a.ad_id}")}
    for e in summary.get("evidence") or []:
        ids = e.get("ad_ids") or []
        if e.get("kind") in ("author", "wallet_owner") and len(ids) == 2 \
                and ids[0] in pk_of and ids[1] in pk_of:
            pa, pb = pk_of[ids[0]], pk_of[ids[1]]
            edges.append({"data": {"id": f"x{e['kind']}{pa}-{pb}", "source": f"ad{pa}",
                                   "target": f"ad{pb}", "kind": e["kind"]}})
    when = {a.pk: a.posted_at for a in ads if a.posted_at is not None}
    dated = sorted((a for a in ads if a.pk in when), key=lambda a: when[a.pk])
    per_day = Counter(when[a.pk].date().isoformat() for a in dated)
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
    # the same stops on an offline map: gazetteer coordinates, a simple projection
    drawn = geo.itinerary_map([(s["place"], s["n"]) for s in stops])
    return {
        "summary": summary, "ads": ads, "n_members": len(pks), "truncated": len(pks) > max_ads,
        "explanation": explanation_view(explain_network(
            ranked.risk, [_with_ref(store, r) for r in ranked.reasons])),
        "risk_parts": risk_parts_view(store, ranked),
        "elements": {"nodes": nodes, "edges": edges},
        "timeline": sorted(per_day.items()),
        "timeline_max": max(per_day.values(), default=0),
        "itinerary": stops,
        "map": drawn,
        # movement through rooms: same-room pairs and gallery hotels of its member ads
        "rooms": network_rooms(store, rooms_index_dir or settings.get("rooms_index_dir"),
                               ads),
        "identifiers": [{"kind": k, "value": v, "n_ads": len(s)}
                        for (k, v), s in sorted(ident_ads.items(), key=lambda kv: -len(kv[1]))],
        "names": names.most_common(30),
        "evidence": [{"ad": ad_summary(a), "shared": sorted(
            f"{m.kind} {m.value}" for m in {(m.kind, m.value): m for m in
                                             mentions.get(a.pk, [])
                                             if m.kind in LINK_KINDS}.values())}
            for a in ads],
    }


def risk_parts_view(store: Store, ranked: network_service.RankedNetwork) -> dict[str, Any]:
    """The parts the network's risk came from (services.networks.rank, the one definition
    `tracelight networks`, the queue and the JSON use), with each top member's page."""
    parts = dict(ranked.parts)
    top = []
    for m in parts.get("top_members") or []:
        found = find_ads(store, str(m.get("ad_id", "")))
        ad = found[0] if len(found) == 1 else None
        top.append({**m, "ref": ref_of(ad) if ad else m.get("ad_id"),
                    "href": ad_url(ad.source, ad.ad_id) if ad else None})
    parts["top_members"] = top
    parts["score"] = ranked.risk
    return parts


def _with_ad_link(store: Store, reason: dict[str, Any]) -> dict[str, Any]:
    """A reason that names another ad (a network reason: the mate that shows the evidence)
    with that ad's page, when the name finds exactly one ad."""
    name = reason.get("ad_id")
    if not name:
        return reason
    found = find_ads(store, str(name))
    if len(found) != 1:
        return reason
    return {**reason, "ad_ref": ref_of(found[0]),
            "ad_href": ad_url(found[0].source, found[0].ad_id)}


def _with_ref(store: Store, reason: Reason) -> Reason:
    """A network reason names its best member ad by the linker's key; shown as SOURCE/ID."""
    if not reason.ad_id:
        return reason
    found = find_ads(store, reason.ad_id)
    return replace(reason, ad_id=ref_of(found[0])) if len(found) == 1 else reason


def network_json(detail: dict[str, Any]) -> dict[str, Any]:
    return {**detail["summary"], "n_ads": detail["n_members"],
            "explanation": detail["explanation"],
            "ads": [ad_summary(a) for a in detail["ads"]],
            "identifiers": detail["identifiers"], "names": detail["names"],
            "timeline": detail["timeline"],
            "itinerary": detail["itinerary"], "rooms": detail["rooms"],
            "graph": detail["elements"]}
