"""Entity kinds as declared data: what each kind is called, whether it links ads, whether it
can be watched or looked up, and how its values are cleaned.

`load_kinds()` reads src/tracelight/kinds.yaml and fails loudly with a ConfigError naming the
file and key ("kinds.yaml: kinds.phone.strong: must be true or false") instead of running with
a half-read table. Every stage asks this module instead of spelling kinds out: the extractors
register one reader per kind (tracelight.extract.interface), the linker links on `STRONG`,
OCR reads `CONTACT` kinds, the store and the web watch `WATCHABLE` kinds, the CLI and the web
turn a typed identifier into stored values with `normalize_lookup`.

Pure data and functions: no database, web or CLI imports, so the core can use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from tracelight.errors import ConfigError, UsageError

DEFAULT_PATH = Path(__file__).with_name("kinds.yaml")

# (value, region, platforms) -> the normalised values it may be stored as.
Normaliser = Callable[[str, str, tuple[str, ...]], list[str]]

_NAME_RE = re.compile(r"^[a-z][a-z_]{1,23}$")
_KIND_KEYS = {"label", "strong", "contact", "watchable", "search", "normaliser", "platforms"}


# ---- normalisers: one home per value type -----------------------------------------------------

def _phone(value: str, region: str, _platforms: tuple[str, ...]) -> list[str]:
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise UsageError(f"{value!r} is not a phone number") from None
    return [phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)]


def _email(value: str, _region: str, _platforms: tuple[str, ...]) -> list[str]:
    return [value.lower()]


def _handle(value: str, _region: str, platforms: tuple[str, ...]) -> list[str]:
    """'platform:handle', '@handle' or 'handle' -> 'platform:handle', lower-case, no @ or $."""
    if ":" in value:
        platform, handle = value.split(":", 1)
        handle = handle.lstrip("@$").lower()
        return [f"{platform.lower()}:{handle}"] if handle else []
    bare = value.lstrip("@$").lower()
    return [f"{p}:{bare}" for p in platforms] if bare else []


_CURRENCY_PREFIX = re.compile(r"^([A-Z]{2,5}):(.+)$")


def _crypto(value: str, _region: str, currencies: tuple[str, ...]) -> list[str]:
    """'BTC:address' as stored (ETH lower-case: its checksum is verified at extraction), or a
    bare address under every currency it may be stored as."""
    m = _CURRENCY_PREFIX.match(value)
    if m:
        cur, addr = m.groups()
        return [f"{cur}:{addr.lower() if cur == 'ETH' else addr}"]
    return [f"{cur}:{value}" for cur in currencies] + \
        [f"{cur}:{value.lower()}" for cur in ("BTC", "ETH") if cur in currencies]


_AGE_RANGE = re.compile(r"^(\d{1,2})-(\d{1,2})$")


def _age(value: str, _region: str, _platforms: tuple[str, ...]) -> list[str]:
    """'22', or a range 'low-high' ('18-35', kept as a range)."""
    r = _AGE_RANGE.match(value) if value.isascii() else None
    if r is not None:
        return [f"{int(r.group(1))}-{int(r.group(2))}"]
    return [str(int(value))] if value.isdecimal() else []  # not "²": int() refuses it


_PRICE = re.compile(r"^(\d+) ([A-Z]{3})(?:/(\d+))?$")


def _price(value: str, _region: str, _platforms: tuple[str, ...]) -> list[str]:
    """'amount CUR' or 'amount CUR/minutes' (docs/extraction.md)."""
    m = _PRICE.match(value)
    if m is None:
        return []
    amount, cur, minutes = m.groups()
    base = f"{int(amount)} {cur}"
    return [f"{base}/{int(minutes)}" if minutes and int(minutes) else base]


def _text(value: str, _region: str, _platforms: tuple[str, ...]) -> list[str]:
    return [" ".join(value.split())]


def _name(value: str, _region: str, _platforms: tuple[str, ...]) -> list[str]:
    return [" ".join(value.split()).capitalize()]


NORMALISERS: dict[str, Normaliser] = {
    "phone": _phone, "email": _email, "handle": _handle, "crypto": _crypto, "age": _age,
    "price": _price, "text": _text, "name": _name,
}


# ---- the declared kinds -----------------------------------------------------------------------

@dataclass(frozen=True)
class EntityKind:
    name: str
    label: str
    normaliser: str
    strong: bool = False
    contact: bool = False
    watchable: bool = False
    search: str | None = None
    platforms: tuple[str, ...] = ()

    def normalize(self, value: str, region: str = "US") -> list[str]:
        """The normalised values `value` may be stored as (one, for a clean value; none for
        an empty one)."""
        value = value.strip()
        if not value:
            return []
        return NORMALISERS[self.normaliser](value, (region or "US").upper(), self.platforms)


@dataclass(frozen=True)
class KindTable:
    path: str
    kinds: tuple[EntityKind, ...]

    @cached_property
    def by_name(self) -> dict[str, EntityKind]:
        return {k.name: k for k in self.kinds}

    def __getitem__(self, name: str) -> EntityKind:
        return self.by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kinds)

    def where(self, flag: str) -> tuple[str, ...]:
        """Names of the kinds with `flag` ("strong", "contact", "watchable") set, in order."""
        return tuple(k.name for k in self.kinds if getattr(k, flag))

    def by_search(self, word: str) -> EntityKind | None:
        """The kind a user looks up as `word` ("handle" -> social)."""
        return next((k for k in self.kinds if k.search == word), None)


def _fail(path: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {key}: {message}",
                       hint="see src/tracelight/kinds.yaml for the format")


def _kind(name: Any, raw: Any, path: str) -> EntityKind:
    where = f"kinds.{name}"
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _fail(path, where, f"a kind's name must be lower_snake_case, got {name!r}")
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping")
    unknown = set(raw) - _KIND_KEYS
    if unknown:
        raise _fail(path, f"{where}.{sorted(unknown)[0]}",
                    f"unknown key (known: {', '.join(sorted(_KIND_KEYS))})")
    for key in ("label", "normaliser"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _fail(path, f"{where}.{key}", f"must be a non-empty string, got "
                        f"{raw.get(key)!r}")
    if raw["normaliser"] not in NORMALISERS:
        raise _fail(path, f"{where}.normaliser", f"unknown normaliser {raw['normaliser']!r} "
                    f"(known: {', '.join(sorted(NORMALISERS))})")
    flags = {}
    for key in ("strong", "contact", "watchable"):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise _fail(path, f"{where}.{key}", f"must be true or false, got {value!r}")
        flags[key] = value
    search = raw.get("search")
    if search is not None and (not isinstance(search, str) or not _NAME_RE.match(search)):
        raise _fail(path, f"{where}.search", f"must be a lower-case word, got {search!r}")
    platforms = raw.get("platforms", [])
    if not isinstance(platforms, list) or not all(isinstance(p, str) and p.strip()
                                                  for p in platforms):
        raise _fail(path, f"{where}.platforms", "must be a list of non-empty strings")
    if raw["normaliser"] in ("handle", "crypto") and not platforms:
        raise _fail(path, f"{where}.platforms", f"the {raw['normaliser']} normaliser needs "
                    "the platforms (or currencies) a bare value is looked up on")
    return EntityKind(name=name, label=raw["label"].strip(), normaliser=raw["normaliser"],
                      search=search, platforms=tuple(p.strip() for p in platforms), **flags)


def parse_kinds(data: Any, path: str) -> KindTable:
    if not isinstance(data, dict) or set(data) != {"kinds"}:
        raise _fail(path, "(top level)", "must be a mapping with the one key 'kinds'")
    raw = data["kinds"]
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, "kinds", "must be a non-empty mapping of kind name -> fields")
    kinds = tuple(_kind(name, fields, path) for name, fields in raw.items())
    searches = [k.search for k in kinds if k.search]
    for word in searches:
        if searches.count(word) > 1:
            raise _fail(path, "kinds", f"two kinds are looked up as {word!r}")
    return KindTable(path=path, kinds=kinds)


@lru_cache(maxsize=8)
def load_kinds(path: str | Path | None = None) -> KindTable:
    """The kind table from kinds.yaml (or `path`), validated. Raises ConfigError."""
    p = Path(path) if path is not None else DEFAULT_PATH
    name = p.name if path is None else str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the kind table ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(name, "(file)", f"not valid YAML ({' '.join(str(exc).split())[:200]})") \
            from None
    return parse_kinds(data, name)


# ---- what the stages ask ----------------------------------------------------------------------

_TABLE = load_kinds()

KINDS: tuple[str, ...] = _TABLE.names
STRONG: tuple[str, ...] = _TABLE.where("strong")  # the same value links two ads
CONTACT: tuple[str, ...] = _TABLE.where("contact")  # ways to reach the advertiser
WATCHABLE: tuple[str, ...] = _TABLE.where("watchable")
# look-up word -> kind ({"phone": "phone", "handle": "social", ...}), in table order
LOOKUPS: dict[str, str] = {k.search: k.name for k in _TABLE.kinds if k.search}


def kind(name: str) -> EntityKind:
    """The declared kind `name`; KeyError for a kind nobody declared."""
    return _TABLE[name]


def label(name: str) -> str:
    """Display label of a kind ("social" -> "Handle"); the name itself if undeclared."""
    return _TABLE[name].label if name in _TABLE else name


def normalize_lookup(kind_name: str, value: str, region: str = "US") -> list[str]:
    """Candidate stored values for a typed identifier. Raises UsageError when the kind cannot
    be looked up, or the value cannot be one (a phone that does not parse)."""
    if kind_name not in _TABLE or _TABLE[kind_name].search is None:
        raise UsageError(f"cannot look up {kind_name!r}")
    return _TABLE[kind_name].normalize(value, region)
