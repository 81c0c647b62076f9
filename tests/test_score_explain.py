"""Every score explains itself, in the same words in the CLI and the workspace."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tracelight.cli.main import cli
from tracelight.records import Reason
from tracelight.score.catalogue import load_catalogue
from tracelight.score.explain import (
    CONTEXT_HEADING,
    LEAD_HEADING,
    LOWER_HEADING,
    explain_ad,
    explain_network,
)
from tracelight.score.scorer import MINOR_CODE, NON_MINOR_CAP, sigmoid
from tracelight.services import networks as network_service
from tracelight.services.adref import ad_url
from web_helpers import build_store, login, make_app

BIAS = load_catalogue().bias


def _risk(weights: list[float], minor: bool = False) -> float:
    p = sigmoid(BIAS + sum(weights))
    return round(max(p, 0.95) if minor else min(p, NON_MINOR_CAP), 4)


def test_context_wording_is_never_a_reason_for_the_lead() -> None:
    movement = Reason("movement_language", 0.0, description="Movement wording. Found 70% "
                      "LESS likely in trafficking ads", detail="matched 'new in town'")
    youth = Reason("youth_language", 1.1, detail="matched 'young'")
    x = explain_ad(_risk([1.1, 0.0]), [youth, movement])
    assert [p.code for p in x.lead] == ["youth_language"]
    assert [p.code for p in x.context] == ["movement_language"]
    lines = x.lines()
    assert lines.index(f"{CONTEXT_HEADING}:") > lines.index(f"{LEAD_HEADING}:")
    lead_block = lines[lines.index(f"{LEAD_HEADING}:"):lines.index(f"{CONTEXT_HEADING}:")]
    assert not any("Movement" in line for line in lead_block)


def test_the_formula_and_each_part_in_the_scores_units() -> None:
    reasons = [Reason("obscured_phone", 1.3), Reason("third_person", 0.8)]
    risk = _risk([1.3, 0.8])
    x = explain_ad(risk, reasons)
    assert x.exact and "logistic" in x.formula and "−2.40" in x.formula
    assert x.arithmetic == (f"This ad: −2.40 (start) +1.30 +0.80 = −0.30 log-odds; "
                            f"logistic(−0.30) = {risk:.2f}.")
    assert x.lead[0].contribution == "+1.30 log-odds (odds ×3.7)"
    assert x.lead[0].without == round(sigmoid(BIAS + 0.8), 2)


def test_negative_weights_lower_and_a_model_score_says_it_does_not_add_up() -> None:
    reasons = [Reason("obscured_phone", 1.0), Reason("movement_language", -0.5)]
    x = explain_ad(0.61, reasons)  # not what the default weights give: a trained model
    assert not x.exact and "trained model" in x.formula
    assert [p.code for p in x.lowering] == ["movement_language"]
    assert x.lowering[0].contribution.startswith("−0.50 log-odds")
    assert f"{LOWER_HEADING}:" in x.lines()


def test_a_stated_minor_is_lifted_into_the_band_and_says_so() -> None:
    reasons = [Reason(MINOR_CODE, 4.0, detail="stated age 16")]
    x = explain_ad(_risk([4.0], minor=True), reasons)
    assert x.exact and any("under 18 lifts the risk" in n for n in x.notes)
    assert explain_ad(None, reasons).lines() == ["Not scored yet: run `tracelight rescore`."]


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]),
                          st.floats(-3, 5, allow_nan=False).map(lambda w: round(w, 3))),
                max_size=5, unique_by=lambda t: t[0]))
def test_every_reason_is_under_exactly_one_heading(pairs: list[tuple[str, float]]) -> None:
    reasons = [Reason(code, w) for code, w in pairs]
    x = explain_ad(_risk([w for _, w in pairs]), reasons)
    assert x.exact
    placed = [p.code for p in (*x.lead, *x.lowering, *x.context)]
    assert sorted(placed) == sorted(code for code, _ in pairs)
    assert all((p.weight or 0) > 0 for p in x.lead)
    assert all((p.weight or 0) < 0 for p in x.lowering)


def test_network_explanation() -> None:
    reasons = [Reason("network_size", 0.3, detail="6 ads"),
               Reason("youth_language", 1.1, count=4, ad_id="demo-1"),
               Reason("movement_language", 0.0, count=2)]
    x = explain_network(0.8, reasons)
    assert "3 riskiest ads" in x.formula
    assert [p.code for p in x.lead] == ["network_size", "youth_language"]
    assert [p.code for p in x.context] == ["movement_language"]
    assert "in each of 4 of its ads" in x.lead[1].contribution


# ---- the same words in the CLI and on the pages -------------------------------------------

@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory,
        demo_corpus_dir: Path) -> Iterator[tuple[Any, Any, Path]]:
    tmp = tmp_path_factory.mktemp("explain")
    store = build_store(tmp, demo_corpus_dir, link=True)
    yield store, make_app(store, tmp), tmp
    store.close()


def _page_text(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


@pytest.mark.slow
def test_cli_show_and_the_ad_page_say_the_same(env: tuple[Any, Any, Path]) -> None:
    store, app, tmp = env
    ads = [a for a in store.iter_ads(sort="risk", limit=60) if a.reasons]
    # one with a context-only reason, one without: both kinds of wording are compared
    picked = [next(a for a in ads if any(r.weight == 0 for r in a.reasons)), ads[0]]
    client = TestClient(app)
    assert login(client, "bo").status_code == 303
    for ad in picked:
        x = explain_ad(ad.risk, ad.reasons)
        result = CliRunner().invoke(cli, ["show", f"{ad.source}/{ad.ad_id}", "--db",
                                          f"sqlite:///{tmp / 'web.db'}"],
                                    catch_exceptions=False)
        assert result.exit_code == 0
        shown = " ".join(result.stdout.split())
        page = _page_text(client, ad_url(ad.source, ad.ad_id))
        for text in [x.formula, x.arithmetic, *x.notes, LEAD_HEADING,
                     *(p.line for p in (*x.lead, *x.lowering, *x.context))]:
            assert " ".join(text.split()) in shown, text
            assert " ".join(text.split()) in page, text
        if x.context:
            assert CONTEXT_HEADING in shown and CONTEXT_HEADING in page


@pytest.mark.slow
def test_the_network_page_explains_its_score(env: tuple[Any, Any, Path]) -> None:
    store, app, _ = env
    from tracelight.web.views import _with_ref

    top = network_service.network_queue(store, 1)[0]
    reasons = [_with_ref(store, r) for r in top.reasons]
    assert all("/" in r.ad_id for r in reasons if r.ad_id)  # best member ad as SOURCE/ID
    x = explain_network(top.risk, reasons)
    client = TestClient(app)
    assert login(client, "bo").status_code == 303
    page = _page_text(client, f"/networks/{top.id}")
    for text in [x.formula, *(p.line for p in x.lead)]:
        assert " ".join(text.split()) in page, text


def test_top_reasons_in_tables_leave_out_context() -> None:
    from datetime import UTC, datetime

    from tracelight.score.runs import reason_summary
    from tracelight.store import StoredAd
    from tracelight.web.views import ad_summary

    reasons = [Reason("movement_language", 0.0), Reason("youth_language", 1.1),
               Reason("third_person", -0.2)]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ad = StoredAd(pk=1, source="s", ad_id="1", url=None, title="t", body="b", posted_at=None,
                  location=None, images=[], extra={}, content_hash="h", revision=1,
                  first_seen=now, last_seen=now, risk=0.3, reasons=reasons)
    assert ad_summary(ad)["top_reasons"] == ["Youth language"]
    assert ad_summary(ad)["ref"] == "s/1"
    assert reason_summary(reasons).startswith("youth_language (+1.1)")
    assert "movement" not in reason_summary(reasons)
