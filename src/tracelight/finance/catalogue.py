"""The red-flag catalogue (redflags.yaml): red flags with citations, typology rules, lists.

`load_redflags()` validates everything when loaded and fails with a ConfigError naming the
file and key ("redflags.yaml: typologies[2] (code 'front_company').all_of[0]: unknown red
flag 'x'") instead of scoring with a half-read catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tracelight.errors import ConfigError

DEFAULT_PATH = Path(__file__).with_name("redflags.yaml")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")

# detector -> the parameters it takes (beyond window_days); the scorer implements each
DETECTORS: dict[str, frozenset[str]] = {
    "ad_site_payments": frozenset({"min_count"}),
    "foreign_ad_payments": frozenset({"min_count"}),
    "lodging_cities": frozenset({"min_places"}),
    "cash_in_places": frozenset({"min_places"}),
    "out_elsewhere": frozenset({"out_days", "min_ratio"}),
    "structuring": frozenset({"min_count", "low_ratio"}),
    "fan_in": frozenset({"min_distinct"}),
    "fan_out": frozenset({"min_distinct"}),
    "scatter_gather": frozenset({"min_distinct", "min_ratio"}),
    "after_hours_cash": frozenset({"min_count"}),
    "cash_no_payroll": frozenset({"min_amount"}),
    "prepaid_loads": frozenset({"min_count"}),
    "crypto_kiosk": frozenset({"min_count"}),
}
LISTS = ("escort_ad_sites", "foreign_ad_sites", "payroll_merchants")
MCC_GROUPS = ("advertising", "lodging", "prepaid", "quasi_cash", "massage")
_FLAG_KEYS = {"code", "detector", "window_days", "weight", "citation", "description",
              "min_count", "min_places", "min_distinct", "min_ratio", "min_amount", "out_days",
              "low_ratio"}
_TYPO_KEYS = {"code", "name", "citation", "all_of", "any_of", "min_any", "within_days"}


@dataclass(frozen=True)
class Citation:
    source: str
    item: str

    def __str__(self) -> str:
        return f"{self.source}: {self.item}"


@dataclass(frozen=True)
class RedFlag:
    code: str
    detector: str
    window_days: float
    weight: float
    citation: Citation
    description: str
    params: dict[str, float]

    def param(self, name: str) -> float:
        return self.params[name]


@dataclass(frozen=True)
class Typology:
    code: str
    name: str
    citation: Citation
    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    min_any: int
    within_days: float

    @property
    def members(self) -> tuple[str, ...]:
        return self.all_of + tuple(c for c in self.any_of if c not in self.all_of)


@dataclass(frozen=True)
class RedFlags:
    path: str
    version: int
    ctr_threshold: float
    sources: dict[str, str]
    lists: dict[str, frozenset[str]]
    mcc: dict[str, frozenset[str]]
    flags: tuple[RedFlag, ...]
    typologies: tuple[Typology, ...]
    link_citation: Citation
    ad_weight: float
    network_weight: float

    @property
    def by_code(self) -> dict[str, RedFlag]:
        return {f.code: f for f in self.flags}

    def citation_of(self, code: str) -> str:
        if code in ("linked_ads", "linked_network"):
            return str(self.link_citation)
        flag = self.by_code.get(code)
        return str(flag.citation) if flag else ""


def _fail(path: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {key}: {message}", hint="see docs/finance.md for the format")


def _entries(items: list[Any], path: str, name: str, keys: frozenset[str] | set[str],
             ) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, code, entry) for each entry of a catalogue list: a mapping with a unique
    lower_snake_case code and no unknown keys."""
    seen: set[str] = set()
    for i, raw in enumerate(items):
        where = f"{name}[{i}]"
        if not isinstance(raw, dict):
            raise _fail(path, where, "must be a mapping")
        code = raw.get("code")
        if not isinstance(code, str) or not _CODE_RE.match(code):
            raise _fail(path, f"{where}.code", f"must be lower_snake_case, got {code!r}")
        where = f"{where} (code {code!r})"
        if code in seen:
            raise _fail(path, f"{where}.code", "is defined twice")
        seen.add(code)
        extra = set(raw) - set(keys)
        if extra:
            raise _fail(path, f"{where}.{sorted(extra)[0]}", "unknown key")
        yield where, code, raw


def _num(raw: Any, path: str, key: str, lo: float, hi: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _fail(path, key, f"must be a number, got {raw!r}")
    if not lo <= float(raw) <= hi:
        raise _fail(path, key, f"must be between {lo:g} and {hi:g}, got {raw!r}")
    return float(raw)


def _text(raw: Any, path: str, key: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(path, key, f"must be a non-empty string, got {raw!r}")
    return " ".join(raw.split())


def _citation(raw: Any, path: str, key: str, sources: dict[str, str]) -> Citation:
    if not isinstance(raw, dict) or set(raw) != {"source", "item"}:
        raise _fail(path, key, "must be a mapping with exactly 'source' and 'item'")
    source = _text(raw["source"], path, f"{key}.source")
    if source not in sources:
        raise _fail(path, f"{key}.source", f"{source!r} is not defined under 'sources'")
    return Citation(source, _text(raw["item"], path, f"{key}.item"))


def _codes(raw: Any, path: str, key: str, known: set[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail(path, key, "must be a list of red-flag codes")
    out: list[str] = []
    for j, code in enumerate(raw):
        if code not in known:
            raise _fail(path, f"{key}[{j}]", f"unknown red flag {code!r}")
        if code in out:
            raise _fail(path, f"{key}[{j}]", f"{code!r} is listed twice")
        out.append(code)
    return tuple(out)


def parse_redflags(data: Any, path: str) -> RedFlags:
    if not isinstance(data, dict):
        raise _fail(path, "(top)", "must be a mapping")
    unknown = set(data) - {"version", "ctr_threshold", "sources", "lists", "mcc", "indicators",
                           "typologies", "links"}
    if unknown:
        raise _fail(path, sorted(unknown)[0], "unknown key")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(path, "version", "must be a positive integer")
    ctr = _num(data.get("ctr_threshold"), path, "ctr_threshold", 1, 1e9)
    sources_raw = data.get("sources")
    if not isinstance(sources_raw, dict) or not sources_raw:
        raise _fail(path, "sources", "must be a non-empty mapping of code to reference")
    sources = {str(k): _text(v, path, f"sources.{k}") for k, v in sources_raw.items()}
    lists_raw = data.get("lists") or {}
    if not isinstance(lists_raw, dict):
        raise _fail(path, "lists", "must be a mapping")
    lists: dict[str, frozenset[str]] = {}
    for name in LISTS:
        values = lists_raw.get(name, [])
        if not isinstance(values, list):
            raise _fail(path, f"lists.{name}", "must be a list of names")
        lists[name] = frozenset(_text(v, path, f"lists.{name}[{j}]").lower()
                                for j, v in enumerate(values))
    for name in lists_raw:
        if name not in LISTS:
            raise _fail(path, f"lists.{name}", f"unknown list (known: {', '.join(LISTS)})")
    mcc_raw = data.get("mcc") or {}
    if not isinstance(mcc_raw, dict):
        raise _fail(path, "mcc", "must be a mapping")
    mcc: dict[str, frozenset[str]] = {}
    for name in MCC_GROUPS:
        values = mcc_raw.get(name, [])
        if not isinstance(values, list) or not all(
                isinstance(v, str) and re.fullmatch(r"\d{4}", v) for v in values):
            raise _fail(path, f"mcc.{name}", "must be a list of 4-digit codes as strings")
        mcc[name] = frozenset(values)
    for name in mcc_raw:
        if name not in MCC_GROUPS:
            raise _fail(path, f"mcc.{name}", f"unknown group (known: {', '.join(MCC_GROUPS)})")

    flags_raw = data.get("indicators")
    if not isinstance(flags_raw, list) or not flags_raw:
        raise _fail(path, "indicators", "must be a non-empty list")
    flags: list[RedFlag] = []
    for where, code, raw in _entries(flags_raw, path, "indicators", _FLAG_KEYS):
        detector = raw.get("detector")
        if detector not in DETECTORS:
            raise _fail(path, f"{where}.detector",
                        f"must be one of {', '.join(sorted(DETECTORS))}, got {detector!r}")
        params: dict[str, float] = {}
        for p in DETECTORS[detector]:
            if p not in raw:
                raise _fail(path, f"{where}.{p}", f"is required by detector {detector!r}")
            hi = 1.0 if p.endswith("ratio") else 1e9
            params[p] = _num(raw[p], path, f"{where}.{p}", 0, hi)
        for p in set(raw) & (_FLAG_KEYS - {"code", "detector", "window_days", "weight",
                                           "citation", "description"}):
            if p not in DETECTORS[detector]:
                raise _fail(path, f"{where}.{p}", f"is not used by detector {detector!r}")
        flags.append(RedFlag(
            code=code, detector=detector,
            window_days=_num(raw.get("window_days"), path, f"{where}.window_days", 0.01, 366),
            weight=_num(raw.get("weight"), path, f"{where}.weight", 0, 0.99),
            citation=_citation(raw.get("citation"), path, f"{where}.citation", sources),
            description=_text(raw.get("description"), path, f"{where}.description"),
            params=params))
    known = {f.code for f in flags}

    typos_raw = data.get("typologies")
    if not isinstance(typos_raw, list) or not typos_raw:
        raise _fail(path, "typologies", "must be a non-empty list")
    typologies: list[Typology] = []
    for where, code, raw in _entries(typos_raw, path, "typologies", _TYPO_KEYS):
        all_of = _codes(raw.get("all_of"), path, f"{where}.all_of", known)
        any_of = _codes(raw.get("any_of"), path, f"{where}.any_of", known)
        min_any_raw = raw.get("min_any", 0)
        if isinstance(min_any_raw, bool) or not isinstance(min_any_raw, int) \
                or not 0 <= min_any_raw <= len(any_of):
            raise _fail(path, f"{where}.min_any",
                        f"must be an integer from 0 to {len(any_of)} (the any_of list)")
        if len(all_of) + min_any_raw < 2:
            raise _fail(path, where, "a typology must need at least two red flags together "
                        "(FinCEN: weigh indicators in combination, never one alone)")
        typologies.append(Typology(
            code=code, name=_text(raw.get("name"), path, f"{where}.name"),
            citation=_citation(raw.get("citation"), path, f"{where}.citation", sources),
            all_of=all_of, any_of=any_of, min_any=min_any_raw,
            within_days=_num(raw.get("within_days"), path, f"{where}.within_days", 1, 366)))
    links = data.get("links")
    if not isinstance(links, dict):
        raise _fail(path, "links", "must be a mapping with citation, ad_weight, network_weight")
    return RedFlags(
        path=path, version=version, ctr_threshold=ctr, sources=sources, lists=lists, mcc=mcc,
        flags=tuple(flags), typologies=tuple(typologies),
        link_citation=_citation(links.get("citation"), path, "links.citation", sources),
        ad_weight=_num(links.get("ad_weight"), path, "links.ad_weight", 0, 0.99),
        network_weight=_num(links.get("network_weight"), path, "links.network_weight", 0, 0.99))


def load_redflags(path: Path | str | None = None) -> RedFlags:
    """The catalogue at `path` (default: the shipped redflags.yaml), validated."""
    if path is None:
        return _default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default() -> RedFlags:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> RedFlags:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read ({type(exc).__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_redflags(data, name)
