"""The contract every registered extractor passes (model: python-threatexchange's
SignalTypeAutoTest): a new extractor is added to extract/registry.py and gets these tests
for free, with one example text per kind it reads below.

Each extractor: reads only declared kinds; finds its example; returns mentions whose spans
index the input (text[start:end] == raw) with values in the normal form of their kind
(tracelight.kinds); returns nothing for empty text and only the kinds asked for; never raises
on arbitrary text (hypothesis) and is deterministic.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelight import kinds
from tracelight.errors import ConfigError
from tracelight.extract import registry
from tracelight.extract.interface import Context, Extractor
from tracelight.extract.registry import EXTRACTORS
from tracelight.records import Mention

# One text per kind that its extractor must read (synthetic; 555-01xx numbers are fictional,
# the crypto addresses are the published BIP-173 / EIP-55 test vectors).
EXAMPLES = {
    "phone": ("Call me at (206) 555-0143 today", "+12065550143"),
    "email": ("write to ana.lee at example dot org", "ana.lee@example.org"),
    "url": ("see https://example.org/ana for more", "https://example.org/ana"),
    "social": ("IG: Ana_22", "instagram:ana_22"),
    "payment": ("deposit by venmo @Ana-22 only", "venmo:ana-22"),
    "crypto": ("tips 0x52908400098527886E0F7030069857D2E4169EE7 thanks",
               "ETH:0x52908400098527886e0f7030069857d2e4169ee7"),
    "age": ("I am 24 years old", "24"),
    "age_review": ("I left home when I was 16", "16"),
    "price": ("200 roses per hour", "200 USD/60"),
    "location": ("new in Seattle, WA", "Seattle, WA, US"),
    "name": ("Hi, my name is Ana.", "Ana"),
}

_ALPHABET = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.sampled_from([*"0123456789 -.()+@$#:/'\"\n", "２", "𝟐", "②", "\ufe0f", "\u20e3", "İ"]),
)
_WORDS = st.sampled_from(["two", "oh", "five", "at", "dot", "com", "gmail", "I'm", "age",
                          "yrs", "$", "IG:", "venmo", "Seattle", "WA", "my name is", "Ana",
                          "0x", "bc1", "http://", ".com/", "hr", "roses", *(
                              t for t, _ in EXAMPLES.values())])
TEXT = st.lists(st.one_of(st.text(_ALPHABET, max_size=12), _WORDS), max_size=25).map(" ".join)
REGIONS = st.sampled_from(["US", "GB", "MX", "DE", "ZZ"])

ids = [repr(ex) for ex in EXTRACTORS]
each = pytest.mark.parametrize("ex", EXTRACTORS, ids=ids)


def check(ex: Extractor, text: str, ctx: Context, found: list[Mention]) -> None:
    for m in found:
        assert m.kind in ex.kinds and ctx.wants(m.kind), m
        assert 0 <= m.start < m.end <= len(text), m
        assert text[m.start:m.end] == m.raw, m
        assert m.field == ctx.field
        assert m.value in kinds.kind(m.kind).normalize(m.value, ctx.region), \
            f"{m.value!r} is not in the normal form of {m.kind}"


def test_every_declared_kind_has_one_extractor_and_an_example() -> None:
    read = [k for ex in EXTRACTORS for k in ex.kinds]
    assert sorted(read) == sorted(kinds.KINDS)
    assert set(EXAMPLES) == set(kinds.KINDS)


def test_the_registry_refuses_an_undeclared_or_unread_kind() -> None:
    class Stray(registry.AgeExtractor):
        kinds = ("shoe_size",)

    with pytest.raises(ConfigError, match=r"kinds.yaml: kinds.shoe_size: read by Stray"):
        registry._check((*EXTRACTORS, Stray()))
    with pytest.raises(ConfigError, match=r"kinds.age: no extractor reads it"):
        registry._check(tuple(ex for ex in EXTRACTORS if "age" not in ex.kinds))


@each
def test_empty_text_gives_no_mentions(ex: Extractor) -> None:
    assert ex.extract("", Context.of("")) == []


@each
def test_reads_its_example_with_span_and_normal_value(ex: Extractor) -> None:
    for kind in ex.kinds:
        text, value = EXAMPLES[kind]
        ctx = Context.of(text, field="title")
        found = ex.extract(text, ctx)
        check(ex, text, ctx, found)
        assert value in [m.value for m in found if m.kind == kind], (kind, found)


@each
def test_only_the_kinds_asked_for(ex: Extractor) -> None:
    text = " and ".join(t for t, _ in EXAMPLES.values())
    for kind in ex.kinds:
        ctx = Context.of(text, kinds={kind})
        found = ex.extract(text, ctx)
        assert found and {m.kind for m in found} == {kind}


@each
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, region=REGIONS)
def test_any_text_never_raises_and_keeps_the_contract(ex: Extractor, text: str,
                                                     region: str) -> None:
    ctx = Context.of(text, region=region)
    found = ex.extract(text, ctx)
    check(ex, text, ctx, found)
    assert ex.extract(text, Context.of(text, region=region)) == found  # deterministic
