"""Reading a demo corpus (ads.jsonl + truth.jsonl) into LinkAds, for benchmarks and tests.

Mentions come from the extractor when it is installed (`tracelight.extract.extract_record`);
otherwise, or with `oracle=True`, from the truth file: what a perfect extractor would find,
located in the text so contact details can be blanked. The bench prints which was used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracelight.link.features import LinkAd
from tracelight.records import AdRecord, Mention, record_from_mapping


def extractor_available() -> bool:
    try:
        from tracelight.extract import extract_record  # noqa: F401
    except ImportError:
        return False
    return True


def _find_all(text: str, needle: str) -> Iterator[int]:
    if not needle:
        return
    low, nd = text.lower(), needle.lower()
    i = low.find(nd)
    while i >= 0:
        yield i
        i = low.find(nd, i + len(nd))


def oracle_mentions(rec: AdRecord, truth: dict[str, Any]) -> list[Mention]:
    """The truth's identifiers as mentions, with spans where their text can be found."""
    wanted: list[tuple[str, str, list[str]]] = []
    raws: dict[str, list[str]] = {}
    for pt in truth.get("phone_text", []):
        raws.setdefault(pt["phone"], []).append(pt["raw"])
    for p in truth.get("phones", []):
        wanted.append(("phone", p, raws.get(p, [])))
    for e in truth.get("emails", []):
        wanted.append(("email", e, [e]))
    for s in truth.get("social", []):
        wanted.append(("social", f"{s['platform']}:{s['handle'].lower()}", [s["handle"]]))
    for p in truth.get("payment_handles", []):
        wanted.append(("payment", f"{p['service']}:{p['handle'].lower()}", [p["handle"]]))
    for c in truth.get("crypto", []):
        wanted.append(("crypto", c["address"], [c["address"]]))
    for n in truth.get("names", []):
        wanted.append(("name", n, [n]))
    if truth.get("city"):
        wanted.append(("location", truth["city"], [truth["city"]]))
    out: list[Mention] = []
    for kind, value, needles in wanted:
        found = False
        for field in ("title", "body"):
            text = getattr(rec, field)
            for needle in needles:
                for i in _find_all(text, needle):
                    out.append(Mention(kind, value, field, i, i + len(needle), raw=needle))
                    found = True
        if not found:  # obfuscated beyond a plain find: the value still counts
            out.append(Mention(kind, value, "truth", 0, 0))
    return out


def read_corpus(folder: Path, *, oracle: bool = False,
                ) -> tuple[list[LinkAd], dict[str, str | None], str]:
    """(ads, truth network per ad key, "extractor" or "oracle")."""
    truth_rows = {}
    with (folder / "truth.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                t = json.loads(line)
                truth_rows[t["id"]] = t
    use_extractor = not oracle and extractor_available()
    ads: list[LinkAd] = []
    with (folder / "ads.jsonl").open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = record_from_mapping(json.loads(line), default_source="demo",
                                      origin=f"ads.jsonl:{n}")
            if use_extractor:
                from tracelight.extract import extract_record
                mentions = list(extract_record(rec).mentions)
            else:
                mentions = oracle_mentions(rec, truth_rows.get(rec.id, {}))
            ads.append(LinkAd(key=rec.id, title=rec.title, body=rec.body,
                              posted_at=rec.posted_at, location=rec.location,
                              mentions=tuple(mentions)))
    truth = {k: t.get("network_id") for k, t in truth_rows.items()}
    return ads, truth, "extractor" if use_extractor else "oracle"
