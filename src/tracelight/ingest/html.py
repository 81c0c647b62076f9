"""Saved ad pages: title, body, url, date and images from HTML, with a real HTML parser."""

from __future__ import annotations

from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from tracelight.errors import RecordError
from tracelight.records import parse_datetime

# Where the ad text usually lives, most specific first.
BODY_SELECTORS = ("[itemprop=description]", ".postingbody", "#postingbody", "article", "main",
                  ".ad-body", ".description", "body")


def _meta(tree: HTMLParser, *names: str) -> str | None:
    for name in names:
        node = tree.css_first(f'meta[property="{name}"]') or tree.css_first(f'meta[name="{name}"]')
        if node and node.attributes.get("content"):
            return str(node.attributes["content"]).strip()
    return None


def parse_html_page(raw: bytes, url: str | None) -> dict[str, Any]:
    """A raw record (dict in the ad record format) from one HTML page."""
    tree = HTMLParser(raw)
    for junk in tree.css("script, style, noscript, nav, footer, header"):
        junk.decompose()
    data: dict[str, Any] = {}
    title_node = tree.css_first("h1") or tree.css_first("title")
    title = _meta(tree, "og:title") or (title_node.text(strip=True) if title_node else "")
    data["title"] = " ".join(title.split())
    body = ""
    for selector in BODY_SELECTORS:
        node = tree.css_first(selector)
        if node is not None:
            body = node.text(separator="\n", strip=True)
            if body:
                break
    data["body"] = body
    canonical = tree.css_first('link[rel="canonical"]')
    page_url = url or _meta(tree, "og:url") or (
        str(canonical.attributes.get("href")) if canonical and canonical.attributes.get("href")
        else None)
    if page_url:
        data["url"] = page_url
    posted = _meta(tree, "article:published_time", "date")
    time_node = tree.css_first("time[datetime]")
    if not posted and time_node is not None:
        posted = time_node.attributes.get("datetime")
    if posted:
        # A page date we cannot read must not cost the whole ad: keep the text as written.
        try:
            parse_datetime(posted)
            data["posted_at"] = posted
        except RecordError:
            data["posted_at_text"] = posted
    location = _meta(tree, "geo.placename", "og:locality")
    if location:
        data["location"] = location
    imgs = [str(n.attributes["src"]) for n in tree.css("img[src]") if n.attributes.get("src")]
    if imgs:
        data["images"] = imgs
    ad_id = _meta(tree, "ad:id", "post-id")
    if ad_id:
        data["id"] = ad_id
    return data
