"""The check policy as data: thresholds and actions per signal (policy.yaml), validated at
load, and a pure evaluation of an ad's signals against it.

Pure: no store, no web. `evaluate(policy, signals)` answers the recommended action and the
rule that fired; `tracelight.services.check` gathers the signals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tracelight.errors import ConfigError

DEFAULT_PATH = Path(__file__).with_name("policy.yaml")
ACTIONS = ("allow", "review", "block")  # in rising severity
SIGNALS = ("risk", "network_risk", "network_match", "watchlist_hit", "bank_match")
_SEVERITY = {a: i for i, a in enumerate(ACTIONS)}


@dataclass(frozen=True)
class Rule:
    name: str
    signal: str  # one of SIGNALS, or "reason:CODE"
    at_least: float
    action: str


@dataclass(frozen=True)
class Policy:
    path: str
    rules: tuple[Rule, ...]
    default: str = "allow"
    dry_run: bool = False


@dataclass(frozen=True)
class Decision:
    """What the policy recommends, and why."""

    action: str  # what to do now (always "allow" in dry-run)
    rule: str | None  # the rule that fired (None: the default applied)
    would_have: str  # what the policy itself says, dry-run or not
    dry_run: bool
    fired: tuple[str, ...]  # every rule that fired, in file order

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "rule": self.rule, "would_have": self.would_have,
                "dry_run": self.dry_run, "fired": list(self.fired)}


def _fail(path: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {key}: {message}",
                       hint="see docs/platform.md for the policy format")


def _action(value: Any, path: str, key: str) -> str:
    if value not in ACTIONS:
        raise _fail(path, key, f"must be one of {', '.join(ACTIONS)}, got {value!r}")
    return str(value)


def parse_policy(data: Any, path: str) -> Policy:
    """Validate a loaded YAML document; every error names the file and the key."""
    if not isinstance(data, dict):
        raise _fail(path, "(top level)", "must be a mapping with `rules`")
    unknown = set(data) - {"version", "dry_run", "default", "rules"}
    if unknown:
        raise _fail(path, sorted(unknown)[0], "unknown key")
    if data.get("version", 1) != 1:
        raise _fail(path, "version", f"must be 1, got {data.get('version')!r}")
    dry = data.get("dry_run", False)
    if not isinstance(dry, bool):
        raise _fail(path, "dry_run", f"must be true or false, got {dry!r}")
    default = _action(data.get("default", "allow"), path, "default")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list):
        raise _fail(path, "rules", "must be a list of rules")
    rules: list[Rule] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_rules):
        key = f"rules[{i}]"
        if not isinstance(raw, dict):
            raise _fail(path, key, "must be a mapping (name, signal, at_least, action)")
        extra = set(raw) - {"name", "signal", "at_least", "action"}
        if extra:
            raise _fail(path, f"{key}.{sorted(extra)[0]}", "unknown key")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(path, f"{key}.name", f"must be a non-empty string, got {name!r}")
        if name in names:
            raise _fail(path, f"{key}.name", f"duplicate rule name {name!r}")
        names.add(name)
        signal = raw.get("signal")
        if not isinstance(signal, str) or not (
                signal in SIGNALS or (signal.startswith("reason:") and len(signal) > 7)):
            raise _fail(path, f"{key}.signal",
                        f"must be one of {', '.join(SIGNALS)} or reason:CODE, got {signal!r}")
        at_least = raw.get("at_least", 1)
        if (isinstance(at_least, bool) or not isinstance(at_least, int | float)
                or not math.isfinite(at_least) or at_least < 0):
            raise _fail(path, f"{key}.at_least",
                        f"must be a finite number >= 0, got {at_least!r}")
        if signal in ("risk", "network_risk") and at_least > 1:
            raise _fail(path, f"{key}.at_least", f"a risk is 0..1, got {at_least!r}")
        action = _action(raw.get("action"), path, f"{key}.action")
        rules.append(Rule(name.strip(), signal, float(at_least), action))
    return Policy(path=path, rules=tuple(rules), default=default, dry_run=dry)


def load_policy(path: str | Path | None = None) -> Policy:
    """The packaged policy (path None) or the one at `path`, validated."""
    if path is None:
        return _default_policy()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_policy() -> Policy:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read policy ({getattr(exc, 'strerror', exc)})"
                          ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())[:200]})"
                          ) from None
    return parse_policy(data, str(path))


def evaluate(policy: Policy, signals: Mapping[str, float],
             reason_codes: frozenset[str] | set[str] = frozenset()) -> Decision:
    """The recommended action for these signals (missing signals count as 0)."""
    fired: list[Rule] = []
    for rule in policy.rules:
        if rule.signal.startswith("reason:"):
            value = 1.0 if rule.signal[7:] in reason_codes else 0.0
        else:
            value = float(signals.get(rule.signal, 0.0) or 0.0)
        if value >= rule.at_least:
            fired.append(rule)
    worst: Rule | None = None
    for rule in fired:
        if worst is None or _SEVERITY[rule.action] > _SEVERITY[worst.action]:
            worst = rule
    would = worst.action if worst else policy.default
    return Decision(action="allow" if policy.dry_run else would,
                    rule=worst.name if worst else None, would_have=would,
                    dry_run=policy.dry_run, fired=tuple(r.name for r in fired))
