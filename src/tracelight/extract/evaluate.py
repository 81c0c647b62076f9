"""Quality and speed measurement for extraction: per-field precision/recall against labelled
cases, and a deterministic generator of typical ~500-character ads for throughput.

Labelled cases come from two places:
- tests/data/obfuscation_cases.jsonl: hand-written real-world hiding patterns (FIELD_NOTES),
  each line {"id", "title"?, "body", "url"?, "region"?, "expected": {...}, "note"}.
- the demo generator's truth.jsonl (docs/demo contract), when tracelight.demo is present.

Fields scored for every case: phones, emails, crypto, ages. Social, payment handles, prices
and names are scored only in cases whose `expected` names them (so a case written to test
phones does not have to list every other entity in it).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracelight.extract.core import extract_record
from tracelight.records import AdRecord

ALWAYS = ("phones", "emails", "crypto", "ages")
OPTIONAL = ("social", "payment_handles", "prices", "names")


@dataclass
class FieldScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _norm(fld: str, value: Any) -> str:
    """One comparable string per expected/found value (case rules of each kind)."""
    if fld == "phones" or fld == "emails":
        return str(value).lower()
    if fld == "ages":  # a number, or a range "18-35"
        return str(value) if isinstance(value, str) and "-" in value else str(int(value))
    if fld == "names":
        return str(value).casefold()
    if fld == "crypto":
        cur, addr = value["currency"], value["address"]
        return f"{cur.upper()}:{addr.lower() if cur.upper() == 'ETH' else addr}"
    if fld == "social":
        return f"{value['platform'].lower()}:{value['handle'].lstrip('@').casefold()}"
    if fld == "payment_handles":
        return f"{value['service'].lower()}:{value['handle'].lstrip('@$').casefold()}"
    if fld == "prices":
        return f"{int(value['amount'])} {value['currency'].upper()}/{value.get('minutes') or ''}"
    return json.dumps(value, sort_keys=True)


def score(pairs: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any]]],
          fields: tuple[str, ...] = ALWAYS + OPTIONAL) -> dict[str, FieldScore]:
    """Micro-averaged P/R per field over (case id, expected, found) triples."""
    scores = {f: FieldScore() for f in fields}
    for case_id, expected, found in pairs:
        for f in fields:
            if f not in ALWAYS and f not in expected:
                continue
            exp = {_norm(f, v) for v in expected.get(f, [])}
            got = {_norm(f, v) for v in found.get(f, [])}
            s = scores[f]
            s.tp += len(exp & got)
            s.fp += len(got - exp)
            s.fn += len(exp - got)
            s.errors += [f"{case_id}: extra {f} {v}" for v in sorted(got - exp)]
            s.errors += [f"{case_id}: missed {f} {v}" for v in sorted(exp - got)]
    return scores


def load_cases(path: Path) -> list[dict[str, Any]]:
    cases = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                case = json.loads(line)
                case.setdefault("id", f"{path.name}:{n}")
                cases.append(case)
    return cases


def evaluate_cases(cases: list[dict[str, Any]]) -> dict[str, FieldScore]:
    def pairs() -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
        for c in cases:
            rec = AdRecord(id=c["id"], source="cases", title=c.get("title", ""),
                           body=c.get("body", ""), url=c.get("url"))
            found = extract_record(rec, c.get("region", "US")).to_dict(c["id"])
            yield c["id"], c.get("expected", {}), found
    return score(pairs())


def evaluate_demo(ads_path: Path, truth_path: Path, region: str = "US",
                  ) -> dict[str, FieldScore]:
    """Score extraction on a demo corpus (ads.jsonl + truth.jsonl, same order)."""
    def pairs() -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
        with ads_path.open(encoding="utf-8") as fa, truth_path.open(encoding="utf-8") as ft:
            for line_a, line_t in zip(fa, ft, strict=False):
                ad, truth = json.loads(line_a), json.loads(line_t)
                rec = AdRecord(id=str(ad["id"]), source="demo", title=ad.get("title") or "",
                               body=ad.get("body") or "", url=ad.get("url"))
                found = extract_record(rec, region).to_dict(rec.id)
                expected = {k: truth.get(k, []) for k in ALWAYS + OPTIONAL if k in truth}
                yield rec.id, expected, found
    return score(pairs())


def demo_records(ads_path: Path) -> list[AdRecord]:
    """The demo corpus as records (title, body, URL and location), for throughput."""
    out = []
    with ads_path.open(encoding="utf-8") as fa:
        for line in fa:
            ad = json.loads(line)
            out.append(AdRecord(id=str(ad["id"]), source="demo", title=ad.get("title") or "",
                                body=ad.get("body") or "", url=ad.get("url"),
                                location=ad.get("location")))
    return out


# --- synthetic ads for throughput -------------------------------------------------------------

_AREA = ("206", "425", "253", "360", "503", "971", "415", "510", "213", "310", "312", "773",
         "214", "469", "713", "832", "305", "786", "404", "678", "702", "602", "617", "212",
         "718", "646", "917", "416", "604", "702")
_FILLER = ("Sweet and friendly, new in town this week.", "Real pictures, no games, 100% real.",
           "Available now for incall and outcall.", "Text first, no private numbers please.",
           "Discreet and upscale, gentlemen only.", "Let me make your day better.",
           "Visiting for a short time, leaving soon.", "Clean, safe and relaxed atmosphere.",
           "Call me anytime, I answer quickly.", "Ask about specials today.")
_CITIES = ("Seattle, WA", "Portland, OR", "Los Angeles", "Houston, TX", "Miami, FL",
           "Atlanta, GA", "Las Vegas, NV", "Phoenix, AZ", "Boston", "New York", "Toronto, ON")
_NAMES = ("Amy", "Bella", "Chloe", "Daisy", "Emma", "Gina", "Jade", "Lola", "Mia", "Nina")
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _phone_text(rng: random.Random) -> str:
    area = rng.choice(_AREA)
    num = f"{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    style = rng.randrange(6)
    if style == 0:
        return f"({num[:3]}) {num[3:6]}-{num[6:]}"
    if style == 1:
        return f"{num[:3]}.{num[3:6]}.{num[6:]}"
    if style == 2:  # digits and number words mixed
        return " ".join(_WORDS[int(c)] if i % 3 == 1 else c for i, c in enumerate(num))
    if style == 3:  # full-width digits
        return "".join(chr(0xFF10 + int(c)) for c in num)
    if style == 4:
        return f"{num[:3]} {num[3:6]} {num[6:]}"
    return f"{num[:3]}-{num[3:6]}-{num[6:]}"


def synthetic_ads(n: int, seed: int = 7) -> list[AdRecord]:
    """n deterministic, non-explicit ads of about 500 characters with the usual entities,
    obfuscations and numeric traps, for throughput measurement."""
    rng = random.Random(seed)
    ads = []
    for i in range(n):
        name = rng.choice(_NAMES)
        city = rng.choice(_CITIES)
        parts = [f"Hi, I'm {name}, {rng.randint(19, 34)} yrs.", rng.choice(_FILLER),
                 f"Call or text {_phone_text(rng)}.", rng.choice(_FILLER),
                 f"${rng.choice((100, 120, 150, 200, 250))}/hr, hh {rng.choice((80, 100))}.",
                 f"5'{rng.randint(0, 11)} {rng.randint(100, 160)}lbs 34-24-36.",
                 rng.choice(_FILLER), f"Now in {city}.", f"Post ID: {rng.randint(10**9, 10**10)}",
                 rng.choice(_FILLER), rng.choice(_FILLER), rng.choice(_FILLER),
                 rng.choice(_FILLER), rng.choice(_FILLER)]
        if rng.random() < 0.2:
            parts.insert(3, f"{name.lower()}{rng.randint(1, 99)} at gmail dot com")
        if rng.random() < 0.2:
            parts.insert(2, f"IG: {name.lower()}_{rng.randint(1, 99)}")
        body = " ".join(parts)
        ads.append(AdRecord(id=f"bench-{i}", source="bench",
                            title=f"{name} new in {city.split(',')[0]}", body=body))
    return ads


# --- real-layout cases (tests/data/layout_*.jsonl) ---------------------------------------------

LAYOUT_FIELDS = ("phones", "ages", "prices")


def load_layout_cases(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Cases {"class", "title"?, "text"?, "location"?, "url"?, "region"?, "expect": {...}}
    from every file, in order; each gets an "id" ("file:line") unless it has one."""
    cases: list[dict[str, Any]] = []
    for path in paths:
        for case in load_cases(path):
            if not isinstance(case.get("expect"), dict) or not isinstance(case.get("class"), str):
                raise ValueError(f"{case['id']}: a case needs \"class\" and an \"expect\" object")
            cases.append(case)
    return cases


def layout_record(case: Mapping[str, Any]) -> AdRecord:
    return AdRecord(id=str(case["id"]), source="cases", title=case.get("title") or "",
                    body=case.get("text") or "", url=case.get("url") or None,
                    location=case.get("location") or None)


def layout_found(case: Mapping[str, Any]) -> dict[str, Any]:
    """What extraction reads from one case (the JSON of `tracelight extract`)."""
    rec = layout_record(case)
    return extract_record(rec, str(case.get("region") or "US")).to_dict(rec.id)


def layout_case_ok(case: Mapping[str, Any], found: Mapping[str, Any] | None = None) -> bool:
    """Whether every field the case expects is read exactly (no miss, nothing extra)."""
    found = layout_found(case) if found is None else found
    for f, exp in case["expect"].items():
        want = {_norm(f, v) for v in exp}
        got = {_norm(f, v) for v in found.get(f, [])}
        if want != got:
            return False
    return True


def evaluate_layout(cases: list[dict[str, Any]]) -> dict[str, FieldScore]:
    """P/R per "field/class" (e.g. "phones/phone_then_price"), over the fields each case
    names in `expect`, plus "field/ALL" totals."""
    out: dict[str, FieldScore] = {}
    for c in cases:
        found = layout_found(c)
        for f, exp in c["expect"].items():
            if f not in LAYOUT_FIELDS:
                raise ValueError(f"{c['id']}: unknown expect field {f!r} "
                                 f"(one of {', '.join(LAYOUT_FIELDS)})")
            s = score([(c["id"], {f: exp}, found)], (f,))[f]
            for key in (f"{f}/{c['class']}", f"{f}/ALL"):
                t = out.setdefault(key, FieldScore())
                t.tp += s.tp
                t.fp += s.fp
                t.fn += s.fn
                t.errors += s.errors
    return dict(sorted(out.items()))
