"""Names people go by in ads, from self-introductions: "I'm Amy", "ask for Amy", "my name is
Amy", "call me Amy", "soy Amy", "me llamo Amy".

A name is a capitalised word after such a cue that is not a common ad word ("I'm New",
"I'm Available"): the stop list lives in lexicon.yaml. Names are weak identifiers (shared by
many people) and are reported for context, not used on their own to link ads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracelight.extract.lexicon import lexicon
from tracelight.extract.normalize import word_starts

_CUE = re.compile(
    r"(?i:i'?m|i\s?am|my\s?name\s?is|my\s?name's|name\s?is|names|name:|"
    r"ask\s?for|call\s?me|it's|its|this\s?is|soy|me\s?llamo|mi\s?nombre\s?es|"
    r"known\s?as|aka|xoxo,?|love,|kisses,?|meet)\s{1,2}"
    r"(?:(?i:miss|ms\.?|mz\.?|lady|mistress|sweet|sexy|your|the)\s)?"
    r"([A-Z][a-z]{1,14}|[A-Z]{2,12}(?=[\s.,!]|$))(?![A-Za-z'])")


@dataclass(frozen=True, slots=True)
class NameHit:
    name: str
    start: int
    end: int


_HINTS = ("i'm", "im ", "i am", "iam ", "my name", "name", "names", "ask for", "call me", "it's",
          "its ", "this is", "soy ", "me llamo", "mi nombre", "known as", "aka ", "xoxo",
          "love,", "kisses", "meet")


# "Destiny here!" at the start of the text or of a sentence
_HERE = re.compile(r"(?:^|(?<=[.!?\n]\s)|(?<=[.!?\n]))\s?([A-Z][a-z]{1,14}) here\b")


def find_names(folded: str, low: str | None = None,
               words: frozenset[str] | None = None) -> list[NameHit]:
    low = folded.lower() if low is None else low
    stop = lexicon().name_stopwords
    hits: list[NameHit] = []
    last = -1
    for pos in word_starts(low, _HINTS, words):
        if pos < last:
            continue
        m = _CUE.match(folded, pos)
        if m is None:
            continue
        last = m.end()
        raw = m.group(1)
        name = raw.capitalize()
        if name.lower() in stop or len(name) < 2:
            continue
        hits.append(NameHit(name, m.start(1), m.end(1)))
    if " here" in low:
        for m in _HERE.finditer(folded):
            if m.group(1).lower() not in stop:
                hits.append(NameHit(m.group(1), m.start(1), m.end(1)))
        hits.sort(key=lambda h: h.start)
    return hits
