"""Who posts in the demo corpus: networks and independent advertisers, with their identifiers.

A persona holds everything that stays the same across its ads (phones, handles, wording,
pictures, risk-relevant style); generator.py turns one persona and one posting slot into an ad.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate

from tracelight.demo import contacts as C
from tracelight.demo.images import SIZES, BaseImage
from tracelight.demo.places import CITIES, City
from tracelight.demo.rand import pick
from tracelight.demo.text import FIRST_NAMES, NAME_WEIGHTS, Template, build_template

HANDLE_WORDS = ["rose", "honey", "luxe", "star", "angel", "velvet", "silk", "sun", "moon",
                "pearl", "coco", "kiss", "dream", "bliss", "peach", "sky", "glow", "mist"]


@dataclass
class Persona:
    key: str  # network id, or "ind-N" for an independent advertiser
    network_id: str | None
    cities: list[City]
    names: list[str]
    ages: dict[str, int]
    phones: list[C.Phone]
    emails: list[str]
    social: list[dict[str, str]]
    payments: list[dict[str, str]]
    crypto: list[dict[str, str]]
    template: Template
    edit_strength: float
    obfuscates: float  # probability that one of its ads hides its phone
    trust: bool
    youth: bool
    ethnicity: bool
    base_price: int
    bases: list[BaseImage] = field(default_factory=list)
    card: BaseImage | None = None  # a picture with a phone written in it
    card_phone: C.Phone | None = None
    image_rate: float = 0.9
    no_phone_rate: float = 0.0  # share of ads whose text carries no phone at all
    # --market realistic (tracelight.demo.decoys): every ad written afresh (a single-contact
    # network), or an ad builder's sentences in place of its own wording
    sole: bool = False
    builder: list[str] | None = None


def _handle(rng: random.Random, name: str) -> str:
    style = rng.random()
    if style < 0.4:
        return f"{name.lower()}{pick(rng, HANDLE_WORDS)}{rng.randint(1, 999)}"
    if style < 0.7:
        return f"{pick(rng, HANDLE_WORDS)}_{name.lower()}{rng.randint(10, 99)}"
    return f"{name.lower()}.{pick(rng, HANDLE_WORDS)}{pick(rng, HANDLE_WORDS)}"


def _unique(rng: random.Random, make: Callable[[], str], used: set[str]) -> str:
    for _ in range(100):
        v = make()
        if v not in used:
            used.add(v)
            return v
    v = f"{make()}{rng.randint(1000, 9999)}"
    used.add(v)
    return v


class Registry:
    """Keeps identifiers unique across the whole corpus: strangers never share a contact."""

    def __init__(self) -> None:
        self.phones: set[str] = set()
        self.handles: set[str] = set()

    def email(self, rng: random.Random, name: str) -> str:
        return _unique(rng, lambda: f"{_handle(rng, name)}@{pick(rng, C.EMAIL_DOMAINS)}",
                       self.handles)

    def social(self, rng: random.Random, name: str) -> dict[str, str]:
        platform = pick(rng, list(C.SOCIAL_FORMS))
        h = _unique(rng, lambda: f"{platform}:{_handle(rng, name).replace('.', '_')}",
                    self.handles)
        return {"platform": platform, "handle": h.split(":", 1)[1]}

    def payment(self, rng: random.Random, name: str) -> dict[str, str]:
        service = pick(rng, list(C.PAYMENT_FORMS))

        def make() -> str:
            base = _handle(rng, name).replace(".", "").replace("_", "")
            if service == "cashapp":
                return f"cashapp:${base[:1].upper()}{base[1:]}"
            return f"{service}:{base}"

        h = _unique(rng, make, self.handles)
        return {"service": service, "handle": h.split(":", 1)[1]}


_BY_COUNTRY = {k: [c for c in CITIES if c.country == k] for k in {c.country for c in CITIES}}
_CUM = {k: list(accumulate(c.weight for c in v)) for k, v in _BY_COUNTRY.items()}
_CUM_ALL = list(accumulate(c.weight for c in CITIES))
_CUM_NAMES = list(accumulate(NAME_WEIGHTS))


def pick_city(rng: random.Random, country: str | None = None) -> City:
    """A city, popular ones more often (a decoy: many strangers share a popular city)."""
    if country is None:
        return rng.choices(CITIES, cum_weights=_CUM_ALL)[0]
    return rng.choices(_BY_COUNTRY[country], cum_weights=_CUM[country])[0]


def _age(rng: random.Random, minor_rate: float) -> int:
    if rng.random() < minor_rate:
        return pick(rng, [16, 17])
    age = 18 + int(rng.expovariate(1 / 6))
    return age if age <= 35 else rng.randint(18, 35)


def _bases(rng: random.Random, key: str, n: int) -> list[BaseImage]:
    out = []
    for j in range(n):
        kind = pick(rng, ["abstract", "room", "room", "abstract"])
        out.append(BaseImage(f"{key}-b{j}", rng.getrandbits(32), kind, pick(rng, SIZES)))
    return out


def _card(rng: random.Random, key: str, name: str, phone: C.Phone) -> BaseImage:
    text = f"{name}\n{pick(rng, ['Call', 'Text', 'Txt'])} {C.render_phone_plain(rng, phone)}"
    size = pick(rng, [(640, 480), (800, 600), (512, 512)])
    return BaseImage(f"{key}-card", rng.getrandbits(32), "card", size, text,
                     fmt=pick(rng, ["jpg", "png"]))


def make_network(rng: random.Random, reg: Registry, idx: int, size: int) -> Persona:
    key = f"net-{idx:04d}"
    home = pick_city(rng)
    n_cities = 1 if size < 3 else min(4, 1 + int(rng.expovariate(0.9)))
    cities = [home]
    while len(cities) < n_cities:
        c = pick_city(rng, home.country if rng.random() < 0.85 else None)
        if c != cities[-1]:
            cities.append(c)
    n_names = 1 + (rng.random() < 0.5) + (rng.random() < 0.25 and size > 4)
    names = list(dict.fromkeys(rng.choices(FIRST_NAMES, cum_weights=_CUM_NAMES, k=n_names)))
    minor_rate = 0.1 if rng.random() < 0.08 else 0.0
    ages = {n: _age(rng, minor_rate) for n in names}
    n_phones = 1 if size == 2 else min(4, 1 + int(rng.expovariate(0.8)), 1 + size // 3)
    phones = [C.make_phone(rng, home.country, list(home.area_codes), reg.phones)
              for _ in range(n_phones)]
    lead = names[0]
    trust, youth, eth = rng.random() < 0.35, rng.random() < 0.22, rng.random() < 0.35
    p = Persona(
        key=key, network_id=key, cities=cities, names=names, ages=ages, phones=phones,
        emails=[reg.email(rng, lead) for _ in range(pick(rng, [0, 0, 0, 1, 1, 2]))],
        social=[reg.social(rng, lead) for _ in range(pick(rng, [0, 0, 0, 1, 2]))],
        payments=[reg.payment(rng, lead) for _ in range(rng.random() < 0.2)],
        crypto=[C.make_crypto(rng) for _ in range(rng.random() < 0.08)],
        template=build_template(rng, trust=trust, youth=youth, ethnicity=eth),
        edit_strength=rng.uniform(0.15, 0.75),
        obfuscates=0.85 if rng.random() < 0.4 else 0.05,
        trust=trust, youth=youth, ethnicity=eth,
        base_price=pick(rng, [120, 150, 160, 180, 200, 250, 300]),
        bases=_bases(rng, key, pick(rng, [1, 2, 2, 3, 4, 5])),
        image_rate=0.68,
        no_phone_rate=0.1,
    )
    if rng.random() < 0.25:
        p.card_phone = pick(rng, phones)
        p.card = _card(rng, key, lead, p.card_phone)
    return p


def make_independent(rng: random.Random, reg: Registry, idx: int) -> Persona:
    key = f"ind-{idx:05d}"
    city = pick_city(rng)
    name = rng.choices(FIRST_NAMES, cum_weights=_CUM_NAMES)[0]
    phones = [C.make_phone(rng, city.country, list(city.area_codes), reg.phones)
              for _ in range(1 + (rng.random() < 0.08))]
    trust, youth, eth = rng.random() < 0.3, rng.random() < 0.15, rng.random() < 0.28
    p = Persona(
        key=key, network_id=None, cities=[city], names=[name],
        ages={name: _age(rng, 0.01)}, phones=phones,
        emails=[reg.email(rng, name) for _ in range(rng.random() < 0.25)],
        social=[reg.social(rng, name) for _ in range(rng.random() < 0.25)],
        payments=[reg.payment(rng, name) for _ in range(rng.random() < 0.1)],
        crypto=[C.make_crypto(rng) for _ in range(rng.random() < 0.03)],
        template=build_template(rng, trust=trust, youth=youth, ethnicity=eth),
        edit_strength=0.0,
        obfuscates=0.25,
        trust=trust, youth=youth, ethnicity=eth,
        base_price=pick(rng, [100, 120, 150, 160, 180, 200, 250]),
        bases=_bases(rng, key, pick(rng, [1, 1, 2])),
        image_rate=0.5,
    )
    if rng.random() < 0.08:
        p.card_phone = phones[0]
        p.card = _card(rng, key, name, phones[0])
    return p


def relocate(rng: random.Random, reg: Registry, p: Persona, country: str) -> None:
    """Move a persona to `country` (cities and phones; a phone card is redrawn)."""
    p.cities = [pick_city(rng, country) for _ in p.cities]
    p.phones = [C.make_phone(rng, country, list(p.cities[0].area_codes), reg.phones)
                for _ in p.phones]
    if p.card_phone is not None:
        p.card_phone = p.phones[0]
        p.card = _card(rng, p.key, p.names[0], p.card_phone)


def add_phones(rng: random.Random, reg: Registry, p: Persona, n: int) -> None:
    home = p.cities[0]
    p.phones += [C.make_phone(rng, home.country, list(home.area_codes), reg.phones)
                 for _ in range(n)]
