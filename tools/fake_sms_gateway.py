"""A local fake SMS gateway for trying outreach end to end: binds 127.0.0.1 only.

    python tools/fake_sms_gateway.py --port 8765 --log sent.jsonl --replies replies.jsonl

POST /messages {"to", "body"} is appended to --log and answered {"id", "status": "queued"}
("failed" for numbers given with --fail); GET /replies answers the JSON lines of --replies
(then empties the file), as the http provider expects. Nothing leaves the machine.

The tests run the same gateway in-process (`Gateway` and `make_server`, through
tests/local_servers.py), with the messages and replies kept in memory.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY = 100_000


class Gateway:
    """What the gateway holds: messages sent (and appended to `log` when given), replies
    waiting to be fetched (and those of `replies_file`), numbers whose sending fails."""

    def __init__(self, *, log: Path | None = None, replies_file: Path | None = None,
                 fail: Iterable[str] = ()) -> None:
        self.sent: list[dict[str, Any]] = []
        self.replies: list[Any] = []
        self.fail: set[str] = set(fail)
        self.log = log
        self.replies_file = replies_file
        self._lock = threading.Lock()

    def receive(self, message: dict[str, Any]) -> dict[str, str]:
        """One message to send: kept, logged; answered with its id and status."""
        with self._lock:
            self.sent.append(message)
            if self.log is not None:
                with self.log.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(message) + "\n")
            n = len(self.sent)
        status = "failed" if message.get("to") in self.fail else "queued"
        return {"id": f"fake-{n}", "status": status}

    def take_replies(self) -> list[Any]:
        """The replies waiting (each once): those given in memory, then the file's lines."""
        with self._lock:
            out, self.replies[:] = list(self.replies), []
            if self.replies_file is not None and self.replies_file.is_file():
                out += [json.loads(x) for x in
                        self.replies_file.read_text(encoding="utf-8").splitlines() if x]
                self.replies_file.write_text("", encoding="utf-8")
        return out


def make_server(gateway: Gateway, port: int = 0) -> ThreadingHTTPServer:
    """The gateway's HTTP server on 127.0.0.1:`port` (0: any free port); not yet serving."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def _answer(self, obj: object) -> None:
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length", "0")), MAX_BODY)
            body = json.loads(self.rfile.read(length) or b"{}")
            self._answer(gateway.receive(body if isinstance(body, dict) else {}))

        def do_GET(self) -> None:
            self._answer(gateway.take_replies())

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--replies", type=Path, required=True)
    ap.add_argument("--fail", action="append", default=[])
    args = ap.parse_args()
    gateway = Gateway(log=args.log, replies_file=args.replies, fail=args.fail)
    make_server(gateway, args.port).serve_forever()


if __name__ == "__main__":
    main()
