"""Phone numbering plans: whether a digit string is a valid number, via `phonenumbers`.

`phonenumbers` carries every country's numbering plan (the Memex-era tools validated about ten
countries). Results are cached per digit string; North American numbers take a fast path.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

__all__ = ["lengths", "validate"]


@lru_cache(maxsize=1 << 16)
def validate(digits: str, plus: bool, region: str) -> str | None:
    """E.164 form of a digit string if phonenumbers says it is a valid number, else None."""
    if (plus and len(digits) == 11 and digits[0] == "1") or (
            not plus and lengths(region)[0] == 10 and len(digits) in (10, 11)):
        # North American numbers: skip phonenumbers' parser (a third of the cost) and ask
        # the metadata directly; area code and exchange never start with 0 or 1.
        national = digits[-10:]
        if len(digits) == 11 and digits[0] != "1":
            return None
        if national[0] in "01" or national[3] in "01":
            return None
        num = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
        # Checking the ad's own region first is ~10x cheaper than is_valid_number, which
        # walks every NANP country's metadata (US, CA and two dozen Caribbean ones).
        home = region if lengths(region)[0] == 10 else "US"
        if phonenumbers.is_valid_number_for_region(num, home) or (
                home != "CA" and phonenumbers.is_valid_number_for_region(num, "CA")) or (
                home != "US" and phonenumbers.is_valid_number_for_region(num, "US")) or (
                national[:3] in _OTHER_NANP_AREAS and phonenumbers.is_valid_number(num)):
            return "+1" + national
        return None
    if not plus:
        prefix = _trunk_prefix(region)
        if prefix and not digits.startswith(prefix) and len(digits) < 9:
            return None  # "2022 75" in Germany: a short national number is written with its 0
    try:
        num = phonenumbers.parse(("+" + digits) if plus else digits, None if plus else region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    if not plus:
        # the digits are the national number, with at most the trunk prefix before it: not a
        # carrier-selection code phonenumbers would strip ("90 62 7061 9845" in Brazil is a
        # listing number, not a call through carrier 90)
        nsn = phonenumbers.national_significant_number(num)
        if not digits.endswith(nsn) or digits[:len(digits) - len(nsn)] not in (
                "", _trunk_prefix(region)):
            return None
    return phonenumbers.format_number(num, PhoneNumberFormat.E164)


def _other_nanp_areas() -> frozenset[str]:
    """Area codes of the NANP countries other than the US and Canada (the Caribbean, US
    territories), from phonenumbers' own metadata: only for these is the slow all-regions
    validity check worth running."""
    patterns = []
    for region in phonenumbers.SUPPORTED_REGIONS:
        if region in ("US", "CA") or phonenumbers.country_code_for_region(region) != 1:
            continue
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is not None and meta.leading_digits:
            patterns.append(re.compile(meta.leading_digits))
    return frozenset(f"{ac}" for ac in range(200, 1000)
                     if any(p.match(f"{ac}") for p in patterns))


_OTHER_NANP_AREAS = _other_nanp_areas()


@lru_cache(maxsize=64)
def _trunk_prefix(region: str) -> str:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (meta.national_prefix or "") if meta is not None else ""


@lru_cache(maxsize=64)
def lengths(region: str) -> tuple[int, int]:
    """Shortest and longest digit count worth trying without a '+' for this region."""
    if phonenumbers.country_code_for_region(region) == 1:
        return 10, 11  # NANP: area code + 7, optionally a leading 1
    return 6, 13
