"""The country a phone number written without a country code belongs to, per ad.

Advertisers outside North America write national numbers with their trunk prefix
(`0491 570 156`, `020 7946 0142`, `03-5550-0142`), so the country has to come from the ad.
Evidence, in order of trust:

1. an explicit country code (`+61`, `0061`): read by the phone reader itself;
2. the record's location field ("Melbourne", "Toronto, ON", "Madrid, Spain");
3. the URL's host (`.com.au`, `.co.uk`, `.jp`) and its path (`/melbourne/`, `/au/`);
4. the site's configured country (the `--region` given for the source);
5. city names in the title and body (the gazetteer of extract/places.py).

A `RegionPlan` lists candidate countries in that order. The phone reader tries a number in
each until one validates; when candidates of the same rank give different numbers the
reading is flagged ("ambiguous: AU or JP") instead of being silently guessed. A city name
stands for the country of its largest city, and for others where a city of that name is
large too ("London": GB, CA): the number itself then decides.

Pure and cheap: for an ad whose evidence names only North American places the plan is the
site's region alone, and the reader does exactly what it did before.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

__all__ = ["RegionHint", "RegionPlan", "city_countries", "plan_for", "text_city_hints",
           "text_hints"]

RANK_LOCATION, RANK_HOST, RANK_PATH, RANK_SITE, RANK_TEXT = 1, 2, 3, 4, 5
_PER_CITY = 3  # the countries with the largest cities of a name
_MAX_HINTS = 8  # more candidate countries than this is noise, not evidence


@dataclass(frozen=True, slots=True)
class RegionHint:
    region: str  # ISO 3166 alpha-2, as phonenumbers spells it ("GB", not "UK")
    rank: int  # lower is more trusted
    why: str  # "location: Melbourne", "url host: .au", "site region", "title/body: Tokyo"


@dataclass(frozen=True, slots=True)
class RegionPlan:
    """Candidate countries in order of trust; the site's region is always one of them."""

    hints: tuple[RegionHint, ...]

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(h.region for h in self.hints)

    def with_text(self, extra: Iterable[RegionHint]) -> RegionPlan:
        have = {h.region for h in self.hints}
        new = [h for h in extra if h.region not in have]
        return self if not new else _merge([*self.hints, *new])

    @property
    def simple(self) -> bool:
        """Only North American candidates (or one): the plain single-region reading."""
        return len(self.hints) == 1 or all(_nanp(h.region) for h in self.hints)


@lru_cache(maxsize=256)
def _nanp(region: str) -> bool:
    return phonenumbers.country_code_for_region(region) == 1


@lru_cache(maxsize=256)
def _supported(region: str) -> bool:
    return region in phonenumbers.SUPPORTED_REGIONS


def _merge(hints: list[RegionHint]) -> RegionPlan:
    """Sorted by rank (stable), one entry per country (its most trusted), capped."""
    seen: set[str] = set()
    out: list[RegionHint] = []
    for h in sorted(hints, key=lambda h: h.rank):
        if h.region in seen or (h.rank != RANK_SITE and not _supported(h.region)):
            continue
        seen.add(h.region)
        out.append(h)
        if len(out) >= _MAX_HINTS:
            break
    return RegionPlan(tuple(out))


# Country names and codes as ads and location fields write them (a few spellings each).
_COUNTRY_NAMES: dict[str, str] = {
    "australia": "AU", "uk": "GB", "united kingdom": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "great britain": "GB", "britain": "GB", "japan": "JP", "nihon": "JP",
    "india": "IN", "canada": "CA", "mexico": "MX", "méxico": "MX", "spain": "ES",
    "españa": "ES", "espana": "ES", "germany": "DE", "deutschland": "DE", "france": "FR",
    "brazil": "BR", "brasil": "BR", "italy": "IT", "italia": "IT", "netherlands": "NL",
    "holland": "NL", "nederland": "NL", "new zealand": "NZ", "ireland": "IE",
    "south africa": "ZA", "philippines": "PH", "thailand": "TH", "singapore": "SG",
    "colombia": "CO", "argentina": "AR", "chile": "CL", "peru": "PE", "portugal": "PT",
    "switzerland": "CH", "schweiz": "CH", "austria": "AT", "österreich": "AT",
    "belgium": "BE", "poland": "PL", "polska": "PL", "usa": "US", "united states": "US",
}
# Second-level labels under a ccTLD that do not change the country (example.co.uk).
_UK = {"uk": "GB"}
_SPLIT = re.compile(r"[/\-_.+,;]+")
_WORDS = re.compile(r"[^\W\d_]+(?:[ '\-][^\W\d_]+){0,3}")


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")


@lru_cache(maxsize=1)
def _city_index() -> dict[str, tuple[tuple[str, int], ...]]:
    """Lower-case city name (also without accents) -> countries with a city of that name,
    largest city first, with the population of that country's largest one."""
    from tracelight.extract.places import gazetteer

    index: dict[str, dict[str, int]] = {}
    for key, cities in gazetteer().cities.items():
        for name in {key, _ascii(key)}:
            pops = index.setdefault(name, {})
            for c in cities:
                pops[c.country] = max(pops.get(c.country, 0), c.population)
    return {k: tuple(sorted(v.items(), key=lambda cp: (-cp[1], cp[0])))
            for k, v in index.items()}


def city_countries(name: str, least: int = 0) -> tuple[str, ...]:
    """Countries that have a city of this name ("melbourne" -> ("AU", "US")) of at least
    `least` people, largest first, or ()."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    idx = _city_index()
    found = idx.get(key) or idx.get(_ascii(key)) or ()
    # the country of the largest city of that name, and others only where theirs is large
    # too: "London" is GB or CA, "Sacramento" is not the Brazilian town
    return tuple(cc for k, (cc, pop) in enumerate(found)
                 if pop >= least and (k == 0 or pop >= _BIG))[:_PER_CITY]


def _from_names(text: str, rank: int, label: str) -> list[RegionHint]:
    """Hints from country and city names in a short text (a location field, a URL path)."""
    out: list[RegionHint] = []
    low = text.lower()
    words = _WORDS.findall(low)
    for phrase in words:
        parts = phrase.replace("-", " ").split()
        # the longest city or country name at each word: "rio de janeiro", "mexico city"
        i = 0
        while i < len(parts):
            for n in range(min(4, len(parts) - i), 0, -1):
                name = " ".join(parts[i:i + n])
                cc = _COUNTRY_NAMES.get(name)
                countries = (cc,) if cc else city_countries(name) if len(name) > 2 else ()
                if countries:
                    shown = " ".join(parts[i:i + n])
                    out += [RegionHint(c, rank, f"{label}: {shown}") for c in countries]
                    i += n
                    break
            else:
                i += 1
    return out


@lru_cache(maxsize=4096)
def _location_hints(location: str) -> tuple[RegionHint, ...]:
    from tracelight.extract.places import gazetteer

    out = _from_names(location[:200], RANK_LOCATION, "location")
    named = {h.region for h in out if h.why.split(": ", 1)[1] in _COUNTRY_NAMES}
    if named:  # "Melbourne, Victoria, Australia": the country named settles the cities
        out = [h for h in out if h.region in named]
    # "Toronto, ON", "Austin TX": a state or province code names the country outright
    regions = gazetteer().region_names
    for code in re.findall(r"(?<![A-Za-z])([A-Z]{2})(?![A-Za-z])", location[:200]):
        r = regions.get(code.lower())
        if r:
            out.insert(0, RegionHint(r[1], RANK_LOCATION, f"location: {code}"))
    return tuple(out)


_HOST = re.compile(r"^[a-z][a-z0-9+.\-]*://([^/?#:@]+)", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _url_hints(url: str) -> tuple[RegionHint, ...]:
    out: list[RegionHint] = []
    url = url[:2000]
    m = _HOST.match(url)
    host, rest = (m.group(1).lower(), url[m.end():]) if m else ("", url)
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    if len(tld) == 2 and tld.isalpha():
        cc = _UK.get(tld, tld.upper())
        if _supported(cc):
            out.append(RegionHint(cc, RANK_HOST, f"url host: .{tld}"))
    path = rest.split("?", 1)[0].split("#", 1)[0]
    for seg in path.split("/")[:6]:
        if not seg or any(ch.isdigit() for ch in seg):
            continue
        seg = seg.lower()
        if len(seg) == 2 and seg.isalpha():
            cc = _UK.get(seg, seg.upper())
            if _supported(cc) and cc not in ("AD", "IN", "ME", "IT", "TO", "AT", "IS", "NO"):
                out.append(RegionHint(cc, RANK_PATH, f"url path: /{seg}/"))
            continue
        words = seg.replace("_", "-")
        name = words.replace("-", " ")
        countries = _COUNTRY_NAMES.get(name)
        found = (countries,) if countries else city_countries(name)
        if found:
            out += [RegionHint(c, RANK_PATH, f"url path: /{seg}/") for c in found]
    return tuple(out)


def plan_for(site_region: str, location: str | None = None,
             url: str | None = None) -> RegionPlan:
    """The candidates an ad's own fields give, with the site's region among them."""
    site = (site_region or "US").upper()
    if not location and not url:
        return _site_plan(site)
    hints: list[RegionHint] = []
    if location:
        hints += _location_hints(location)
    if url:
        hints += _url_hints(url)
    hints.append(RegionHint(site, RANK_SITE, "site region"))
    return _merge(hints)


_BIG = 300_000  # a city this large, named in the title or body, is evidence of its country
_NOT_EVIDENCE = frozenset({"nice", "cali", "of", "in", "la", "san", "new", "saint"})
# Names people write that the gazetteer spells otherwise
_ALIASES = {"münchen": "munich", "munchen": "munich", "roma": "rome", "londres": "london",
            "köln": "cologne", "koln": "cologne", "wien": "vienna", "milano": "milan",
            "napoli": "naples", "lisboa": "lisbon", "praha": "prague", "warszawa": "warsaw",
            "firenze": "florence", "bruxelles": "brussels", "sevilla": "seville",
            "ciudad de mexico": "mexico city", "cdmx": "mexico city", "bombay": "mumbai",
            "new delhi": "delhi", "torino": "turin", "genova": "genoa"}


@lru_cache(maxsize=1)
def _big_cities() -> dict[str, tuple[str, ...]]:
    """First word -> the full lower-case names of large cities (and aliases) starting with it."""
    from tracelight.extract.places import gazetteer

    by_first: dict[str, list[str]] = {}
    names = [k for k, cs in gazetteer().cities.items() if cs and cs[0].population >= _BIG]
    names += [a for a in _ALIASES if " " in a or a.isalpha()]
    for name in names:
        if all(_nanp(cc) for cc in city_countries(name, _BIG)):
            # North American cities add nothing: every NANP country reads +1 numbers alike,
            # and a visitor's NANP number is read under any site region (phones.py)
            continue
        for form in {name, _ascii(name)}:
            first = form.split(" ", 1)[0]
            if (first and first not in _NOT_EVIDENCE) or " " in form:
                by_first.setdefault(first, []).append(form)
    return {k: tuple(sorted(set(v), key=len, reverse=True)) for k, v in by_first.items()}


@lru_cache(maxsize=1)
def _big_firsts() -> frozenset[str]:
    return frozenset(_big_cities())


def text_hints(low: str, words: frozenset[str]) -> list[RegionHint]:
    """Hints from large cities named in a title or body (`low`: its lower-case text, `words`:
    its word set), in text order: a set intersection first, so most ads pay nothing more."""
    big = _big_cities()
    firsts = words & _big_firsts()  # a set against a set: the smaller one is walked
    if not firsts:
        return []
    found: list[tuple[int, str]] = []
    for w in firsts:
        for name in big[w]:
            i = low.find(name) if " " in name else low.find(w)
            if i >= 0 and name not in _NOT_EVIDENCE:
                found.append((i, name))
                break
    return text_city_hints((n.title(), i) for i, n in found)


@lru_cache(maxsize=64)
def _site_plan(site: str) -> RegionPlan:
    return _merge([RegionHint(site, RANK_SITE, "site region")])


@lru_cache(maxsize=4096)
def _city_hints(name: str) -> tuple[RegionHint, ...]:
    # in running text only large cities count: "Los Angeles" is not the Chilean town
    return tuple(RegionHint(c, RANK_TEXT, f"title/body: {name}")
                 for c in city_countries(name, _BIG))


def text_city_hints(places: Iterable[tuple[str, int]]) -> list[RegionHint]:
    """Hints from the cities named in the title and body ((name, position) pairs, in text
    order): every country with a city of that name, the least trusted evidence."""
    out: list[RegionHint] = []
    for name, _pos in sorted(places, key=lambda p: p[1]):
        out += _city_hints(name)
    return out
