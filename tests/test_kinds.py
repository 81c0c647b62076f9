"""Entity kinds are declared data (src/tracelight/kinds.yaml), validated when loaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from tracelight import kinds
from tracelight.errors import ConfigError, UsageError
from tracelight.kinds import load_kinds, normalize_lookup


def test_the_declared_table() -> None:
    assert kinds.KINDS == ("phone", "email", "url", "social", "payment", "crypto", "age",
                           "age_review", "price", "location", "name")
    assert kinds.STRONG == ("phone", "email", "social", "payment", "crypto")
    assert set(kinds.CONTACT) == {*kinds.STRONG, "url"}
    assert kinds.WATCHABLE == ("phone", "email", "social", "crypto")
    assert kinds.LOOKUPS == {"phone": "phone", "email": "email", "handle": "social",
                             "payment": "payment", "crypto": "crypto"}
    assert kinds.label("social") == "Handle" and kinds.label("unknown") == "unknown"


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "kinds.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


@pytest.mark.parametrize(("change", "where"), [
    ({"strong": "yes"}, "kinds.phone.strong: must be true or false"),
    ({"normaliser": "nope"}, "kinds.phone.normaliser: unknown normaliser"),
    ({"label": ""}, "kinds.phone.label: must be a non-empty string"),
    ({"colour": "red"}, "kinds.phone.colour: unknown key"),
    ({"normaliser": "handle"}, "kinds.phone.platforms: the handle normaliser needs"),
])
def test_load_errors_name_the_file_and_key(tmp_path: Path, change: dict[str, object],
                                           where: str) -> None:
    good = {"label": "Phone", "normaliser": "phone", "strong": True}
    p = _write(tmp_path, {"kinds": {"phone": {**good, **change}}})
    with pytest.raises(ConfigError) as err:
        load_kinds(p)
    assert str(p) in str(err.value) and where in str(err.value)


def test_broken_files_fail_loudly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="top level"):
        load_kinds(_write(tmp_path, ["phone"]))
    with pytest.raises(ConfigError, match="Bad-Name"):
        load_kinds(_write(tmp_path, {"kinds": {"Bad-Name": {"label": "x", "normaliser": "text"}}}))
    bad = tmp_path / "bad.yaml"
    bad.write_text("kinds: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_kinds(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_kinds(tmp_path / "missing.yaml")
    twice = {"label": "x", "normaliser": "email", "search": "mail"}
    with pytest.raises(ConfigError, match="two kinds are looked up as 'mail'"):
        load_kinds(_write(tmp_path, {"kinds": {"a_a": twice, "b_b": twice}}))


def test_lookups_as_before() -> None:
    assert normalize_lookup("phone", "(206) 555-0143") == ["+12065550143"]
    assert normalize_lookup("email", " Ana@Example.ORG ") == ["ana@example.org"]
    assert normalize_lookup("social", "Instagram:@Ana") == ["instagram:ana"]
    assert "venmo:ana" in normalize_lookup("payment", "$Ana")
    assert normalize_lookup("crypto", "1abc")[:4] == ["BTC:1abc", "ETH:1abc", "LTC:1abc",
                                                    "XMR:1abc"]
    assert normalize_lookup("crypto", "ETH:0xABC") == ["ETH:0xabc"]
    with pytest.raises(UsageError, match="not a phone number"):
        normalize_lookup("phone", "call me")
    with pytest.raises(UsageError, match="cannot look up 'age'"):
        normalize_lookup("age", "24")


@given(st.sampled_from(kinds.KINDS), st.text(max_size=40))
@example("crypto", ":A").via("found by hypothesis: a bare address with a colon")
@example("age", "\u00b2").via("found by hypothesis: a digit int() refuses")
def test_normalisers_are_idempotent_and_only_raise_usage_errors(kind: str, value: str) -> None:
    k = kinds.kind(kind)
    try:
        first = k.normalize(value)
    except UsageError:
        return
    if k.normaliser == "handle" and ":" not in value:
        return  # a bare handle: candidates on every platform, not one normal form
    if k.normaliser == "crypto" and not re.match(r"^([A-Z]{2,5}):(.+)$", value.strip()):
        return  # a bare address (':A' too): candidates under every currency, not one form
    for v in first:
        assert k.normalize(v) == [v]
