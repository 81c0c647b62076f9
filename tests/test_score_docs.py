"""docs/risk.md documents every indicator and every source of the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from tracelight.score.catalogue import load_catalogue

DOC = Path(__file__).resolve().parents[1] / "docs" / "risk.md"


def test_every_indicator_is_documented_with_its_weight() -> None:
    text = DOC.read_text(encoding="utf-8")
    cat = load_catalogue()
    for ind in cat.indicators:
        line = next((ln for ln in text.splitlines() if ln.startswith(f"- `{ind.code}`")), None)
        assert line is not None, f"indicator `{ind.code}` missing from docs/risk.md"
        if ind.weight:
            assert re.search(rf"\({ind.weight:g}\b|weight {ind.weight:g}\b", line), \
                f"docs/risk.md gives the wrong default weight for `{ind.code}`"
        assert ind.source in line, f"docs/risk.md does not give the source of `{ind.code}`"


def test_every_source_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in load_catalogue().sources:
        assert f"`{name}`" in text


def test_doc_says_a_score_is_a_lead_not_a_finding() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "a lead for human review, never a finding about a person" in text
