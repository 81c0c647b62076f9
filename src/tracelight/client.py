"""A small Python client for the platform API (`tracelight serve [--api-only]`).

Standard library only (urllib), so a platform can vendor it without new dependencies:

    from tracelight.client import Client
    tl = Client("http://127.0.0.1:8000", token="tl_...")     # a token with scope check
    verdict = tl.check(title="...", body="...", images=[open("p.jpg", "rb").read()])
    if verdict["action"] == "block": ...
    tl.push_ads([{"id": "a1", "source": "mysite", "title": "...", "body": "..."}])

Every error the server answers becomes a ClientError with its HTTP status and message.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


class ClientError(Exception):
    """The server refused the call (status 4xx/5xx) or could not be reached (status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message


class Client:
    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def check(self, *, title: str = "", body: str = "", location: str | None = None,
              url: str | None = None, images: Sequence[bytes | Mapping[str, str]] = (),
              store: bool = False, **fields: Any) -> dict[str, Any]:
        """Check one ad; `images` are raw bytes or hashes ({"sha256": ...}, {"pdq": ...}).
        Answers the verdict: risk, reasons, identifiers, bank and watchlist hits, networks
        and the policy's `action` (allow, review or block)."""
        ad: dict[str, Any] = {"title": title, "body": body, **fields}
        if location is not None:
            ad["location"] = location
        if url is not None:
            ad["url"] = url
        ad["images"] = [{"data": base64.b64encode(i).decode()} if isinstance(i, bytes | bytearray)
                        else dict(i) for i in images]
        ad["store"] = store
        return self._post("/api/v1/check", json.dumps(ad).encode(), "application/json")

    def push_ads(self, ads: Iterable[Mapping[str, Any]], *,
                 source: str | None = None) -> dict[str, Any]:
        """Store ads (as `tracelight ingest` would); answers per-record results and counts."""
        body = b"".join(json.dumps(dict(a)).encode() + b"\n" for a in ads)
        path = "/api/v1/ads" + (f"?source={urllib.parse.quote(source)}" if source else "")
        return self._post(path, body, "application/x-ndjson")

    def _post(self, path: str, body: bytes, content_type: str) -> dict[str, Any]:
        req = urllib.request.Request(self.base_url + path, data=body, method="POST", headers={
            "authorization": f"Bearer {self.token}", "content-type": content_type,
            "accept": "application/json", "user-agent": "tracelight-client"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                result: dict[str, Any] = json.loads(resp.read())
                return result
        except urllib.error.HTTPError as exc:
            try:
                detail = str(json.loads(exc.read()).get("detail", exc.reason))
            except (ValueError, AttributeError):
                detail = str(exc.reason)
            raise ClientError(exc.code, detail) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ClientError(0, f"cannot reach {self.base_url}: "
                                 f"{getattr(exc, 'reason', exc)}") from None
