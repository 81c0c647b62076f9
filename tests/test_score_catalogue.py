"""The indicator catalogue loads, and a broken one fails loudly naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tracelight.errors import ConfigError
from tracelight.score.catalogue import DEFAULT_PATH, DETECTORS, EVIDENCE_LEVELS, load_catalogue

VALIDATED_FOUR = {"trustworthy_provider", "obscured_phone", "youth_language", "stated_ethnicity"}


def test_packaged_catalogue_loads() -> None:
    cat = load_catalogue()
    assert len(cat.indicators) >= 20
    assert all(i.evidence in EVIDENCE_LEVELS for i in cat.indicators)
    assert {i.code for i in cat.indicators if i.evidence == "validated"} == VALIDATED_FOUR
    assert len(cat.digest) == 12


def test_every_detector_is_in_the_catalogue() -> None:
    cat = load_catalogue()
    assert {i.detector for i in cat.indicators if i.detector} == set(DETECTORS)


def test_movement_and_age_claims_are_context() -> None:
    cat = load_catalogue()
    assert cat["movement_language"].weight == 0
    assert cat["stated_age_18_to_22"].weight == 0
    assert cat["movement_language"].evidence == "context"


def test_required_categories_present() -> None:
    cats = {i.category for i in load_catalogue().indicators}
    for wanted in ("possible_minor", "third_party_control", "multiple_people", "movement",
                   "restricted_communication", "code_words"):
        assert wanted in cats


def _write(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda d: d["indicators"][0].__setitem__("weight", "high"),
     "indicators[0] (code 'trustworthy_provider').weight: must be a number"),
    (lambda d: d["indicators"][0].__setitem__("evidence", "strong"),
     "indicators[0] (code 'trustworthy_provider').evidence: must be one of"),
    (lambda d: d["indicators"][0].__setitem__("source", "nowhere"),
     ".source: 'nowhere' is not defined under 'sources'"),
    (lambda d: d["indicators"][2].__setitem__("code", "trustworthy_provider"),
     "indicators[2].code: duplicate code 'trustworthy_provider'"),
    (lambda d: d["indicators"][1].__setitem__("detector", "obscured_email"),
     "'obscured_email' must equal the indicator's code 'obscured_phone'"),
    (lambda d: d["indicators"][2]["patterns"].append("no games"),
     "'no games' is already a pattern of 'trustworthy_provider'"),
    (lambda d: d["indicators"][1].__setitem__("detector", "mind_reading"),
     ".detector: unknown detector 'mind_reading'"),
    (lambda d: d["indicators"][0].__setitem__("colour", "red"), ".colour: unknown key"),
    (lambda d: d["indicators"][0].__setitem__("code", "Bad Code"), "indicators[0].code:"),
    (lambda d: d["indicators"][0].pop("description"), ".description: is required"),
    (lambda d: d["indicators"][0]["patterns"].append("*young"), "'*' is only allowed at the end"),
    (lambda d: d["indicators"][0]["patterns"].append("!!"), "has no letters or digits"),
    (lambda d: d["indicators"][0]["patterns"].append("yo*"), "at least 4 letters"),
    (lambda d: d["indicators"][0]["patterns"].append("real pic*"), "must be one word"),
    (lambda d: d.__setitem__("version", "one"), "custom.yaml: version:"),
    (lambda d: d.__setitem__("indicators", []), "custom.yaml: indicators: must be a non-empty"),
    (lambda d: d["sources"].__setitem__("x", "no citation"), "sources.x: must be a mapping"),
    (lambda d: next(i for i in d["indicators"] if i["code"] == "movement_language")
     .__setitem__("weight", 0.5), "context indicators must have weight 0"),
])
def test_validation_errors_name_file_and_key(tmp_path: Path, mutate, needle: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as err:
        load_catalogue(path)
    assert "custom.yaml" in str(err.value)
    assert needle in str(err.value)


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("indicators: [\n  - code: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken.yaml: line \d+: not valid YAML"):
        load_catalogue(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read indicator catalogue"):
        load_catalogue(tmp_path / "nope.yaml")


def test_a_valid_custom_catalogue_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["indicators"][0]["patterns"].append("trust me"))
    cat = load_catalogue(path)
    assert [m.key for m in cat.matcher.find("trust me")] == ["trustworthy_provider"]
