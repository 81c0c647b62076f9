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
