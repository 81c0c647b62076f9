"""Use case: a case's evidence bundle for prosecutors, and checking one that came back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tracelight.report.base import WrittenFile
from tracelight.report.evidence import EvidenceExporter, VerifyReport, verify_bundle
from tracelight.services.cases import audit, load_case
from tracelight.store import Store
from tracelight.store.audit import entry_hash


@dataclass(frozen=True, slots=True)
class BundleResult:
    case: int
    file: WrittenFile
    ads: int
    with_warc: int
    custody_entries: int
    audit_head: tuple[int, str]


def make_bundle(store: Store, case_pk: int, actor: str, out: Path, *,
                via: str = "cli") -> BundleResult:
    """Write the bundle to `out` and audit the export with its SHA-256."""
    case = load_case(store, case_pk, actor)
    written = EvidenceExporter().export(case, out)[0]
    audit(store, actor, "export.evidence", f"case {case_pk}",
          {"file": out.name, "sha256": written.sha256, "bytes": written.size,
           "ads": len(case.ads), "via": via})
    return BundleResult(case_pk, written, len(case.ads),
                        sum(1 for a in case.ads if a.capture.warc is not None),
                        len(case.custody), case.audit_head)


def bundle_bytes(store: Store, case_pk: int, actor: str) -> tuple[bytes, str, str]:
    """(zip bytes, file name, SHA-256) for the web's download, audited the same way."""
    import hashlib

    from tracelight.report.evidence import build_bundle

    case = load_case(store, case_pk, actor)
    data = build_bundle(case)
    name = f"case-{case_pk}-evidence-{case.loaded_at.strftime('%Y%m%dT%H%M%SZ')}.zip"
    digest = hashlib.sha256(data).hexdigest()
    audit(store, actor, "export.evidence", f"case {case_pk}",
          {"file": name, "sha256": digest, "bytes": len(data), "ads": len(case.ads),
           "via": "web"})
    return data, name, digest


def verify(path: Path) -> VerifyReport:
    """Every hash, the zip's structure and the bundled audit chain (no store needed)."""
    return verify_bundle(path, entry_hash)
