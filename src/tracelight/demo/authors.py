"""Synthetic authors with stable writing habits, for the authorship model (non-explicit).

Each author keeps habits across every ad they write: spelling quirks ("u", "definately"),
a few emoji, punctuation runs ("!!", "..."), capitalisation, favourite phrases, a sign-off and a
layout (bullets, one line, blank lines). Phones rotate: almost every ad carries a new number,
written plainly or obfuscated, so identifiers never reveal the author. Many unrelated authors
share stock phrases (an ad builder's text). Deterministic by seed; writes nothing by itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tracelight.demo.rand import distinct, pick

CITIES = ("Seattle", "Portland", "Denver", "Austin", "Phoenix", "Chicago", "Boston", "Miami",
          "Atlanta", "Dallas", "Tampa", "Reno")
NAMES = ("Amber", "Bella", "Cleo", "Daisy", "Eva", "Fay", "Gina", "Holly", "Iris", "Jade",
         "Kira", "Luna", "Mia", "Nora", "Opal", "Pia", "Rose", "Sky", "Tess", "Vera")
STOCK = (
    "Friendly and relaxing company.", "Available today, call for details.",
    "Great conversation and good vibes.", "Clean, discreet and professional.",
    "New pictures, real and recent.", "Serious inquiries only.", "Text first please.",
    "Open late most nights.", "Easy to find, close to downtown.", "Ask about specials.",
)
QUIRKS = {
    "you": "u", "your": "ur", "please": "plz", "definitely": "definately", "really": "realy",
    "tonight": "tonite", "because": "cuz", "okay": "ok", "for": "4", "to": "2",
    "great": "gr8", "sweet": "sweeet", "love": "luv", "nice": "nyce", "with": "w/",
    "message": "msg", "available": "availble", "friendly": "frendly", "the": "da",
}
EMOJI = ("\U0001F338", "\U0001F33A", "\U0001F31F", "\u2728", "\U0001F60A", "\U0001F60D",
         "\U0001F48B", "\U0001F496", "\U0001F339", "\U0001F4AF", "\U0001F525", "\U0001F34E",
         "\U0001F33B", "\U0001F98B", "\U0001F308", "\U0001F36D", "\U0001F451", "\U0001F48E",
         "\U0001F319", "\u2600\ufe0f")
PHRASE_A = ("always", "super", "very", "truly", "totally", "simply", "so", "really")
PHRASE_B = ("sweet", "chill", "friendly", "fun", "classy", "easygoing", "relaxed", "kind",
            "warm", "bubbly", "calm", "charming")
PHRASE_C = ("company", "vibes", "time", "conversation", "evening", "visit", "meetup",
            "afternoon", "personality", "energy")
PHRASE_T = ("you will {a} enjoy the {c}", "{a} {b} {c} waiting for you",
            "my {c} is {a} {b}", "come see why everyone loves the {c}",
            "{b} {c} and a {b} smile", "no rush, just {b} {c}", "treat yourself to {b} {c}",
            "{a} {b}, {a} real")
BODY = ("I am {name}, visiting {city} this week", "hi gentlemen, {name} here in {city}",
        "{name} in {city} for a few days", "your new favourite in {city}, {name}",
        "back in {city}! {name} here", "{city} nights with {name}")
SIGNS = ("xoxo", "kisses", "hugs", "see u soon", "bye for now", "cheers", "with love", "mwah",
         "ttyl", "talk soon", "peace", "enjoy")
TITLES = ("{name} in {city}", "{city}: {name} is here", "new: {name}", "{name} - {city}",
          "{phrase}", "{name} {emoji}")


@dataclass(frozen=True, slots=True)
class Habits:
    quirks: tuple[tuple[str, str], ...]
    emoji: tuple[str, ...]
    bang: str  # how they end a sentence
    ellipsis: str
    case: str  # normal, lower, upper, title
    phrases: tuple[str, ...]
    sign: str
    layout: str  # lines, oneline, bullets, blank
    bullet: str
    phone_style: int
    stock_rate: float


@dataclass(frozen=True, slots=True)
class AuthoredAd:
    id: str
    author: str
    title: str
    body: str
    posted_at: datetime
    location: str
    phone: str

    def to_record(self) -> dict[str, str]:
        return {"id": self.id, "source": "authors-demo", "title": self.title, "body": self.body,
                "posted_at": self.posted_at.isoformat(), "location": self.location}


def _phrase(rng: random.Random) -> str:
    return pick(rng, PHRASE_T).format(a=pick(rng, PHRASE_A), b=pick(rng, PHRASE_B),
                                      c=pick(rng, PHRASE_C))


def make_habits(rng: random.Random) -> Habits:
    keys = sorted(QUIRKS)
    q = distinct(rng, keys, rng.randint(1, 4))
    return Habits(
        quirks=tuple((k, QUIRKS[k]) for k in sorted(q)),
        emoji=tuple(distinct(rng, EMOJI, rng.randint(0, 3))),
        bang=pick(rng, (".", "!", "!!", "!!!", " !", "~", " :)", "")),
        ellipsis=pick(rng, ("...", "\u2026", "..", " - ", ", ")),
        case=pick(rng, ("normal", "normal", "lower", "upper", "title")),
        phrases=tuple(_phrase(rng) for _ in range(rng.randint(2, 3))),
        sign=pick(rng, SIGNS),
        layout=pick(rng, ("lines", "oneline", "bullets", "blank")),
        bullet=pick(rng, ("-", "*", "\u2022", ">", "~")),
        phone_style=rng.randint(0, 3),
        stock_rate=rng.random() * 0.6,
    )


def _phone(rng: random.Random, style: int) -> str:
    area, mid, last = rng.randint(201, 989), 555, rng.randint(100, 199)
    digits = f"{area}{mid}0{last}"
    if style == 0:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if style == 1:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    if style == 2:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return digits


def _apply(h: Habits, sentence: str, rng: random.Random) -> str:
    words = sentence.split(" ")
    qmap = dict(h.quirks)
    words = [qmap.get(w.lower(), w) if rng.random() < 0.9 else w for w in words]
    s = " ".join(words)
    if h.case == "lower":
        s = s.lower()
    elif h.case == "upper":
        s = s.upper()
    elif h.case == "title":
        s = s.title()
    else:
        s = s[:1].upper() + s[1:]
    return s


def write_ad(rng: random.Random, author: str, h: Habits, n: int, when: datetime) -> AuthoredAd:
    name, city = pick(rng, NAMES), pick(rng, CITIES)
    parts: list[str] = [pick(rng, BODY).format(name=name, city=city)]
    chosen = list(h.phrases)
    rng.shuffle(chosen)
    parts.extend(chosen[:rng.randint(1, len(chosen))])
    parts.append(_phrase(rng))
    for s in STOCK:
        if rng.random() < h.stock_rate / 3:
            parts.append(s.rstrip("."))
    rng.shuffle(parts)
    phone = _phone(rng, h.phone_style)
    sentences = [_apply(h, p, rng) + h.bang for p in parts]
    emo = "".join(h.emoji[:rng.randint(0, len(h.emoji))]) if h.emoji else ""
    call = _apply(h, pick(rng, ("call", "text", "call or text", "msg me")), rng)
    contact = f"{call}{h.ellipsis}{phone}"
    sign = _apply(h, h.sign, rng) + (f" {emo}" if emo else "")
    if h.layout == "oneline":
        body = " ".join([*sentences, contact, sign])
    elif h.layout == "bullets":
        body = "\n".join([*(f"{h.bullet} {s}" for s in sentences), contact, sign])
    elif h.layout == "blank":
        body = "\n\n".join([*sentences, contact, sign])
    else:
        body = "\n".join([*sentences, contact, sign])
    title = pick(rng, TITLES).format(name=name, city=city, phrase=_apply(h, h.phrases[0], rng),
                                     emoji=emo)
    return AuthoredAd(f"au-{n:06d}", author, title.strip(), body, when, city, phone)


def generate(n_authors: int = 200, ads_per_author: tuple[int, int] = (3, 12), *,
             singletons: int = 200, seed: int = 7) -> list[AuthoredAd]:
    """Ads by `n_authors` recurring authors plus `singletons` one-ad authors, shuffled."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ads: list[AuthoredAd] = []
    jobs: list[tuple[str, Habits, int]] = []
    for a in range(n_authors):
        jobs.append((f"author-{a:05d}", make_habits(rng),
                     rng.randint(*ads_per_author)))
    for s in range(singletons):
        jobs.append((f"single-{s:05d}", make_habits(rng), 1))
    owner_of: dict[str, str] = {}  # digits -> author: two authors never share a phone
    for author, h, k in jobs:
        for _ in range(k):
            when = start + timedelta(minutes=rng.randint(0, 60 * 24 * 28))
            ad = write_ad(rng, author, h, 0, when)
            for _try in range(20):
                digits = "".join(ch for ch in ad.phone if ch.isdigit())
                if owner_of.setdefault(digits, author) == author:
                    break
                phone = _phone(rng, h.phone_style)
                ad = AuthoredAd(ad.id, author, ad.title, ad.body.replace(ad.phone, phone),
                                ad.posted_at, ad.location, phone)
            ads.append(ad)
    rng.shuffle(ads)
    return [AuthoredAd(f"au-{n:06d}", a.author, a.title, a.body, a.posted_at, a.location,
                       a.phone) for n, a in enumerate(ads)]
