"""The exporter contract: every exporter in tracelight.report takes a CaseFile and writes files
at (or beside) `out`, says what it wrote with each file's SHA-256, and copes with an empty case
and with hostile ad text. Plus the pure builders' own properties (hypothesis)."""

from __future__ import annotations

import hashlib
import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report_helpers import case_ad, make_case
from tracelight.report.base import CaseFile, Exporter
from tracelight.report.cybertip import CybertipExporter, CybertipOptions, Person, build, xml_text
from tracelight.report.evidence import EvidenceExporter
from tracelight.report.ncmec_schema import validate
from tracelight.report.signals import SignalsExporter

OPTIONS = CybertipOptions(reporter=Person("Ana", "Lyst", "analyst@example.org"))


def exporters() -> list[Exporter]:
    return [CybertipExporter(OPTIONS), EvidenceExporter(), SignalsExporter("stix"),
            SignalsExporter("ftm"), SignalsExporter("hma", tlp="green")]


HOSTILE = "=HYPERLINK(\"x\")\x00\x07<script>&amp;\ud800 \u202e\U0001f600 ' \" ]]> --"


@pytest.mark.parametrize("exporter", exporters(), ids=lambda e: f"{e.name}")
@pytest.mark.parametrize("case", [make_case(3), make_case(0),
                                  make_case(2, title=HOSTILE, body=HOSTILE * 50)],
                         ids=["demo", "empty", "hostile"])
def test_exporter_contract(exporter: Exporter, case: CaseFile, tmp_path: Path) -> None:
    assert isinstance(exporter, Exporter)
    out = tmp_path / "out" / "export.bin"
    written = exporter.export(case, out)
    assert written and written[0].path == out
    for w in written:
        assert w.path.is_file()
        assert w.path.resolve().is_relative_to((tmp_path / "out").resolve())
        data = w.path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == w.sha256 and len(data) == w.size
    made = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert made == {w.path for w in written}  # nothing written that it did not report


def test_cybertip_report_is_schema_valid_and_reports_no_victim_unasked() -> None:
    r = build(make_case(3), OPTIONS)
    assert validate(r.xml) == []
    assert all(validate(data) == [] for _name, data in r.files)
    text = r.xml.decode()
    assert "<victim>" not in text
    # ages and names found in ads describe possible victims: never reported as the advertiser
    assert "Jasmine" not in text and "<age>" not in text
    assert text.count("<webPageIncident>") == 3 and "<cellPhoneIncident>" in text
    assert 'countryCallingCode="+1">2065550143<' in text
    assert "image bytes" not in text and "<fileDetails>" not in text  # separate documents


def test_cybertip_victim_only_when_given() -> None:
    opts = CybertipOptions(reporter=OPTIONS.reporter, victim=Person("Sam", age=16))
    r = build(make_case(1), opts)
    assert validate(r.xml) == []
    assert "<victim>" in r.xml.decode() and "<age>16</age>" in r.xml.decode()
    assert "as entered by the analyst" in r.summary


def test_cybertip_option_problems() -> None:
    assert CybertipOptions(reporter=Person()).problems()  # no reporter email
    assert CybertipOptions(reporter=OPTIONS.reporter, incident_type="Other").problems()
    assert not OPTIONS.problems()


def test_validate_names_the_problem_and_refuses_entities() -> None:
    assert "incidentSummary" in validate(b"<report/>")[0]
    assert validate(b"<report") and validate(b"\xff\xfe")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><report>&b;</report>')
    assert validate(bomb)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200), st.text(max_size=400))
def test_any_ad_text_makes_a_valid_report(title: str, body: str) -> None:
    case = make_case(1, title=title, body=body, url="https://x.example/" + "a" * 3)
    assert validate(build(case, OPTIONS).xml) == []


@given(st.text(max_size=300))
def test_xml_text_is_always_xml_characters(value: str) -> None:
    import xml.etree.ElementTree as ET

    el = ET.Element("x")
    el.text = xml_text(value)
    want = el.text.replace("\r\n", "\n").replace("\r", "\n")  # XML's line-end rule
    assert (ET.fromstring(ET.tostring(el)).text or "") == want


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet=string.printable, min_size=1, max_size=60))
def test_stix_patterns_round_trip_any_handle(name: str) -> None:
    from tracelight.report.signals import Signal, from_stix, to_stix

    sig = Signal("handle", f"instagram:{name.strip() or 'x'}")
    if any(ord(c) < 32 for c in sig.value):
        return
    text, _ = to_stix([sig])
    back = from_stix(text.encode(), source="t").signals
    assert [(s.kind, s.value) for s in back] == [("handle", sig.value)]


def test_signals_exporter_keeps_tlp_and_kinds(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    SignalsExporter("stix", tlp="green").export(make_case(2), out)
    doc = json.loads(out.read_text())
    kinds = {lab for o in doc["objects"] if o["type"] == "indicator" for lab in o["labels"]}
    assert {"tracelight:phone", "tracelight:email", "tracelight:handle", "tracelight:url",
            "tracelight:sha256", "tracelight:md5", "tracelight:pdq",
            "tracelight:text_sha256"} <= kinds
    marks = [o for o in doc["objects"] if o["type"] == "marking-definition"]
    assert [m["name"] for m in marks] == ["TLP:GREEN"]


def test_case_ad_values_are_distinct() -> None:
    ad = case_ad(1)
    assert ad.values("phone") == ["+12065550143"]


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=400),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                              lambda c: st.lists(c, max_size=4)
                              | st.dictionaries(st.text(max_size=8), c, max_size=4),
                              max_leaves=20).map(lambda v: json.dumps(
                                  {"type": "bundle", "objects": [v, {"type": "indicator",
                                                                     "pattern": str(v)}]}
                              ).encode())))
def test_signal_parsers_take_any_input(data: bytes) -> None:
    from tracelight.errors import InputError
    from tracelight.report.signals import from_ftm, from_hma, from_stix

    for parse in (from_stix, from_ftm, from_hma):
        try:
            result = parse(data, source="t")
        except InputError:
            continue
        assert all(s.kind and s.value for s in result.signals)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_verify_takes_any_file(tmp_path: Path, data: bytes) -> None:
    from tracelight.services.evidence import verify

    p = tmp_path / "any.zip"
    p.write_bytes(b"PK\x03\x04" + data)
    assert not verify(p).ok
