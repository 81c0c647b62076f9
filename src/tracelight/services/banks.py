"""Use case: hash banks of known abuse imagery, matched against stored ad images.

Importing a bank matches every stored image against its new hashes; each ingest batch's
images are matched against every bank (`BankHook`). Matching is pure
(tracelight.images.banks.BankIndex); the store records the alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from tracelight import settings
from tracelight.images.banks import BankEntry, BankIndex, BankMatch
from tracelight.records import ImageInfo
from tracelight.store import Store
from tracelight.store.image_banks import MIN_PDQ_QUALITY, FoundMatch


@dataclass(frozen=True)
class ImportResult:
    bank: str
    created: bool
    added: int
    already_present: int
    new_matches: int


def import_bank(store: Store, name: str, entries: Sequence[BankEntry], *,
                source: str | None = None, threshold: int | None = None) -> ImportResult:
    """Create bank NAME (or add to it) and match every stored image against the new hashes."""
    name, created, added = store.add_bank_hashes(
        name, [(e.kind, e.value, e.label) for e in entries], source=source)
    new_matches = 0
    if added:
        # Images ingested before this bank existed are matched now, against this bank only.
        index = load_bank_index(store, bank=name)
        new_matches = len(_match_stored(store, index, threshold))
    return ImportResult(bank=name, created=created, added=added,
                        already_present=len(entries) - added, new_matches=new_matches)


def load_bank_index(store: Store, *, bank: str | None = None) -> BankIndex:
    """Every bank (or one) in a BankIndex. Build once per ingest run, not per batch."""
    index = BankIndex()
    index.image_dir = settings.get("image_dir")
    per_bank: dict[str, list[BankEntry]] = {}
    for h in store.iter_bank_hashes(bank=bank):
        per_bank.setdefault(h.bank, []).append(BankEntry(h.kind, h.value, h.label))
    for name, entries in per_bank.items():
        index.add_bank(name, entries)
    return index


def match_images(store: Store, images_: Sequence[ImageInfo], *, index: BankIndex | None = None,
                 threshold: int | None = None) -> list[BankMatch]:
    """Match ingested images against all banks and record an alert for each new match.

    For the ingest pipeline: call after the batch is written (the images must be stored), with
    one `index = load_bank_index(store)` reused for the whole run. Returns the new matches.
    """
    index = index if index is not None else load_bank_index(store)
    if not index.banks:
        return []
    return _record(store, index, [i for i in images_ if i.sha256], threshold)


class BankHook:
    """After-batch hook for ingest (tracelight.ingest.runner.AfterBatch): match the images of
    the ads just written against every bank. The bank index is loaded once, on first use."""

    def __init__(self, threshold: int | None = None, via: str | None = None) -> None:
        self.threshold = threshold
        self.via = via  # set: queue `bank.match` webhooks for new matches (services/alerts)
        self.index: BankIndex | None = None
        self.new_matches: list[BankMatch] = []

    def __call__(self, store: Store, ad_pks: list[int]) -> None:
        if self.index is None:
            self.index = load_bank_index(store)
        if not self.index.banks or not ad_pks:
            return
        new = match_images(store, store.images_of_ads(ad_pks), index=self.index,
                           threshold=self.threshold)
        self.new_matches += new
        if new and self.via:
            from tracelight.services.alerts import _wanted, bank_matches_event
            if _wanted(store, "bank.match"):
                bank_matches_event(store, new, self.via)


def _match_stored(store: Store, index: BankIndex, threshold: int | None) -> list[BankMatch]:
    found: list[BankMatch] = []
    batch: list[ImageInfo] = []
    for info in store.iter_stored_images():
        batch.append(info)
        if len(batch) >= 5000:
            found += _record(store, index, batch, threshold)
            batch = []
    if batch:
        found += _record(store, index, batch, threshold)
    return found


def _record(store: Store, index: BankIndex, infos: Sequence[ImageInfo],
            threshold: int | None) -> list[BankMatch]:
    if threshold is None:
        threshold = settings.get_int("pdq_threshold")
    # A flat picture's PDQ hash resembles every other flat picture's: only exact hashes count.
    pdq_ok = [i if (i.quality or 0) >= MIN_PDQ_QUALITY else replace(i, pdq=None) for i in infos]
    matches = [m for per in index.match(pdq_ok, threshold) for m in per]
    if not matches:
        return []
    new = store.record_bank_matches([FoundMatch(m.image_sha256 or "", m.bank, m.kind,
                                                m.bank_hash, m.distance) for m in matches])
    return [matches[i] for i in new]
