"""Use case: a CyberTipline report from a case (XML in NCMEC's schema, fileDetails documents,
a summary for the web form), validated, written, audited, and, only when asked, submitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tracelight import settings
from tracelight.errors import UsageError
from tracelight.report.base import WrittenFile
from tracelight.report.cybertip import CybertipExporter, CybertipOptions, CybertipReport, Person
from tracelight.report.cybertip import build as build_report
from tracelight.report.ncmec_schema import validate
from tracelight.services.cases import audit, load_case
from tracelight.store import Store


@dataclass
class PreparedReport:
    case: int
    report: CybertipReport
    problems: list[str]  # schema problems (empty: valid)
    file_problems: list[str] = field(default_factory=list)
    written: list[WrittenFile] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems and not self.file_problems


def reporter_from_settings(email: str | None = None, name: str | None = None) -> Person:
    """The reporting person: options first, else TRACELIGHT_REPORTER_EMAIL / _NAME."""
    full = (name if name is not None else settings.get("reporter_name")).strip()
    first, _, last = full.partition(" ")
    return Person(first_name=first, last_name=last.strip(),
                  email=(email if email is not None else settings.get("reporter_email")).strip())


def prepare(store: Store, case_pk: int, actor: str, options: CybertipOptions) -> PreparedReport:
    """Build and validate the report (nothing written, nothing audited)."""
    bad = options.problems()
    if bad:
        raise UsageError(bad[0])
    case = load_case(store, case_pk, actor)
    report = build_report(case, options)
    file_problems = [f"{name}: {p}" for name, data in report.files for p in validate(data)]
    return PreparedReport(case_pk, report, validate(report.xml), file_problems)


def write_report(store: Store, case_pk: int, actor: str, options: CybertipOptions,
                 out: Path, *, via: str = "cli") -> PreparedReport:
    """Prepare, refuse an invalid report, write it beside its summary, audit every file."""
    prepared = prepare(store, case_pk, actor, options)
    if not prepared.valid:
        raise UsageError("the report does not validate against NCMEC's schema: "
                         + (prepared.problems + prepared.file_problems)[0])
    prepared.written = CybertipExporter(options).write(prepared.report, out)
    audit(store, actor, "export.cybertip", f"case {case_pk}",
          {"via": via, "incident_type": options.incident_type,
           "victim_given": options.victim is not None and not options.victim.empty,
           "files": [{"file": w.path.name, "sha256": w.sha256} for w in prepared.written]})
    return prepared


def report_download(store: Store, case_pk: int, actor: str,
                    options: CybertipOptions) -> tuple[bytes, str, str, PreparedReport]:
    """(zip of report.xml, report.summary.md and report.files/, its name, its SHA-256, the
    prepared report) for the workspace's download; refused when invalid, audited."""
    import hashlib
    import io
    import zipfile

    from tracelight.records import utcnow

    prepared = prepare(store, case_pk, actor, options)
    if not prepared.valid:
        raise UsageError("the report does not validate against NCMEC's schema: "
                         + (prepared.problems + prepared.file_problems)[0])
    r = prepared.report
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("report.xml", r.xml)
        zf.writestr("report.summary.md", r.summary.encode("utf-8", "replace"))
        for name, data in r.files:
            zf.writestr(f"report.files/{name}", data)
    data = buf.getvalue()
    name = f"case-{case_pk}-cybertip-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.zip"
    digest = hashlib.sha256(data).hexdigest()
    audit(store, actor, "export.cybertip", f"case {case_pk}",
          {"via": "web", "incident_type": options.incident_type, "file": name,
           "sha256": digest, "report_sha256": hashlib.sha256(r.xml).hexdigest(),
           "victim_given": options.victim is not None and not options.victim.empty})
    return data, name, digest, prepared
