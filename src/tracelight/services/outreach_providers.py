"""Use case support: the adapters outreach sends through. Nothing is sent by itself.

- `DryRunProvider` (the default): sends nothing, changes nothing; `send` shows what would go.
- `FileProvider`: writes each message as one JSON line to an outbox file, for an organisation
  that sends from its own phone system.
- `HttpProvider`: a Twilio-style HTTP gateway, used only when its address is given explicitly
  (`--provider http --provider-url URL`); tests run it against a fake on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from tracelight.errors import ConfigError, InputError, UsageError

MAX_RESPONSE = 1_000_000  # bytes read from a gateway answer
TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    provider_id: str | None = None
    error: str = ""


class Provider(Protocol):
    name: str
    dry_run: bool

    def send(self, phone: str, text: str) -> Delivery: ...
    def fetch_replies(self) -> list[dict[str, Any]]: ...


class DryRunProvider:
    name = "dry-run"
    dry_run = True

    def send(self, phone: str, text: str) -> Delivery:
        return Delivery(True, None)

    def fetch_replies(self) -> list[dict[str, Any]]:
        return []


class FileProvider:
    name = "file"
    dry_run = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self._n = 0

    def send(self, phone: str, text: str) -> Delivery:
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"to": phone, "body": text}, ensure_ascii=False,
                                    allow_nan=False) + "\n")
        except OSError as exc:
            return Delivery(False, None, f"cannot write the outbox: {exc.strerror or exc}")
        self._n += 1
        return Delivery(True, f"file:{self._n}")

    def fetch_replies(self) -> list[dict[str, Any]]:
        return []


class HttpProvider:
    """POST {"to", "body"} as JSON to URL/messages (answer {"id", "status"}); replies are read
    from GET URL/replies (answer: a JSON list of {"from", "body"})."""

    name = "http"
    dry_run = False

    def __init__(self, url: str, token: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"provider URL {url!r} is not an http(s) address")
        self.url = url.rstrip("/")
        self.token = token

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                raw = resp.read(MAX_RESPONSE + 1)
        except urllib.error.HTTPError as exc:
            raise InputError(f"the gateway answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ConfigError(f"cannot reach the gateway at {self.url}: {exc}") from None
        if len(raw) > MAX_RESPONSE:
            raise InputError("the gateway's answer is too large")
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise InputError("the gateway's answer is not JSON") from None

    def send(self, phone: str, text: str) -> Delivery:
        try:
            answer = self._call("POST", "/messages", {"to": phone, "body": text})
        except InputError as exc:
            return Delivery(False, None, str(exc))
        if not isinstance(answer, dict):
            return Delivery(False, None, "the gateway's answer is not an object")
        status = str(answer.get("status", ""))
        pid = str(answer.get("id", ""))[:128] or None
        if status in ("queued", "sent", "delivered"):
            return Delivery(True, pid)
        return Delivery(False, pid, f"gateway status {status[:40]!r}")

    def fetch_replies(self) -> list[dict[str, Any]]:
        answer = self._call("GET", "/replies")
        if not isinstance(answer, list):
            raise InputError("the gateway's replies are not a list")
        return [a for a in answer if isinstance(a, dict)]


def make_provider(name: str, *, url: str | None = None, outbox: Path | None = None,
                  token: str | None = None) -> Provider:
    """The adapter by name; the file and HTTP ones need their target given explicitly."""
    if name == "dry-run":
        return DryRunProvider()
    if name == "file":
        if outbox is None:
            raise UsageError("the file provider needs --outbox PATH")
        return FileProvider(outbox)
    if name == "http":
        if not url:
            raise UsageError("the http provider needs --provider-url URL (nothing is sent to "
                             "a gateway that was not named explicitly)")
        return HttpProvider(url, token)
    raise UsageError(f"unknown provider {name!r}", hint="dry-run, file or http")
