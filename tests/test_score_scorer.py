"""score_ad / score_network: risk in 0..1, reasons with code, weight and evidence span."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracelight.records import AdRecord, Mention
from tracelight.score import (
    CorpusStats,
    NetworkInfo,
    ScoreContext,
    load_catalogue,
    score_ad,
    score_batch,
    score_network,
)
from tracelight.score.scorer import MINOR_FLOOR, sigmoid
from tracelight.score.stats import parse_price

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def ad(body: str, ad_id: str = "a1", title: str = "", **kw) -> AdRecord:  # type: ignore[no-untyped-def]
    return AdRecord(id=ad_id, source="test", title=title, body=body, **kw)


def mention(body: str, raw: str, kind: str, value: str, *, obfuscated: bool = False) -> Mention:
    start = body.index(raw)
    return Mention(kind, value, "body", start, start + len(raw), obfuscated, raw)


def test_plain_ad_is_low_and_has_no_reasons() -> None:
    res = score_ad(ad("Relaxing massage, call me to book."), [])
    assert 0.0 <= res.risk < 0.15
    assert res.reasons == []
    assert res.risk == round(sigmoid(load_catalogue().bias), 4)


def test_reasons_shape_and_spans_point_into_the_ad() -> None:
    body = "Sweet latina, 100% real, no games. Call me."
    res = score_ad(ad(body), [])
    assert res.codes[:2] == ["trustworthy_provider", "stated_ethnicity"]
    for reason in res.reasons:
        r = reason.to_dict()  # the stored and printed form
        assert set(r) >= {"code", "weight", "evidence", "description"}
        ev = r["evidence"]
        assert body[ev["start"]:ev["end"]] == ev["text"]
        assert ev["field"] == "body"


def test_each_indicator_counts_once() -> None:
    once = score_ad(ad("young"), []).risk
    many = score_ad(ad("young young young young young"), []).risk
    assert once == many
    assert score_ad(ad("young young"), []).reasons[0].count == 2


def test_movement_wording_is_context_with_weight_zero() -> None:
    base = score_ad(ad("Call me today."), [])
    moved = score_ad(ad("New in town! Call me today."), [])
    assert moved.risk == base.risk
    assert moved.reasons[0].code == "movement_language"
    assert moved.reasons[0].weight == 0


def test_stated_minor_is_always_the_top_reason() -> None:
    body = "100% real, no games, young latina, I am 17, call 2oh6 555 0143"
    ms = [mention(body, "17", "age", "17"),
          mention(body, "2oh6 555 0143", "phone", "+12065550143", obfuscated=True)]
    res = score_ad(ad(body), ms)
    assert res.codes[0] == "stated_age_under_18"
    assert res.risk >= MINOR_FLOOR
    # even alone
    alone = score_ad(ad("I am 16"), [mention("I am 16", "16", "age", "16")])
    assert alone.codes == ["stated_age_under_18"] and alone.risk >= MINOR_FLOOR


def test_adult_age_is_context() -> None:
    body = "I am 21"
    res = score_ad(ad(body), [mention(body, "21", "age", "21")])
    assert res.codes == ["stated_age_18_to_22"]
    assert res.reasons[0].weight == 0


def test_obscured_contacts_from_extraction() -> None:
    body = "call 2oh6 five5five 0one4three or mia at gmail dot com"
    ms = [mention(body, "2oh6 five5five 0one4three", "phone", "+12065550143", obfuscated=True),
          mention(body, "mia at gmail dot com", "email", "mia@gmail.com", obfuscated=True)]
    res = score_ad(ad(body), ms)
    assert res.codes == ["obscured_phone", "obscured_email"]
    assert res.reasons[0].evidence[0].text == "2oh6 five5five 0one4three"
    plain = score_ad(ad(body), [Mention("phone", "+12065550143", "body", 5, 30)])
    assert plain.codes == []


def test_validated_indicators_raise_risk_monotonically() -> None:
    r0 = score_ad(ad("Call me."), []).risk
    r1 = score_ad(ad("Call me. 100% real."), []).risk
    r2 = score_ad(ad("Call me. 100% real. Young."), []).risk
    r3 = score_ad(ad("Call me. 100% real. Young. Sweet Asian lady."), []).risk
    assert r0 < r1 < r2 < r3 <= 1.0


def test_third_person_language() -> None:
    res = score_ad(ad("She is sweet. Her place is clean. Ask her anything."), [])
    assert "third_person_language" in res.codes
    assert "third_person_language" not in score_ad(
        ad("I am sweet, my place is clean, she says hi to her friend"), []).codes


def _corpus() -> tuple[list[tuple[AdRecord, list[Mention]]], CorpusStats]:
    pairs = []
    for i in range(12):
        body = f"I am {['Ann', 'Bea', 'Cat', 'Dee'][i % 4]}. 200 per hour. call 2065550143"
        city = ["Seattle", "Portland", "Boise", "Seattle"][i % 4]
        rec = ad(body, f"n{i}", location=city, posted_at=T0 + timedelta(days=i))
        ms = [mention(body, "2065550143", "phone", "+12065550143"),
              mention(body, ["Ann", "Bea", "Cat", "Dee"][i % 4], "name",
                      ["Ann", "Bea", "Cat", "Dee"][i % 4]),
              mention(body, "200 per hour", "price", "200 USD/60")]
        pairs.append((rec, ms))
    for i in range(6):
        body = f"Independent. {220 + i} an hour. call 5035550{100 + i}"
        rec = ad(body, f"s{i}", location="Seattle", posted_at=T0)
        pairs.append((rec, [mention(body, f"{220 + i} an hour", "price", f"{220 + i} USD/60"),
                            mention(body, f"5035550{100 + i}", "phone", f"+1503555{100 + i:04d}")]))
    return pairs, CorpusStats.build(pairs)


def test_corpus_features() -> None:
    pairs, stats = _corpus()
    res = score_ad(*pairs[0], ScoreContext(stats=stats))
    assert {"phone_many_names", "many_cities_short_time", "high_posting_volume"} <= set(res.codes)
    # an independent with its own phone: none of those
    assert score_ad(*pairs[-1], ScoreContext(stats=stats)).codes == []
    body = "Cheap: 60 per hour"
    cheap = ad(body, "c", location="Seattle")
    res = score_ad(cheap, [mention(body, "60 per hour", "price", "60 USD/60")],
                   ScoreContext(stats=stats))
    assert res.codes == ["price_below_local_median"]
    # stats round-trip as plain data
    again = CorpusStats.from_dict(stats.to_dict())
    assert score_ad(*pairs[0], ScoreContext(stats=again)).codes == res_codes(pairs[0], stats)


def res_codes(pair, stats):  # type: ignore[no-untyped-def]
    return score_ad(*pair, ScoreContext(stats=stats)).codes


def test_parse_price() -> None:
    assert parse_price("150 USD/30") == (150.0, "USD", 30)
    assert parse_price("150 USD") == (150.0, "USD", 60)
    assert parse_price("80 EUR hh") == (80.0, "EUR", 30)
    assert parse_price("") is None
    assert parse_price("free") is None


def test_network_context_and_network_risk() -> None:
    net = NetworkInfo("n7", size=12, cities=4)
    res = score_ad(ad("Call me."), [], ScoreContext(network=net))
    assert set(res.codes) == {"network_size", "network_spread"}
    members = [(f"a{i}", score_ad(ad(b), [])) for i, b in
               enumerate(["100% real young latina", "Call me.", "no games"])]
    nres = score_network(members, net)
    assert 0 < nres.risk <= 1
    assert nres.codes[:2] == ["network_size", "network_spread"]
    tr = next(r for r in nres.reasons if r.code == "trustworthy_provider")
    assert tr.count == 2 and tr.ad_id == "a0"
    small = score_network(members, NetworkInfo("n8", size=3, cities=1))
    assert small.risk < nres.risk
    assert score_network([], net).risk == 0.0


def test_network_with_a_minor_is_flagged() -> None:
    body = "I am 16"
    minor = score_ad(ad(body), [mention(body, "16", "age", "16")])
    nres = score_network([("x", score_ad(ad("Call me."), [])), ("m", minor)],
                         NetworkInfo("n", 2, 1))
    assert nres.codes[0] == "stated_age_under_18" and nres.risk >= MINOR_FLOOR


def test_score_batch_matches_score_ad() -> None:
    pairs, stats = _corpus()
    ctx = ScoreContext(stats=stats)
    batch = score_batch(pairs, ctx)
    assert [r.risk for r in batch] == [score_ad(r, m, ctx).risk for r, m in pairs]


def test_title_and_url_are_searched() -> None:
    rec = AdRecord(id="u", source="t", title="Young and sweet", body="call me",
                   url="https://example.test/escorts/100-real-no-games")
    res = score_ad(rec, [])
    fields = {r.code: r.evidence[0].field for r in res.reasons}
    assert fields["youth_language"] == "title"
    assert fields["trustworthy_provider"] == "url"


def test_pipeline_stage_sets_risk_and_reasons(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tracelight.records import ProcessedAd
    from tracelight.score.stage import score_stage

    item = ProcessedAd(record=ad("100% real, young"))
    score_stage(item, tmp_path)
    assert item.risk is not None and 0 < item.risk < 1
    assert [r.code for r in item.reasons or []] == ["trustworthy_provider", "youth_language"]


@given(st.text(max_size=60))
def test_parse_price_never_raises(value: str) -> None:
    parsed = parse_price(value)
    if parsed is not None:
        amount, currency, minutes = parsed
        assert amount > 0 and minutes >= 1 and len(currency) == 3


@given(st.text(max_size=300), st.lists(st.integers(0, 120), max_size=4))
def test_score_ad_is_total_on_any_text(body: str, ages: list[int]) -> None:
    ms = [Mention("age", str(a), "body", 0, 0) for a in ages]
    res = score_ad(ad(body or "x"), ms)
    assert 0.0 <= res.risk <= 1.0
    if any(a < 18 for a in ages):
        assert res.codes[0] == "stated_age_under_18" and res.risk >= MINOR_FLOOR
    else:
        assert res.risk < MINOR_FLOOR
