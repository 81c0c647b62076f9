"""Property tests: extraction never raises, spans index the original text, output is stable,
and a valid phone written in any supported disguise is read back."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelight.extract import extract_record, extract_text
from tracelight.records import AdRecord

# Text drawn from everything Unicode has, plus the characters extractors react to, so the
# interesting paths (digits, separators, cue words) are reached often.
_ALPHABET = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.sampled_from([*"0123456789 -.()+@$#:/'\"\n", "２", "𝟐", "②", "²", "\ufe0f", "\u20e3",
                     "🌹", "ı", "İ", "ß", "ﬁ", "\u200d"]),
)
_WORDS = st.sampled_from(["two", "oh", "to", "for", "dos", "five", "at", "dot", "com", "gmail",
                          "I'm", "age", "yrs", "yo", "hh", "qv", "$", "IG:", "cashapp",
                          "Seattle", "WA", "ask for", "Amy", "0x", "bc1", "http://", ".com/"])
TEXT = st.lists(st.one_of(st.text(_ALPHABET, max_size=12), _WORDS), max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT, st.sampled_from(["US", "GB", "MX", "ES", "DE", "ZZ"]))
def test_never_raises_and_spans_index_the_original(text: str, region: str) -> None:
    mentions = extract_text(text, "body", region)
    for m in mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.raw
        assert m.field == "body"
    assert extract_text(text, "body", region) == mentions  # deterministic


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300), st.text(max_size=80))
def test_records_of_any_text(title: str, body: str, url: str) -> None:
    rec = AdRecord(id="x", source="s", title=title, body=body or "x", url=url or None,
                   location=title[:20] or None)
    d = extract_record(rec).to_dict("x")
    texts = {"title": rec.title, "body": rec.body, "url": rec.url, "location": rec.location}
    for m in d["mentions"]:
        assert texts[m["field"]][m["start"]:m["end"]] == m["raw"]
    assert extract_record(rec).to_dict("x") == d


_DIGIT_FORMS = [
    lambda d: d,
    lambda d: chr(0xFF10 + int(d)),  # full-width
    lambda d: chr(0x1D7CE + int(d)),  # mathematical bold
    lambda d: d + "\ufe0f\u20e3",  # keycap
    lambda d: "⓪①②③④⑤⑥⑦⑧⑨"[int(d)],  # circled
    lambda d: ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "nine"][int(d)],
    lambda d: ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho",
               "nueve"][int(d)],
]
_AREAS = ["206", "425", "312", "713", "305", "404", "702", "602", "617", "212", "415", "503"]


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from(_AREAS))
def test_disguised_phone_is_read(rng: random.Random, area: str) -> None:
    number = f"{area}{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"
    form = rng.choice(_DIGIT_FORMS)
    sep = rng.choice([" ", "-", ".", " - ", "", "🌹", ","])
    parts = [form(d) for d in number]
    if form(number[0]).isalpha() and sep == "":
        sep = " "  # words run together are another pattern, covered by the cases file
    groups = [sep.join(parts[:3]), sep.join(parts[3:6]), sep.join(parts[6:])]
    text = "Sweet and new, call " + (sep or " ").join(groups) + " anytime"
    found = [m.value for m in extract_text(text, "body", "US", kinds=("phone",))]
    assert found == ["+1" + number], text
