"""Use case: one public reference for an ad, `SOURCE/ID`, read the same way everywhere.

Every command that takes an ad (`show`, `similar`, ...), every page and API address
(`/ads/SOURCE/ID`) and every search box accepts:

- `SOURCE/ID`, the form tracelight prints in every table, export and audit row;
- a bare `ID`, when exactly one stored ad has it (otherwise the error lists the candidates,
  each as SOURCE/ID).

Sources and ids may themselves contain `/`. The rule: a reference is read every way it can
be, the whole text as a bare id and each split at a `/` as (source, id); the ads matching
any reading are the candidates. One candidate opens; none is "not found"; several is an
ambiguity listing them. A printed SOURCE/ID therefore opens its ad unless another ad's
reading collides with it exactly, and then the error names both.

In addresses each part is percent-encoded on its own (`/` inside a part as %2F, a part that
is `.` or `..` as %2E), so paths are never rewritten by browsers or proxies.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from tracelight.errors import NotFoundError, UsageError
from tracelight.store import Store, StoredAd

MAX_REF = 1000  # longer than any source (200) + "/" + id (512)
MAX_CANDIDATES = 10

Reading = tuple[str | None, str]  # (source or None for any source, ad id)


class AmbiguousAdError(UsageError):
    """A bare id (or a reading of a reference) matches ads in several sources."""

    def __init__(self, ref: str, ads: Sequence[StoredAd]) -> None:
        candidates = [ref_of(a) for a in ads]
        shown = ", ".join(candidates[:MAX_CANDIDATES])
        more = " and more" if len(candidates) > MAX_CANDIDATES else ""
        super().__init__(f"ad {ref!r} is ambiguous: it could be {shown}{more}",
                         hint="give it as SOURCE/ID")
        self.ref = ref
        self.candidates = candidates[:MAX_CANDIDATES]
        self.ads = list(ads)[:MAX_CANDIDATES]


def format_ref(source: str, ad_id: str) -> str:
    """The public reference of an ad: SOURCE/ID."""
    return f"{source}/{ad_id}"


def ref_of(ad: StoredAd) -> str:
    return format_ref(ad.source, ad.ad_id)


def _part(text: str) -> str:
    if text in (".", ".."):
        return text.replace(".", "%2E")
    return quote(text, safe="")


def ad_url(source: str, ad_id: str) -> str:
    """The workspace address of an ad: /ads/SOURCE/ID, each part percent-encoded."""
    return f"/ads/{_part(source)}/{_part(ad_id)}"


def clean_ref(text: str) -> str:
    """The reference as typed, trimmed; UsageError when it cannot be an ad reference."""
    if not isinstance(text, str):
        raise UsageError("an ad reference must be text")
    ref = text.strip()
    if not ref:
        raise UsageError("no ad given", hint="give it as SOURCE/ID, or the ad's id")
    if len(ref) > MAX_REF:
        raise UsageError(f"an ad reference is at most {MAX_REF} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in ref):
        raise UsageError("an ad reference cannot contain control characters")
    return ref


def parse_ref(text: str, source: str | None = None) -> list[Reading]:
    """Every reading of a typed reference: the bare id first, then each SOURCE/ID split.

    With `source` given (the `--source` option), the text is only that source's id.
    Pure: no store is asked.
    """
    ref = clean_ref(text)
    if source is not None and source.strip():
        return [(source.strip(), ref)]
    readings: list[Reading] = [(None, ref)]
    for i, ch in enumerate(ref):
        if ch == "/" and 0 < i < len(ref) - 1:
            readings.append((ref[:i], ref[i + 1:]))
    return readings


def find_ads(store: Store, text: str, source: str | None = None) -> list[StoredAd]:
    """Every ad a reference could mean (no error when none or several)."""
    try:
        readings = parse_ref(text, source)
    except UsageError:
        return []
    return store.find_ads_by_ref(readings, limit=MAX_CANDIDATES + 1)


def resolve_ad(store: Store, text: str, source: str | None = None) -> StoredAd:
    """The one ad a reference means: NotFoundError when none, AmbiguousAdError (a
    UsageError, exit code 2 / HTTP 400) listing the candidates as SOURCE/ID when several."""
    readings = parse_ref(text, source)
    found = store.find_ads_by_ref(readings, limit=MAX_CANDIDATES + 1)
    ref = clean_ref(text)
    if not found:
        where = f" in source {source.strip()!r}" if source and source.strip() else ""
        raise NotFoundError(f"no ad {ref!r}{where}",
                            hint="give it as SOURCE/ID, as tables print it")
    if len(found) > 1:
        raise AmbiguousAdError(ref, found)
    return found[0]


def resolve_legacy(store: Store, text: str) -> tuple[StoredAd, bool]:
    """Like `resolve_ad`, and a reference that matches no ad but is all digits is read as
    an internal key, as addresses and case items held before SOURCE/ID: (ad, was_key)."""
    try:
        return resolve_ad(store, text), False
    except NotFoundError:
        ref = text.strip()
        if not (ref.isascii() and ref.isdigit() and len(ref) < 19):
            raise
        try:
            return store.get_ad_by_pk(int(ref)), True
        except NotFoundError:
            raise NotFoundError(f"no ad {ref!r}",
                                hint="give it as SOURCE/ID, as tables print it") from None
