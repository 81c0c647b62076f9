"""Quality on the hand-written cases and the lexicon's validation (no timing here)."""

from __future__ import annotations

import pytest

from tracelight.bench.extract import DEFAULT_CASES
from tracelight.errors import ConfigError
from tracelight.extract.evaluate import evaluate_cases, load_cases, score
from tracelight.extract.lexicon import lexicon, parse_lexicon

CASES = DEFAULT_CASES
TARGETS = {"phones": (0.99, 0.97), "emails": (0.99, 0.97), "crypto": (0.99, 0.97),
           "ages": (0.97, 0.95)}


def test_hand_written_cases_meet_the_targets() -> None:
    scores = evaluate_cases(load_cases(CASES))
    for fld, (p, r) in TARGETS.items():
        s = scores[fld]
        assert s.tp > 0, fld
        assert s.precision >= p and s.recall >= r, (fld, s.errors)


def test_score_counts_per_field() -> None:
    s = score([("x", {"phones": ["+1"], "ages": [22]}, {"phones": ["+1", "+2"], "ages": []})])
    assert (s["phones"].tp, s["phones"].fp, s["phones"].fn) == (1, 1, 0)
    assert (s["ages"].tp, s["ages"].fn) == (0, 1)
    assert s["social"].tp + s["social"].fp == 0  # not in expected: not scored


def test_lexicon_loads() -> None:
    lex = lexicon()
    assert lex.strong_digit_words["dos"] == 2
    assert lex.weak_digit_words["oh"] == 0
    assert "instagram" in lex.social_platforms


@pytest.mark.parametrize(("broken", "key"), [
    ({"number_words": {"strong": {"two": 12}, "weak": {"oh": 0}}}, "number_words.strong.two"),
    ({"social_platforms": {"ig": []}}, "social_platforms.ig"),
    ({"age_tens": "twenty"}, "age_tens"),
])
def test_lexicon_errors_name_file_and_key(broken: dict, key: str) -> None:
    from importlib import resources

    import yaml

    data = yaml.safe_load(resources.files("tracelight.extract").joinpath("lexicon.yaml")
                          .read_text("utf-8"))
    data.update(broken)
    with pytest.raises(ConfigError) as exc:
        parse_lexicon(data)
    assert "lexicon.yaml" in str(exc.value) and key in str(exc.value)
