"""Word banks, ad templates, template edits and the numeric traps of the demo corpus.

The wording is deliberately tasteful (massage and companionship listings): the corpus exists to
test detection and linking, never to look like explicit material. Sentences are built from slots
with many fillers, so two independent advertisers rarely share more than a generic phrase while a
network's ads share a template even after edits.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field

from tracelight.demo.rand import distinct, pick

FIRST_NAMES = [
    # Zipf-weighted: the first names are very common, a decoy for linking by name.
    "Amber", "Jasmine", "Mia", "Sophia", "Bella", "Jade", "Lily", "Candy", "Destiny", "Diamond",
    "Angel", "Crystal", "Nikki", "Kayla", "Luna", "Ruby", "Stella", "Chloe", "Emma", "Ava",
    "Isabella", "Olivia", "Nina", "Vanessa", "Gigi", "Layla", "Aria", "Scarlett", "Violet",
    "Daisy", "Ivy", "Hazel", "Selena", "Maya", "Tiana", "Aaliyah", "Brooke", "Paige", "Skye",
    "Sasha", "Natasha", "Camila", "Valentina", "Lucia", "Paloma", "Yuki", "Mei", "Suki", "Lana",
    "Roxy", "Trinity", "Harmony", "Serena", "Monique", "Gabriela", "Adriana", "Carmen", "Elena",
    "Marisol", "Leilani", "Kiara", "Zoe", "Esme", "Talia", "Noelle", "Celeste", "Priya", "Anya",
    "Dahlia", "Fiona", "Greta", "Honey", "Jolie", "Kimber", "Lexi", "Margo", "Nova", "Opal",
]
NAME_WEIGHTS = [1.0 / (i + 1) ** 0.9 for i in range(len(FIRST_NAMES))]

ADJ = ["sweet", "warm", "friendly", "elegant", "charming", "bubbly", "classy", "easygoing",
       "playful", "relaxed", "kind", "gentle", "cheerful", "polished", "down to earth", "upbeat",
       "sophisticated", "graceful", "witty", "caring", "attentive", "radiant", "lovely",
       "soft spoken", "outgoing", "stylish"]
PERSON = ["companion", "lady", "hostess", "therapist", "girl next door", "conversationalist",
          "massage therapist", "date", "sweetheart", "muse"]
QUALITY = ["calm", "soothing", "bright", "welcoming", "sunny", "easy", "warm", "gentle",
           "contagious", "relaxing", "magnetic", "genuine"]
THING = ["smile", "personality", "energy", "laugh", "presence", "attitude", "touch", "voice",
         "sense of humor", "vibe"]
SERVICES = ["relaxing massage", "deep tissue massage", "Swedish massage", "hot stone massage",
            "dinner dates", "social companionship", "travel companionship", "good conversation",
            "aromatherapy", "foot reflexology", "shoulder and neck massage", "movie nights",
            "city tours", "coffee dates", "museum afternoons", "four hands massage",
            "stretching sessions", "spa evenings", "wine tasting company", "beach walks"]
PLACE = ["studio", "apartment", "suite", "space", "loft", "room", "condo"]
PLACE_ADJ = ["clean", "quiet", "discreet", "cozy", "private", "upscale", "safe", "bright",
             "calm", "modern", "spotless", "peaceful"]
AMENITY = ["free parking", "soft music", "fresh towels", "a hot shower", "easy freeway access",
           "scented candles", "cold drinks", "a comfy couch", "dim lights", "herbal tea",
           "a view of the city", "elevator access"]
DAYS = ["Monday to Friday", "weekends", "every day", "Tue-Sat", "most evenings",
        "weekdays", "Thursday through Sunday", "7 days a week"]
TIMES = [("10am-4pm", True), ("from 11am to 9pm", True), ("after 6pm", True), ("9am-late", True),
         ("mornings and afternoons", False), ("late nights", False), ("noon-8pm", True),
         ("24/7", True)]
CLOSINGS = ["Looking forward to meeting you!", "Gentlemen only, be respectful.",
            "No rush, no pressure.", "Text first please.", "Serious inquiries only.",
            "Let's make your day better.", "Treat yourself, you deserve it.",
            "Please be on time.", "Hygiene is a must.", "Mature gentlemen preferred.",
            "Come see me soon.", "Your satisfaction matters to me."]
CONTACT_PHRASES = ["Call or text", "Text me at", "Reach me at", "Txt only:", "Book now:",
                   "Call me:", "Appointments:", "Contact", "Message me at"]

TRUST = ["100% real pics, no games.", "Verified provider, 100% real.",
         "Real photos, no fakes, no games.", "100% legit and real, what you see is what you get.",
         "No games, no deposits, real pics guaranteed.", "My pictures are 100% real and recent.",
         "Verified and legit, never fake."]
YOUTH = ["Young, fresh and new to all this.", "Sweet youthful petite girl.",
         "Fresh young face, very new.", "Petite and young looking.", "Sweet college girl.",
         "Brand new and youthful."]
ETHNICITIES = ["Latina", "Asian", "Thai", "Korean", "Japanese", "Brazilian", "Colombian",
               "Russian", "Ukrainian", "Ebony", "Filipina", "Italian", "Vietnamese", "Cuban"]
ETH_FRAMES = ["Sweet {eth} lady.", "{eth} beauty, {adj} and {adj2}.",
              "I am a {eth} girl with a {quality} {thing}.", "Gorgeous {eth} {person}."]
MOVEMENT = ["New in town!", "Just arrived in {city} for a few days.",
            "Leaving soon, don't miss me.", "Visiting {city} this week only.",
            "In town for a short time.", "On tour, last days in {city}."]

INTRO_FRAMES = ["Hi gentlemen, I'm {name}.", "Hey there, my name is {name}.", "{name} here!",
                "Ask for {name}.", "Hello! I am {name}, your {adj} {person}.",
                "My name is {name} and I love meeting new people.",
                "Hi, I'm {name} \u2728", "Hello loves, ask for {name}."]
DESCR_FRAMES = ["{Adj} and {adj2} {person} with a {quality} {thing}.",
                "I am {adj}, {adj2} and always {adj3}.",
                "Known for my {quality} {thing} and {adj} {thing2}.",
                "A {adj} {person} who loves {service}.",
                "You will love my {quality} {thing}."]
SERVICE_FRAMES = ["Offering {service}, {service2} and {service3}.",
                  "I specialize in {service} and {service2}.",
                  "Enjoy {service} or {service2} with me.",
                  "Book a session of {service}, or just {service2}."]
AMBIANCE_FRAMES = ["My {place} is {place_adj} and {place_adj2}, with {amenity}.",
                   "{Place_adj} {place} with {amenity} and {amenity2}.",
                   "Incall only, {place_adj} {place} near downtown."]
AVAIL_FRAMES = ["Available {days} {time}.", "Open {days}, {time}.", "Find me {days} {time}."]

TITLE_FRAMES = ["{name} \u2728 {adj} {service} in {city}", "{Adj} {person} {name} - {city}",
                "{name}: {service} and more", "{city} {adj} {person} \U0001f338",
                "Meet {name} tonight in {city}", "{Adj} {service} by {name}",
                "Relax with {name} ({city})"]

# Site boilerplate: identical sentences across unrelated ads of one source (a linking decoy).
BOILERPLATE = {
    "demo-board": ["All advertisers confirm they are 18 or older and post independently.",
                   "Posted with the demo-board mobile app.",
                   "Report a listing that breaks our rules with the flag button."],
    "demo-classifieds": ["This ad was posted by a verified member of our community.",
                         "Never send money before meeting; stay safe out there.",
                         "Listings expire after 30 days."],
}

SYNONYMS = {
    "sweet": ["lovely", "kind"], "relaxing": ["soothing", "calming"], "discreet": ["private"],
    "clean": ["tidy", "spotless"], "quiet": ["calm", "peaceful"], "friendly": ["welcoming"],
    "gentlemen": ["guys", "gents"], "available": ["around"], "cozy": ["comfy"],
    "love": ["adore", "enjoy"], "meeting": ["seeing"], "new": ["different"], "near": ["close to"],
    "with": ["featuring"], "session": ["appointment"], "always": ["truly"],
    "Available": ["Around", "Free"], "Offering": ["Providing"], "Enjoy": ["Try"],
    "smile": ["grin"], "personality": ["character"], "elegant": ["refined"],
    "upscale": ["luxury"], "massage": ["bodywork"], "beauty": ["stunner"],
    "Hello!": ["Hi!", "Hey!"], "soon": ["today"], "please": ["pls"],
}

TENS = {20: "twenty", 30: "thirty"}
TEENS = {16: "sixteen", 17: "seventeen", 18: "eighteen", 19: "nineteen"}
ONES = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def age_words(n: int) -> str:
    if n in TEENS:
        return TEENS[n]
    t, o = divmod(n, 10)
    return TENS[t * 10] + (" " + ONES[o] if o else "")


def render_age(rng: random.Random, n: int) -> str:
    return pick(rng, [f"{n} yrs", f"age: {n}", f"I'm {n}", f"{n}yo", f"Age {n}",
                       f"{age_words(n)} years young", f"{n} years old"])


@dataclass
class Template:
    """A network's (or an advertiser's) wording: sentences with {name}/{city} left open."""

    title: str
    sentences: list[tuple[str, str]]  # (kind, text); kinds in FIXED are never edited away
    fill: dict[str, str] = field(default_factory=dict)


FIXED = {"intro", "trust", "youth", "ethnicity"}


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# slot name -> (bank, group): slots of one group get distinct words ("adj", "adj2", ...)
_SLOTS: dict[str, tuple[list[str], str, int]] = {
    "adj": (ADJ, "adj", 0), "adj2": (ADJ, "adj", 1), "adj3": (ADJ, "adj", 2),
    "Adj": (ADJ, "adj", 0), "person": (PERSON, "person", 0), "quality": (QUALITY, "quality", 0),
    "thing": (THING, "thing", 0), "thing2": (THING, "thing", 1),
    "service": (SERVICES, "service", 0), "service2": (SERVICES, "service", 1),
    "service3": (SERVICES, "service", 2), "place": (PLACE, "place", 0),
    "place_adj": (PLACE_ADJ, "place_adj", 0), "place_adj2": (PLACE_ADJ, "place_adj", 1),
    "Place_adj": (PLACE_ADJ, "place_adj", 0), "amenity": (AMENITY, "amenity", 0),
    "amenity2": (AMENITY, "amenity", 1), "days": (DAYS, "days", 0),
    "time": ([t for t, _ in TIMES], "time", 0), "eth": (ETHNICITIES, "eth", 0),
}
# frame -> [(slot, bank, group, index, words the group needs)], parsed once per frame
_PLANS: dict[str, list[tuple[str, list[str], str, int, int]]] = {}
_AN_RE = re.compile(r"\b([Aa])( [aeiou])")
_OPEN = {"name": "{name}", "city": "{city}"}


def _plan_frame(frame: str) -> list[tuple[str, list[str], str, int, int]]:
    fields = [f for _, f, _, _ in string.Formatter().parse(frame) if f and f not in _OPEN]
    need: dict[str, int] = {}
    for f in fields:
        _, group, i = _SLOTS[f]
        need[group] = max(need.get(group, 0), i + 1)
    return [(f, _SLOTS[f][0], _SLOTS[f][1], _SLOTS[f][2], need[_SLOTS[f][1]]) for f in fields]


def _fill(rng: random.Random, frame: str) -> str:
    """Fill a frame's slots with random words; {name} and {city} stay open for each ad."""
    plan = _PLANS.get(frame)
    if plan is None:
        plan = _PLANS[frame] = _plan_frame(frame)
    values = dict(_OPEN)
    groups: dict[str, list[str]] = {}
    for f, bank, group, i, k in plan:
        words = groups.get(group)
        if words is None:
            words = groups[group] = [pick(rng, bank)] if k == 1 else distinct(rng, bank, k)
        values[f] = _cap(words[i]) if f[0].isupper() else words[i]
    out = frame.format(**values)
    if "a " in out or "A " in out:  # "a easygoing" -> "an easygoing"
        out = _AN_RE.sub(lambda m: m.group(1) + "n" + m.group(2), out)
    return out


def build_template(rng: random.Random, *, trust: bool, youth: bool, ethnicity: bool) -> Template:
    """A fresh wording. Independent ads get one each; a network shares one and edits it."""
    sents: list[tuple[str, str]] = [("intro", _fill(rng, pick(rng, INTRO_FRAMES)))]
    for kind, frames in (("descr", DESCR_FRAMES), ("service", SERVICE_FRAMES),
                         ("ambiance", AMBIANCE_FRAMES), ("avail", AVAIL_FRAMES)):
        if kind in ("descr", "service") or rng.random() < 0.8:
            sents.append((kind, _fill(rng, pick(rng, frames))))
    if rng.random() < 0.5:
        sents.append(("descr", _fill(rng, pick(rng, DESCR_FRAMES))))
    if trust:
        sents.append(("trust", pick(rng, TRUST)))
    if youth:
        sents.append(("youth", pick(rng, YOUTH)))
    if ethnicity:
        sents.append(("ethnicity", _fill(rng, pick(rng, ETH_FRAMES))))
    head, tail = sents[:1], sents[1:]
    rng.shuffle(tail)
    closing = ("closing", pick(rng, CLOSINGS))
    return Template(title=_fill(rng, pick(rng, TITLE_FRAMES)), sentences=[*head, *tail, closing])


_SYN_RE = re.compile(r"(?<![\w!])(" + "|".join(re.escape(k) for k in sorted(SYNONYMS, key=len,
                     reverse=True)) + r")(?![\w!])")


def _swap_words(rng: random.Random, text: str, p: float) -> str:
    if p <= 0:
        return text
    return _SYN_RE.sub(lambda m: pick(rng, SYNONYMS[m.group(1)]) if rng.random() < p
                       else m.group(1), text)


def edit_template(rng: random.Random, t: Template, strength: float) -> list[tuple[str, str]]:
    """One ad's copy of a network template: word swaps, reordering, deletions, insertions."""
    sents = list(t.sentences)
    if rng.random() < strength:  # reorder two adjacent editable sentences
        idx = [i for i in range(1, len(sents) - 1)]
        if idx:
            i = pick(rng, idx)
            sents[i], sents[i + 1] = sents[i + 1], sents[i]
    if rng.random() < strength * 0.8:  # delete one editable sentence
        idx = [i for i, (k, _) in enumerate(sents) if k not in FIXED]
        if len(idx) > 2:
            del sents[pick(rng, idx)]
    if rng.random() < strength * 0.8:  # insert a generic sentence
        extra = pick(rng, [("closing", pick(rng, CLOSINGS)),
                            ("descr", _fill(rng, pick(rng, DESCR_FRAMES)))])
        sents.insert(rng.randrange(1, len(sents) + 1), extra)
    return [(k, _swap_words(rng, s, strength * 0.5)) for k, s in sents]


def edit_title(rng: random.Random, title: str, strength: float) -> str:
    return _swap_words(rng, title, strength * 0.5)


# ------------------------------------------------------------------------------ prices, traps

PRICE_FORMS = [
    # (format, minutes); amounts are filled in per ad
    ("${a}/hr", 60), ("${a} per hour", 60), ("{a} roses hh", 30), ("qv {a}", 15),
    ("${a} 1hr", 60), ("{a} donation for 2hrs", 120), ("hhr ${a}", 30), ("${a} qk", 15),
    ("{a} roses/hr", 60), ("${a} for 30 min", 30),
]
GBP_FORMS = [("£{a} per hour", 60), ("£{a}/hr", 60), ("£{a} half hour", 30)]


def make_prices(rng: random.Random, country: str, base: int) -> tuple[str, list[dict]]:
    """A rate line and its truth ({"amount","currency","minutes"})."""
    n = 1 if rng.random() < 0.6 else 2
    forms = GBP_FORMS if country == "GB" else PRICE_FORMS
    chosen = distinct(rng, forms, n)
    if n == 2 and chosen[0][1] == chosen[1][1]:
        chosen = chosen[:1]
    parts, truth = [], []
    for fmt, minutes in chosen:
        amount = max(40, round(base * (minutes / 60) ** 0.8 / 10.0) * 10)
        parts.append(fmt.format(a=amount))
        truth.append({"amount": amount, "currency": "GBP" if country == "GB" else "USD",
                      "minutes": minutes})
    lead = pick(rng, ["Rates:", "Donations:", "Specials:", ""])
    return (lead + " " + ", ".join(parts)).strip() + ".", truth


def make_stats(rng: random.Random) -> tuple[str, list[str]]:
    """Height/weight/measurement text: numbers that must never read as phones."""
    ft, inch = 5, rng.randint(0, 9)
    lbs = rng.randint(105, 160)
    bust = pick(rng, [32, 34, 36, 38])
    m = f"{bust}-{pick(rng, [22, 24, 26, 28])}-{pick(rng, [34, 36, 38])}"
    forms = [
        (f"{ft}'{inch} {lbs}lbs", ["height", "weight"]),
        (f"{ft}'{inch}\" {lbs} lbs, {m}", ["height", "weight", "measurements"]),
        (f"Stats: {m}, {ft}'{inch}", ["measurements", "height"]),
        (f"{lbs}lbs, {m}", ["weight", "measurements"]),
    ]
    return pick(rng, forms)


def post_id_number(rng: random.Random, looks_like_phone: bool, area_codes: list[str]) -> str:
    if looks_like_phone and area_codes:
        return f"{pick(rng, area_codes)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    return f"{rng.randint(1, 9)}{rng.randint(0, 999_999_999):09d}"


def make_trap(rng: random.Random, kind: str, *, zip_code: str, area_codes: list[str]) -> str:
    if kind == "post_id":
        return f"Post ID: {post_id_number(rng, rng.random() < 0.4, area_codes)}"
    if kind == "ref":
        return f"Ref #: {rng.randint(10_000_000, 99_999_999)}"
    if kind == "date":
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        return pick(rng, [f"Available {m}/{d} only.", f"Back on {m}/{d}.",
                           f"Special until {m}/{d}/2026."])
    if kind == "time":
        return pick(rng, ["Hours 10am-4pm.", "Open 11:30am to 9:45pm.", "Last call 10pm."])
    if kind == "zip":
        return pick(rng, [f"Near downtown {zip_code}.", f"Located in the {zip_code} area."])
    if kind == "long_number":
        return f"Listing {rng.randint(10**11, 10**12 - 1)}"
    raise ValueError(kind)
