"""The registered extractors: one thin adapter per reader module (phones.py, emails.py, ...).

Each adapter calls its reader's public `find_*` function and turns the hits into Mentions
in the normal form of their kind (kinds.yaml). The readers themselves stay as they are.
"""

from __future__ import annotations

from typing import ClassVar

from tracelight import kinds as entity_kinds
from tracelight.errors import ConfigError
from tracelight.extract.ages import find_ages
from tracelight.extract.crypto import find_crypto
from tracelight.extract.emails import find_emails
from tracelight.extract.handles import find_urls_and_handles
from tracelight.extract.interface import Context, Extractor
from tracelight.extract.names import find_names
from tracelight.extract.phones import find_phones
from tracelight.extract.places import find_places
from tracelight.extract.prices import find_prices
from tracelight.records import Mention


class _Base:
    kinds: ClassVar[tuple[str, ...]] = ()
    claims_span: ClassVar[bool] = False

    def __repr__(self) -> str:
        return type(self).__name__


class PhoneExtractor(_Base):
    """Phones, de-obfuscated ("two oh six", "2O6", emoji digits), as E.164."""

    kinds = ("phone",)

    def extract(self, text: str, context: Context) -> list[Mention]:
        f = context.field
        return [Mention("phone", h.e164, f, h.start, h.end, h.obfuscated, text[h.start:h.end],
                        h.region, h.why)
                for h in find_phones(text, context.folded, context.region, context.low,
                                     context.words, context.plan)]


class EmailExtractor(_Base):
    """Emails, also written as "name at gmail dot com"; lower-case."""

    kinds = ("email",)

    def extract(self, text: str, context: Context) -> list[Mention]:
        f = context.field
        return [Mention("email", h.value, f, h.start, h.end, h.obfuscated, text[h.start:h.end])
                for h in find_emails(text, context.folded, context.low)]


class HandleExtractor(_Base):
    """URLs, and the social and payment handles in profile links and after platform words.

    Handles are case-insensitive on every platform: the value (what the store keys on and
    `kinds.normalize_lookup` builds) is "platform:handle", lower-case, without @ or $.
    """

    kinds = ("url", "social", "payment")

    def extract(self, text: str, context: Context) -> list[Mention]:
        folded, f = context.folded, context.field
        out = []
        for h in find_urls_and_handles(folded, context.low, context.words):
            if not context.wants(h.kind):
                continue
            value = h.handle if h.kind == "url" else \
                f"{h.platform}:{h.handle.lstrip('@$').lower()}"
            raw = text[h.start:h.end]
            out.append(Mention(h.kind, value, f, h.start, h.end,
                               raw != folded[h.start:h.end], raw))
        return out


class CryptoExtractor(_Base):
    """Crypto addresses whose checksum verifies, as "CUR:address" (ETH lower-case: it is
    case-insensitive once its checksum is verified)."""

    kinds = ("crypto",)
    claims_span = True

    def extract(self, text: str, context: Context) -> list[Mention]:
        out = []
        for c in find_crypto(context.folded):
            addr = c.address.lower() if c.currency == "ETH" else c.address
            out.append(Mention("crypto", f"{c.currency}:{addr}", context.field, c.start, c.end,
                               False, text[c.start:c.end]))
        return out


class AgeExtractor(_Base):
    """Stated ages ("22", a range "18-35") and, as `age_review`, ages under 18 told in
    narrative ("when I was about 16"): not a stated age, but for a person to read."""

    kinds = ("age", "age_review")

    def extract(self, text: str, context: Context) -> list[Mention]:
        f = context.field
        # an ad's title is read alone, or joined to its body by a NUL (extract.core)
        title_end = len(text) if f == "title" else max(0, context.folded.find("\x00") - 1)
        out = []
        for h in find_ages(context.folded, context.low, context.words, title_end):
            kind = "age_review" if h.review else "age"
            if context.wants(kind):
                out.append(Mention(kind, h.value, f, h.start, h.end, False,
                                   text[h.start:h.end]))
        return out


class PriceExtractor(_Base):
    kinds = ("price",)

    def extract(self, text: str, context: Context) -> list[Mention]:
        f = context.field
        return [Mention("price", h.value, f, h.start, h.end, False, text[h.start:h.end])
                for h in find_prices(context.folded, context.region, context.low,
                                     context.words)]


class PlaceExtractor(_Base):
    kinds = ("location",)

    def extract(self, text: str, context: Context) -> list[Mention]:
        f = context.field
        return [Mention("location", h.value, f, h.start, h.end, False, text[h.start:h.end])
                for h in find_places(context.folded, context.region, lenient=context.lenient,
                                     words=context.words)]


class NameExtractor(_Base):
    kinds = ("name",)

    def extract(self, text: str, context: Context) -> list[Mention]:
        f = context.field
        return [Mention("name", h.name, f, h.start, h.end, False, text[h.start:h.end])
                for h in find_names(context.folded, context.low, context.words)]


# In the order their mentions are listed when two start at one place with one kind.
EXTRACTORS: tuple[Extractor, ...] = (
    PhoneExtractor(), EmailExtractor(), HandleExtractor(), CryptoExtractor(), AgeExtractor(),
    PriceExtractor(), PlaceExtractor(), NameExtractor(),
)


def _check(extractors: tuple[Extractor, ...]) -> None:
    """Every kind declared in kinds.yaml has exactly one extractor, and every extractor reads
    declared kinds: a mismatch fails at import, not as silently missing mentions."""
    declared = set(entity_kinds.KINDS)
    read: dict[str, Extractor] = {}
    for ex in extractors:
        for k in ex.kinds:
            if k not in declared:
                raise ConfigError(f"kinds.yaml: kinds.{k}: read by {ex!r} but not declared")
            if k in read:
                raise ConfigError(f"kinds.yaml: kinds.{k}: read by both {read[k]!r} and {ex!r}")
            read[k] = ex
    missing = declared - set(read)
    if missing:
        raise ConfigError(f"kinds.yaml: kinds.{sorted(missing)[0]}: no extractor reads it")


_check(EXTRACTORS)
