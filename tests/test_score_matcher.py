"""The phrase matcher: robust to case, spacing, leetspeak, odd Unicode letters and emoji, and
its offsets always point into the original text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracelight.score.catalogue import load_catalogue
from tracelight.score.matcher import PhraseMatcher, fold


def _found(text: str) -> list[tuple[str, str]]:
    return [(m.key, text[m.start:m.end]) for m in load_catalogue().matcher.find(text)]


def test_case_spacing_and_punctuation() -> None:
    assert ("trustworthy_provider", "NO-GAMES") in _found("NO-GAMES please")
    assert ("trustworthy_provider", "nogames") in _found("nogames")
    assert ("trustworthy_provider", "100%   real") in _found("100%   real!!")


def test_leetspeak() -> None:
    assert ("trustworthy_provider", "n0 g@mes") in _found("n0 g@mes")
    assert ("youth_language", "y0ung") in _found("so y0ung!")
    assert ("trustworthy_provider", "v3r1f13d pr0v1d3r") in _found("v3r1f13d pr0v1d3r")
    assert ("trustworthy_provider", "l3g1t") in _found("l3g1t")


def test_fullwidth_math_and_accents() -> None:
    assert ("youth_language", "ＹＯＵＮＧ") in _found("ＹＯＵＮＧ")
    assert ("youth_language", "𝐲𝐨𝐮𝐧𝐠") in _found("𝐲𝐨𝐮𝐧𝐠")
    assert ("stated_ethnicity", "LATÍNA") in _found("sweet LATÍNA")


def test_letter_spaced_words() -> None:
    assert ("youth_language", "y o u n g") in _found("very y o u n g here")
    assert ("youth_language", "Y.O.U.N.G") in _found("very Y.O.U.N.G!")
    assert ("trustworthy_provider", "n o g a m e s") in _found("n o g a m e s")


def test_non_ascii_text_keeps_offsets() -> None:
    text = "✨💋 Ｎｅｗ ✨ 100% ｒｅａｌ 💗 ágil young"
    for _key, span in _found(text):
        assert span in text
    assert ("youth_language", "young") in _found(text)
    assert ("emoji_minor", "💗") in _found(text)


def test_emoji_with_and_without_variation_selector() -> None:
    assert ("movement_language", "✈️") in _found("here ✈️ now")
    assert ("movement_language", "✈") in _found("here ✈ now")
    assert ("emoji_minor", "🍒") in _found("🍒🍒")


def test_whole_words_only() -> None:
    assert _found("the youngstown thaiboxing legitimately") == []
    # a trailing * allows any ending
    assert ("youth_language", "youthfulness") in _found("youthfulness")


def test_longest_phrase_wins() -> None:
    found = _found("daddy's little girl")
    assert found == [("icmec_code_words", "daddy's little girl")]


def test_apostrophes() -> None:
    assert ("trustworthy_provider", "I'm real") in _found("I'm real")
    assert ("trustworthy_provider", "im real") in _found("im real")


def test_site_badge_is_not_a_trust_claim() -> None:
    assert _found("Posted by a verified member of our community.") == []


def test_benign_usage_shadows_code_words() -> None:
    assert _found("21 years young, fresh towels") == [
        ("benign_usage", "years young"), ("benign_usage", "fresh towels")]


def test_small_custom_matcher() -> None:
    m = PhraseMatcher([("a", "foo bar", "phrase"), ("b", "foo", "phrase"), ("c", "🌹", "emoji")])
    text = "Foo Bar foo 🌹"
    assert [(x.key, text[x.start:x.end]) for x in m.find(text)] == [
        ("a", "Foo Bar"), ("b", "foo"), ("c", "🌹")]


@given(st.text(max_size=200))
def test_fold_keeps_length(text: str) -> None:
    assert len(fold(text)) == len(text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
       st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_phrase_found_at_its_offset(before: str, after: str) -> None:
    text = before + " no games " + after
    start = len(before) + 1
    spans = [(m.start, m.end) for m in load_catalogue().matcher.find(text)
             if m.key == "trustworthy_provider"]
    # the planted phrase is found at its place (a letter glued before it may hide it,
    # which is the whole-word rule, so only assert when the boundary is clean)
    if not (before[-1:].isalnum() or after[:1].isalnum()):
        assert any(s <= start and e >= start + 8 for s, e in spans)
