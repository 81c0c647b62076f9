"""Transactions and accounts as plain dataclasses, and the parsing of one field at a time.

Every parser raises ValueError with a short reason; readers turn that into a reject
(`file:line: reason`) and go on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

CHANNELS = ("cash_deposit", "cash_withdrawal", "wire", "ach", "card", "p2p", "prepaid_load",
            "crypto_kiosk", "check")
ACCOUNT_KINDS = ("person", "business")
MAX_ID = 128
MAX_TEXT = 200
MAX_AMOUNT = 1e12
_ID_RE = re.compile(r"^[A-Za-z0-9._:@\-]{1,128}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


@dataclass(frozen=True)
class Transaction:
    tx_id: str
    timestamp: datetime  # aware; the offset as written (local time of the transaction)
    amount: float
    currency: str
    from_account: str
    to_account: str
    channel: str
    merchant: str = ""
    mcc: str = ""
    city: str = ""
    region: str = ""
    country: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"tx_id": self.tx_id, "timestamp": self.timestamp.isoformat(),
                "amount": self.amount, "currency": self.currency,
                "from_account": self.from_account, "to_account": self.to_account,
                "channel": self.channel, "merchant": self.merchant, "mcc": self.mcc,
                "city": self.city, "region": self.region, "country": self.country}


@dataclass(frozen=True)
class Account:
    account_id: str
    kind: str = "person"
    business_type: str = ""
    opened: str = ""
    phone: str = ""
    email: str = ""
    handle: str = ""
    crypto: str = ""
    address: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    opening_hours: str = ""  # "HH:MM-HH:MM" local to the account; empty: unknown

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ACCOUNT_FIELDS}

    def hours(self) -> tuple[time, time] | None:
        return parse_hours(self.opening_hours) if self.opening_hours else None


ACCOUNT_FIELDS = ("account_id", "kind", "business_type", "opened", "phone", "email", "handle",
                  "crypto", "address", "city", "region", "country", "opening_hours")
TX_FIELDS = ("tx_id", "timestamp", "amount", "currency", "from_account", "to_account",
             "channel", "merchant", "mcc", "city", "region", "country")


@dataclass(frozen=True)
class Reject:
    """One input row that could not be read: where it was and why."""

    origin: str  # file:line
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass
class Firing:
    """One red flag raised on one account: when, and every transaction behind it."""

    code: str
    first_seen: datetime
    last_seen: datetime
    tx_ids: list[str] = field(default_factory=list)


def clean_text(value: Any, name: str, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError(f"{name} must be text")
    text = str(value)
    if " " in text[:1] or " " in text[-1:] or "  " in text or not text.isprintable():
        text = " ".join(text.split())
    if _CONTROL_RE.search(text):
        raise ValueError(f"{name} holds control characters")
    if len(text) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return text


def parse_id(value: Any, name: str, *, required: bool = True) -> str:
    text = clean_text(value, name, MAX_ID)
    if not text:
        if required:
            raise ValueError(f"{name} is missing")
        return ""
    if not _ID_RE.match(text):
        raise ValueError(f"{name} {text[:40]!r} may hold only letters, digits and ._:@-")
    return text


def parse_amount(value: Any, name: str = "amount") -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    if isinstance(value, (int, float)):
        amount = float(value)
    else:
        text = clean_text(value, name, 40).replace(",", "")
        if not text:
            raise ValueError(f"{name} is missing")
        try:
            amount = float(text)
        except ValueError:
            raise ValueError(f"{name} {text[:40]!r} is not a number") from None
    if not math.isfinite(amount) or amount < 0 or amount > MAX_AMOUNT:
        raise ValueError(f"{name} must be a finite number between 0 and {MAX_AMOUNT:.0e}")
    return round(amount, 2)


def parse_timestamp(value: Any, name: str = "timestamp") -> datetime:
    text = clean_text(value, name, 40)
    if not text:
        raise ValueError(f"{name} is missing")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("/", "-"))
    except ValueError:
        raise ValueError(f"{name} {text[:40]!r} is not an ISO 8601 date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:  # the offset as written is kept: opening hours compare with the local clock time
        when.timestamp()
        when.astimezone(UTC)
    except (OverflowError, ValueError, OSError):
        raise ValueError(f"{name} {text[:40]!r} is out of range") from None
    return when


def parse_hours(value: str) -> tuple[time, time]:
    m = _HOURS_RE.match(value.strip())
    if not m:
        raise ValueError(f"opening_hours {value[:40]!r} must look like 09:00-17:00")
    start = time(int(m.group(1)), int(m.group(2)))
    end_h = int(m.group(3))
    end = time(23, 59) if end_h == 24 else time(end_h, int(m.group(4)))
    return start, end


def transaction_from(raw: dict[str, Any]) -> Transaction:
    """A Transaction from one native-layout row (CSV dict or JSON object)."""
    channel = clean_text(raw.get("channel"), "channel", 20).lower()
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel[:20]!r} is not one of {', '.join(CHANNELS)}")
    from_account = parse_id(raw.get("from_account"), "from_account", required=False)
    to_account = parse_id(raw.get("to_account"), "to_account", required=False)
    if not from_account and not to_account:
        raise ValueError("from_account and to_account are both empty")
    currency = clean_text(raw.get("currency") or "USD", "currency", 8).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"currency {currency!r} is not a 3-letter code")
    mcc = clean_text(raw.get("mcc"), "mcc", 4)
    if mcc and not re.fullmatch(r"\d{4}", mcc):
        raise ValueError(f"mcc {mcc!r} is not a 4-digit merchant category code")
    return Transaction(
        tx_id=parse_id(raw.get("tx_id"), "tx_id"),
        timestamp=parse_timestamp(raw.get("timestamp")),
        amount=parse_amount(raw.get("amount")), currency=currency,
        from_account=from_account, to_account=to_account, channel=channel,
        merchant=clean_text(raw.get("merchant"), "merchant"), mcc=mcc,
        city=clean_text(raw.get("city"), "city"), region=clean_text(raw.get("region"), "region"),
        country=clean_text(raw.get("country"), "country", 3).upper())


def account_from(raw: dict[str, Any]) -> Account:
    kind = clean_text(raw.get("kind") or "person", "kind", 20).lower()
    if kind not in ACCOUNT_KINDS:
        raise ValueError(f"kind {kind!r} is not person or business")
    hours = clean_text(raw.get("opening_hours"), "opening_hours", 20)
    if hours:
        parse_hours(hours)
    values = {k: clean_text(raw.get(k), k) for k in ACCOUNT_FIELDS
              if k not in ("account_id", "kind", "opening_hours")}
    values["country"] = values["country"].upper()[:3]
    return Account(account_id=parse_id(raw.get("account_id"), "account_id"), kind=kind,
                   opening_hours=hours, **values)


@dataclass
class Evidence:
    """One red flag behind an alert: its citation and every transaction that raised it."""

    code: str
    citation: str
    first_seen: datetime
    last_seen: datetime
    tx_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "citation": self.citation,
                "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat(), "tx_ids": list(self.tx_ids)}


@dataclass
class Alert:
    """A combination of red flags on one account: a lead for an analyst, never a finding."""

    alert_id: str
    account: str
    typologies: list[str]
    indicators: list[Evidence]
    score: float
    first_seen: datetime
    last_seen: datetime
    linked_ads: list[str] = field(default_factory=list)
    linked_networks: list[str] = field(default_factory=list)
    score_reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "account": self.account,
                "typologies": list(self.typologies),
                "indicators": [e.to_dict() for e in self.indicators],
                "score": round(self.score, 4), "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat(), "linked_ads": list(self.linked_ads),
                "linked_networks": list(self.linked_networks),
                "score_reasons": list(self.score_reasons)}

    @property
    def tx_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.indicators:
            seen.update(dict.fromkeys(e.tx_ids))
        return list(seen)
