"""The image stage of the ingest pipeline: hash every image an ad references.

Plugs into tracelight.pipeline as a Stage (`(ProcessedAd, base_dir) -> None`):

    from tracelight.images.stage import ImageStage
    stages.append(ImageStage(opts.image_dir))

Local files only for now (relative paths resolve against the folder of the input file); URLs
get an ImageInfo with an error until a crawler downloads them. With an image folder set, the
bytes are copied there under their SHA-256 (`ab/abcdef....jpg`), so the evidence survives the
input folder being moved; the database only ever holds hashes and that path.
"""

from __future__ import annotations

import os
import shutil
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from tracelight.images.hashing import hash_image
from tracelight.records import ImageInfo, ProcessedAd

CACHE_SIZE = 4096  # networks reuse the same file in many ads: hash it once per worker
_SAFE_EXT = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}


class ImageStage:
    """Callable stage; picklable (holds only the folder name and a cache)."""

    def __init__(self, image_dir: str | None = None) -> None:
        self.image_dir = Path(image_dir) if image_dir else None
        self._cache: OrderedDict[tuple[str, int, int], ImageInfo] = OrderedDict()

    def __getstate__(self) -> dict[str, object]:
        return {"image_dir": self.image_dir}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.image_dir = state["image_dir"]  # type: ignore[assignment]
        self._cache = OrderedDict()

    def __call__(self, item: ProcessedAd, base_dir: Path) -> None:
        item.images = [self.hash_one(ref, pos, base_dir)
                       for pos, ref in enumerate(item.record.images)]

    def hash_one(self, ref: str, position: int, base_dir: Path) -> ImageInfo:
        if "://" in ref:
            return ImageInfo(position=position, original=ref,
                             error="remote image not fetched (no crawler configured)")
        path = Path(ref) if os.path.isabs(ref) else base_dir / ref
        try:
            st = path.stat()
            key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        except OSError:
            return hash_image(path, position=position, original=ref)  # reports the error
        cached = self._cache.get(key)
        if cached is None:
            cached = hash_image(path, original=ref)
            if cached.error is None and self.image_dir is not None:
                cached = replace(cached, stored_path=self._keep(path, cached))
            self._cache[key] = cached
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return replace(cached, position=position, original=ref)

    def _keep(self, src: Path, info: ImageInfo) -> str:
        """Copy the file into the image folder under its SHA-256 (once)."""
        assert self.image_dir is not None and info.sha256
        ext = src.suffix.lower() if src.suffix.lower() in _SAFE_EXT else ".img"
        dest = self.image_dir / info.sha256[:2] / f"{info.sha256}{ext}"
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + f".{os.getpid()}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)  # atomic: a crash never leaves a half-copied image
        # Absolute: the web app, OCR and bank checks read it from whatever directory they run in
        return str(dest.resolve())
