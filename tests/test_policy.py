"""The check policy: packaged file valid, schema errors name file and key, pure evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracelight.errors import ConfigError
from tracelight.score.policy import ACTIONS, evaluate, load_policy, parse_policy


def test_packaged_policy_loads() -> None:
    policy = load_policy()
    assert policy.rules and not policy.dry_run
    assert {r.action for r in policy.rules} <= set(ACTIONS)


def test_review_at_07_block_only_on_bank_matches() -> None:
    policy = load_policy()
    assert evaluate(policy, {"risk": 0.2}).action == "allow"
    d = evaluate(policy, {"risk": 0.75})
    assert (d.action, d.rule) == ("review", "high-risk")
    d = evaluate(policy, {"risk": 0.95, "bank_match": 1})
    assert (d.action, d.rule) == ("block", "bank-match")
    assert d.fired == ("bank-match", "high-risk")


def test_dry_run_allows_and_records_what_it_would_have_done() -> None:
    policy = parse_policy({"dry_run": True, "rules": [
        {"name": "b", "signal": "bank_match", "at_least": 1, "action": "block"}]}, "p.yaml")
    d = evaluate(policy, {"bank_match": 2})
    assert (d.action, d.would_have, d.rule, d.dry_run) == ("allow", "block", "b", True)


def test_reason_rule() -> None:
    policy = parse_policy({"rules": [{"name": "r", "signal": "reason:minor_age",
                                      "action": "block"}]}, "p.yaml")
    assert evaluate(policy, {}, {"minor_age"}).action == "block"
    assert evaluate(policy, {}, {"other"}).action == "allow"


@pytest.mark.parametrize(("data", "key"), [
    ([], "(top level)"),
    ({"rules": "x"}, "rules"),
    ({"rules": [], "colour": 1}, "colour"),
    ({"rules": [{"name": "a", "signal": "nope", "action": "block"}]}, "rules[0].signal"),
    ({"rules": [{"name": "a", "signal": "risk", "action": "ban"}]}, "rules[0].action"),
    ({"rules": [{"name": "a", "signal": "risk", "at_least": 2, "action": "block"}]},
     "rules[0].at_least"),
    ({"rules": [{"name": "a", "signal": "risk", "at_least": float("nan"),
                 "action": "block"}]}, "rules[0].at_least"),
    ({"rules": [{"name": "a", "signal": "risk", "action": "block"},
                {"name": "a", "signal": "risk", "action": "review"}]}, "rules[1].name"),
    ({"rules": [], "dry_run": "yes"}, "dry_run"),
    ({"rules": [], "default": "maybe"}, "default"),
])
def test_schema_errors_name_file_and_key(data: object, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_policy(data, "mine.yaml")
    assert str(err.value).startswith(f"mine.yaml: {key}:")


def test_unreadable_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read policy"):
        load_policy(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        load_policy(bad)


@given(st.dictionaries(st.sampled_from(["risk", "network_risk", "bank_match",
                                        "watchlist_hit", "network_match"]),
                       st.floats(0, 10, allow_nan=False)))
def test_evaluate_is_total_and_never_weaker_than_any_fired_rule(signals: dict[str, float]
                                                                ) -> None:
    policy = load_policy()
    d = evaluate(policy, signals)
    assert d.action in ACTIONS
    for rule in policy.rules:
        if rule.name in d.fired:
            assert ACTIONS.index(d.action) >= ACTIONS.index(rule.action)
