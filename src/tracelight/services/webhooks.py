"""Use case: webhooks — subscriptions, HMAC-SHA256-signed deliveries, retries with backoff
and a dead-letter list.

Nothing is sent unless someone subscribed (`tracelight webhook add URL --events ...`).
Outbound URLs must be http(s); private, loopback and link-local addresses are refused unless
the webhook_allow_private setting is 1 (tests use a local receiver on 127.0.0.1 that way).
Payloads carry verdicts and ids, never an ad's text.

Receivers check `X-Tracelight-Signature: sha256=HEX`, the HMAC-SHA256 of
`TIMESTAMP.BODY` under the subscription's secret, with `X-Tracelight-Timestamp: TIMESTAMP`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tracelight import settings
from tracelight.errors import UsageError
from tracelight.records import utcnow
from tracelight.store import Store
from tracelight.store.webhooks import Delivery, Webhook, Webhooks

EVENTS = ("watchlist.hit", "bank.match", "network.high_risk", "money.alert")
MAX_ITEMS = 500  # hits per payload; more are sent in further deliveries
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, then dead-lettered
TIMEOUT_SECONDS = 5.0
CLAIM_SECONDS = 120  # a claimed delivery whose sender died is due again after this
DELIVER_EVERY_SECONDS = 5.0  # how often `tracelight serve` looks for due deliveries


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """For receivers (and tests): does the signature match?"""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def check_url(url: str, *, allow_private: bool | None = None) -> str:
    """The URL if it may receive webhooks; UsageError naming why not."""
    if allow_private is None:
        allow_private = settings.get("webhook_allow_private") == "1"
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UsageError(f"not a valid URL: {url[:200]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("a webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise UsageError("a webhook URL may not carry a user name or password")
    if not allow_private:
        try:
            infos = socket.getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
        except OSError:
            raise UsageError(f"cannot resolve {parts.hostname!r}") from None
        for info in infos:
            addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if not addr.is_global:
                raise UsageError(f"{parts.hostname} is a private, loopback or reserved "
                                 f"address ({addr})",
                                 hint="set TRACELIGHT_WEBHOOK_ALLOW_PRIVATE=1 for an internal "
                                      "receiver")
    return url.strip()


def add_webhook(store: Store, url: str, events: Sequence[str], created_by: str,
                secret: str | None = None) -> Webhook:
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise UsageError(f"unknown event {unknown[0]!r}" if unknown else "no events given",
                         hint="events: " + ", ".join(EVENTS))
    return Webhooks(store).add(check_url(url), list(events),
                               secret or secrets.token_urlsafe(32), created_by)


def emit(store: Store, event: str, data: dict[str, Any]) -> int:
    """Queue `event` for every subscriber (none: nothing happens). Returns how many."""
    body = json.dumps({"event": event, "at": utcnow().isoformat(), "data": data},
                      sort_keys=True, allow_nan=False, default=str)
    return Webhooks(store).enqueue(event, body)


def subscribed(store: Store, event: str) -> bool:
    """Does any webhook want `event`? (The ingest hooks do no extra work otherwise.)"""
    return any(event in h.events for h in Webhooks(store).all())


def emit_items(store: Store, event: str, key: str, items: Sequence[dict[str, Any]],
               base: dict[str, Any]) -> int:
    """Queue `event` with `items` under `key`, MAX_ITEMS per delivery. Returns how many
    deliveries were queued."""
    queued = 0
    for i in range(0, len(items), MAX_ITEMS):
        queued += emit(store, event, {**base, key: list(items[i:i + MAX_ITEMS])})
    return queued


Sender = Callable[[str, bytes, dict[str, str]], int]


def _urllib_send(url: str, body: bytes, headers: dict[str, str]) -> int:
    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # a redirect could point anywhere: never followed

    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(req, timeout=TIMEOUT_SECONDS) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass(frozen=True)
class DeliveryRun:
    sent: int
    retrying: int
    dead: int


def deliver_due(store: Store, *, send: Sender | None = None,
                now: datetime | None = None) -> DeliveryRun:
    """Try every delivery that is due; a failure is retried with exponential backoff, and
    after MAX_ATTEMPTS it goes to the dead-letter list (`tracelight webhook dead`)."""
    send = send or _urllib_send
    repo = Webhooks(store)
    hooks = {h.id: h for h in repo.all()}
    sent = retrying = dead = 0
    for d in repo.due(now):
        hook = hooks.get(d.webhook_id)
        if hook is None:
            continue
        # one sender per delivery, however many run (server workers, cron)
        if not repo.claim(d, utcnow() + timedelta(seconds=CLAIM_SECONDS), now):
            continue
        error = _attempt(hook, d, send)
        attempts = d.attempts + 1
        if error is None:
            repo.mark(d.id, status="sent", attempts=attempts)
            sent += 1
        elif attempts >= MAX_ATTEMPTS:
            repo.mark(d.id, status="dead", attempts=attempts, error=error)
            dead += 1
        else:
            wait = timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempts - 1))
            repo.mark(d.id, status="pending", attempts=attempts, error=error,
                      next_at=utcnow() + wait)
            retrying += 1
    return DeliveryRun(sent, retrying, dead)


def _attempt(hook: Webhook, d: Delivery, send: Sender) -> str | None:
    try:
        check_url(hook.url)  # the address may resolve elsewhere now
    except UsageError as exc:
        return exc.message
    body = d.payload.encode()
    ts = str(int(time.time()))
    headers = {"content-type": "application/json", "user-agent": "tracelight-webhook",
               "x-tracelight-event": d.event, "x-tracelight-delivery": str(d.id),
               "x-tracelight-timestamp": ts,
               "x-tracelight-signature": sign(hook.secret, ts, body)}
    try:
        status = send(hook.url, body, headers)
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return None if 200 <= status < 300 else f"HTTP {status}"


log = logging.getLogger(__name__)


class Deliverer:
    """What `tracelight serve` runs in each worker: a daemon thread that sends every due
    delivery (deliver_due) every DELIVER_EVERY_SECONDS, and at once when woken (a check or a
    push queued one), so deliveries queued by `tracelight ingest`, `link` or `tx score` and
    retries go out without `tracelight webhook deliver`. Claims keep two workers from sending
    one delivery twice; what is pending when the server stops stays queued in the store for
    the next server or `tracelight webhook deliver`."""

    def __init__(self, store: Store, *, every: float = DELIVER_EVERY_SECONDS,
                 send: Sender | None = None) -> None:
        self.store = store
        self.every = every
        self.send = send
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="tracelight-webhooks",
                                        daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT_SECONDS * 2)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.every)
            self._wake.clear()
            if self._stop.is_set():
                return
            if not Webhooks(self.store).all():
                continue  # nobody subscribed: one small read, nothing sent
            try:
                deliver_due(self.store, send=self.send)
            except Exception:  # a store hiccup: try again next round
                log.warning("webhook delivery failed", exc_info=True)
