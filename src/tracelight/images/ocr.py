"""Text written inside images (phone numbers painted on photos to dodge text scrapers).

Uses RapidOCR (`rapidocr-onnxruntime`), which ships its ONNX models inside the wheel: no download
at run time, no network. The engine is loaded once per process (about 0.6 s) and reused.

The result carries the image's position in the ad, so the extraction stage can run its
extractors over `ImageText.text` and mark the mentions with field "image:N"
(see records.Mention). OCR is best effort: an unreadable image yields an ImageText with `error`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tracelight import kinds as entity_kinds
from tracelight.blobs import ImageStore, is_key
from tracelight.errors import ConfigError
from tracelight.images.hashing import DECODE_FORMATS
from tracelight.records import ImageInfo, ProcessedAd

MIN_CONFIDENCE = 0.5
# The detector's default upsizes the short side to 736 px; capping the long side at 960 px reads
# ad-sized text as well and is ~8x faster on 800x600 photos.
DET_MAX_SIDE = 960
MAX_PIXELS = 40_000_000

_engine: Any = None
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class OcrLine:
    text: str
    confidence: float
    box: tuple[tuple[float, float], ...]  # corner points in image pixels


@dataclass(frozen=True, slots=True)
class ImageText:
    position: int  # the image's index in the ad's `images`
    lines: tuple[OcrLine, ...] = ()
    error: str | None = None

    @property
    def field(self) -> str:
        """The Mention.field value for text read from this image."""
        return image_field(self.position)

    @property
    def text(self) -> str:
        """All lines, one per line, in reading order: what extractors run over."""
        return "\n".join(line.text for line in self.lines)


def image_field(position: int) -> str:
    return f"image:{position}"


def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _get_engine() -> Any:
    global _engine
    with _lock:
        if _engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError:
                raise ConfigError("OCR needs the rapidocr-onnxruntime package",
                                  hint="pip install rapidocr-onnxruntime") from None
            _engine = RapidOCR(det_limit_type="max", det_limit_side_len=DET_MAX_SIDE,
                               print_verbose=False)
        return _engine


def ocr_array(rgb: np.ndarray, *, position: int = 0,
              min_confidence: float = MIN_CONFIDENCE) -> ImageText:
    """OCR an RGB uint8 array (height, width, 3)."""
    engine = _get_engine()
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # the engine follows OpenCV's BGR order
    with _lock:  # one ONNX session per process; it already uses every core
        result, _ = engine(bgr, use_cls=False)
    lines = []
    for box, text, score in result or []:
        if float(score) >= min_confidence and str(text).strip():
            lines.append(OcrLine(text=str(text), confidence=round(float(score), 4),
                                 box=tuple((float(x), float(y)) for x, y in box)))
    # Reading order: top to bottom, then left to right.
    lines.sort(key=lambda ln: (round(min(p[1] for p in ln.box) / 10), min(p[0] for p in ln.box)))
    return ImageText(position=position, lines=tuple(lines))


def ocr_image(path: str | Path, *, position: int = 0,
              min_confidence: float = MIN_CONFIDENCE) -> ImageText:
    """OCR one image file. Never raises for a bad file: see ImageText.error."""
    try:
        with Image.open(path, formats=DECODE_FORMATS) as im:
            if im.width * im.height > MAX_PIXELS:
                return ImageText(position=position,
                                 error=f"image is {im.width}x{im.height}, too large for OCR")
            rgb = np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        return ImageText(position=position, error="file not found")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return ImageText(position=position, error=f"image could not be decoded: {exc}")
    return ocr_array(rgb, position=position, min_confidence=min_confidence)


def kept_file(info: ImageInfo, image_dir: str | Path | None) -> Path | None:
    """The image-store file of a checked image (None: not kept, or an error)."""
    if info.error or not info.sha256 or image_dir is None or not is_key(info.stored_path):
        return None
    return ImageStore(image_dir).path(info.sha256)


def ocr_images(images: Sequence[ImageInfo], image_dir: str | Path | None, *,
               min_confidence: float = MIN_CONFIDENCE) -> list[ImageText]:
    """OCR the readable images of one ad: those kept in the image store under `image_dir`."""
    out = []
    for info in images:
        path = kept_file(info, image_dir)
        if path is None:
            continue
        out.append(ocr_image(path, position=info.position, min_confidence=min_confidence))
    return out


# Identifiers worth reading out of pictures: the contact kinds (kinds.yaml). Ages, prices and
# names are left out: OCR noise on room photos turns into false ages and names far more often
# than into real ones.
OCR_KINDS = entity_kinds.CONTACT


class OcrStage:
    """Pipeline stage (after ImageStage): read text in the ad's images and add the mentions
    found in it with field "image:N". Text is read once per image (by SHA-256) per worker,
    since networks reuse pictures across many ads."""

    def __init__(self, region: str = "US", kinds: Sequence[str] = OCR_KINDS,
                 cache_size: int = 4096, image_dir: str | None = None) -> None:
        self.region = region
        self.kinds = tuple(kinds)
        self.cache_size = cache_size
        self.image_dir = image_dir  # the image store ImageStage keeps the checked bytes in
        self._cache: dict[str, str] = {}

    def __getstate__(self) -> dict[str, object]:
        return {"region": self.region, "kinds": self.kinds, "cache_size": self.cache_size,
                "image_dir": self.image_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["region"], state["kinds"], state["cache_size"],  # type: ignore[misc]
                      state.get("image_dir"))

    def __call__(self, item: ProcessedAd, _base: Path) -> None:
        from tracelight.extract import extract_text

        for info in item.images:
            path = kept_file(info, self.image_dir)
            if path is None or not info.sha256:
                continue
            text = self._cache.get(info.sha256)
            if text is None:
                text = ocr_image(path, position=info.position).text
                if len(self._cache) >= self.cache_size:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[info.sha256] = text
            if text:
                item.mentions.extend(extract_text(text, image_field(info.position),
                                                  self.region, kinds=self.kinds))
