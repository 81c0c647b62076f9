"""Reason: one typed shape from the scorer through the store to the CLI and the web."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tracelight.records import AdRecord, Evidence, ProcessedAd, Reason, reasons_from_json
from tracelight.score import score_ad
from tracelight.web import views


def _scored() -> tuple[AdRecord, list[Reason]]:
    rec = AdRecord(id="r1", source="t", title="Young and sweet",
                   body="100% real, no games. New in town.")
    return rec, score_ad(rec, []).reasons


def test_scorer_reasons_round_trip_through_their_dict() -> None:
    _rec, reasons = _scored()
    assert reasons and all(isinstance(r, Reason) for r in reasons)
    for r in reasons:
        d = r.to_dict()
        assert list(d) == ["code", "weight", "evidence", "description", "strength",
                           "category", "detail", "count"]
        assert Reason.from_dict(json.loads(json.dumps(d))) == r


def test_the_store_keeps_reasons_as_reasons(store: Any) -> None:
    rec, reasons = _scored()
    store.write_batch(None, [ProcessedAd(record=rec, risk=0.5, reasons=reasons)])
    [ad] = list(store.iter_ads())
    assert ad.reasons == reasons
    store.set_risk([(ad.pk, 0.4, reasons[:1])])
    [ad] = list(store.iter_ads())
    assert ad.reasons == reasons[:1]
    assert ad.to_dict()["reasons"] == [reasons[0].to_dict()]


LEGACY: list[tuple[Any, Reason]] = [
    ({"code": "trustworthy_provider", "label": "Trust wording", "contribution": 0.3,
      "evidence": [{"field": "body", "start": 0, "end": 9, "text": "100% real"}]},
     Reason("trustworthy_provider", 0.3, (Evidence("body", 0, 9, "100% real"),),
            label="Trust wording")),
    ({"code": "youth_language", "weight": 1.2, "start": 3, "end": 8, "text": "young"},
     Reason("youth_language", 1.2, (Evidence("body", 3, 8, "young"),))),
    ({"code": "x", "score": 2, "spans": [{"field": "title", "start": 1, "end": 2}]},
     Reason("x", 2, (Evidence("title", 1, 2, ""),))),
    ("shared phone", Reason("shared phone", None, label="shared phone")),
    ({"title": "Old", "weight": True, "evidence": "?"}, Reason("", None, label="Old")),
]


def test_old_stored_shapes_still_load() -> None:
    for stored, want in LEGACY:
        assert Reason.from_dict(stored) == want
    assert reasons_from_json(None) is None
    assert reasons_from_json([LEGACY[0][0]]) == [LEGACY[0][1]]


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                     | st.text(max_size=8),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(
                         st.sampled_from(["code", "weight", "evidence", "start", "end", "text",
                                          "field", "count", "ad_id", "label", "spans",
                                          "more_evidence", "contribution"]), c, max_size=5),
                     max_leaves=12)


@given(_JSON)
def test_any_stored_json_loads_and_round_trips(data: Any) -> None:
    for r in reasons_from_json(data) or []:
        assert Reason.from_dict(json.loads(json.dumps(r.to_dict()))) == r
        views.reasons_view([r])  # renders


def test_web_view_renders_scorer_reasons() -> None:
    _rec, reasons = _scored()
    view = views.reasons_view(reasons)
    assert [v["code"] for v in view] == [r.code for r in sorted(reasons,
                                                                key=lambda r: -(r.weight or 0))]
    first = view[0]
    assert first["label"] == first["code"].replace("_", " ").capitalize()
    assert first["evidence"] and set(first["evidence"][0]) == {"field", "start", "end", "text"}
