"""The image stage of the ingest pipeline: check, hash and keep every image an ad references.

Plugs into tracelight.pipeline as a Stage (`(ProcessedAd, base_dir) -> None`):

    from tracelight.images.stage import ImageStage
    stages.append(ImageStage(opts.image_dir))

Images are data we copy, never paths we follow. A reference is read only if it names a regular
file inside the folder of the input it came from, under the size cap (tracelight.images.refs);
it is decoded under the pixel limit, and with an image folder set the checked bytes are kept in
tracelight's content-addressed store (tracelight.store.blobs) under their SHA-256. The database
only holds the hashes and that relative content key. A reference that fails a check becomes an
ImageInfo with an `error` (the image error shown on the ad) and no stored file. URLs get an
error unless a crawler downloaded them: `tracelight crawl` fetches each image once, checks it and
keeps it in the image store, then passes `remote` (URL -> "sha256:HEX" or "error:REASON"); the
stage reads those bytes back from the store (re-checked against their SHA-256), never from the
network and never because a record claims a hash.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from tracelight import settings
from tracelight.blobs import ImageStore, key_for
from tracelight.images.hashing import hash_bytes
from tracelight.images.refs import ImageRefused, read_regular_file, resolve_reference
from tracelight.records import ImageInfo, ProcessedAd

CACHE_SIZE = 4096  # networks reuse the same file in many ads: hash it once per worker


class ImageStage:
    """Callable stage; picklable (holds only the folder name, the size cap and a cache)."""

    def __init__(self, image_dir: str | None = None, max_bytes: int | None = None, *,
                 remote: dict[str, str] | None = None,
                 known: tuple[ImageInfo, ...] = ()) -> None:
        self.image_dir = Path(image_dir) if image_dir else None
        self.max_bytes = max_bytes if max_bytes is not None else \
            settings.get_int("image_max_bytes")
        self.remote = remote or {}
        self._cache: OrderedDict[tuple[str, int, int, int], ImageInfo] = OrderedDict()
        # hashes the crawler computed when it checked the bytes it kept: not computed again
        self._by_sha: OrderedDict[str, ImageInfo] = OrderedDict(
            (i.sha256, replace(i, stored_path=key_for(i.sha256))) for i in known
            if i.sha256 and i.error is None)

    def __getstate__(self) -> dict[str, object]:
        return {"image_dir": self.image_dir, "max_bytes": self.max_bytes,
                "remote": self.remote}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.image_dir = state["image_dir"]  # type: ignore[assignment]
        self.max_bytes = state["max_bytes"]  # type: ignore[assignment]
        self.remote = state.get("remote") or {}  # type: ignore[assignment]
        self._cache = OrderedDict()
        self._by_sha = OrderedDict()

    def __call__(self, item: ProcessedAd, base_dir: Path) -> None:
        item.images = [self.downloaded(ref, pos) if ref in self.remote else
                       self.hash_one(ref, pos, base_dir)
                       for pos, ref in enumerate(item.record.images)]

    def downloaded(self, ref: str, position: int) -> ImageInfo:
        """An image the crawler fetched and kept (or could not): read back from the store."""
        value = self.remote[ref]
        if not value.startswith("sha256:"):
            return ImageInfo(position=position, original=ref,
                             error=value.removeprefix("error:") or "not downloaded")
        sha = value[len("sha256:"):]
        cached = self._by_sha.get(sha)
        if cached is None:
            if self.image_dir is None:
                return ImageInfo(position=position, original=ref,
                                 error="downloaded, but no image folder is set")
            try:
                data = ImageStore(self.image_dir).get(sha, self.max_bytes)
            except ImageRefused as exc:
                return ImageInfo(position=position, original=ref, error=exc.reason)
            cached = replace(hash_bytes(data), stored_path=key_for(sha))
            self._by_sha[sha] = cached
            if len(self._by_sha) > CACHE_SIZE:
                self._by_sha.popitem(last=False)
        return replace(cached, position=position, original=ref)

    def hash_one(self, ref: str, position: int, base_dir: Path) -> ImageInfo:
        try:
            path = resolve_reference(ref, base_dir)
            st = os.stat(path)
        except ImageRefused as exc:
            return ImageInfo(position=position, original=ref, error=exc.reason)
        except FileNotFoundError:
            return ImageInfo(position=position, original=ref, error="file not found")
        except OSError as exc:
            return ImageInfo(position=position, original=ref,
                             error=f"file could not be read: {exc.strerror or exc}")
        key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._check_and_keep(path)
            self._cache[key] = cached
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return replace(cached, position=position, original=ref)

    def _check_and_keep(self, path: Path) -> ImageInfo:
        try:
            data = read_regular_file(path, self.max_bytes)
        except ImageRefused as exc:
            return ImageInfo(position=0, original="", error=exc.reason)
        info = hash_bytes(data)
        if info.error is None and self.image_dir is not None and info.sha256:
            info = replace(info, stored_path=ImageStore(self.image_dir).put(data, info.sha256))
        return info
