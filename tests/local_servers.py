"""Local HTTP servers the tests talk to, each on 127.0.0.1 only: a webhook receiver that keeps
what it was sent, and the fake SMS gateway of tools/fake_sms_gateway.py (the same code a
person runs by hand)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

TOOLS = Path(__file__).resolve().parents[1] / "tools"


class Receiver:
    """A webhook receiver on 127.0.0.1: `got` holds (lower-cased headers, body) per POST,
    answered with `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.got: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"tools_{name}", TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fake_sms_gateway = _tool("fake_sms_gateway")
Gateway = fake_sms_gateway.Gateway


@contextmanager
def sms_gateway() -> Iterator[tuple[str, Any]]:
    """tools/fake_sms_gateway.py serving in a thread: (its URL, its Gateway state)."""
    state = Gateway()
    server = fake_sms_gateway.make_server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _digits(b: bytes) -> bytes:
    return bytes(c for c in b if 48 <= c <= 57)


def leaks_phone(body: bytes, phone: str = "2065550143") -> bool:
    """Does a payload hold the test ads' phone in any writing (206-555-0143, +12065550143,
    206 555 0143)? Its last seven digits in a row, read across separators; not "206" alone,
    which a timestamp's microseconds may hold."""
    tail = phone[-7:].encode()
    text = body.decode("utf-8", "replace")
    import re

    runs = re.findall(r"\+?\d[\d\s().-]{6,}\d", text)
    return any(tail in _digits(r.encode()) for r in runs) or b"555-0143" in body
