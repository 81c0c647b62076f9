"""Acting on a case from the workspace: a CyberTipline report (preview, schema validation,
download), the evidence bundle, and shared signals. Analysts and admins only (the 'export'
permission); every download is audited with its SHA-256; forms carry the CSRF token."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tracelight.report.cybertip import DEFAULT_INCIDENT, INCIDENT_TYPES, CybertipOptions, Person
from tracelight.report.signals import FORMATS, TLP_LEVELS
from tracelight.services import evidence as evidence_service
from tracelight.services import reports as report_service
from tracelight.services import signals as signal_service
from tracelight.web.deps import audit, ctx, render, require

router = APIRouter(include_in_schema=False)


def _options(incident_type: str, incident_date: str, reporter_email: str, reporter_name: str,
             victim_first_name: str, victim_last_name: str, victim_age: str,
             note: str) -> CybertipOptions:
    from tracelight.errors import UsageError

    when: datetime | None = None
    if incident_date.strip():
        try:
            when = datetime.fromisoformat(incident_date.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"incident date {incident_date[:40]!r} is not a date "
                             "(YYYY-MM-DD or ISO 8601)") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    age: int | None = None
    if victim_age.strip():
        try:
            age = int(victim_age)
        except ValueError:
            raise UsageError(f"victim age {victim_age!r} is not a number") from None
    victim = Person(victim_first_name.strip()[:200], victim_last_name.strip()[:200], age=age)
    return CybertipOptions(
        reporter=report_service.reporter_from_settings(reporter_email, reporter_name),
        incident_type=incident_type, incident_at=when, victim=None if victim.empty else victim,
        additional_info=note[:5000])


@router.get("/cases/{pk}/cybertip")
def cybertip_form(request: Request, pk: int) -> Response:
    require(request, "export")
    case = ctx(request).cases.get(pk)
    audit(request, "cybertip.form", f"case {pk}")
    reporter = report_service.reporter_from_settings()
    return render(request, "cybertip.html", case=case, types=INCIDENT_TYPES, prepared=None,
                  form={"incident_type": DEFAULT_INCIDENT, "reporter_email": reporter.email,
                        "reporter_name": f"{reporter.first_name} {reporter.last_name}".strip()})


_FIELDS = ("incident_type", "incident_date", "reporter_email", "reporter_name",
           "victim_first_name", "victim_last_name", "victim_age", "note")


@router.post("/cases/{pk}/cybertip")
def cybertip_preview(request: Request, pk: int, incident_type: str = Form(DEFAULT_INCIDENT),
                     incident_date: str = Form(""), reporter_email: str = Form(""),
                     reporter_name: str = Form(""), victim_first_name: str = Form(""),
                     victim_last_name: str = Form(""), victim_age: str = Form(""),
                     note: str = Form("")) -> Response:
    """Preview: the report XML, its summary, and the schema's verdict (nothing kept)."""
    user = require(request, "export")
    c = ctx(request)
    case = c.cases.get(pk)
    form = dict(zip(_FIELDS, (incident_type, incident_date, reporter_email, reporter_name,
                              victim_first_name, victim_last_name, victim_age, note),
                    strict=True))
    options = _options(**form)
    problems = options.problems()
    prepared = None if problems else report_service.prepare(c.store, pk, user.username, options)
    audit(request, "cybertip.preview", f"case {pk}",
          detail={"valid": bool(prepared and prepared.valid), "problems": len(problems)})
    return render(request, "cybertip.html", case=case, types=INCIDENT_TYPES,
                  prepared=prepared, option_problems=problems, form=form,
                  xml=prepared.report.xml.decode("utf-8") if prepared else "")


@router.post("/cases/{pk}/cybertip/download")
def cybertip_download(request: Request, pk: int, incident_type: str = Form(DEFAULT_INCIDENT),
                      incident_date: str = Form(""), reporter_email: str = Form(""),
                      reporter_name: str = Form(""), victim_first_name: str = Form(""),
                      victim_last_name: str = Form(""), victim_age: str = Form(""),
                      note: str = Form("")) -> Response:
    user = require(request, "export")
    from tracelight.errors import UsageError

    options = _options(incident_type, incident_date, reporter_email, reporter_name,
                       victim_first_name, victim_last_name, victim_age, note)
    problems = options.problems()
    if problems:
        raise UsageError(problems[0])
    data, name, _digest, _prepared = report_service.report_download(
        ctx(request).store, pk, user.username, options)
    return Response(data, media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.post("/cases/{pk}/evidence")
def evidence_download(request: Request, pk: int) -> Response:
    user = require(request, "export")
    data, name, _digest = evidence_service.bundle_bytes(ctx(request).store, pk, user.username)
    return Response(data, media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/cases/{pk}/signals")
def signals_form(request: Request, pk: int) -> Response:
    require(request, "export")
    case = ctx(request).cases.get(pk)
    audit(request, "signals.form", f"case {pk}")
    return render(request, "signals.html", case=case, formats=FORMATS, levels=TLP_LEVELS)


@router.post("/cases/{pk}/signals")
def signals_download(request: Request, pk: int, fmt: str = Form("stix"),
                     tlp: str = Form("amber")) -> Response:
    user = require(request, "export")
    from tracelight.errors import UsageError

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=", ".join(FORMATS))
    if tlp not in TLP_LEVELS:
        raise UsageError(f"unknown TLP level {tlp!r}", hint=", ".join(TLP_LEVELS))
    data, name, _res = signal_service.case_signals_file(ctx(request).store, pk, user.username,
                                                         fmt=fmt, tlp=tlp)
    media = "application/json" if fmt == "stix" else "text/plain; charset=utf-8"
    return Response(data, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"'})
