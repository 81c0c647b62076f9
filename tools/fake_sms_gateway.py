"""A local fake SMS gateway for trying outreach end to end: binds 127.0.0.1 only.

    python tools/fake_sms_gateway.py --port 8765 --log sent.jsonl --replies replies.jsonl

POST /messages {"to", "body"} is appended to --log and answered {"id", "status": "queued"}
("failed" for numbers given with --fail); GET /replies answers the JSON lines of --replies
(then empties the file), as the http provider expects. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--replies", type=Path, required=True)
    ap.add_argument("--fail", action="append", default=[])
    args = ap.parse_args()
    count = [0]

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
            length = min(int(self.headers.get("Content-Length", "0")), 100_000)
            body = json.loads(self.rfile.read(length) or b"{}")
            with args.log.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(body) + "\n")
            count[0] += 1
            status = "failed" if body.get("to") in args.fail else "queued"
            self._answer({"id": f"fake-{count[0]}", "status": status})

        def do_GET(self) -> None:
            lines = []
            if args.replies.is_file():
                lines = [json.loads(x) for x in args.replies.read_text().splitlines() if x]
                args.replies.write_text("")
            self._answer(lines)

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
