"""Use case: ads pushed over HTTP (`POST /api/v1/ads`), stored with exactly the rules of
`tracelight ingest`: the body is spooled to a private JSON Lines file and ingested by the one
ingest use case (services/ingest.py), rejects and idempotence included.

Image references in pushed ads are never followed (they would name files on the server), so
the pipeline runs with images off; send pictures through `POST /api/v1/check`.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracelight.errors import UsageError
from tracelight.pipeline import PipelineOptions
from tracelight.services.ingest import default_after_batch, ingest
from tracelight.store import Store

SPOOL_NAME = "push.jsonl"
MAX_RECORDS = 10_000


@dataclass
class PushResult:
    summary: dict[str, Any]
    results: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "results": self.results}


def _lines(body: bytes, content_type: str) -> list[bytes]:
    """The body as JSON Lines: a JSON array becomes one line per element."""
    stripped = body.lstrip()
    if content_type.startswith("application/json") or stripped.startswith(b"["):
        try:
            items = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise UsageError("the body is not a valid UTF-8 JSON array") from None
        if not isinstance(items, list):
            raise UsageError("a JSON body must be an array of ads (or send JSON Lines)")
        lines = [json.dumps(item).encode() for item in items]
    else:
        lines = [line for line in body.split(b"\n")]
        if lines and lines[-1] == b"":
            lines.pop()
    if len(lines) > MAX_RECORDS:
        raise UsageError(f"at most {MAX_RECORDS:,} ads per request, got {len(lines):,}",
                         hint="split the feed into several requests")
    return lines


def push_ads(store: Store, body: bytes, *, content_type: str = "application/x-ndjson",
             default_source: str | None = None, region: str | None = None) -> PushResult:
    """Store the pushed ads; one result per record (its line, id, accepted or rejected and
    why), and the run's counts (new, updated, unchanged, rejected)."""
    lines = _lines(body, content_type)
    if not any(line.strip() for line in lines):
        raise UsageError("no ads in the body")
    with tempfile.TemporaryDirectory(prefix="tracelight-push-") as tmp:
        spool = Path(tmp) / SPOOL_NAME
        spool.write_bytes(b"\n".join(lines) + b"\n")
        rejects = Path(tmp) / "rejects.txt"
        opts = PipelineOptions(images=False, region=region or PipelineOptions.region)
        summary = ingest(store, [str(spool)], default_source=default_source, options=opts,
                         rejects_path=str(rejects), workers=1,
                         after_batch=default_after_batch(via="push"))
        refused: dict[int, str] = {}
        if rejects.is_file():
            for row in rejects.read_text(encoding="utf-8").splitlines():
                origin, _, reason = row.partition(": ")
                _name, _, num = origin.rpartition(":")
                if num.isdigit():
                    refused[int(num)] = reason
    results: list[dict[str, Any]] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if n in refused:
            results.append({"line": n, "status": "rejected", "reason": refused[n]})
            continue
        ad_id: Any = None
        with contextlib.suppress(ValueError, AttributeError, RecursionError):
            ad_id = json.loads(line).get("id")
        results.append({"line": n, "id": ad_id, "status": "accepted"})
    out = summary.to_dict()
    out.pop("rejects_path", None)  # a private temporary file, gone now
    return PushResult(summary=out, results=results)
