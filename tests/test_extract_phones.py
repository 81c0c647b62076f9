"""Phones: every hiding pattern of the hand-written cases, traps, spans and the obfuscated flag."""

from __future__ import annotations

import json
import random

import pytest

from tracelight.bench.extract import DEFAULT_CASES
from tracelight.extract import extract_text
from tracelight.extract.normalize import fold
from tracelight.extract.phones import find_phones, validate

CASES = [json.loads(line) for line in
         DEFAULT_CASES.read_text().splitlines()]
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


def test_numbers_that_are_not_phones_in_random_mixes() -> None:
    """Prices, dates, sizes, IDs, rooms and addresses side by side never become a phone."""
    rng = random.Random(7)
    r = rng.randint
    pieces = [
        lambda: f"${r(50, 500)}/hr", lambda: f"{r(1, 12)}/{r(1, 28)}",
        lambda: f"{r(1, 12)}am-{r(1, 12)}pm", lambda: f"5'{r(0, 11)}",
        lambda: f"{r(100, 180)}lbs", lambda: f"{r(32, 40)}-{r(22, 30)}-{r(32, 40)}",
        lambda: f"WA {r(98001, 99403)}", lambda: f"Post ID: {r(10**9, 10**10 - 1)}",
        lambda: f"Ref #: {r(10**7, 10**8)}", lambda: f"hh {r(60, 200)}",
        lambda: f"{r(2000, 2030)}-{r(1, 12):02d}-{r(1, 28):02d} {r(0, 23)}:{r(0, 59):02d}",
        lambda: f"{r(18, 40)} yrs", lambda: f"{r(100, 999)} roses", lambda: "available 24/7",
        lambda: f"room {r(100, 999)}", lambda: f"{r(10, 99)}%", lambda: f"exit {r(1, 300)}",
        lambda: f"suite {r(1, 9999)}", lambda: f"{r(1000, 9999)} Main St",
        lambda: f"since {r(1990, 2024)}", lambda: f"#{r(1, 999)}", lambda: f"{r(1, 59)} min",
        lambda: f"${r(1, 9)},{r(100, 999)}", lambda: "...", lambda: "-", lambda: "🌹",
        lambda: "sweet", lambda: "new in town", lambda: "call me", lambda: "and", lambda: ",",
    ]
    for _ in range(3000):
        text = " ".join(rng.choice(pieces)() for _ in range(rng.randint(5, 15)))
        assert phones(text) == [], text


def test_every_nanp_country_validates_through_the_fast_path() -> None:
    import phonenumbers as pn

    for region in pn.SUPPORTED_REGIONS:
        if pn.country_code_for_region(region) != 1:
            continue
        for kind in (pn.PhoneNumberType.FIXED_LINE, pn.PhoneNumberType.MOBILE):
            example = pn.example_number_for_type(region, kind)
            if example is not None:
                national = str(example.national_number)
                assert validate(national, False, "US") == "+1" + national, region
