"""A synthetic market that plants what real ad sites show at scale (`--market realistic`).

Linker input only (mentions already "extracted", images as hashes), fast enough for a million
ads, deterministic for (n_ads, seed). Text is made of invented words: non-explicit by
construction. What it plants, and why each one matters to the linker:

- single-contact networks of 20-100 ads whose text is rewritten for every ad: one phone is
  their only contact (the network an investigator most needs; it must not be called a hub);
- template networks of 2-100 ads (and a few of 101-300) that rotate through several phones
  over time, consecutive phones overlapping on some ads;
- cross-posting: a quarter of the networks (and some independents) post the same ad on
  several sources;
- each source's helpline phone inside a footer sentence on about 30 % of its ads (thousands
  of ads at 30k), beside each advertiser's own contact, plus site boilerplate sentences;
- "ad builder" texts used by unrelated advertisers (independents and whole networks), and
  stock photos shared by unrelated advertisers;
- independents writing from a shared pool of stock phrases, with common first names and
  popular cities (a third of them outside North America).

The true network of an ad is its advertiser: an independent's cross-posted copies form a
network of their own, an independent posting once is a singleton (truth None).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from tracelight.demo.linkads import (
    CITIES,
    COMMON,
    NAMES,
    BodyWriter,
    _phone,
    _sentence,
    _words,
    _write_phone,
)
from tracelight.link.features import LinkAd
from tracelight.records import Mention

SOURCES = ("siteA", "siteB", "siteC")
# helpline numbers: area code 800 never comes out of linkads._phone
SITE_PHONES = {src: f"+1800555{100 + i:04d}" for i, src in enumerate(SOURCES)}
FOOTER_SHARE = 0.3
FOREIGN = ["London", "Paris", "Berlin", "Madrid", "Rome", "Lisbon", "Dublin", "Vienna"]
ALL_CITIES = CITIES + FOREIGN

# persona kinds: (share of the ads, mean ads per persona)
_KINDS = (("independent", 0.35, 1.2), ("template", 0.35, 6.0), ("sole", 0.18, 60.0),
          ("big", 0.12, 200.0))


class _Market:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed * 7919 + 0x5EED)
        self.rng = rng
        self.pool = _words(rng, 20000)
        self.stock = [_sentence(rng, COMMON + self.pool[:300], 6, 10) for _ in range(80)]
        self.builders = [[_sentence(rng, self.pool) for _ in range(rng.randint(5, 7))]
                         for _ in range(6)]
        self.boiler = {s: [_sentence(rng, self.pool, 8, 12) for _ in range(3)] for s in SOURCES}
        self.footer = {s: (" ".join(_sentence(rng, self.pool, 4, 6)).capitalize() + " ",
                           " " + " ".join(_sentence(rng, self.pool, 4, 6)) + ".")
                       for s in SOURCES}
        self.stock_photos = [f"{rng.getrandbits(256):064x}" for _ in range(30)]
        self.names = NAMES + ["".join(rng.choice(["a", "e", "i", "o"]) + w[:4]).capitalize()
                              for w in self.pool[:60]]
        weights = [share / mean for _k, share, mean in _KINDS]
        self.kind_weights = [w / sum(weights) for w in weights]
        self.serial = 0

    def phone(self) -> str:
        self.serial += 1
        return _phone(self.rng, self.serial)

    def photo(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"


def iter_market_ads(n_ads: int, seed: int = 7) -> Iterator[tuple[LinkAd, str | None]]:
    """(ad, true network id or None) pairs."""
    m = _Market(seed)
    rng = m.rng
    start = datetime(2026, 1, 1, tzinfo=UTC)
    produced = 0
    persona = 0
    while produced < n_ads:
        kind = rng.choices([k for k, _s, _m in _KINDS], m.kind_weights)[0]
        persona += 1
        cross = rng.random() < (0.1 if kind == "independent" else 0.25)
        copies_max = 3 if cross else 1
        if kind == "independent":
            size = 1
        elif kind == "template":
            size = min(100, 1 + int(rng.paretovariate(1.1)))
            size = max(size, 2)
        elif kind == "sole":
            size = rng.randint(20, 100)
        else:
            size = rng.randint(101, 300)
        net = f"M{persona}" if (size > 1 or cross) else None
        n_phones = {"independent": 1, "template": rng.randint(1, 4), "sole": 1,
                    "big": rng.randint(3, 8)}[kind]
        phones = [m.phone() for _ in range(n_phones)]
        no_contact = kind == "independent" and rng.random() < 0.05
        email = (f"{rng.choice(m.pool)}{m.serial}@mail.test"
                 if kind in ("template", "big") and rng.random() < 0.2 else None)
        names = rng.sample(m.names, 1 if kind == "independent" else rng.randint(1, 6))
        cities = rng.sample(ALL_CITIES if rng.random() < 0.35 else CITIES[:6],
                            1 if kind == "independent" else rng.randint(1, 4))
        builder = (rng.choice(m.builders)
                   if rng.random() < (0.12 if kind == "independent" else 0.08) else None)
        template = builder or [_sentence(rng, m.pool) for _ in range(rng.randint(5, 9))]
        photos = [m.photo() for _ in range(1 if kind == "independent" else rng.randint(2, 8))]
        if kind == "independent" and rng.random() < 0.3:
            photos = []
        t = start + timedelta(days=rng.randint(0, 300))
        for i in range(size):
            if produced >= n_ads:
                break
            t += timedelta(hours=rng.randint(1, 48))
            frac = i / size
            active = [p for j, p in enumerate(phones)
                      if j / n_phones - 0.1 <= frac < (j + 1) / n_phones + 0.1]
            body, mentions, title, city = _text(m, kind, template, names, cities, active or
                                                phones[:1], email, no_contact)
            shas = tuple(rng.sample(photos, min(len(photos), rng.randint(1, 3))))
            if rng.random() < (0.08 if kind == "independent" else 0.04):
                shas += (rng.choice(m.stock_photos),)
            copies = rng.sample(SOURCES, rng.randint(1, copies_max))
            for src in copies:
                if produced >= n_ads:
                    break
                produced += 1
                b, ms = body, list(mentions)
                if rng.random() < FOOTER_SHARE:
                    b, ms = _footer(m, src, b, ms)
                yield LinkAd(key=f"{src}/ad{produced:08d}", title=title, body=b, posted_at=t,
                             location=city, mentions=tuple(ms), image_sha256=shas), net


def _text(m: _Market, kind: str, template: list[list[str]], names: list[str],
          cities: list[str], phones: list[str], email: str | None, no_contact: bool,
          ) -> tuple[str, list[Mention], str, str]:
    rng = m.rng
    if kind == "sole":  # rewritten for every ad: fresh sentences, little shared wording
        sents = [_sentence(rng, m.pool) for _ in range(rng.randint(4, 7))]
    else:
        sents = [list(s) for s in template]
        for s in sents:
            for _ in range(rng.randint(0, 1)):
                s[rng.randrange(len(s))] = rng.choice(m.pool)
        if rng.random() < 0.5:
            rng.shuffle(sents)
        if len(sents) > 3 and rng.random() < 0.4:
            del sents[rng.randrange(len(sents))]
        if kind == "independent" and template not in m.builders:
            sents = sents[:rng.randint(2, 4)]
    for _ in range(rng.randint(1, 3)):
        sents.insert(rng.randrange(len(sents) + 1), rng.choice(m.stock))
    name, city = rng.choice(names), rng.choice(cities)
    body = BodyWriter()
    add = body.add
    body.intro(name, rng.randint(19, 35), city, sents)
    if no_contact:
        add("Contact me through the site only. ")
    else:
        for p in phones[:2]:
            add("Call ")
            add(_write_phone(rng, p), "phone", p)
            add(". ")
    if email and rng.random() < 0.5:
        add("Mail ")
        add(email, "email", email)
        add(". ")
    return body.text, body.mentions, f"{name} in {city}", city


def _footer(m: _Market, src: str, body: str, mentions: list[Mention],
            ) -> tuple[str, list[Mention]]:
    rng = m.rng
    pre, post = m.footer[src]
    phone = SITE_PHONES[src]
    text = _write_phone(rng, phone)
    boiler = " ".join(rng.choice(m.boiler[src])).capitalize() + ". "
    at = len(body) + len(boiler) + len(pre)
    return (body + boiler + pre + text + post,
            [*mentions, Mention("phone", phone, "body", at, at + len(text), raw=text)])
