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
  popular cities (a third of the personas outside North America, their phones written
  in national or international format).

The decoys, their rates and the international phones come from `tracelight.demo.decoys`,
which the full generator (`demo-generate --market realistic`) shares.

The true network of an ad is its advertiser: an independent's cross-posted copies form a
network of their own, an independent posting once is a singleton (truth None).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from tracelight.demo import decoys as D
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
FOOTER_SHARE = D.FOOTER_SHARE
FOREIGN = ["London", "Paris", "Berlin", "Madrid", "Sydney", "Manchester", "Lyon", "Hamburg"]
FOREIGN_COUNTRY = {"London": "GB", "Manchester": "GB", "Paris": "FR", "Lyon": "FR",
                   "Berlin": "DE", "Hamburg": "DE", "Madrid": "ES", "Sydney": "AU"}
ALL_CITIES = CITIES + FOREIGN

# persona kinds: (share of the ads, mean ads per persona)
_KINDS = (("independent", 0.35, 1.2), ("template", 0.35, 6.0), ("sole", 0.18, 60.0),
          ("big", 0.12, 200.0))


class _Market:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed * 7919 + 0x5EED)
        self.rng = rng
        self.pool = _words(rng, 20000)
        pool = self.pool
        self.decoys = D.Decoys(rng, lambda r: " ".join(_sentence(r, COMMON + pool[:300], 6, 10)),
                               SOURCES)
        self.builders = [[b.split() for b in d] for d in self.decoys.builders]
        self.boiler = {s: [_sentence(rng, self.pool, 8, 12) for _ in range(3)] for s in SOURCES}
        self.names = NAMES + ["".join(rng.choice(["a", "e", "i", "o"]) + w[:4]).capitalize()
                              for w in self.pool[:60]]
        weights = [share / mean for _k, share, mean in _KINDS]
        self.kind_weights = [w / sum(weights) for w in weights]
        self.serial = 0
        self.foreign_serial = 0

    def phone(self, country: str | None) -> tuple[str, str | None]:
        """(E.164, how it is written; None: a North American number, written per ad)."""
        if country is not None:
            self.foreign_serial += 1
            return D.international_phone(self.rng, country, self.foreign_serial)
        self.serial += 1
        return _phone(self.rng, self.serial), None

    def photo(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def stock_photo(self, who: str) -> str | None:
        sp = self.decoys.stock_photo(self.rng, who)
        return None if sp is None else f"{sp:016x}" * 4


def iter_market_ads(n_ads: int, seed: int = 7) -> Iterator[tuple[LinkAd, str | None]]:
    """(ad, true network id or None) pairs."""
    m = _Market(seed)
    rng = m.rng
    start = datetime(2026, 1, 1, tzinfo=UTC)
    produced = 0
    persona = 0
    while produced < n_ads:
        kind = rng.choices([k for k, _s, _m in _KINDS], m.kind_weights)[0]
        who = "independent" if kind == "independent" else "network"
        persona += 1
        if kind == "independent":
            size = 1
        elif kind == "template":
            size = min(100, 1 + int(rng.paretovariate(1.1)))
            size = max(size, 2)
        elif kind == "sole":
            size = rng.randint(*D.SOLE_SIZE)
        else:
            size = rng.randint(*D.BIG_SIZE)
        # as the demo's networks: at most one phone for every three ads (plus one)
        n_phones = {"independent": 1, "template": min(rng.randint(1, 4), 1 + size // 3),
                    "sole": 1, "big": rng.randint(3, 8)}[kind]
        foreign = rng.random() < D.FOREIGN_SHARE
        if foreign:
            home = rng.choice(FOREIGN)
            cities = [c for c in FOREIGN if FOREIGN_COUNTRY[c] == FOREIGN_COUNTRY[home]]
            cities = [home, *[c for c in cities if c != home][:rng.randint(0, 1)]]
        else:
            cities = rng.sample(CITIES[:6] if rng.random() < 0.5 else CITIES,
                                1 if kind == "independent" else rng.randint(1, 4))
        phones = [m.phone(FOREIGN_COUNTRY[cities[0]] if foreign else None)
                  for _ in range(n_phones)]
        no_contact = kind == "independent" and rng.random() < 0.05
        email = (f"{rng.choice(m.pool)}{m.serial}x{m.foreign_serial}@mail.test"
                 if kind in ("template", "big") and rng.random() < 0.2 else None)
        names = rng.sample(m.names, 1 if kind == "independent" else rng.randint(1, 6))
        builder_no = rng.randrange(len(m.builders))
        builder = m.builders[builder_no] if m.decoys.builder_text(rng, who) else None
        template = builder or [_sentence(rng, m.pool) for _ in range(rng.randint(5, 9))]
        photos = [m.photo() for _ in range(1 if kind == "independent" else rng.randint(2, 8))]
        if kind == "independent" and rng.random() < 0.3:
            photos = []
        t = start + timedelta(days=rng.randint(0, 300))
        phone_values = [p for p, _w in phones]
        written = dict(phones)
        net = None
        for i in range(size):
            if produced >= n_ads:
                break
            t += timedelta(hours=rng.randint(1, 48))
            active = D.rotating(phone_values, i, size)
            body, mentions, title, city = _text(m, kind, template, names, cities, active,
                                                written, email, no_contact)
            shas = tuple(rng.sample(photos, min(len(photos), rng.randint(1, 3))))
            stock = m.stock_photo(who)
            if stock:
                shas += (stock,)
            copies = D.cross_post_sources(rng, who, SOURCES)
            if size > 1 or len(copies) > 1:
                net = f"M{persona}"
            for src in copies:
                if produced >= n_ads:
                    break
                produced += 1
                b, ms = body, list(mentions)
                footer = m.decoys.footer(rng, src)
                if footer is not None:
                    b, ms = _footer(m, src, footer, b, ms)
                yield LinkAd(key=f"{src}/ad{produced:08d}", title=title, body=b, posted_at=t,
                             location=city, mentions=tuple(ms), image_sha256=shas), net


def _text(m: _Market, kind: str, template: list[list[str]], names: list[str],
          cities: list[str], phones: list[str], written: dict[str, str | None],
          email: str | None, no_contact: bool) -> tuple[str, list[Mention], str, str]:
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
        sents.insert(rng.randrange(len(sents) + 1), m.decoys.stock_phrase(rng).split())
    name, city = rng.choice(names), rng.choice(cities)
    body = BodyWriter()
    add = body.add
    body.intro(name, rng.randint(19, 35), city, sents)
    if no_contact:
        add("Contact me through the site only. ")
    else:
        for p in phones[:2]:
            add("Call ")
            add(written.get(p) or _write_phone(rng, p), "phone", p)
            add(". ")
    if email and rng.random() < 0.5:
        add("Mail ")
        add(email, "email", email)
        add(". ")
    return body.text, body.mentions, f"{name} in {city}", city


def _footer(m: _Market, src: str, footer: D.SiteFooter, body: str, mentions: list[Mention],
            ) -> tuple[str, list[Mention]]:
    rng = m.rng
    phone = SITE_PHONES[src]
    text = _write_phone(rng, phone)
    boiler = " ".join(rng.choice(m.boiler[src])).capitalize() + ". "
    sentence, at_phone = footer.around(text)
    at = len(body) + len(boiler) + at_phone
    return (body + boiler + sentence,
            [*mentions, Mention("phone", phone, "body", at, at + len(text), raw=text)])
