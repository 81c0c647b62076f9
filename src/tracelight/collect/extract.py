"""What a profile reads from one page: the ad's fields by its CSS selectors, and the links to
follow (ad pages, listing pages, pagination) within its allowed hosts. Pure: bytes in, data out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborHTMLParser

from tracelight.collect.profile import SiteProfile
from tracelight.errors import RecordError
from tracelight.ingest.html import image_reference
from tracelight.records import parse_datetime

MAX_LINKS = 5_000  # links read from one page; a hostile page with a million stops here
MAX_URL_CHARS = 2_048


@dataclass
class PageLinks:
    ads: list[str] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)
    off_site: int = 0  # links to hosts outside allowed_hosts (never followed)
    unmatched: int = 0  # on-site links matching neither pattern


def _texts(tree: LexborHTMLParser, selector: str | None) -> list[str]:
    if not selector:
        return []
    out = []
    for node in tree.css(selector):
        text = " ".join(node.text(separator=" ", strip=True).split())
        if text:
            out.append(text)
    return out


def extract_ad(profile: SiteProfile, raw: bytes, url: str) -> dict[str, Any]:
    """A raw record (docs/formats.md) from an ad page: id and url are the page URL, fields by
    the profile's selectors. A field whose selector matches nothing is left out (the caller
    counts that as 'selectors matched nothing')."""
    tree = LexborHTMLParser(raw)
    sel = profile.selectors
    data: dict[str, Any] = {"id": url, "url": url, "source": profile.source}
    title = _texts(tree, sel.get("title"))
    if title:
        data["title"] = title[0]
    body_nodes = tree.css(sel["body"]) if sel.get("body") else []
    body = "\n".join(n.text(separator="\n", strip=True) for n in body_nodes).strip()
    if body:
        data["body"] = body
    posted = None
    for node in tree.css(sel["posted_at"]) if sel.get("posted_at") else []:
        posted = (node.attributes.get("datetime") or node.text(strip=True) or "").strip()
        if posted:
            break
    if posted:
        try:
            parse_datetime(posted)
            data["posted_at"] = posted
        except RecordError:
            data.setdefault("extra", {})["posted_at_text"] = posted
    location = _texts(tree, sel.get("location"))
    if location:
        data["location"] = location[0]
    if sel.get("images"):
        imgs: list[str] = []
        for node in tree.css(sel["images"]):
            src = node.attributes.get("src") or node.attributes.get("href")
            if src and len(src) <= MAX_URL_CHARS:
                ref = image_reference(str(src), url)
                if ref not in imgs:
                    imgs.append(ref)
        if imgs:
            data["images"] = imgs
    contacts = _texts(tree, sel.get("contacts"))
    if contacts:
        data.setdefault("extra", {})["contacts"] = contacts
        missing = [c for c in contacts if c not in body]
        if missing:  # contact fields outside the body are part of what the advertiser wrote
            data["body"] = "\n".join([body, *missing]).strip()
    return data


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 of an extracted ad, what tells a changed ad from an unchanged one across crawls
    (the WARC reference, which differs every crawl, is not part of it)."""
    keep = {k: v for k, v in data.items() if k != "extra"}
    extra = {k: v for k, v in (data.get("extra") or {}).items() if k not in ("warc", "crawl")}
    blob = json.dumps([keep, extra], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def page_links(profile: SiteProfile, raw: bytes, url: str) -> PageLinks:
    """Links on a page sorted into ad pages and listing pages (pagination included), each
    absolute, without fragment, once, on an allowed host. `ad_links`/`next_page` selectors, when
    set, narrow where links are read from; otherwise every `a[href]`."""
    tree = LexborHTMLParser(raw)
    out = PageLinks()
    seen: set[str] = set()
    sel = profile.selectors
    selectors = [s for s in (sel.get("ad_links"), sel.get("next_page")) if s] or ["a[href]"]
    count = 0
    for selector in selectors:
        for node in tree.css(selector):
            href = node.attributes.get("href")
            if not href or len(href) > MAX_URL_CHARS:
                continue
            count += 1
            if count > MAX_LINKS:
                return out
            try:
                link = urldefrag(urljoin(url, str(href).strip()))[0]
            except ValueError:
                continue
            if link in seen:
                continue
            seen.add(link)
            if not profile.host_allowed(link):
                out.off_site += 1
                continue
            kind = profile.kind_of(link)
            if kind == "ad":
                out.ads.append(link)
            elif kind == "listing":
                out.listings.append(link)
            else:
                out.unmatched += 1
    return out
