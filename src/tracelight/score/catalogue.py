"""The indicator catalogue: domain knowledge as data, validated when loaded.

`load_catalogue()` reads src/tracelight/score/indicators.yaml (or a file you give) and fails
loudly with a ConfigError naming the file and key ("indicators.yaml: indicators[3]
(code 'young').weight: must be a number") instead of scoring with a half-read catalogue.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from tracelight.errors import ConfigError
from tracelight.score.matcher import PREFIX_HEAD, PhraseMatcher, normalize_phrase

DEFAULT_PATH = Path(__file__).with_name("indicators.yaml")

EVIDENCE_LEVELS = ("validated", "reported", "practitioner", "context")

# Computed indicators implemented in tracelight.score.features, and the network ones in
# tracelight.score.network_context (a test keeps both in step).
DETECTORS = frozenset({
    "obscured_phone", "obscured_email", "stated_age_under_18", "stated_age_18_to_22",
    "price_below_local_median", "phone_many_names", "many_cities_short_time",
    "high_posting_volume", "third_person_language", "network_size", "network_spread",
    "network_context", "network_many_names", "network_movement", "network_shared_images",
})

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
_INDICATOR_KEYS = {"code", "category", "evidence", "source", "weight", "description",
                   "patterns", "emoji", "detector", "network_phrase"}
MAX_WEIGHT = 10.0


@dataclass(frozen=True)
class Indicator:
    code: str
    category: str
    evidence: str
    source: str
    weight: float
    description: str
    patterns: tuple[str, ...] = ()
    emoji: tuple[str, ...] = ()
    detector: str | None = None
    # how a network mate's reason reads on another ad: "in a network whose other ads ..."
    network_phrase: str = ""

    @property
    def is_context(self) -> bool:
        return self.weight == 0.0


@dataclass(frozen=True)
class Catalogue:
    path: str
    version: int
    bias: float
    sources: dict[str, str]
    indicators: tuple[Indicator, ...]
    digest: str = field(default="")

    @cached_property
    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    @cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    @cached_property
    def matcher(self) -> PhraseMatcher:
        entries: list[tuple[str, str, str]] = []
        for ind in self.indicators:
            entries += [(ind.code, p, "phrase") for p in ind.patterns]
            entries += [(ind.code, e, "emoji") for e in ind.emoji]
        return PhraseMatcher(entries)

    def __getitem__(self, code: str) -> Indicator:
        return self.by_code[code]


def _fail(path: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {key}: {message}",
                       hint="see docs/risk.md for the catalogue format")


def _str(value: Any, path: str, key: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise _fail(path, key, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _indicator(raw: Any, i: int, path: str, sources: dict[str, str]) -> Indicator:
    where = f"indicators[{i}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping")
    code = raw.get("code")
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise _fail(path, f"{where}.code",
                    f"must be lower_snake_case (2-48 characters), got {code!r}")
    where = f"{where} (code {code!r})"
    unknown = set(raw) - _INDICATOR_KEYS
    if unknown:
        raise _fail(path, f"{where}.{sorted(unknown)[0]}",
                    f"unknown key (known: {', '.join(sorted(_INDICATOR_KEYS))})")
    for key in ("category", "evidence", "source", "description"):
        if key not in raw:
            raise _fail(path, f"{where}.{key}", "is required")
    category = _str(raw["category"], path, f"{where}.category")
    evidence = _str(raw["evidence"], path, f"{where}.evidence")
    if evidence not in EVIDENCE_LEVELS:
        raise _fail(path, f"{where}.evidence",
                    f"must be one of {', '.join(EVIDENCE_LEVELS)}, got {evidence!r}")
    source = _str(raw["source"], path, f"{where}.source")
    if source not in sources:
        raise _fail(path, f"{where}.source", f"{source!r} is not defined under 'sources'")
    weight = raw.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise _fail(path, f"{where}.weight", f"must be a number, got {weight!r}")
    if not -MAX_WEIGHT <= float(weight) <= MAX_WEIGHT:
        raise _fail(path, f"{where}.weight", f"must be between -{MAX_WEIGHT} and {MAX_WEIGHT}")
    if evidence == "context" and weight != 0:
        raise _fail(path, f"{where}.weight", "context indicators must have weight 0")
    description = " ".join(_str(raw["description"], path, f"{where}.description").split())

    def str_list(key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if value is None:
            value = []
        if not isinstance(value, list):
            raise _fail(path, f"{where}.{key}", "must be a list of strings")
        out = []
        for j, item in enumerate(value):
            out.append(_str(item, path, f"{where}.{key}[{j}]"))
        return tuple(out)

    patterns = str_list("patterns")
    for j, p in enumerate(patterns):
        norm = normalize_phrase(p)
        if not any(ch.isalnum() for ch in norm):
            raise _fail(path, f"{where}.patterns[{j}]",
                        f"{p!r} has no letters or digits to match")
        if "*" in p.rstrip().rstrip("*"):
            raise _fail(path, f"{where}.patterns[{j}]", "'*' is only allowed at the end")
        if norm.endswith("*") and (" " in norm or len(norm) - 1 < PREFIX_HEAD):
            raise _fail(path, f"{where}.patterns[{j}]",
                        f"a '*' phrase must be one word of at least {PREFIX_HEAD} letters")
    emoji = str_list("emoji")
    for j, e in enumerate(emoji):
        if any(ch.isalnum() for ch in e):
            raise _fail(path, f"{where}.emoji[{j}]", f"{e!r} is not an emoji")
    detector = raw.get("detector")
    if detector is not None:
        detector = _str(detector, path, f"{where}.detector")
        if detector not in DETECTORS:
            raise _fail(path, f"{where}.detector",
                        f"unknown detector {detector!r} (known: {', '.join(sorted(DETECTORS))})")
        if detector != code:
            # one name for one thing: reasons, docs and model columns all use the code
            raise _fail(path, f"{where}.detector",
                        f"{detector!r} must equal the indicator's code {code!r}")
    if not patterns and not emoji and detector is None:
        raise _fail(path, where, "needs 'patterns', 'emoji' or a 'detector'")
    phrase = raw.get("network_phrase")
    phrase = "" if phrase is None else " ".join(
        _str(phrase, path, f"{where}.network_phrase").split())
    return Indicator(code=code, category=category, evidence=evidence, source=source,
                     weight=float(weight), description=description, patterns=patterns,
                     emoji=emoji, detector=detector, network_phrase=phrase)


def parse_catalogue(data: Any, path: str) -> Catalogue:
    """Validate an already-parsed YAML document."""
    if not isinstance(data, dict):
        raise _fail(path, "(top level)", "must be a mapping with 'sources' and 'indicators'")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(path, "version", f"must be a positive whole number, got {version!r}")
    bias = data.get("bias", 0.0)
    if isinstance(bias, bool) or not isinstance(bias, (int, float)):
        raise _fail(path, "bias", f"must be a number, got {bias!r}")
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise _fail(path, "sources", "must be a non-empty mapping of name -> {citation}")
    sources: dict[str, str] = {}
    for name, body in raw_sources.items():
        if not isinstance(body, dict) or "citation" not in body:
            raise _fail(path, f"sources.{name}", "must be a mapping with a 'citation'")
        sources[str(name)] = " ".join(_str(body["citation"], path,
                                           f"sources.{name}.citation").split())
    raw_inds = data.get("indicators")
    if not isinstance(raw_inds, list) or not raw_inds:
        raise _fail(path, "indicators", "must be a non-empty list")
    indicators: list[Indicator] = []
    seen_codes: dict[str, int] = {}
    seen_phrases: dict[str, str] = {}
    for i, raw in enumerate(raw_inds):
        ind = _indicator(raw, i, path, sources)
        if ind.code in seen_codes:
            first = seen_codes[ind.code]
            raise _fail(path, f"indicators[{i}].code",
                        f"duplicate code {ind.code!r} (first at indicators[{first}])")
        seen_codes[ind.code] = i
        for j, p in enumerate(ind.patterns):
            norm = normalize_phrase(p)
            other = seen_phrases.get(norm)
            if other is not None and other != ind.code:
                raise _fail(path, f"indicators[{i}] (code {ind.code!r}).patterns[{j}]",
                            f"{p!r} is already a pattern of {other!r}: a phrase belongs to "
                            "one indicator")
            seen_phrases[norm] = ind.code
        indicators.append(ind)
    digest = hashlib.sha256(yaml.safe_dump(data, sort_keys=True).encode()).hexdigest()[:12]
    return Catalogue(path=path, version=version, bias=float(bias), sources=sources,
                     indicators=tuple(indicators), digest=digest)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a catalogue (the packaged one when `path` is None)."""
    if path is None:
        return _default_catalogue()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_catalogue() -> Catalogue:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Catalogue:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read indicator catalogue ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(parse)"
        raise ConfigError(f"{name}: {where}: not valid YAML") from None
    return parse_catalogue(data, name)
