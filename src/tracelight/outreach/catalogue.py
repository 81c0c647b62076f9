"""Message templates and local service directories as validated data (templates.yaml,
services.yaml); rendering that never raises and never lets its inputs expand.

Every problem in a file is reported as `FILE: KEY: what is wrong` (a ConfigError).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from tracelight.errors import ConfigError

HERE = Path(__file__).parent
TEMPLATES_FILE = HERE / "templates.yaml"
SERVICES_FILE = HERE / "services.yaml"

KINDS = ("outreach", "deterrence")
PLACEHOLDERS = frozenset({"org", "services", "hotline", "optout"})
MAX_TEMPLATE = 480  # characters before placeholders are filled (about three SMS segments)
MAX_MESSAGE = 800  # characters of a rendered message, at most
MAX_VALUE = 200  # characters of one filled-in value
# words an outreach message must never carry: it is an offer of help, not enforcement
FORBIDDEN_OUTREACH = ("police", "cop", "arrest", "law enforcement", "officer", "detective",
                      "warrant", "illegal", "crime", "criminal", "prostitut", "escort")
LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|io|ly|co)\b", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
PHONE_PREFIX = re.compile(r"\+[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    contact: str


@dataclass(frozen=True, slots=True)
class Region:
    key: str
    name: str
    timezone: str
    phone_prefixes: tuple[str, ...]
    services: tuple[Service, ...]


@dataclass(frozen=True, slots=True)
class Catalogue:
    hotline: str
    optout: str
    opt_out_words: frozenset[str]
    templates: Mapping[str, Template]
    regions: Mapping[str, Region]

    def template(self, name: str, kind: str = "outreach") -> Template:
        tpl = self.templates.get(name)
        if tpl is None or tpl.kind != kind:
            names = sorted(t.name for t in self.templates.values() if t.kind == kind)
            raise ConfigError(f"no {kind} template {name!r}", hint="one of " + ", ".join(names))
        return tpl

    def region_for(self, phone: str) -> Region:
        """The region whose longest phone prefix the E.164 phone starts with, else default."""
        best: Region | None = None
        best_len = -1
        for region in self.regions.values():
            for prefix in region.phone_prefixes:
                if phone.startswith(prefix) and len(prefix) > best_len:
                    best, best_len = region, len(prefix)
        return best or self.regions["default"]


def _fail(file: Path, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{file.name}: {key}: {problem}")


def _text(file: Path, key: str, value: Any, limit: int = MAX_TEMPLATE) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(file, key, "must be non-empty text")
    value = " ".join(value.split())
    if len(value) > limit:
        raise _fail(file, key, f"is {len(value)} characters; at most {limit}")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise _fail(file, key, "contains control or invisible characters")
    return value


def _load_yaml(file: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{file.name}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise _fail(file, "(top)", "must be a mapping")
    if data.get("version") != 1:
        raise _fail(file, "version", "must be 1")
    return data


def fold_word(word: str) -> str:
    """Case- and accent-blind form of a word, for opt-out matching."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def check_template(file: Path, key: str, kind: Any, text: Any) -> Template:
    if kind not in KINDS:
        raise _fail(file, f"{key}.kind", "must be one of " + ", ".join(KINDS))
    body = _text(file, f"{key}.text", text)
    names = set(PLACEHOLDER.findall(body))
    unknown = names - PLACEHOLDERS
    if unknown:
        raise _fail(file, f"{key}.text", "unknown placeholder(s) "
                    + ", ".join("{" + n + "}" for n in sorted(unknown))
                    + "; allowed: " + ", ".join("{" + n + "}" for n in sorted(PLACEHOLDERS)))
    if LINK.search(body):
        raise _fail(file, f"{key}.text", "contains a link (no links, so nothing can track "
                    "who opened a message)")
    if kind == "outreach":
        low = body.casefold()
        bad = [w for w in FORBIDDEN_OUTREACH if w in low]
        if bad:
            raise _fail(file, f"{key}.text", "an outreach message must not mention "
                        + ", ".join(repr(b) for b in bad) + " (it is an offer of help)")
        for needed in ("optout", "hotline"):
            if needed not in names:
                raise _fail(file, f"{key}.text", f"an outreach message must carry {{{needed}}}")
    return Template(key, str(kind), body)


def load_templates(file: Path) -> tuple[str, str, frozenset[str], dict[str, Template]]:
    data = _load_yaml(file)
    hotline = _text(file, "hotline", data.get("hotline"), MAX_VALUE)
    if "1-888-373-7888" not in hotline or "233733" not in hotline:
        raise _fail(file, "hotline", "must name 1-888-373-7888 and text 233733")
    optout = _text(file, "optout", data.get("optout"), MAX_VALUE)
    words = data.get("opt_out_words")
    if not isinstance(words, list) or not words:
        raise _fail(file, "opt_out_words", "must be a non-empty list")
    folded = set()
    for i, w in enumerate(words):
        if not isinstance(w, str) or not w.strip() or len(w.split()) != 1:
            raise _fail(file, f"opt_out_words[{i}]", "must be one word")
        folded.add(fold_word(w.strip()))
    if not any(fold_word(w) in optout.casefold() for w in folded):
        raise _fail(file, "optout", "must name one of the opt-out words")
    raw = data.get("templates")
    if not isinstance(raw, dict) or not raw:
        raise _fail(file, "templates", "must be a non-empty mapping")
    templates = {}
    for name, entry in raw.items():
        key = f"templates.{name}"
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,40}", name):
            raise _fail(file, key, "a template name is 1-40 of a-z, 0-9, _")
        if not isinstance(entry, dict):
            raise _fail(file, key, "must be a mapping with kind and text")
        templates[name] = check_template(file, key, entry.get("kind"), entry.get("text"))
    return hotline, optout, frozenset(folded), templates


def load_regions(file: Path) -> dict[str, Region]:
    data = _load_yaml(file)
    raw = data.get("regions")
    if not isinstance(raw, dict) or "default" not in raw:
        raise _fail(file, "regions", "must be a mapping with a 'default' region")
    out = {}
    for key, entry in raw.items():
        where = f"regions.{key}"
        if not isinstance(entry, dict):
            raise _fail(file, where, "must be a mapping")
        name = _text(file, f"{where}.name", entry.get("name"), MAX_VALUE)
        tz = entry.get("timezone")
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail(file, f"{where}.timezone", f"{tz!r} is not an IANA time zone") from None
        prefixes = entry.get("phone_prefixes")
        if not isinstance(prefixes, list):
            raise _fail(file, f"{where}.phone_prefixes", "must be a list")
        for i, p in enumerate(prefixes):
            if not isinstance(p, str) or not PHONE_PREFIX.fullmatch(p):
                raise _fail(file, f"{where}.phone_prefixes[{i}]", "must be + and digits")
        services = entry.get("services")
        if not isinstance(services, list) or not services:
            raise _fail(file, f"{where}.services", "must be a non-empty list")
        made = []
        for i, s in enumerate(services):
            if not isinstance(s, dict):
                raise _fail(file, f"{where}.services[{i}]", "must be a mapping")
            made.append(Service(_text(file, f"{where}.services[{i}].name", s.get("name"), 80),
                                _text(file, f"{where}.services[{i}].contact", s.get("contact"),
                                      40)))
            if LINK.search(made[-1].contact) or LINK.search(made[-1].name):
                raise _fail(file, f"{where}.services[{i}]", "no links")
        out[str(key)] = Region(str(key), name, str(tz), tuple(prefixes), tuple(made))
    return out


@lru_cache(maxsize=4)
def load(templates: Path = TEMPLATES_FILE, services: Path = SERVICES_FILE) -> Catalogue:
    """The validated catalogue (cached per pair of files)."""
    hotline, optout, words, tpls = load_templates(templates)
    return Catalogue(hotline, optout, words, tpls, load_regions(services))


def clean_value(value: object, limit: int = MAX_VALUE, *, braces: bool = False) -> str:
    """A value made safe to put in a message: text, no control/invisible characters (no
    bidi overrides), whitespace collapsed, braces removed (nothing can expand), bounded."""
    text = value if isinstance(value, str) else str(value)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co")
                   else ch for ch in text)
    if not braces:
        text = text.replace("{", "(").replace("}", ")")
    return " ".join(text.split())[:limit]


def services_line(services: Sequence[Service]) -> str:
    return " ".join(f"{s.name}: {s.contact}." for s in services)


def render(template_text: str, values: Mapping[str, object]) -> str:
    """Fill {name} placeholders in one pass; unknown ones are dropped. Never raises.

    Values are cleaned (clean_value) and never re-read, so a value holding "{hotline}" is
    not expanded. The result has no control characters and at most MAX_MESSAGE characters.
    """
    text = clean_value(template_text, MAX_MESSAGE * 2, braces=True)
    filled = {k: clean_value(v) for k, v in values.items() if k in PLACEHOLDERS}

    def fill(m: re.Match[str]) -> str:
        return filled.get(m.group(1), "")

    return " ".join(PLACEHOLDER.sub(fill, text).split())[:MAX_MESSAGE]


def is_opt_out(text: object, words: frozenset[str]) -> bool:
    """True when a reply's first word (punctuation stripped) is an opt-out word."""
    if not isinstance(text, str):
        return False
    for token in text.split()[:1]:
        word = fold_word(token.strip(".,!?;:'\"()[]*-_~"))
        if word in words:
            return True
    return False
