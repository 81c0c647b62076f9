"""The ad record: the input contract every source produces and every stage consumes.

See docs/formats.md. A record is plain data (a frozen dataclass) so the analysis core can run
anywhere: the CLI, the web app, or a distributed engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from tracelight import settings
from tracelight.errors import ConfigError, RecordError
from tracelight.jsonutil import problem, surrogate_at

# Fields with a meaning of their own; anything else is kept verbatim under `extra`.
KNOWN_FIELDS = ("id", "source", "url", "title", "body", "posted_at", "location", "images")

MAX_FIELD_CHARS = 10_000_000  # a 10 MB body is accepted; larger text is rejected, not truncated
MAX_ID_CHARS = 512


@dataclass(frozen=True, slots=True)
class AdRecord:
    id: str
    source: str
    title: str = ""
    body: str = ""
    url: str | None = None
    posted_at: datetime | None = None
    location: str | None = None
    images: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Title and body as one text, the unit full-text search and wording similarity use."""
        return f"{self.title}\n{self.body}" if self.title else self.body

    def content_hash(self) -> str:
        """Hash of what the advertiser wrote. A change means a new revision of the ad.

        Parts are length-prefixed so that ("ab", "c") and ("a", "bc") never collide.
        """
        h = hashlib.sha256()
        parts = [
            self.title,
            self.body,
            self.url or "",
            self.location or "",
            self.posted_at.isoformat() if self.posted_at else "",
            "\x1f".join(self.images),
            json.dumps(self.extra, sort_keys=True, ensure_ascii=False, default=str),
        ]
        for part in parts:
            data = part.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)
        return h.hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of docs/formats.md (what `tracelight ads --format jsonl` prints)."""
        out: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "body": self.body,
            "posted_at": self.posted_at.isoformat() if self.posted_at else None,
            "location": self.location,
            "images": list(self.images),
        }
        if self.extra:
            out["extra"] = dict(self.extra)
        return out


def parse_datetime(value: Any, *, origin: str = "") -> datetime | None:
    """ISO 8601 to an aware datetime (UTC assumed when no offset is given)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"posted_at must be an ISO 8601 string, got {type(value).__name__}",
                          origin=origin)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(f"posted_at is not an ISO 8601 date: {value[:40]!r}",
                          origin=origin) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def max_body_bytes() -> int:
    """The TRACELIGHT_MAX_BODY_BYTES setting: the largest title or body, in UTF-8 bytes."""
    limit = settings.get_int("max_body_bytes")
    if limit < 1:
        raise ConfigError(f"TRACELIGHT_MAX_BODY_BYTES={limit} must be at least 1")
    return limit


def _check_text_size(name: str, value: str, origin: str) -> None:
    """Reject a title or body over the limit before any reader sees it: every extractor is
    linear, but a hostile megabyte still costs seconds (docs/security.md)."""
    limit = max_body_bytes()
    if len(value) * 4 <= limit:
        return  # no UTF-8 character takes more than 4 bytes
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise RecordError(f"field {name!r} is {size:,} bytes, over the {limit:,}-byte limit "
                          "(TRACELIGHT_MAX_BODY_BYTES)", origin=origin)


def _text_field(data: Mapping[str, Any], name: str, origin: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and name == "id":
        value = str(value)  # numeric ids are common in feeds; keep them as their text
    if not isinstance(value, str):
        raise RecordError(f"field {name!r} must be a string, got {type(value).__name__}",
                          origin=origin)
    if len(value) > MAX_FIELD_CHARS:
        raise RecordError(f"field {name!r} is {len(value):,} characters, over the "
                          f"{MAX_FIELD_CHARS:,} limit", origin=origin)
    if name in ("title", "body"):
        _check_text_size(name, value, origin)
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL; dropping it silently would change the evidence.
        raise RecordError(f"field {name!r} contains a NUL character", origin=origin)
    at = surrogate_at(value)
    if at is not None:
        # half of a UTF-16 pair ("\\ud800" in JSON): no database or browser can hold it, and
        # replacing it would change the evidence, so the record is refused
        raise RecordError(f"field {name!r} holds a lone surrogate U+{ord(value[at]):04X} at "
                          f"character {at} (not valid Unicode)", origin=origin)
    return value


def record_from_mapping(data: Any, *, default_source: str | None, origin: str = "") -> AdRecord:
    """Validate one raw object (from JSON, CSV or HTML) into an AdRecord, or raise RecordError."""
    if not isinstance(data, Mapping):
        raise RecordError(f"a record must be a JSON object, got {type(data).__name__}",
                          origin=origin)
    ad_id = _text_field(data, "id", origin)
    if ad_id is None or not ad_id.strip():
        raise RecordError("missing required field 'id'", origin=origin)
    ad_id = ad_id.strip()
    if len(ad_id) > MAX_ID_CHARS:
        raise RecordError(f"id is longer than {MAX_ID_CHARS} characters", origin=origin)
    source = _text_field(data, "source", origin) or default_source
    if source and surrogate_at(source) is not None:
        raise RecordError("source is not valid Unicode", origin=origin)
    if not source:
        raise RecordError("missing 'source' (give it in the record or with --source)",
                          origin=origin)
    title = _text_field(data, "title", origin) or ""
    body = _text_field(data, "body", origin) or ""
    if not title.strip() and not body.strip():
        raise RecordError("record has neither title nor body", origin=origin)
    images_raw = data.get("images")
    if images_raw is None or images_raw == "":
        images: tuple[str, ...] = ()
    elif isinstance(images_raw, str):
        # CSV cells carry lists as '|'-separated paths
        images = tuple(p.strip() for p in images_raw.split("|") if p.strip())
    elif isinstance(images_raw, list) and all(isinstance(p, str) for p in images_raw):
        images = tuple(images_raw)
    else:
        raise RecordError("field 'images' must be a list of strings", origin=origin)
    bad = problem(list(images), max_depth=2)
    if bad:
        raise RecordError(f"field 'images' holds {bad}", origin=origin)
    extra = {k: v for k, v in data.items() if k not in KNOWN_FIELDS and k != "extra"}
    if isinstance(data.get("extra"), Mapping):
        extra = {**dict(data["extra"]), **extra}
    for key, value in extra.items():
        bad = problem(key) or problem(value)
        if bad:
            name = key if isinstance(key, str) and surrogate_at(key) is None else "?"
            raise RecordError(f"extra field {name[:60]!r}: {bad}", origin=origin)
    return AdRecord(
        id=ad_id,
        source=source.strip(),
        title=title,
        body=body,
        url=_text_field(data, "url", origin) or None,
        posted_at=parse_datetime(data.get("posted_at"), origin=origin),
        location=_text_field(data, "location", origin) or None,
        images=images,
        extra=extra,
    )


@dataclass(frozen=True, slots=True)
class Mention:
    """One place in an ad where an entity was found: the evidence behind every link and score.

    `start`/`end` index the original text of `field` ("title", "body", "url", or
    "image:N" for text read from the ad's N-th image).
    """

    kind: str  # phone, email, url, social, payment, crypto, age, price, location, name
    value: str  # normalised value (E.164 phone, lower-case email, "instagram:handle", ...)
    field: str
    start: int
    end: int
    obfuscated: bool = False
    raw: str = ""  # the text exactly as written
    # phones: the country the number was read for, and the evidence ("location: Melbourne",
    # "country code", "ambiguous: AU or JP (...)"); empty for other kinds
    region: str = ""
    region_why: str = ""

    def to_dict(self) -> dict[str, Any]:
        # region and region_why are left out: the JSON of a mention keeps its keys (the
        # extract output lists them per phone under "phone_regions")
        return {"kind": self.kind, "value": self.value, "field": self.field,
                "start": self.start, "end": self.end, "obfuscated": self.obfuscated,
                "raw": self.raw}


class Evidence(NamedTuple):
    """Where in the ad an indicator was seen. `field` is title/body/url/image:N, or
    "corpus"/"network" for facts about other ads (then start = end = 0)."""

    field: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        def num(key: str) -> int:
            v = data.get(key)
            return v if isinstance(v, int) and not isinstance(v, bool) else 0

        return cls(str(data.get("field") or "body"), num("start"), num("end"),
                   str(data.get("text") or ""))


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an ad (or a network) was scored as it was: one indicator that fired.

    Made by the scorer (tracelight.score), kept by the store in the ads' JSON `reasons` column
    (`to_dict` / `from_dict`, the one serialised form), shown by the CLI and the web.
    """

    code: str  # an indicator code of indicators.yaml
    weight: float | None  # its weight in the score; None for a reason stored without one
    evidence: tuple[Evidence, ...] = ()  # spans that show it, strongest first
    description: str = ""  # what the indicator means (indicators.yaml)
    strength: str = ""  # how well it is supported: validated, reported, practitioner, context
    category: str = ""
    detail: str = ""  # what was matched ("phrase: new in town", "stated age 16")
    count: int = 1  # how often it fired (in the ad; in a network: how many member ads)
    ad_id: str | None = None  # network reasons: the member ad that shows it best
    label: str = ""  # a short title, when the producer gave one; see `title`

    @property
    def title(self) -> str:
        """Short display label: the given label, else the code in words."""
        return self.label or (self.code.replace("_", " ").capitalize() if self.code else "") \
            or self.description or "indicator"

    def to_dict(self) -> dict[str, Any]:
        """The stored and printed form (docs/risk.md): evidence is the first span."""
        out: dict[str, Any] = {
            "code": self.code, "weight": self.weight,
            "evidence": self.evidence[0].to_dict() if self.evidence else None,
            "description": self.description, "strength": self.strength,
            "category": self.category, "detail": self.detail, "count": self.count,
        }
        if self.ad_id is not None:
            out["ad_id"] = self.ad_id
        if self.label:
            out["label"] = self.label
        if len(self.evidence) > 1:
            out["more_evidence"] = [e.to_dict() for e in self.evidence[1:]]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Reason:
        """Read a stored reason: the form `to_dict` writes, and the older shapes still in
        databases ({contribution, evidence: [...]}, a bare span, a plain string)."""
        if not isinstance(data, Mapping):
            return cls(code=str(data), weight=None, label=str(data))
        raw = data.get("evidence") or data.get("spans") or []
        if isinstance(raw, Mapping):
            raw = [raw]
        if not isinstance(raw, list):
            raw = []
        if not raw and "start" in data and "end" in data:
            raw = [data]
        more = data.get("more_evidence")
        if isinstance(more, list):
            raw = [*raw, *more]
        weight = next((data[k] for k in ("weight", "contribution", "score") if k in data), None)
        count = data.get("count", 1)
        ad_id = data.get("ad_id")
        return cls(
            code=str(data.get("code") or ""),
            weight=weight if isinstance(weight, (int, float))
            and not isinstance(weight, bool) else None,
            evidence=tuple(Evidence.from_dict(e) for e in raw if isinstance(e, Mapping)),
            description=str(data.get("description") or ""),
            strength=str(data.get("strength") or ""),
            category=str(data.get("category") or ""),
            detail=str(data.get("detail") or ""),
            count=count if isinstance(count, int) and not isinstance(count, bool) else 1,
            ad_id=str(ad_id) if ad_id is not None else None,
            label=str(data.get("label") or data.get("title") or ""),
        )


def reasons_from_json(data: Any) -> list[Reason] | None:
    """The ads' `reasons` JSON column as Reasons (None stays None: not scored)."""
    if data is None:
        return None
    return [Reason.from_dict(r) for r in (data if isinstance(data, list) else [data])]


def reasons_to_json(reasons: Sequence[Reason] | None) -> list[dict[str, Any]] | None:
    if reasons is None:
        return None
    return [r.to_dict() for r in reasons]


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What is known about one image an ad references. Bytes stay on disk, never in the DB."""

    position: int
    original: str  # path or URL as written in the record
    sha256: str | None = None
    md5: str | None = None
    pdq: str | None = None  # 64 hex characters, big-endian as in ThreatExchange
    quality: int | None = None
    width: int | None = None
    height: int | None = None
    stored_path: str | None = None
    error: str | None = None  # why it could not be read, if it could not


@dataclass(slots=True)
class ProcessedAd:
    """A record after the analysis stages: what ingest hands to the store."""

    record: AdRecord
    mentions: list[Mention] = field(default_factory=list)
    images: list[ImageInfo] = field(default_factory=list)
    risk: float | None = None
    reasons: list[Reason] | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)
