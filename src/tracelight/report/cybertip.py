"""A CyberTipline report from a case: XML in NCMEC's Reporting API schema, and a summary.

The XML follows the `report` document of the schema in report/data/ncmec/ (NCMEC's published
format): `incidentSummary`, one `internetDetails` per ad URL (`webPageIncident`) and per phone
(`cellPhoneIncident`), the `reporter`, one `personOrUserReported` per advertiser (a network of
the case, or the case's other ads) holding the ads' contact identifiers, a `victim` only when
the analyst supplies one, and `additionalInfo`. Image evidence goes in `fileDetails`
documents (one per image, hashes only, never image bytes), written beside the report; their
`reportId` and `fileId` are placeholders until NCMEC assigns them on submission.

Names, ages and places found in ads are never reported as the advertiser: they may describe a
possible victim. A victim is only ever what the analyst types.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from tracelight.report.base import CaseAd, CaseFile, CaseImage, WrittenFile, write_file

INCIDENT_TYPES = (
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Sex Trafficking",
    "Child Sex Tourism",
    "Child Sexual Molestation",
    "Misleading Domain Name",
    "Misleading Words or Digital Images on the Internet",
    "Online Enticement of Children for Sexual Acts",
    "Unsolicited Obscene Material Sent to a Child",
)
DEFAULT_INCIDENT = "Child Sex Trafficking"
WEB_FORM = "https://report.cybertip.org/"
MAX_INFO = 20000  # characters of one additionalInfo element

# characters XML 1.0 cannot hold at all (ad text is hostile: NUL, other C0 controls, lone
# surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: Any, limit: int = MAX_INFO) -> str:
    """`value` as text an XML 1.0 document can hold: invalid characters replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(value))[:limit]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the analyst names: the reporter, or a possible victim."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    age: int | None = None
    screen_name: str = ""

    @property
    def empty(self) -> bool:
        return not any((self.first_name, self.last_name, self.email, self.phone,
                        self.screen_name)) and self.age is None


@dataclass(frozen=True, slots=True)
class CybertipOptions:
    reporter: Person
    incident_type: str = DEFAULT_INCIDENT
    incident_at: datetime | None = None
    victim: Person | None = None
    additional_info: str = ""
    escalate: bool = False
    files_dir: bool = True  # write fileDetails documents beside the report

    def problems(self) -> list[str]:
        out = []
        if self.incident_type not in INCIDENT_TYPES:
            out.append(f"unknown incident type {self.incident_type!r} (one of: "
                       + "; ".join(INCIDENT_TYPES) + ")")
        if not self.reporter.email.strip():
            out.append("the reporter needs an email address (--reporter-email or "
                       "TRACELIGHT_REPORTER_EMAIL)")
        if self.victim is not None and self.victim.age is not None \
                and not 0 <= self.victim.age < 130:
            out.append(f"victim age {self.victim.age} is not an age")
        return out


@dataclass
class CybertipReport:
    """What `build` makes: the report XML, fileDetails documents, and the summary text."""

    xml: bytes
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (name, fileDetails XML)
    summary: str = ""
    urls: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    reported: int = 0  # personOrUserReported elements


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_text(v, 500) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def _phone_parts(e164: str) -> tuple[str, str]:
    """('+1', '2065550143') from '+12065550143'; ('', value) when it does not parse."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "", e164
    return f"+{parsed.country_code}", str(parsed.national_number)


def _person(parent: ET.Element, tag: str, p: Person) -> None:
    el = _sub(parent, tag)
    if p.first_name:
        _sub(el, "firstName", p.first_name[:200])
    if p.last_name:
        _sub(el, "lastName", p.last_name[:200])
    if p.phone:
        code, number = _phone_parts(p.phone)
        if code:
            _sub(el, "phone", number, countryCallingCode=code)
        else:
            _sub(el, "phone", number)
    if p.email:
        _sub(el, "email", p.email[:300])
    if p.age is not None and tag != "reportingPerson":
        _sub(el, "age", str(int(p.age)))


def incident_time(case: CaseFile, chosen: datetime | None) -> tuple[datetime, str]:
    """When the incident happened and how that was decided."""
    if chosen is not None:
        return chosen, "date given by the analyst"
    posted = [ad.posted_at for ad in case.ads if ad.posted_at is not None]
    if posted:
        return min(posted), "earliest posting date of the ads in this report"
    seen = [ad.first_seen for ad in case.ads]
    if seen:
        return min(seen), "earliest date tracelight first saw an ad in this report"
    return case.created_at, "date the case was opened (no ads in it)"


def _advertisers(case: CaseFile) -> list[tuple[str, list[CaseAd]]]:
    """(label, ads) per advertiser: each network of the case, then the other ads."""
    groups: dict[str, list[CaseAd]] = {}
    for ad in case.ads:
        groups.setdefault(ad.network or "", []).append(ad)
    out = [(f"network {k}", v) for k, v in groups.items() if k]
    if "" in groups:
        out.append(("ads not in a network", groups[""]))
    return out


def _distinct(ads: Sequence[CaseAd], kind: str) -> list[str]:
    return list(dict.fromkeys(v for ad in ads for v in ad.values(kind)))


def build(case: CaseFile, options: CybertipOptions) -> CybertipReport:
    """The report for `case` (call `options.problems()` first: this builds what it is given)."""
    root = ET.Element("report")
    summary = _sub(root, "incidentSummary")
    _sub(summary, "incidentType", options.incident_type)
    _sub(summary, "platform", "tracelight (online advertisements)")
    if options.escalate:
        _sub(summary, "escalateToHighPriority", "Escalated by the analyst")
    when, how = incident_time(case, options.incident_at)
    _sub(summary, "incidentDateTime", _iso(when))
    _sub(summary, "incidentDateTimeDescription", how)

    urls: list[str] = []
    for ad in case.ads:
        if ad.url and ad.url not in urls:
            urls.append(ad.url)
            details = _sub(root, "internetDetails")
            page = _sub(details, "webPageIncident")
            _sub(page, "url", ad.url[:2000])
            posted = f", posted {_iso(ad.posted_at)}" if ad.posted_at else ""
            _sub(page, "additionalInfo", f"Advertisement {ad.ref}{posted}; first seen "
                                         f"{_iso(ad.first_seen)}, last seen "
                                         f"{_iso(ad.last_seen)}.")
    phones = case.identifier_values("phone")
    for phone in phones:
        details = _sub(root, "internetDetails")
        cell = _sub(details, "cellPhoneIncident")
        code, number = _phone_parts(phone)
        if code:
            _sub(cell, "phoneNumber", number, countryCallingCode=code)
        else:
            _sub(cell, "phoneNumber", number)
        n = sum(1 for ad in case.ads if phone in ad.values("phone"))
        _sub(cell, "additionalInfo", f"Contact number given in {n} advertisement(s) of this "
                                     "report.")

    reporter = _sub(root, "reporter")
    _person(reporter, "reportingPerson", options.reporter)

    reported = 0
    for label, ads in _advertisers(case):
        phones_g, emails = _distinct(ads, "phone"), _distinct(ads, "email")
        handles = _distinct(ads, "social")
        others = _distinct(ads, "payment") + _distinct(ads, "crypto")
        if not (phones_g or emails or handles or others):
            continue
        reported += 1
        por = _sub(root, "personOrUserReported")
        person = _sub(por, "personOrUserReportedPerson")
        for phone in phones_g:
            code, number = _phone_parts(phone)
            if code:
                _sub(person, "phone", number, countryCallingCode=code)
            else:
                _sub(person, "phone", number)
        for email in emails:
            _sub(person, "email", email)
        for handle in handles:
            _sub(por, "displayName", handle)
        info = (f"Contact identifiers of the advertiser behind {label} ({len(ads)} "
                "advertisement(s)): " + ", ".join(a.ref for a in ads[:50]))
        if others:
            info += ". Payment handles and addresses: " + ", ".join(others)
        _sub(por, "additionalInfo", info + ".")

    if options.victim is not None and not options.victim.empty:
        victim = _sub(root, "victim")
        v = options.victim
        _person(victim, "victimPerson", Person(v.first_name, v.last_name, v.email, v.phone,
                                               v.age))
        if v.screen_name:
            _sub(victim, "screenName", v.screen_name)

    images = case.images()
    notes = [f"Prepared with tracelight {case.tool_version} from case {case.id} "
            f"({case.title!r}) by {case.loaded_by} on {_iso(case.loaded_at)}.",
            "Risk scores are leads for human review, never findings about a person."]
    if images:
        notes.append(f"{len(images)} image(s) in the advertisements, identified by hash only "
                    "(no image is attached): "
                    + "; ".join(f"SHA-256 {i.sha256}, MD5 {i.md5}"
                                + (f", PDQ {i.pdq}" if i.pdq else "") for i in images[:200]))
    if options.additional_info.strip():
        notes.append("Analyst's note: " + options.additional_info.strip())
    _sub(root, "additionalInfo", " ".join(notes))

    ET.indent(root)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    report = CybertipReport(xml=xml, urls=urls, phones=phones, reported=reported)
    report.files = [(f"{i + 1:03d}-{img.sha256[:16]}.xml" if img.sha256 else f"{i + 1:03d}.xml",
                     file_details(img)) for i, img in enumerate(images)]
    report.summary = summary_text(case, options, report, when, how)
    return report


def _file_name(original: str) -> str:
    """The last part of an image's original name (never a local folder path)."""
    name = PureWindowsPath(PurePosixPath(original).name).name
    return name[:200] or "image"


def file_details(img: CaseImage, report_id: int = 0, file_id: str = "pending") -> bytes:
    """A `fileDetails` document for one image: hashes only. NCMEC assigns report_id and
    file_id; until then they are 0 and "pending"."""
    root = ET.Element("fileDetails")
    _sub(root, "reportId", str(int(report_id)))
    _sub(root, "fileId", file_id or "pending")
    _sub(root, "originalFileName", _file_name(img.original))
    if img.original.startswith(("http://", "https://")):
        _sub(root, "locationOfFile", img.original[:2000])
    _sub(root, "publiclyAvailable", "true")
    if img.md5:
        _sub(root, "originalFileHash", img.md5, hashType="MD5")
    if img.sha256:
        _sub(root, "originalFileHash", img.sha256, hashType="SHA256")
    if img.pdq:
        details = _sub(root, "details", type="HASH")
        pair = _sub(details, "nameValuePair")
        _sub(pair, "name", "PDQ")
        _sub(pair, "value", img.pdq)
    _sub(root, "additionalInfo", "Identified by hash; the image itself is not attached.")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def summary_text(case: CaseFile, options: CybertipOptions, report: CybertipReport,
                 when: datetime, how: str) -> str:
    """A plain-text (Markdown) summary for filing through the public web form by hand."""
    lines = [
        f"# CyberTipline report: case {case.id}, {case.title}",
        "",
        f"File at {WEB_FORM} (or submit the XML through the Reporting API with "
        "`tracelight report cybertip CASE --submit`).",
        "Risk scores are leads for human review, never findings about a person.",
        "",
        f"- Incident type: {options.incident_type}",
        f"- Incident date: {_iso(when)} ({how})",
        f"- Reporter: {' '.join(x for x in (options.reporter.first_name, options.reporter.last_name) if x) or '(name not given)'} <{options.reporter.email}>",  # noqa: E501
        f"- Advertisements: {len(case.ads)}; networks: {len(case.networks)}",
        "",
        "## Web pages (the advertisements)",
        *([f"- {u}" for u in report.urls] or ["- (no URLs stored)"]),
        "",
        "## Phone numbers in the advertisements",
        *([f"- {p}" for p in report.phones] or ["- (none)"]),
        "",
        "## Advertiser's other identifiers",
        *([f"- {k}: {v}" for k in ("email", "social", "payment", "crypto")
           for v in case.identifier_values(k)] or ["- (none)"]),
        "",
        "## Images (hashes only; no image is attached)",
        *([f"- SHA-256 {i.sha256}  MD5 {i.md5}" + (f"  PDQ {i.pdq}" if i.pdq else "")
           for i in case.images()] or ["- (none)"]),
        "",
        "## Possible victim",
        ("- as entered by the analyst: " + ", ".join(
            x for x in (options.victim.first_name, options.victim.last_name,
                        f"age {options.victim.age}" if options.victim.age is not None else "",
                        options.victim.email, options.victim.phone,
                        options.victim.screen_name) if x))
        if options.victim is not None and not options.victim.empty
        else "- none entered (tracelight never reports a person from the ads as a victim)",
        "",
    ]
    if case.missing:
        lines += ["## Not included", *[f"- {m} (no longer stored)" for m in case.missing], ""]
    return "\n".join(xml_text(line, 10 * MAX_INFO) for line in lines)


class CybertipExporter:
    """`report.xml` + `report.summary.md` + `report.files/NNN-HASH.xml` (fileDetails)."""

    name = "cybertip"

    def __init__(self, options: CybertipOptions) -> None:
        self.options = options

    def export(self, case: CaseFile, out: Path) -> list[WrittenFile]:
        return self.write(build(case, self.options), out)

    def write(self, report: CybertipReport, out: Path) -> list[WrittenFile]:
        """Write a report already built (and validated) by `build`."""
        written = [write_file(out, report.xml),
                   write_file(out.with_name(out.stem + ".summary.md"),
                              report.summary.encode("utf-8", "replace"))]
        if self.options.files_dir:
            folder = out.with_name(out.stem + ".files")
            written += [write_file(folder / name, data) for name, data in report.files]
        return written
