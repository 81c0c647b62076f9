"""Turning an identifier typed by a user into the normalised values the store keys on."""

from __future__ import annotations

import phonenumbers

from tracelight.errors import UsageError


def normalize_phone(written: str, region: str) -> str | None:
    """A phone number as written (any punctuation, with or without +country) to E.164, or
    None when it cannot be a phone number."""
    text = written.strip()
    if not text:
        return None
    try:
        parsed = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_lookup(kind: str, value: str, region: str = "US") -> list[str]:
    """Candidate stored values for a search. Raises UsageError when the value cannot be one."""
    value = value.strip()
    if kind == "phone":
        try:
            parsed = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            raise UsageError(f"{value!r} is not a phone number") from None
        return [phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)]
    if kind == "email":
        return [value.lower()]
    if kind in ("social", "payment"):
        if ":" in value:
            platform, handle = value.split(":", 1)
            return [f"{platform.lower()}:{handle.lstrip('@$').lower()}"]
        bare = value.lstrip("@$").lower()
        platforms = (["instagram", "snapchat", "twitter", "telegram", "whatsapp", "kik",
                      "onlyfans", "tiktok", "facebook"] if kind == "social"
                     else ["cashapp", "venmo", "paypal", "zelle"])
        return [f"{p}:{bare}" for p in platforms]
    if kind == "crypto":
        return [f"{cur}:{value}" for cur in ("BTC", "ETH", "LTC", "XMR")] + \
            [f"{cur}:{value.lower()}" for cur in ("BTC", "ETH")]
    raise UsageError(f"cannot look up {kind!r}")
