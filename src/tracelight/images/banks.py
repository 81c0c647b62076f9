"""Known-image hash banks (like Meta's Hasher-Matcher-Actioner): parsing and in-memory matching.

A bank is a named list of hashes someone trusted shared (PhotoDNA-style lists, missing-persons
photos, a partner's takedown list). Matching is pure: the store keeps banks and alerts, this
module answers "which bank entries does this image match, and how closely".

Bank file formats (one per file, detected from its first data line):
- plain lines, one hash each: PDQ (64 hex), MD5 (32 hex) or SHA-1 (40 hex); an optional label
  may follow after a comma or tab. `#` starts a comment line. SHA-256 is also 64 hex, so a
  SHA-256 list needs `kind="sha256"` (CLI `--kind sha256`).
- CSV with a header row: the hash column is named pdq, md5, sha1, sha256, hash or
  signal_value; an optional label column is named label, labels, tag, tags or category.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracelight.errors import InputError
from tracelight.images.hashing import MAX_FILE_BYTES, pdq_to_bytes
from tracelight.images.pdqindex import HASH_BYTES, PdqIndex
from tracelight.images.refs import ImageRefused, read_regular_file
from tracelight.records import ImageInfo

KINDS = ("pdq", "md5", "sha1", "sha256")
EXACT_KINDS = ("md5", "sha1", "sha256")
_LEN_TO_KIND = {32: "md5", 40: "sha1", 64: "pdq"}
_KIND_LEN = {"pdq": 64, "md5": 32, "sha1": 40, "sha256": 64}
HASH_COLUMNS = ("pdq", "md5", "sha1", "sha256", "hash", "signal_value", "value")
LABEL_COLUMNS = ("label", "labels", "tag", "tags", "category")
MAX_LABEL_CHARS = 500
MAX_ERRORS_SHOWN = 5
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class BankEntry:
    kind: str  # pdq, md5, sha1, sha256
    value: str  # lower-case hex
    label: str | None = None
    line: int = 0  # line in the source file, for messages


@dataclass(frozen=True, slots=True)
class BankMatch:
    """One image matching one bank entry: the evidence an alert carries."""

    bank: str
    kind: str
    bank_hash: str
    label: str | None
    distance: int  # PDQ Hamming distance; 0 for exact hash kinds
    image_sha256: str | None
    image_position: int

    def to_dict(self) -> dict[str, object]:
        return {"bank": self.bank, "kind": self.kind, "bank_hash": self.bank_hash,
                "label": self.label, "distance": self.distance,
                "image_sha256": self.image_sha256, "image_position": self.image_position}


def _is_hex(value: str) -> bool:
    return bool(value) and set(value) <= _HEX


def _entry(raw: str, label: str | None, kind: str, line: int) -> BankEntry | str:
    """A validated entry, or the message saying why the value is not one."""
    value = raw.strip().lower()
    if value.startswith("0x"):
        value = value[2:]
    if not _is_hex(value):
        return f"not a hexadecimal hash: {raw.strip()[:70]!r}"
    if kind == "auto":
        detected = _LEN_TO_KIND.get(len(value))
        if detected is None:
            return (f"a {len(value)}-character hash is none of PDQ (64), MD5 (32) or "
                    "SHA-1 (40)")
        kind = detected
    elif len(value) != _KIND_LEN[kind]:
        return f"a {kind} hash has {_KIND_LEN[kind]} hex characters, this one {len(value)}"
    label = (label or "").strip() or None
    if label and len(label) > MAX_LABEL_CHARS:
        label = label[:MAX_LABEL_CHARS]
    return BankEntry(kind=kind, value=value, label=label, line=line)


def parse_bank_lines(lines: Iterable[str], *, kind: str = "auto",
                     origin: str = "<bank>") -> list[BankEntry]:
    """Parse a bank file's lines into entries; raise InputError naming file and line numbers.

    Duplicates (same kind and value) keep their first occurrence.
    """
    if kind != "auto" and kind not in KINDS:
        raise InputError(f"unknown hash kind {kind!r}", hint="use pdq, md5, sha1 or sha256")
    numbered = [(n, line.rstrip("\r\n")) for n, line in enumerate(lines, start=1)]
    data = [(n, line) for n, line in numbered
            if line.strip() and not line.lstrip().startswith("#")]
    if data and data[0][1].lstrip().startswith("\ufeff"):
        data[0] = (data[0][0], data[0][1].lstrip().lstrip("\ufeff"))
    entries: list[BankEntry] = []
    errors: list[str] = []
    if data and _looks_like_header(data[0][1]):
        rows = _csv_rows(data, origin)
        entries, errors = _parse_csv(rows, kind, origin)
    else:
        for n, line in data:
            text = line.replace("\t", ",")
            raw, _, label = text.partition(",")
            result = _entry(raw, label, kind, n)
            if isinstance(result, str):
                errors.append(f"{origin}:{n}: {result}")
            else:
                entries.append(result)
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN \
            else ""
        raise InputError(f"{len(errors)} invalid line(s) in bank file: {shown}{more}",
                         hint="nothing was imported; fix the lines and import again")
    if not entries:
        raise InputError(f"{origin}: no hashes found in bank file")
    seen: set[tuple[str, str]] = set()
    unique: list[BankEntry] = []
    for e in entries:
        if (e.kind, e.value) not in seen:
            seen.add((e.kind, e.value))
            unique.append(e)
    return unique


def _looks_like_header(line: str) -> bool:
    first = line.replace("\t", ",").split(",")[0].strip().strip('"').lower()
    return first in HASH_COLUMNS or first in LABEL_COLUMNS or (
        "," in line and not _is_hex(first.removeprefix("0x")))


def _csv_rows(data: list[tuple[int, str]], origin: str) -> list[tuple[int, list[str]]]:
    delimiter = "\t" if "\t" in data[0][1] and "," not in data[0][1] else ","
    out = []
    for n, line in data:
        try:
            out.append((n, next(csv.reader([line], delimiter=delimiter))))
        except (csv.Error, StopIteration) as exc:
            raise InputError(f"{origin}:{n}: not valid CSV: {exc}") from None
    return out


def _parse_csv(rows: list[tuple[int, list[str]]], kind: str, origin: str
               ) -> tuple[list[BankEntry], list[str]]:
    header_line, header = rows[0]
    names = [h.strip().lower() for h in header]
    hash_col = next((names.index(c) for c in HASH_COLUMNS if c in names), None)
    if hash_col is None:
        raise InputError(f"{origin}:{header_line}: CSV header has no hash column",
                         hint="name it one of " + ", ".join(HASH_COLUMNS))
    label_col = next((names.index(c) for c in LABEL_COLUMNS if c in names), None)
    col_kind = names[hash_col] if names[hash_col] in KINDS else kind
    if kind != "auto" and col_kind != kind:
        raise InputError(f"{origin}:{header_line}: column {names[hash_col]!r} holds "
                         f"{col_kind} hashes but --kind {kind} was given")
    entries: list[BankEntry] = []
    errors: list[str] = []
    for n, cells in rows[1:]:
        if hash_col >= len(cells):
            errors.append(f"{origin}:{n}: missing the {names[hash_col]!r} column")
            continue
        label = cells[label_col] if label_col is not None and label_col < len(cells) else None
        result = _entry(cells[hash_col], label, col_kind, n)
        if isinstance(result, str):
            errors.append(f"{origin}:{n}: {result}")
        else:
            entries.append(result)
    return entries, errors


def parse_bank_file(path: str | Path, *, kind: str = "auto") -> list[BankEntry]:
    p = Path(path)
    try:
        with p.open(encoding="utf-8", newline="") as fh:
            return parse_bank_lines(fh, kind=kind, origin=str(path))
    except FileNotFoundError:
        raise InputError(f"bank file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a bank file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a UTF-8 text file",
                         hint="a bank file lists hashes as text, one per line") from None
    except OSError as exc:
        raise InputError(f"cannot read bank file {path}: {exc.strerror or exc}") from None


class BankIndex:
    """All loaded banks, searchable together. Build once, match many images."""

    def __init__(self) -> None:
        self._exact: dict[str, dict[str, list[tuple[str, str | None]]]] = {
            k: {} for k in EXACT_KINDS}
        self._pdq_bank: list[str] = []
        self._pdq_label: list[str | None] = []
        self._pdq_hex: list[str] = []
        self._pdq_chunks: list[bytes] = []
        self._pdq_index: PdqIndex | None = None
        self.banks: dict[str, int] = {}
        # The image store that content keys (ImageInfo.stored_path) are relative to; SHA-1 is
        # computed from the kept bytes when a SHA-1 bank exists.
        self.image_dir: str | Path | None = None

    def add_bank(self, name: str, entries: Iterable[BankEntry]) -> None:
        count = 0
        for e in entries:
            count += 1
            if e.kind == "pdq":
                self._pdq_bank.append(name)
                self._pdq_label.append(e.label)
                self._pdq_hex.append(e.value)
                self._pdq_chunks.append(pdq_to_bytes(e.value))
            else:
                self._exact[e.kind].setdefault(e.value, []).append((name, e.label))
        self.banks[name] = self.banks.get(name, 0) + count
        self._pdq_index = None  # rebuilt on next match

    @property
    def pdq_count(self) -> int:
        return len(self._pdq_hex)

    @property
    def has_sha1(self) -> bool:
        return bool(self._exact["sha1"])

    def build(self) -> None:
        """Build the PDQ index now (otherwise the first match does it)."""
        packed = np.frombuffer(b"".join(self._pdq_chunks), dtype=np.uint8)
        self._pdq_index = PdqIndex(packed.reshape(-1, HASH_BYTES).copy())

    def match(self, images: Sequence[ImageInfo], threshold: int = 31) -> list[list[BankMatch]]:
        """For each image, every bank entry it matches: exact hashes, then PDQ by distance."""
        out: list[list[BankMatch]] = [[] for _ in images]
        for i, info in enumerate(images):
            hashes = {"md5": info.md5, "sha256": info.sha256}
            if self.has_sha1:
                hashes["sha1"] = _sha1_of(info, self.image_dir)
            for kind, value in hashes.items():
                for bank, label in self._exact[kind].get(value or "", []):
                    out[i].append(BankMatch(bank, kind, value or "", label, 0, info.sha256,
                                            info.position))
        with_pdq = [i for i, info in enumerate(images) if info.pdq]
        if with_pdq and self._pdq_hex:
            if self._pdq_index is None:
                self.build()
            assert self._pdq_index is not None
            queries = np.frombuffer(b"".join(pdq_to_bytes(images[i].pdq or "")
                                             for i in with_pdq), dtype=np.uint8)
            hits = self._pdq_index.search(queries.reshape(-1, HASH_BYTES), threshold)
            for i, found in zip(with_pdq, hits, strict=True):
                info = images[i]
                for j, dist in found:
                    out[i].append(BankMatch(self._pdq_bank[j], "pdq", self._pdq_hex[j],
                                            self._pdq_label[j], dist, info.sha256,
                                            info.position))
        return out


def _sha1_of(info: ImageInfo, image_dir: str | Path | None) -> str | None:
    """SHA-1 is only needed for SHA-1 banks, so it is computed from the kept bytes on demand:
    the image store's copy for a content key, else the file `hash_image` read."""
    from tracelight.blobs import ImageStore, is_key

    if not info.stored_path or not info.sha256:
        return None
    try:
        if is_key(info.stored_path):
            if image_dir is None:
                return None
            data = ImageStore(image_dir).get(info.sha256, MAX_FILE_BYTES)
        else:
            data = read_regular_file(Path(info.stored_path), MAX_FILE_BYTES)
    except ImageRefused:
        return None
    if hashlib.sha256(data).hexdigest() != info.sha256:
        return None  # the file changed on disk since it was hashed: not the same evidence
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()
