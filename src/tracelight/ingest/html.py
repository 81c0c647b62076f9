"""Saved ad pages: title, body, url, date and images from HTML, with a real HTML parser."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from tracelight.errors import RecordError
from tracelight.records import parse_datetime

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
# Where the ad text usually lives, most specific first.
BODY_SELECTORS = ("[itemprop=description]", ".postingbody", "#postingbody", "article", "main",
                  ".ad-body", ".description", "body")


def _meta(tree: HTMLParser, *names: str) -> str | None:
    for name in names:
        node = tree.css_first(f'meta[property="{name}"]') or tree.css_first(f'meta[name="{name}"]')
        if node and node.attributes.get("content"):
            return str(node.attributes["content"]).strip()
    return None


def image_reference(src: str, page_url: str | None) -> str:
    """An `<img src>` as an image reference of the record.

    In a WARC record (`page_url` is the captured URL) a src is a URL relative to that page, never
    a file next to the WARC: it becomes an absolute URL (a remote image). In a saved page it is
    the URL of a file saved beside the page (`page_files/x.jpg`): query and fragment are dropped
    and %-escapes decoded; ingest then reads it only if it is a regular file inside the page's
    folder (tracelight.images.refs).
    """
    src = src.strip()
    if page_url and urlsplit(page_url).scheme in ("http", "https"):
        return urljoin(page_url, src)
    if _SCHEME.match(src) or src.startswith("//"):
        return src
    path = urlsplit(src).path
    return unquote(path) if path else src


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
    imgs = [image_reference(str(n.attributes["src"]), url)
            for n in tree.css("img[src]") if n.attributes.get("src")]
    if imgs:
        data["images"] = imgs
    ad_id = _meta(tree, "ad:id", "post-id")
    if ad_id:
        data["id"] = ad_id
    return data
