"""A fast synthetic corpus of linker input for link benchmarks and tests (a million ads in
about a minute; `tracelight bench link --corpus synth`).

Same shape as the demo generator's planted networks (docs/demo-contract): networks of 2-40
ads that rotate 1-4 phones and reuse an edited template, independent advertisers, and decoys
(site boilerplate and a site phone in unrelated footers, generic phrases, common first names,
popular cities). Text is made of invented words: non-explicit by construction. Mentions come
already "extracted" (what a perfect extractor would find), so this measures linking alone.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from tracelight.link.features import LinkAd
from tracelight.records import Mention

_SYL = ["ka", "lo", "mi", "ne", "ra", "su", "ti", "vo", "ze", "ba", "de", "fi", "gu", "ho",
        "ji", "ku", "la", "mo", "nu", "pi", "qui", "ro", "sa", "te", "vi", "xa", "yo", "zu"]
COMMON = ["the", "a", "and", "to", "for", "with", "in", "my", "me", "you", "your", "is", "am",
          "i", "will", "be", "are", "of", "on", "at", "this", "that", "new", "sweet", "fun",
          "time", "call", "text", "now", "today", "visit", "friendly", "relax", "day", "night"]
NAMES = ["Anna", "Maria", "Sofia", "Emma", "Mia", "Lily", "Chloe", "Ruby", "Ava", "Luna",
         "Jade", "Nina", "Eva", "Ella", "Rose", "Lea", "Zoe", "Iris", "Kim", "Amy"]
CITIES = ["Houston", "Dallas", "Miami", "Atlanta", "Chicago", "Phoenix", "Denver", "Seattle",
          "Boston", "Austin", "Tampa", "Orlando", "Reno", "Omaha", "Tulsa", "Fresno"]
AREAS = [212, 213, 305, 312, 404, 415, 469, 512, 602, 702, 713, 720, 786, 813, 832, 917]
SITE_PHONE = "+17025550100"


def _words(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(_SYL) for _ in range(rng.randint(2, 3))) for _ in range(n)]


def _sentence(rng: random.Random, pool: list[str], lo: int = 6, hi: int = 13) -> list[str]:
    return [rng.choice(pool) if rng.random() < 0.7 else rng.choice(COMMON)
            for _ in range(rng.randint(lo, hi))]


def _phone(rng: random.Random, serial: int) -> str:
    """A distinct number per serial (random numbers would collide at a million ads and
    plant links the truth does not know about)."""
    area = AREAS[serial % len(AREAS)]
    line = 2000000 + (serial // len(AREAS) * 7919 + rng.randint(0, 0)) % 8000000
    return f"+1{area}{line}"


def _write_phone(rng: random.Random, e164: str) -> str:
    d = e164[2:]
    style = rng.random()
    if style < 0.4:
        return f"({d[:3]}) {d[3:6]}-{d[6:]}"
    if style < 0.7:
        return f"{d[:3]}.{d[3:6]}.{d[6:]}"
    return d


MARKETS = ("simple", "realistic")


def generate(n_ads: int, seed: int = 7, market: str = "simple",
             ) -> tuple[list[LinkAd], dict[str, str | None]]:
    ads: list[LinkAd] = []
    truth: dict[str, str | None] = {}
    for ad, net in iter_ads(n_ads, seed, market):
        ads.append(ad)
        truth[ad.key] = net
    return ads, truth


def iter_ads(n_ads: int, seed: int = 7, market: str = "simple",
             ) -> Iterator[tuple[LinkAd, str | None]]:
    """(ad, true network id or None) pairs, deterministic for (n_ads, seed, market).

    market "simple": the corpus described above; "realistic": the decoys real markets show
    at scale (see `iter_market_ads`).
    """
    if market == "realistic":
        from tracelight.demo.market import iter_market_ads

        yield from iter_market_ads(n_ads, seed)
        return
    if market != "simple":
        raise ValueError(f"market must be one of {', '.join(MARKETS)}, not {market!r}")
    rng = random.Random(seed)
    pool = _words(rng, 20000)
    generic = [_sentence(rng, COMMON, 5, 9) for _ in range(60)]
    boiler = [_sentence(rng, pool, 8, 12) for _ in range(4)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    produced = 0
    net_no = 0
    serial = 0
    while produced < n_ads:
        if rng.random() < 0.4 / (0.4 + 0.6 / 7):  # ~40% of ads independent
            size, net = 1, None
        else:
            size = min(40, 2 + int(rng.paretovariate(1.2)) - 1)
            net_no += 1
            net = f"N{net_no}"
        size = min(size, n_ads - produced)
        template = [_sentence(rng, pool) for _ in range(rng.randint(5, 9))]
        phones = []
        for _ in range(rng.randint(1, 4 if net else 1)):
            serial += 1
            phones.append(_phone(rng, serial))
        email = (f"{rng.choice(pool)}{serial}@mail.test" if rng.random() < 0.3 else None)
        names = rng.sample(NAMES, rng.randint(1, 3 if net else 1))
        cities = rng.sample(CITIES[:6] if rng.random() < 0.6 else CITIES, rng.randint(1, 3))
        t = start + timedelta(days=rng.randint(0, 300))
        for _ in range(size):
            produced += 1
            key = f"ad{produced:08d}"
            t += timedelta(hours=rng.randint(1, 72))
            yield _ad(rng, key, t, template, pool, generic, boiler, phones, email, names,
                      cities), net


class BodyWriter:
    """An ad body written piece by piece, each planted identifier kept as a Mention whose span
    indexes the finished text (the synthetic generators' one way of writing a body)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.mentions: list[Mention] = []
        self.pos = 0

    def add(self, text: str, kind: str | None = None, value: str = "") -> None:
        if kind:
            self.mentions.append(Mention(kind, value, "body", self.pos, self.pos + len(text),
                                         raw=text))
        self.parts.append(text)
        self.pos += len(text)

    def intro(self, name: str, age: int, city: str, sentences: list[list[str]]) -> None:
        """"Hi I am NAME, AGE years, in CITY." then the sentences, capitalised."""
        self.add("Hi I am ")
        self.add(name, "name", name)
        self.add(f", {age} years, in ")
        self.add(city, "location", city)
        self.add(". ")
        for words in sentences:
            self.add(" ".join(words).capitalize() + ". ")

    @property
    def text(self) -> str:
        return "".join(self.parts)



def _ad(rng: random.Random, key: str, posted: datetime, template: list[list[str]],
        pool: list[str], generic: list[list[str]], boiler: list[list[str]], phones: list[str],
        email: str | None, names: list[str], cities: list[str]) -> LinkAd:
    sents = [list(s) for s in template]
    for s in sents:  # word swaps
        for _ in range(rng.randint(0, 1)):
            s[rng.randrange(len(s))] = rng.choice(pool)
    if rng.random() < 0.5:
        rng.shuffle(sents)
    if len(sents) > 3 and rng.random() < 0.4:
        del sents[rng.randrange(len(sents))]
    if rng.random() < 0.4:
        sents.insert(rng.randrange(len(sents) + 1), _sentence(rng, pool))
    for _ in range(rng.randint(0, 2)):
        sents.insert(rng.randrange(len(sents) + 1), rng.choice(generic))
    city = rng.choice(cities)
    name = rng.choice(names)
    body = BodyWriter()
    add = body.add
    body.intro(name, rng.randint(19, 35), city, sents)
    for p in rng.sample(phones, min(len(phones), rng.randint(1, 2))):
        add("Call ")
        add(_write_phone(rng, p), "phone", p)
        add(". ")
    if email:
        add("Mail ")
        add(email, "email", email)
        add(". ")
    if rng.random() < 0.3:
        add(" ".join(rng.choice(boiler)).capitalize() + ". ")
        if rng.random() < 0.4:
            add("Site help ")
            add(_write_phone(rng, SITE_PHONE), "phone", SITE_PHONE)
            add(". ")
    return LinkAd(key=key, title=f"{name} in {city}", body=body.text, posted_at=posted,
                  location=city, mentions=tuple(body.mentions))
