"""Region per ad (extract/regions.py): the plan of candidate countries and how phones use it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.extract import extract_record
from tracelight.extract.regions import (
    RANK_LOCATION,
    RANK_SITE,
    RANK_TEXT,
    city_countries,
    plan_for,
    text_city_hints,
)
from tracelight.records import AdRecord

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


@settings(max_examples=200, deadline=None)
@given(site=st.sampled_from(["US", "GB", "AU", "", "zz", "us"]), location=st.none() | _text,
       url=st.none() | _text | st.builds(lambda h, p: f"https://{h}/{p}", _text, _text))
def test_plan_never_raises_and_is_deterministic(site: str, location: str | None,
                                                url: str | None) -> None:
    a = plan_for(site, location, url)
    b = plan_for(site, location, url)
    assert a == b
    assert a.hints, "the site's region is always a candidate"
    ranks = [h.rank for h in a.hints]
    assert ranks == sorted(ranks)
    assert len({h.region for h in a.hints}) == len(a.hints)


@settings(max_examples=100, deadline=None)
@given(title=_text, body=_text, location=st.none() | _text, url=st.none() | _text)
def test_extract_with_region_evidence_never_raises(title: str, body: str,
                                                   location: str | None,
                                                   url: str | None) -> None:
    rec = AdRecord(id="x", source="s", title=title, body=body or "x", url=url,
                   location=location)
    one = extract_record(rec).to_dict("x")
    assert one == extract_record(rec).to_dict("x")
    for m in extract_record(rec).mentions:
        if m.kind == "phone":
            assert m.region_why


def test_order_of_trust() -> None:
    plan = plan_for("US", "Melbourne, Victoria, Australia", "https://ads.example.co.uk/tokyo/1")
    assert plan.regions[:3] == ("AU", "GB", "JP")
    assert plan.hints[0].rank == RANK_LOCATION
    assert plan.hints[-1].region == "US" and plan.hints[-1].rank == RANK_SITE
    assert plan_for("au").regions == ("AU",)
    assert text_city_hints([("Tokyo", 3)])[0].rank == RANK_TEXT


def test_city_names_stand_for_the_countries_of_their_large_cities() -> None:
    assert city_countries("London")[:2] == ("GB", "CA")  # London, Ontario is large too
    assert city_countries("Melbourne") == ("AU",)  # not the town in Florida
    assert city_countries("Melbourne", 10**8) == ()
    assert city_countries("sao paulo")[0] == "BR"  # written without its accent
    assert city_countries("nowhere-at-all") == ()


def _phone(**fields: str) -> tuple[str, str, str]:
    rec = AdRecord(id="x", source="s", **fields)  # type: ignore[arg-type]
    m = next(m for m in extract_record(rec).mentions if m.kind == "phone")
    return m.value, m.region, m.region_why


def test_the_number_itself_resolves_a_city_of_several_countries() -> None:
    # the site's region stays a candidate: the number decides
    assert _phone(body="call 0491 570 156", location="Melbourne") == (
        "+61491570156", "AU", "location: melbourne")
    assert _phone(body="call 206-555-0143", location="Melbourne")[0] == "+12065550143"


def test_location_beats_url_beats_site_beats_text() -> None:
    assert _phone(body="03-5550-0142", title="Melbourne girl", location="Tokyo")[1] == "JP"
    assert _phone(body="020 7946 0142", location="London",
                  url="https://example.com/melbourne/ad/1")[1] == "GB"
    assert _phone(body="0491 570 156", location="Melbourne")[1] == "AU"


def test_ambiguous_numbers_are_flagged() -> None:
    value, region, why = _phone(title="Melbourne and Tokyo tour", body="03 5550 0142")
    assert value == "+61355500142" and region == "AU"
    assert why.startswith("ambiguous: AU or JP")


def test_explicit_country_code_wins() -> None:
    assert _phone(body="+44 20 7946 0142", location="Seattle, WA") == (
        "+442079460142", "GB", "country code")
