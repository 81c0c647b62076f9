"""The decoys real markets show at scale, shared by both demo generators (issue 12).

`tracelight demo-generate --market realistic` (the full generator: ads.jsonl, truth.jsonl,
labels, images) and the fast linker corpus (`tracelight.demo.market`, identifiers given) plant
the same things at the same rates, from this one module:

- single-contact networks of 20-100 ads whose text is written afresh for every ad
  (`SOLE_SIZE`), and large networks of 101-300 ads rotating through several phones;
- phone rotation with partial overlap (each ad carries the current number, sometimes the
  next);
- cross-posting: one ad copied onto several sources (`CROSS_POST`);
- each source's helpline phone in a footer sentence beside the advertiser's own contact, on
  `FOOTER_SHARE` of the ads (thousands of ads at 30,000);
- "ad builder" texts used by unrelated advertisers (`BUILDER_RATE`), stock photos shared by
  unrelated advertisers (`STOCK_PHOTO_RATE`), stock phrases written by many independents;
- a third of the ads outside North America, their phones in national formats.

Text is built from the caller's own sentence maker, so each generator keeps its vocabulary
(invented words for the fast corpus, the demo's English-like templates for the full one).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

P = TypeVar("P")

FOOTER_SHARE = 0.3  # ads carrying their source's helpline footer
BUILDER_RATE = {"independent": 0.12, "network": 0.08}  # ads written from an ad builder's text
STOCK_PHOTO_RATE = {"independent": 0.08, "network": 0.04}  # ads adding a stock photo
CROSS_POST = {"independent": 0.1, "network": 0.25}  # personas that copy ads to other sources
FOREIGN_SHARE = 1 / 3  # personas based outside North America
SOLE_SIZE = (20, 100)  # single-contact networks, every ad rewritten
BIG_SIZE = (101, 300)  # large rotating networks
N_BUILDERS = 6
N_STOCK_PHRASES = 80
N_STOCK_PHOTOS = 30

# Footer wording per source: "<lead> <helpline> <tail>". Ordinary English, the same on every
# ad of one source: boilerplate around the site's phone.
FOOTER_LEADS = ("Questions about this listing? Call our help desk on",
                "Billing or account problems: our support line is",
                "To report a problem with this advert call")
FOOTER_TAILS = (", open every day.", " (free call).", ", we answer within the hour.")

# Countries outside North America: (country, calling code, national trunk prefix, mobile
# number length after the calling code, first digits of mobiles, ways of writing it).
INTERNATIONAL: tuple[tuple[str, str, str, int, str], ...] = (
    ("GB", "44", "0", 10, "7"),
    ("FR", "33", "0", 9, "6"),
    ("DE", "49", "0", 11, "15"),
    ("ES", "34", "", 9, "6"),
    ("AU", "61", "0", 9, "4"),
)


@dataclass(frozen=True)
class SiteFooter:
    lead: str
    tail: str

    def around(self, phone_text: str) -> tuple[str, int]:
        """The footer sentence with `phone_text` in it, and where the phone starts."""
        return f"{self.lead} {phone_text}{self.tail}", len(self.lead) + 1


class Decoys:
    """One corpus's shared decoys, drawn once from `rng` with the caller's sentence maker."""

    def __init__(self, rng: random.Random, sentence: Callable[[random.Random], str],
                 sources: Sequence[str]) -> None:
        self.builders = [[sentence(rng) for _ in range(rng.randint(5, 7))]
                         for _ in range(N_BUILDERS)]
        self.stock_phrases = [sentence(rng) for _ in range(N_STOCK_PHRASES)]
        self.footers = {s: SiteFooter(FOOTER_LEADS[i % len(FOOTER_LEADS)],
                                      FOOTER_TAILS[i % len(FOOTER_TAILS)])
                        for i, s in enumerate(sources)}
        self.stock_photos = [rng.getrandbits(64) for _ in range(N_STOCK_PHOTOS)]

    def builder_text(self, rng: random.Random, who: str) -> list[str] | None:
        """An ad builder's sentences for this persona, or None (most write their own)."""
        return rng.choice(self.builders) if rng.random() < BUILDER_RATE[who] else None

    def stock_phrase(self, rng: random.Random) -> str:
        return rng.choice(self.stock_phrases)

    def stock_photo(self, rng: random.Random, who: str) -> int | None:
        """A stock photo's id for this ad, or None."""
        return rng.choice(self.stock_photos) if rng.random() < STOCK_PHOTO_RATE[who] else None

    def footer(self, rng: random.Random, source: str) -> SiteFooter | None:
        return self.footers[source] if rng.random() < FOOTER_SHARE else None


def cross_post_sources(rng: random.Random, who: str, sources: Sequence[str]) -> list[str]:
    """The sources one ad of a persona goes to: one, or several for a cross-poster."""
    if rng.random() < CROSS_POST[who]:
        return rng.sample(list(sources), rng.randint(2, len(sources)))
    return [rng.choice(list(sources))]


def rotating(phones: Sequence[P], i: int, size: int) -> list[P]:
    """Phone rotation with partial overlap: the number(s) the `i`-th of `size` ads carries.
    A persona moves through its numbers in turn; the first ad on a new number still carries
    the one before (that overlap is what ties the numbers together), and so does every ad
    within a tenth of its life after the switch."""
    k = len(phones)
    if k == 1 or size <= 1:
        return [phones[0]]
    cur = min(k - 1, i * k // size)
    start = -(-cur * size // k)  # the first ad on number `cur`
    if cur > 0 and (i == start or i - start < size / (10 * k)):
        return [phones[cur], phones[cur - 1]]
    return [phones[cur]]


def international_phone(rng: random.Random, country: str, serial: int) -> tuple[str, str]:
    """(E.164, as written in the ad) for a mobile in `country` (one of INTERNATIONAL);
    distinct serials give distinct numbers. Written nationally (trunk prefix, spaces) or
    internationally."""
    _c, cc, trunk, length, first = next(row for row in INTERNATIONAL if row[0] == country)
    rest = length - len(first)
    digits = first + f"{(serial * 7919 + 1234567) % 10 ** rest:0{rest}d}"
    e164 = f"+{cc}{digits}"
    style = rng.random()
    if style < 0.5 and trunk:
        national = trunk + digits
        written = " ".join(national[i:i + 4] for i in range(0, len(national), 4))
        if country == "FR":
            written = " ".join(national[i:i + 2] for i in range(0, len(national), 2))
    elif style < 0.8:
        written = f"+{cc} {digits[:3]} {digits[3:6]} {digits[6:]}"
    else:
        written = e164
    return e164, written


def country_of(e164: str) -> str:
    for country, cc, *_ in INTERNATIONAL:
        if e164.startswith("+" + cc):
            return country
    return "US"
