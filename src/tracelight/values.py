"""Turning an identifier typed by a user into the normalised values the store keys on.

The normalisers live with the kinds they clean (tracelight.kinds, declared in kinds.yaml).
"""

from __future__ import annotations

import phonenumbers

from tracelight.kinds import normalize_lookup

__all__ = ["normalize_lookup", "normalize_phone"]


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


def ad_text_hash(title: str, body: str) -> str:
    """SHA-256 (hex) of an ad's wording, as shared signals carry it: title and body, NFKC,
    lower-case, whitespace collapsed. The same wording posted again hashes the same."""
    import hashlib
    import unicodedata

    text = unicodedata.normalize("NFKC", f"{title}\n{body}").casefold()
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "replace")).hexdigest()
