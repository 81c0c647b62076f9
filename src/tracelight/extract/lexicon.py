"""The extraction vocabulary (number words, platform names, stop words), kept as YAML data.

Loaded once and validated: a malformed entry fails at import with a message naming the file
and the key, never later as a wrong match.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from tracelight.errors import ConfigError

LEXICON_FILE = "lexicon.yaml"


@dataclass(frozen=True)
class Lexicon:
    strong_digit_words: dict[str, int]
    weak_digit_words: dict[str, int]
    age_units: dict[str, int]
    age_teens: dict[str, int]
    age_tens: dict[str, int]
    age_compound: dict[str, int]
    social_platforms: dict[str, list[str]]
    social_hosts: dict[str, str]
    payment_services: dict[str, list[str]]
    payment_hosts: dict[str, str]
    name_stopwords: frozenset[str]
    split_connectives: frozenset[str]


def _fail(key: str, why: str) -> ConfigError:
    return ConfigError(f"{LEXICON_FILE}: key {key!r}: {why}")


def _int_map(data: Any, key: str, lo: int, hi: int) -> dict[str, int]:
    if not isinstance(data, dict) or not data:
        raise _fail(key, "must be a non-empty mapping of word -> number")
    out: dict[str, int] = {}
    for word, value in data.items():
        if not isinstance(word, str) or not word.strip():
            raise _fail(key, f"word {word!r} must be a non-empty string")
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise _fail(f"{key}.{word}", f"must be a whole number {lo}..{hi}, got {value!r}")
        out[word.strip().lower()] = value
    return out


def _str_map(data: Any, key: str) -> dict[str, str]:
    if not isinstance(data, dict) or not data:
        raise _fail(key, "must be a non-empty mapping of string -> string")
    for k, v in data.items():
        if not isinstance(k, str) or not isinstance(v, str) or not k or not v:
            raise _fail(f"{key}.{k}", "must map a non-empty string to a non-empty string")
    return {k.lower(): v.lower() for k, v in data.items()}


def _list_map(data: Any, key: str) -> dict[str, list[str]]:
    if not isinstance(data, dict) or not data:
        raise _fail(key, "must be a non-empty mapping of name -> list of words")
    out: dict[str, list[str]] = {}
    for name, words in data.items():
        if not isinstance(name, str) or not isinstance(words, list) or not words or not all(
                isinstance(w, str) and w.strip() for w in words):
            raise _fail(f"{key}.{name}", "must be a non-empty list of non-empty strings")
        out[name.lower()] = [w.strip().lower() for w in words]
    return out


def parse_lexicon(data: Any) -> Lexicon:
    """Validate the loaded YAML document into a Lexicon (raises ConfigError)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{LEXICON_FILE}: top level must be a mapping")
    required = ("number_words", "age_units", "age_teens", "age_tens", "age_compound",
                "social_platforms", "social_hosts", "payment_services", "payment_hosts",
                "name_stopwords", "split_connectives")
    for key in required:
        if key not in data:
            raise _fail(key, "is missing")
    nw = data["number_words"]
    if not isinstance(nw, dict) or "strong" not in nw or "weak" not in nw:
        raise _fail("number_words", "must have 'strong' and 'weak' mappings")
    conn = data["split_connectives"]
    if not isinstance(conn, list) or not conn or not all(isinstance(w, str) for w in conn):
        raise _fail("split_connectives", "must be a non-empty list of words (quote on/no/yes)")
    stop = data["name_stopwords"]
    if not isinstance(stop, list) or not all(isinstance(w, (str, int)) and
                                             not isinstance(w, bool) for w in stop):
        # YAML reads a bare on/no/yes as a boolean: quote such words
        raise _fail("name_stopwords", "must be a list of words (quote on/no/yes)")
    return Lexicon(
        strong_digit_words=_int_map(nw["strong"], "number_words.strong", 0, 9),
        weak_digit_words=_int_map(nw["weak"], "number_words.weak", 0, 9),
        age_units=_int_map(data["age_units"], "age_units", 1, 9),
        age_teens=_int_map(data["age_teens"], "age_teens", 10, 19),
        age_tens=_int_map(data["age_tens"], "age_tens", 20, 90),
        age_compound=_int_map(data["age_compound"], "age_compound", 1, 99),
        social_platforms=_list_map(data["social_platforms"], "social_platforms"),
        social_hosts=_str_map(data["social_hosts"], "social_hosts"),
        payment_services=_list_map(data["payment_services"], "payment_services"),
        payment_hosts=_str_map(data["payment_hosts"], "payment_hosts"),
        name_stopwords=frozenset(str(w).lower() for w in stop),
        split_connectives=frozenset(w.lower() for w in conn),
    )


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    text = resources.files("tracelight.extract").joinpath(LEXICON_FILE).read_text("utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{LEXICON_FILE}: not valid YAML: {exc}") from None
    return parse_lexicon(data)
