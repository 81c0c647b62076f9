"""Phones: every hiding pattern of the hand-written cases, traps, spans and the obfuscated flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracelight.extract import extract_text
from tracelight.extract.normalize import fold
from tracelight.extract.phones import find_phones, validate

CASES = [json.loads(line) for line in
         (Path(__file__).parent / "data" / "obfuscation_cases.jsonl").read_text().splitlines()]
PHONE_CASES = [c for c in CASES if "phones" in c["expected"]]


def phones(text: str, region: str = "US") -> list[str]:
    return [h.e164 for h in find_phones(text, fold(text), region)]


@pytest.mark.parametrize("case", PHONE_CASES, ids=[c["id"] for c in PHONE_CASES])
def test_hand_written_case(case: dict) -> None:
    region = case.get("region", "US")
    found = [m.value for fld in ("title", "body", "url") if case.get(fld)
             for m in extract_text(case[fld], fld, region, kinds=("phone",))]
    assert found == case["expected"]["phones"], case["note"]


@pytest.mark.parametrize("text", [
    "Post ID: 4829173650", "5'4 120lbs 34-24-36", "11/23 10am-4pm", "$150/hr", "WA 98101",
    "ID 2065550143", "Ref# 2065550143", "order 2065550143", "ticket #2065550143",
    "12345678901234567890", "2024-11-23 10:30:00", "available 24/7", "36-26-38",
    "call me for 1 hour, 2 to 3 girls", "I'm 5 ft 6 in 125 lbs", "$1,200 overnight",
    "20241123", "1700000000", "phone someone anyone",
])
def test_traps_are_not_phones(text: str) -> None:
    assert phones(text) == []


def test_obfuscated_flag() -> None:
    def flags(text: str) -> list[bool]:
        return [h.obfuscated for h in find_phones(text, fold(text), "US")]

    assert flags("(206) 555-0143") == [False]
    assert flags("206.555.0143") == [False]
    assert flags("+1 206 555 0143") == [False]
    assert flags("2065550143") == [False]
    assert flags("2oh6 five5five 0one4three") == [True]
    assert flags("２０６５５５０１４３") == [True]
    assert flags("206;555;0143") == [True]
    assert flags("2 0 6 5 5 5 0 1 4 3") == [True]
    assert flags("206 ... call me ... 555 0143") == [True]


def test_spans_cover_what_was_written() -> None:
    text = "Hi! Call (206) 555-0143 or 2️⃣0️⃣6️⃣5️⃣5️⃣5️⃣0️⃣1️⃣4️⃣3️⃣ ok"
    ms = extract_text(text, "body", "US", kinds=("phone",))
    assert [text[m.start:m.end] for m in ms] == ["(206) 555-0143",
                                                 "2️⃣0️⃣6️⃣5️⃣5️⃣5️⃣0️⃣1️⃣4️⃣3️⃣"]
    assert all(m.raw == text[m.start:m.end] for m in ms)


def test_region_matters_for_national_numbers() -> None:
    assert phones("020 7946 0958", "GB") == ["+442079460958"]
    assert phones("612 34 56 78", "ES") == ["+34612345678"]
    assert phones("+44 20 7946 0958", "US") == ["+442079460958"]


def test_validate_uses_phonenumbers() -> None:
    assert validate("2065550143", False, "US") == "+12065550143"
    assert validate("12065550143", False, "US") == "+12065550143"
    assert validate("4829173650", False, "US") is None  # 482 is no area code
    assert validate("1065550143", False, "US") is None
    assert validate("447911123456", True, "US") == "+447911123456"


def test_several_phones_in_one_run() -> None:
    assert phones("206-555-0143 / 425-555-0199") == ["+12065550143", "+14255550199"]
    assert phones("98101 2065550143") == ["+12065550143"]
