"""Use case: bring a store made before the image store up to date (`tracelight image
migrate`); the store does the reads and writes (store/ads.py).

Older versions kept an absolute path per image (the copy in the image folder, or, without one,
the source file itself, wherever an ad's reference pointed). Those paths are never followed by
the web app. This step copies what is still readable and valid into the content-addressed
store and flags the rest as image errors on the ads:

- an image is copied only from a regular file inside the image folder, under the size cap,
  whose bytes still have the SHA-256 recorded at ingest and decode under the pixel limit;
  anything else (a source path outside the image folder, `/etc/passwd`, a FIFO, a changed or
  missing file, a non-image) gets `stored_path = NULL` and an error on every ad that shows it;
- an ad's reference that could never pass today's ingest checks from its text alone (absolute,
  `..`, a URL scheme) is flagged on that ad even if the bytes were a valid image.

Idempotent: images already keyed and present in the store are skipped, flags are only written
where an ad image has no error yet, so running it twice changes nothing the second time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tracelight.blobs import ImageStore, is_key, key_for
from tracelight.images.hashing import hash_bytes
from tracelight.images.refs import ImageRefused, check_reference_text, is_remote, read_regular_file
from tracelight.store import Store

PREFIX = "image migration: "


@dataclass
class MigrateSummary:
    checked: int = 0
    already: int = 0  # keyed and present in the store
    copied: int = 0  # copied into the store (or found there) and re-keyed
    flagged: int = 0  # images whose bytes could not be kept
    refs_flagged: int = 0  # ad references refused from their text alone
    examples: list[str] = field(default_factory=list)  # a few "sha256: reason" lines

    def to_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "already": self.already, "copied": self.copied,
                "flagged": self.flagged, "refs_flagged": self.refs_flagged,
                "examples": self.examples}


def _legacy_bytes(stored: str | None, sha256: str, root: Path, max_bytes: int) -> bytes:
    if not stored:
        raise ImageRefused("the image bytes were never kept")
    path = Path(stored)
    if not path.is_absolute():
        path = root / path
    real = Path(os.path.realpath(path))
    root_real = Path(os.path.realpath(root))
    if not real.is_relative_to(root_real) or real == root_real:
        raise ImageRefused("kept outside the image folder (a source path): not read; "
                           "ingest the input again to check it")
    data = read_regular_file(real, max_bytes)
    info = hash_bytes(data)
    if info.sha256 != sha256:
        raise ImageRefused("the file changed since it was hashed")
    if info.error:
        raise ImageRefused(info.error)
    return data


def migrate_images(store: Store, image_dir: str | Path, *, max_bytes: int) -> MigrateSummary:
    """Copy readable, valid images into the store under `image_dir`; flag the rest."""
    root = Path(image_dir)
    kept = ImageStore(root)
    out = MigrateSummary()
    for pk, sha256, stored_path in store.iter_image_keys():
        out.checked += 1
        if is_key(stored_path) and stored_path == key_for(sha256) and kept.has(sha256):
            out.already += 1
            continue
        if stored_path is None and not kept.has(sha256):
            continue  # never kept (an error at ingest), or flagged by an earlier run
        try:
            if kept.has(sha256):
                kept.get(sha256, max_bytes)  # re-checks type, size and hash
            else:
                kept.put(_legacy_bytes(stored_path, sha256, root, max_bytes), sha256)
        except ImageRefused as exc:
            out.flagged += 1
            if len(out.examples) < 5:
                out.examples.append(f"{sha256[:16]}: {exc.reason}")
            store.drop_image_bytes(pk, PREFIX + exc.reason)
            continue
        store.set_image_key(pk, key_for(sha256))
        out.copied += 1
    out.refs_flagged = _flag_references(store)
    return out


def _flag_references(store: Store) -> int:
    """Flag ad images whose reference text fails today's checks (absolute, '..', schemes)."""
    flagged = 0
    for ad_pk, position, original in store.unflagged_image_refs():
        if is_remote(original):
            continue
        try:
            check_reference_text(original)
        except ImageRefused as exc:
            flagged += 1
            store.flag_ad_image(ad_pk, position, PREFIX + exc.reason)
    return flagged
