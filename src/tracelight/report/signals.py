"""Shared signals: identifiers and hashes exchanged with partners, never facts about people.

A `Signal` is (kind, value) with its TLP 2.0 marking and where it came from. Kinds: phone
(E.164), email, handle ("platform:name" as tracelight stores it), url, image hashes (sha256,
sha1, md5, pdq) and text_sha256 (tracelight.values.ad_text_hash of an ad's wording).

Formats, each written and read here (pure: no store):

- **STIX 2.1** (the `stix2` library): one `indicator` per signal with a STIX pattern, its
  kind in `labels` ("tracelight:phone"), marked with one of the OASIS TLP 2.0
  marking-definitions (fixed ids, extension-definition--60a3c5c5-...). Phones, which STIX has
  no object for, use a custom `x-tracelight-phone` pattern type; hashes use `file:hashes`,
  ad-text hashes `artifact:hashes`.
- **followthemoney** JSON Lines, written by hand in FtM's entity shape
  (`{"id", "schema", "properties"}` with lists of strings): handles, phones and emails as
  `UserAccount`, URLs as `Document.sourceUrl`, image hashes as `Image`, text hashes as
  `Note`; the kind, TLP and source are kept in `notes` and `publisher`.
- **HMA / ThreatExchange** signal files (python-threatexchange's LocalFileSignalExchangeAPI):
  one `SIGNAL_TYPE VALUE` per line, `pdq` and `url` (and `video_md5` read as an MD5).

TLP:RED signals never leave in an export: every writer drops them and says how many.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracelight.errors import InputError, UsageError
from tracelight.report.base import CaseFile, WrittenFile, write_file

KINDS = ("phone", "email", "handle", "url", "sha256", "sha1", "md5", "pdq", "text_sha256")
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
MAX_SIGNALS = 1_000_000
MAX_VALUE = 2000

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKING_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP_BY_ID = {v: k for k, v in TLP_MARKING_IDS.items()}
# TLP 1.0 markings (stix2's TLP_WHITE...) read as their TLP 2.0 equivalents
_TLP_BY_ID.update({
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
})
_HEX = {"sha256": 64, "sha1": 40, "md5": 32, "pdq": 64, "text_sha256": 64}


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str
    value: str
    tlp: str = "amber"
    source: str = ""
    label: str = ""


def normalise_tlp(value: str) -> str:
    """'TLP:AMBER+STRICT', 'amber+strict', 'white' -> the TLP 2.0 level name."""
    v = value.strip().lower().removeprefix("tlp:").strip()
    v = {"white": "clear", "amber strict": "amber+strict"}.get(v, v)
    if v not in TLP_LEVELS:
        raise UsageError(f"unknown TLP level {value!r}", hint="clear, green, amber, "
                                                             "amber+strict or red")
    return v


def check_signal(kind: str, value: str) -> str | None:
    """Why (kind, value) is not a signal, or None."""
    if kind not in KINDS:
        return f"unknown signal kind {kind!r}"
    if not value or len(value) > MAX_VALUE or any(ord(c) < 32 for c in value):
        return f"{kind} value is empty, too long or holds control characters"
    if kind in _HEX and not re.fullmatch(f"[0-9a-f]{{{_HEX[kind]}}}", value):
        return f"{kind} must be {_HEX[kind]} lower-case hex digits"
    if kind == "phone" and not re.fullmatch(r"\+[1-9]\d{5,14}", value):
        return "phone must be E.164 (+ and 6-15 digits)"
    if kind == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        return "not an email address"
    if kind == "url" and not re.match(r"(?i)https?://", value):
        return "a URL signal starts with http:// or https://"
    return None


def make_signal(kind: str, value: str, *, tlp: str = "amber", source: str = "",
                label: str = "") -> Signal:
    """A checked signal; hex values lower-cased, emails lower-cased."""
    value = value.strip()
    if kind in _HEX or kind == "email":
        value = value.lower()
    why = check_signal(kind, value)
    if why:
        raise UsageError(why)
    return Signal(kind, value, normalise_tlp(tlp), source[:500], label[:300])


def shareable(signals: Iterable[Signal]) -> tuple[list[Signal], int]:
    """(signals that may leave, how many TLP:RED were held back); duplicates dropped."""
    out: dict[tuple[str, str], Signal] = {}
    red: set[tuple[str, str]] = set()
    for s in signals:
        if s.tlp == "red":
            red.add((s.kind, s.value))
            continue
        out.setdefault((s.kind, s.value), s)
    return list(out.values()), len(red - set(out))


# ---- STIX 2.1 ----------------------------------------------------------------------------------

def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def stix_pattern(s: Signal) -> str:
    v = _quote(s.value)
    if s.kind == "phone":
        return f"[x-tracelight-phone:value = '{v}']"
    if s.kind == "email":
        return f"[email-addr:value = '{v}']"
    if s.kind == "url":
        return f"[url:value = '{v}']"
    if s.kind == "handle":
        platform, _, name = s.value.rpartition(":")
        if platform:
            return (f"[user-account:account_login = '{_quote(name)}' AND "
                    f"user-account:account_type = '{_quote(platform)}']")
        return f"[user-account:account_login = '{v}']"
    if s.kind == "text_sha256":
        return f"[artifact:hashes.'SHA-256' = '{v}']"
    algo = {"sha256": "'SHA-256'", "sha1": "'SHA-1'", "md5": "MD5", "pdq": "PDQ"}[s.kind]
    return f"[file:hashes.{algo} = '{v}']"


def _tlp_marking(level: str) -> Any:
    import stix2

    return stix2.MarkingDefinition(
        id=TLP_MARKING_IDS[level], created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{level.upper()}",
        extensions={TLP_EXTENSION: {"extension_type": "property-extension",
                                    "tlp_2_0": level}})


_LABELS = {"phone": "phone number", "email": "email address", "handle": "handle",
           "url": "URL", "sha256": "image SHA-256", "sha1": "image SHA-1",
           "md5": "image MD5", "pdq": "image PDQ hash", "text_sha256": "ad-text SHA-256"}


def to_stix(signals: Iterable[Signal], *, producer: str = "tracelight",
            now: datetime | None = None) -> tuple[str, int]:
    """(STIX 2.1 bundle JSON, TLP:RED signals held back)."""
    import stix2

    keep, red = shareable(signals)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    identity = stix2.Identity(id="identity--" + _uuid(f"identity:{producer}"),
                              name=producer[:200], identity_class="organization",
                              created=when, modified=when)
    objects: list[Any] = [identity]
    markings = {lvl: _tlp_marking(lvl) for lvl in sorted({s.tlp for s in keep})}
    objects += markings.values()
    for s in keep:
        objects.append(stix2.Indicator(
            id="indicator--" + _uuid(f"{s.kind}:{s.value}"), created=when, modified=when,
            name=f"{_LABELS[s.kind]} seen in advertisements"
                 + (f" ({s.label[:200]})" if s.label else ""),
            description="A shared signal: an identifier or hash seen in online advertisements, "
                        "for matching; not a finding about any person.",
            pattern=stix_pattern(s), pattern_type="stix", valid_from=when,
            indicator_types=["unknown"], labels=[f"tracelight:{s.kind}"],
            created_by_ref=identity.id, object_marking_refs=[markings[s.tlp].id]))
    bundle = stix2.Bundle(objects=objects)
    return bundle.serialize(pretty=True), red


def _uuid(key: str) -> str:
    """A stable UUID (version 5 layout) for the same signal in every export."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tracelight:" + key))


_PATTERN = re.compile(r"([\w-]+):([\w.'-]+)\s*=\s*'((?:[^'\\]|\\.)*)'")
_BY_PATH = {"x-tracelight-phone:value": "phone", "email-addr:value": "email",
            "url:value": "url", "file:hashes.'SHA-256'": "sha256",
            "file:hashes.SHA256": "sha256", "file:hashes.'SHA-1'": "sha1",
            "file:hashes.SHA1": "sha1", "file:hashes.MD5": "md5", "file:hashes.PDQ": "pdq",
            "file:hashes.pdq": "pdq", "artifact:hashes.'SHA-256'": "text_sha256"}


def _from_pattern(pattern: str, labels: Sequence[str]) -> tuple[str, str] | None:
    found = {f"{t}:{p}": re.sub(r"\\(.)", r"\1", v) for t, p, v in _PATTERN.findall(pattern)}
    if "user-account:account_login" in found:
        platform = found.get("user-account:account_type", "")
        name = found["user-account:account_login"]
        return "handle", f"{platform}:{name}" if platform else name
    labelled = [x.removeprefix("tracelight:") for x in labels if x.startswith("tracelight:")]
    for path, value in found.items():
        kind = _BY_PATH.get(path)
        if kind == "sha256" and "text_sha256" in labelled:
            kind = "text_sha256"
        if kind:
            return kind, value
    return None


@dataclass
class ParseResult:
    signals: list[Signal]
    skipped: list[str]  # why each skipped object/line was skipped (first 50)
    n_skipped: int = 0

    def skip(self, why: str) -> None:
        self.n_skipped += 1
        if len(self.skipped) < 50:
            self.skipped.append(why)


def from_stix(data: bytes, *, source: str, default_tlp: str = "amber") -> ParseResult:
    """Signals from a STIX 2.1 bundle: each indicator's pattern, its TLP marking kept (an
    indicator without one gets `default_tlp`). Other objects are skipped."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise InputError(f"{source}: not a JSON document (a STIX bundle is JSON)") from None
    if not isinstance(doc, dict) or doc.get("type") != "bundle" \
            or not isinstance(doc.get("objects"), list):
        raise InputError(f"{source}: not a STIX bundle (no \"type\": \"bundle\" with objects)")
    if len(doc["objects"]) > MAX_SIGNALS:
        raise InputError(f"{source}: more than {MAX_SIGNALS} objects")
    import stix2
    import stix2.exceptions

    result = ParseResult([], [])
    marking_tlp: dict[str, str] = dict(_TLP_BY_ID)
    for obj in doc["objects"]:
        if isinstance(obj, dict) and obj.get("type") == "marking-definition":
            ext = (obj.get("extensions") or {}).get(TLP_EXTENSION) or {}
            level = ext.get("tlp_2_0") if isinstance(ext, dict) else None
            if isinstance(level, str) and isinstance(obj.get("id"), str):
                with contextlib.suppress(UsageError):
                    marking_tlp[obj["id"]] = normalise_tlp(level)
    for n, obj in enumerate(doc["objects"]):
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        try:
            ind = stix2.parse(obj, allow_custom=True)
        except (stix2.exceptions.STIXError, ValueError, TypeError, KeyError) as exc:
            result.skip(f"object {n}: not a valid STIX indicator ({str(exc)[:120]})")
            continue
        pattern = str(ind.get("pattern", ""))
        if ind.get("pattern_type") != "stix":
            result.skip(f"object {n}: pattern type {ind.get('pattern_type')!r} is not read")
            continue
        got = _from_pattern(pattern, list(ind.get("labels", []) or []))
        if got is None:
            result.skip(f"object {n}: no phone, email, handle, URL or hash in its pattern")
            continue
        tlps = [marking_tlp[m] for m in ind.get("object_marking_refs", []) or []
                if m in marking_tlp]
        tlp = max(tlps, key=TLP_LEVELS.index) if tlps else default_tlp
        try:
            result.signals.append(make_signal(*got, tlp=tlp, source=source,
                                              label=str(ind.get("name", ""))[:300]))
        except UsageError as exc:
            result.skip(f"object {n}: {exc}")
    return result


# ---- followthemoney ----------------------------------------------------------------------------

def _ftm_entity(s: Signal) -> dict[str, Any]:
    notes = [f"tracelight signal: {s.kind}", f"TLP:{s.tlp.upper()}"]
    props: dict[str, list[str]]
    if s.kind in ("handle", "phone", "email"):
        schema = "UserAccount"
        if s.kind == "handle":
            platform, _, name = s.value.rpartition(":")
            props = {"username": [name]} | ({"service": [platform]} if platform else {})
        else:
            props = {s.kind: [s.value]}
    elif s.kind == "url":
        schema, props = "Document", {"sourceUrl": [s.value]}
    elif s.kind == "text_sha256":
        schema, props = "Note", {"description": [f"SHA-256 of an advertisement's wording: "
                                                 f"{s.value}"]}
    else:
        schema = "Image"
        props = {"contentHash": [s.value]} if s.kind == "sha1" else {}
        notes.append(f"{s.kind}: {s.value}")
    props["notes"] = notes
    if s.source:
        props["publisher"] = [s.source[:500]]
    digest = hashlib.sha1(f"{s.kind}:{s.value}".encode()).hexdigest()
    return {"id": f"tracelight-{digest}", "schema": schema, "properties": props}


def to_ftm(signals: Iterable[Signal]) -> tuple[str, int]:
    """(followthemoney entities as JSON Lines, TLP:RED signals held back)."""
    keep, red = shareable(signals)
    return "".join(json.dumps(_ftm_entity(s), ensure_ascii=False, sort_keys=True) + "\n"
                   for s in keep), red


def from_ftm(data: bytes, *, source: str, default_tlp: str = "amber") -> ParseResult:
    result = ParseResult([], [])
    for n, line in enumerate(_lines(data, source), 1):
        if not line.strip():
            continue
        try:
            ent = json.loads(line)
            props = ent["properties"]
            schema = ent["schema"]
            assert isinstance(props, dict) and isinstance(schema, str)
        except (ValueError, KeyError, TypeError, AssertionError, RecursionError):
            result.skip(f"line {n}: not a followthemoney entity")
            continue
        notes = [str(x) for x in props.get("notes", []) if isinstance(x, str)]
        kinds = [x.removeprefix("tracelight signal: ") for x in notes
                 if x.startswith("tracelight signal: ")]
        tlps = [x[4:] for x in notes if x.upper().startswith("TLP:")]
        try:
            tlp = normalise_tlp(tlps[0]) if tlps else default_tlp
        except UsageError:
            tlp = default_tlp
        got = _ftm_value(schema, props, kinds[0] if kinds else "", notes)
        if got is None:
            result.skip(f"line {n}: a {schema} entity carries no signal tracelight reads")
            continue
        try:
            result.signals.append(make_signal(*got, tlp=tlp, source=source))
        except UsageError as exc:
            result.skip(f"line {n}: {exc}")
    return result


def _first(props: dict[str, Any], name: str) -> str | None:
    vals = props.get(name)
    return vals[0] if isinstance(vals, list) and vals and isinstance(vals[0], str) else None


def _ftm_value(schema: str, props: dict[str, Any], kind: str,
               notes: list[str]) -> tuple[str, str] | None:
    if schema == "UserAccount":
        for k in ("phone", "email"):
            if kind in (k, "") and _first(props, k):
                return k, str(_first(props, k))
        name = _first(props, "username")
        if name:
            service = _first(props, "service")
            return "handle", f"{service}:{name}" if service else name
    if schema in ("Document", "Page", "HyperText") and _first(props, "sourceUrl"):
        return "url", str(_first(props, "sourceUrl"))
    if schema == "Note" and kind == "text_sha256":
        m = re.search(r"[0-9a-f]{64}", _first(props, "description") or "")
        return ("text_sha256", m.group(0)) if m else None
    if schema in ("Image", "Document"):
        for note in notes:
            k, _, v = note.partition(": ")
            if k in ("sha256", "md5", "pdq", "sha1") and (not kind or kind == k):
                return k, v
        if _first(props, "contentHash"):
            return "sha1", str(_first(props, "contentHash"))
    return None


# ---- HMA / ThreatExchange signal files ---------------------------------------------------------

HMA_TYPES = {"pdq": "pdq", "url": "url"}
_HMA_READ = {"pdq": "pdq", "url": "url", "video_md5": "md5", "md5": "md5"}


def to_hma(signals: Iterable[Signal]) -> tuple[str, int, int]:
    """(HMA signal file, TLP:RED held back, signals HMA has no type for and were left out)."""
    keep, red = shareable(signals)
    lines = [f"{HMA_TYPES[s.kind]} {s.value}\n" for s in keep if s.kind in HMA_TYPES]
    return "".join(lines), red, len(keep) - len(lines)


def from_hma(data: bytes, *, source: str, tlp: str = "amber") -> ParseResult:
    result = ParseResult([], [])
    for n, line in enumerate(_lines(data, source), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        stype, _, value = line.partition(" ")
        kind = _HMA_READ.get(stype.lower())
        if kind is None:
            result.skip(f"line {n}: signal type {stype[:40]!r} is not read")
            continue
        try:
            result.signals.append(make_signal(kind, value.strip(), tlp=tlp, source=source))
        except UsageError as exc:
            result.skip(f"line {n}: {exc}")
    return result


def _lines(data: bytes, source: str) -> Iterator[str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{source}: not UTF-8 text") from None
    yield from text.splitlines()


def detect_format(data: bytes) -> str:
    """'stix', 'ftm' or 'hma' from a file's first bytes."""
    head = data[:4096].lstrip()
    if head.startswith(b"{") and b'"bundle"' in data[:65536] and b'"objects"' in data[:65536]:
        return "stix"
    if head.startswith(b"{"):
        return "ftm"
    return "hma"


# ---- from a case -------------------------------------------------------------------------------

def case_signals(case: CaseFile, tlp: str, source: str = "") -> list[Signal]:
    """The signals of a case's ads: contacts, URLs, image hashes and ad-text hashes."""
    from tracelight.values import ad_text_hash

    level = normalise_tlp(tlp)
    src = source or f"tracelight case {case.id}"
    out: list[Signal] = []

    def add(kind: str, value: str | None, label: str = "") -> None:
        # a stored value that is not a clean signal (an odd URL) is not shared
        if value:
            with contextlib.suppress(UsageError):
                out.append(make_signal(kind, value, tlp=level, source=src, label=label))

    for ad in case.ads:
        for v in ad.values("phone"):
            add("phone", v)
        for v in ad.values("email"):
            add("email", v)
        for v in ad.values("social"):
            add("handle", v)
        add("url", ad.url, f"ad {ad.ref}")
        for v in ad.values("url"):
            add("url", v)
        for img in ad.images:
            add("sha256", img.sha256)
            add("md5", img.md5)
            add("pdq", img.pdq)
        add("text_sha256", ad_text_hash(ad.title, ad.body), f"wording of ad {ad.ref}")
    for ident in case.identifiers:
        add({"social": "handle"}.get(ident.kind, ident.kind), ident.value, ident.label)
    return out


FORMATS = ("stix", "ftm", "hma")


def render(signals: Sequence[Signal], fmt: str, producer: str = "tracelight",
           ) -> tuple[str, int, int]:
    """(file text, TLP:RED held back, left out because the format has no type for them)."""
    if fmt == "stix":
        text, red = to_stix(signals, producer=producer)
        return text, red, 0
    if fmt == "ftm":
        text, red = to_ftm(signals)
        return text, red, 0
    if fmt == "hma":
        return to_hma(signals)
    raise UsageError(f"unknown signal format {fmt!r}", hint="stix, ftm or hma")


class SignalsExporter:
    """A case's signals as a STIX 2.1 bundle, followthemoney JSON Lines or an HMA file."""

    name = "signals"

    def __init__(self, fmt: str = "stix", tlp: str = "amber") -> None:
        self.fmt, self.tlp = fmt, normalise_tlp(tlp)

    def export(self, case: CaseFile, out: Path) -> list[WrittenFile]:
        text, _red, _left = render(case_signals(case, self.tlp), self.fmt)
        return [write_file(out, text.encode("utf-8", "replace"))]
