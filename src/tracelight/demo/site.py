"""A local fake ad site on 127.0.0.1, rendered from demo records, for crawl tests and the crawl
benchmark. Nothing here contacts any other address.

Pages: /robots.txt (disallows /private/), /list/N (listing pages with pagination), /ad/ID
(ad pages with ETag and Last-Modified; a conditional GET gets 304), /img/NAME (an ad's demo
image from `image_root`, or a small synthetic PNG drawn for NAME), plus hostile pages linked
from the first listing when `hostile=True`: a page over any sane size cap, malformed HTML, a
redirect loop, a 500, a slow page, a robots-disallowed page and links to other hosts and to
private addresses.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import socket
import threading
import time
from collections.abc import Iterable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

AD_PAGE = """<!doctype html><html><head><title>{title} - demo board</title></head><body>
<nav><a href="/list/1">all ads</a></nav>
<article class="ad"><h1 class="title">{title}</h1>
<time class="posted" datetime="{posted}">{posted}</time>
<span class="where">{location}</span>
<div class="text">{body}</div>
<p class="contact">{contact}</p>
{images}
</article></body></html>"""

LIST_PAGE = """<!doctype html><html><head><title>demo board page {n}</title></head><body>
<ul class="ads">{items}</ul>{extra}
<div class="pager">{next}</div></body></html>"""

HOSTILE_LINKS = ("/ad/huge", "/ad/malformed", "/list/loop-a", "/ad/broken", "/ad/slow",
                 "/private/ad/secret", "http://other.example/ad/x", "http://10.0.0.7/ad/y",
                 "http://169.254.169.254/ad/z", "javascript:alert(1)", "/ad/missing")


IMAGE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")


def synthetic_png(name: str, size: int = 24) -> bytes:
    """A small abstract PNG (coloured squares) determined by `name`: no people, no text."""
    from PIL import Image

    seed = hashlib.sha256(name.encode()).digest()
    im = Image.new("RGB", (size, size), (seed[0], seed[1], seed[2]))
    half = size // 2
    for i, (x, y) in enumerate(((0, 0), (half, 0), (0, half), (half, half))):
        im.paste((seed[3 + 3 * i], seed[4 + 3 * i], seed[5 + 3 * i]), (x, y, x + half, y + half))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


class _QuietServer(ThreadingHTTPServer):
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a crawler that hangs up mid-page (the size cap) is expected, not news


class FakeSite:
    """Serve `ads` (demo records: id, title, body, location, posted_at) until `close()`."""

    def __init__(self, ads: Iterable[dict[str, Any]], *, per_page: int = 20,
                 hostile: bool = False, slow_seconds: float = 0.5, port: int = 0,
                 image_root: str | None = None) -> None:
        self.ads: dict[str, dict[str, Any]] = {str(a["id"]): dict(a) for a in ads}
        self.order = list(self.ads)
        self.per_page = per_page
        self.hostile = hostile
        self.slow_seconds = slow_seconds
        self.requests: list[str] = []
        self.image_root = image_root
        self.validators = True  # send ETag and Last-Modified (False: a site that sends none)
        self.images: dict[str, bytes] = {}
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out as two writes: without this, Nagle's algorithm and
                # delayed ACKs hold every body back ~40 ms on a kept-alive connection
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                with site.lock:
                    site.requests.append(self.path)
                site.handle(self)

        self.server = _QuietServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self) -> FakeSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- changing the site between crawls ------------------------------------------------
    def add(self, ad: dict[str, Any]) -> None:
        self.ads[str(ad["id"])] = dict(ad)
        self.order.insert(0, str(ad["id"]))

    def change(self, ad_id: str, **fields: Any) -> None:
        self.ads[ad_id].update(fields)

    # ---- rendering ----------------------------------------------------------------------
    def ad_html(self, ad: dict[str, Any]) -> bytes:
        e = html.escape
        names = [str(i) if str(i).startswith("http") else
                 "/img/" + str(i).rsplit("/", 1)[-1] for i in ad.get("images") or []] or \
            [f'/img/{ad["id"]}-{i}.png' for i in range(int(ad.get("n_images", 1)))]
        imgs = "".join(f'<img class="photo" src="{e(n)}">' for n in names)
        return AD_PAGE.format(title=e(ad.get("title", "")), body=e(ad.get("body", "")),
                              posted=e(str(ad.get("posted_at") or "")),
                              location=e(str(ad.get("location") or "")),
                              contact=e(str(ad.get("contact") or "")), images=imgs).encode()

    def list_html(self, n: int) -> bytes | None:
        start = (n - 1) * self.per_page
        ids = self.order[start:start + self.per_page]
        if not ids and n > 1:
            return None
        items = "".join(f'<li><a class="ad-link" href="/ad/{html.escape(i)}">'
                        f'{html.escape(self.ads[i].get("title", ""))}</a></li>' for i in ids)
        more = start + self.per_page < len(self.order)
        nxt = f'<a class="next" href="/list/{n + 1}">next</a>' if more else ""
        extra = ""
        if self.hostile and n == 1:
            extra = "".join(f'<a class="ad-link" href="{html.escape(h)}">x</a>'
                            for h in HOSTILE_LINKS)
        return LIST_PAGE.format(n=n, items=items, next=nxt, extra=extra).encode()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        if path == "/robots.txt":
            return _send(h, 200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path.startswith("/list/"):
            key = path[len("/list/"):]
            if key == "loop-a":
                return _redirect(h, "/list/loop-b")
            if key == "loop-b":
                return _redirect(h, "/list/loop-a")
            page = self.list_html(int(key)) if key.isdigit() else None
            if page is None:
                return _send(h, 404, b"not found", "text/plain")
            return _send(h, 200, page)
        if path.startswith("/ad/"):
            key = path[len("/ad/"):]
            if self.hostile and key == "huge":
                return _send(h, 200, b"<html><body>" + b"x" * 6_000_000 + b"</body></html>")
            if self.hostile and key == "malformed":
                return _send(h, 200, b"<html><body><h1 class='title'>Broken <b><i>page"
                             b"<div class=text>\x00\xff\xfe unclosed <<<>>> &bogus; " * 50)
            if self.hostile and key == "broken":
                return _send(h, 500, b"server error", "text/plain")
            if self.hostile and key == "slow":
                time.sleep(self.slow_seconds)
                return _send(h, 200, self.ad_html({"id": "slow", "title": "Slow page",
                                                   "body": "A slow synthetic page."}))
            ad = self.ads.get(key)
            if ad is None:
                return _send(h, 404, b"not found", "text/plain")
            body = self.ad_html(ad)
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if not self.validators:
                return _send(h, 200, body)
            if h.headers.get("If-None-Match") == etag:
                return _send(h, 304, b"", extra={"ETag": etag})
            return _send(h, 200, body, extra={"ETag": etag,
                                              "Last-Modified": formatdate(usegmt=True)})
        if path.startswith("/img/"):
            data = self.image(path[len("/img/"):])
            if data is None:
                return _send(h, 404, b"not found", "text/plain")
            ctype = "image/jpeg" if path.endswith(".jpg") else "image/png"
            return _send(h, 200, data, ctype)
        if path.startswith("/private/"):
            return _send(h, 200, b"<html><body><h1 class=title>private</h1></body></html>")
        return _send(h, 404, b"not found", "text/plain")


    def image(self, name: str) -> bytes | None:
        if not IMAGE_NAME.match(name) or name.startswith("."):
            return None
        if self.hostile and name == "notanimage.png":
            return b"<html>this is not an image</html>"
        with self.lock:
            data = self.images.get(name)
        if data is None:
            path = f"{self.image_root}/images/{name}" if self.image_root else ""
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                data = synthetic_png(name)
            with self.lock:
                self.images[name] = data
        return data


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes,
          ctype: str = "text/html; charset=utf-8", extra: dict[str, str] | None = None) -> None:
    try:
        h.send_response(status)
        if status != 304:
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.end_headers()
        if status != 304:
            h.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):  # the crawler stopped reading (size cap)
        pass


def _redirect(h: BaseHTTPRequestHandler, to: str) -> None:
    _send(h, 302, b"", extra={"Location": to})


def site_profile(base: str, name: str = "demo-site") -> dict[str, Any]:
    """A site profile (as YAML would load it) that crawls this site completely."""
    host = base.split("://", 1)[1]
    return {
        "name": name, "country": "US", "source": name, "start_urls": [f"{base}/list/1"],
        "allowed_hosts": [host], "listing_patterns": [r"^/list/\d+$"],
        "ad_patterns": [r"^/ad/[^/]+$"], "max_depth": 1000, "max_pages": 10_000_000,
        "selectors": {"title": "h1.title", "body": "div.text", "posted_at": "time.posted",
                      "location": "span.where", "images": "img.photo",
                      "contacts": "p.contact", "ad_links": "a.ad-link", "next_page": "a.next"},
        "delay_seconds": 0, "concurrency": 4, "timeout_seconds": 10, "retries": 1,
        "user_agent": "tracelight-crawler (demo)",
        "allow_private_addresses": True,  # the demo site is on 127.0.0.1
    }


def serve(ads_path: str, per_page: int = 50, port: int = 0, image_root: str = "") -> None:
    """Serve the records of a JSON Lines file until stdin closes (for `tracelight bench
    crawl`, which runs the site in its own process so that it does not share the crawler's
    interpreter). Prints the base URL on the first line of stdout."""
    import json
    import sys

    with open(ads_path, encoding="utf-8") as fh:
        ads = [json.loads(line) for line in fh if line.strip()]
    site = FakeSite(ads, per_page=per_page, port=port, image_root=image_root or None)
    print(site.base, flush=True)
    try:
        sys.stdin.read()
    finally:
        site.close()
