"""The one small interface every exporter implements, and the typed case it reads.

A service (tracelight.services.cases.load_case) loads a case from the store into a
`CaseFile`: plain, frozen dataclasses, no database handle. An `Exporter` takes that case and
writes files under a destination; it returns what it wrote with each file's SHA-256, so the
caller can audit the export by its hash. Exporters are pure: no store, web or network access,
so the same case gives the same files (bar the time stamp a format requires) and every
exporter passes one contract test (tests/test_report_contract.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

# entity kinds that identify whoever posted an ad (the advertiser's contacts); never ages,
# names or places, which may describe a possible victim
ADVERTISER_KINDS = ("phone", "email", "social", "payment", "crypto")


@dataclass(frozen=True, slots=True)
class CaseMention:
    kind: str
    value: str
    field: str
    start: int
    end: int
    raw: str = ""
    obfuscated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "field": self.field,
                "start": self.start, "end": self.end, "raw": self.raw,
                "obfuscated": self.obfuscated}


@dataclass(frozen=True, slots=True)
class CaseImage:
    position: int
    original: str
    sha256: str | None
    md5: str | None
    pdq: str | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"position": self.position, "original": self.original, "sha256": self.sha256,
                "md5": self.md5, "pdq": self.pdq, "error": self.error}


@dataclass(frozen=True, slots=True)
class Capture:
    """The original capture of an ad: a WARC record's bytes when collection supplied one,
    else None with `note` saying what stands in for it."""

    warc: bytes | None
    note: str = ""
    origin: str = ""


@dataclass(frozen=True, slots=True)
class CaseAd:
    pk: int
    source: str
    ad_id: str
    url: str | None
    title: str
    body: str
    posted_at: datetime | None
    location: str | None
    first_seen: datetime
    last_seen: datetime
    revision: int
    content_hash: str
    risk: float | None
    reasons: tuple[dict[str, Any], ...] = ()
    mentions: tuple[CaseMention, ...] = ()
    images: tuple[CaseImage, ...] = ()
    network: str | None = None
    capture: Capture = Capture(None, "no capture")

    @property
    def ref(self) -> str:
        return f"{self.source}/{self.ad_id}"

    def values(self, kind: str) -> list[str]:
        """Distinct values of one entity kind, in order of first mention."""
        return list(dict.fromkeys(m.value for m in self.mentions if m.kind == kind))


@dataclass(frozen=True, slots=True)
class CaseNetwork:
    id: str
    summary: dict[str, Any]
    ad_pks: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CaseIdentifier:
    kind: str
    value: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class CustodyEntry:
    """One audit-log entry about the case or its contents, with its place in the hash chain."""

    seq: int
    at: str  # UTC, microseconds, "Z" (store.audit.canonical_at)
    username: str
    action: str
    target: str
    reason: str | None
    detail: dict[str, Any] | None
    ip: str | None
    prev_hash: str
    row_hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "username": self.username,
                "action": self.action, "target": self.target, "reason": self.reason,
                "detail": self.detail, "ip": self.ip, "prev_hash": self.prev_hash,
                "row_hash": self.row_hash}


@dataclass(frozen=True, slots=True)
class CaseFile:
    """A case as exporters see it: its items resolved to ads, networks and identifiers."""

    id: int
    title: str
    description: str
    status: str
    created_by: str
    created_at: datetime
    tags: tuple[str, ...]
    loaded_at: datetime
    loaded_by: str
    tool_version: str
    ads: tuple[CaseAd, ...] = ()
    networks: tuple[CaseNetwork, ...] = ()
    identifiers: tuple[CaseIdentifier, ...] = ()
    items: tuple[dict[str, Any], ...] = ()
    notes: tuple[dict[str, Any], ...] = ()
    custody: tuple[CustodyEntry, ...] = ()
    audit_head: tuple[int, str] = (0, "0" * 64)
    missing: tuple[str, ...] = ()  # items that no longer resolve ("ad 17", "network n-3")
    # photos uploaded to match, attached with their hotel candidates (hash, never the bytes)
    room_photos: tuple[dict[str, Any], ...] = ()

    def identifier_values(self, kind: str) -> list[str]:
        """Distinct values of `kind` over the case's ads and its identifier items."""
        out: dict[str, None] = {}
        for ad in self.ads:
            for v in ad.values(kind):
                out.setdefault(v, None)
        for ident in self.identifiers:
            if ident.kind == kind:
                out.setdefault(ident.value, None)
        return list(out)

    def images(self) -> list[CaseImage]:
        """Distinct images (by SHA-256) over the case's ads, in order."""
        seen: dict[str, CaseImage] = {}
        for ad in self.ads:
            for img in ad.images:
                if img.sha256 and img.sha256 not in seen:
                    seen[img.sha256] = img
        return list(seen.values())


@dataclass(frozen=True, slots=True)
class WrittenFile:
    path: Path
    sha256: str
    size: int


@runtime_checkable
class Exporter(Protocol):
    """Takes a case, writes files at `out` (a file path; companions go beside it)."""

    name: str

    def export(self, case: CaseFile, out: Path) -> list[WrittenFile]: ...


def write_file(path: Path, data: bytes) -> WrittenFile:
    """Write `data` to `path` (its folder made if needed) and say what was written."""
    from tracelight.errors import InputError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return WrittenFile(path, hashlib.sha256(data).hexdigest(), len(data))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
