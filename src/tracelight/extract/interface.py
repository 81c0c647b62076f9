"""The one interface every entity extractor implements, and the registry of them.

An extractor reads one kind (or a few kinds that come from one reader, such as URLs and the
social and payment handles written in them) out of one text and returns Mentions whose spans
index that text. Adding an extractor is a class with `kinds` and `extract`, and one entry in
`tracelight.extract.registry.EXTRACTORS`; the core loop (tracelight.extract.core) does not
change. Every registered extractor passes tests/test_extractor_contract.py, modelled on
python-threatexchange's SignalTypeAutoTest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from tracelight.extract.normalize import fold, lower, word_set
from tracelight.extract.regions import RegionPlan
from tracelight.records import Mention


@dataclass(frozen=True, slots=True)
class Context:
    """What an extractor may use besides the text: the country for phones and prices, the
    kinds wanted, and the folded forms of the text every reader shares (computed once)."""

    folded: str  # NFKC-folded text, same length as the text (spans are shared)
    low: str  # lower-case of `folded`
    words: frozenset[str]  # words of `low`, for cheap "is this cue here at all" gates
    region: str = "US"
    field: str = "body"  # the `field` of the Mentions made
    kinds: frozenset[str] = frozenset()  # kinds wanted; empty = every kind
    lenient: bool = False  # places: the text is a location field, not prose
    # phones: candidate countries from the ad's location, URL, site and text (regions.py);
    # None reads national numbers for `region` alone
    plan: RegionPlan | None = None

    @classmethod
    def of(cls, text: str, *, region: str = "US", field: str = "body",
           kinds: Iterable[str] = (), lenient: bool = False,
           plan: RegionPlan | None = None) -> Context:
        folded = fold(text)
        low = lower(folded)
        return cls(folded=folded, low=low, words=word_set(low), region=(region or "US").upper(),
                   field=field, kinds=frozenset(kinds), lenient=lenient, plan=plan)

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class Extractor(Protocol):
    """Reads entities of `kinds` from a text.

    `extract(text, context)` returns Mentions with `text[m.start:m.end] == m.raw`, values in
    the normal form of their kind (tracelight.kinds), only of the kinds `context` wants, and
    nothing for an empty text. It never raises on any text, and is deterministic.
    """

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds (kinds.yaml) of the mentions it makes."""

    @property
    def claims_span(self) -> bool:
        """Whether its spans are taken whole: other kinds' mentions overlapping them are
        dropped (the digits inside a crypto address are never a phone, price or age)."""

    def extract(self, text: str, context: Context) -> list[Mention]: ...
