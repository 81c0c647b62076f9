"""Room photos to local features: checked decode, foreground mask, ORB keypoints.

A room photo is hostile bytes: it is decoded by Pillow under the pixel limit (size read from
the header first, only the raster formats ad photos come in), reduced to at most `WORK_SIDE`
pixels on its long side, and only then handed to OpenCV. Anything else raises
`RoomImageError` with a reason an analyst can read.

The foreground (in ad photos usually the possible victim, in the synthetic gallery a plain
silhouette) is not part of the room. Two ways keep it out of the features:

- `regions`: rectangles the analyst draws (fractions of the frame, `x,y,w,h`), kept or
  excluded;
- `auto_mask`: a simple shipped segmentation with no weights: large, nearly uniform,
  connected regions of the frame (a body or clothing against a patterned room) are found on a
  reduced copy and dilated, and keypoints inside them are dropped. Flat room surfaces are
  dropped with them, which costs little: flat regions hold no keypoints of their own.

Pure functions over bytes and arrays; no database, no web.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from tracelight.images.hashing import DECODE_FORMATS, MAX_PIXELS

WORK_SIDE = 480  # features are computed on the photo reduced to this long side
MIN_SIDE = 32
N_FEATURES = 500
DESC_BYTES = 32  # ORB: 256-bit binary descriptors


class RoomImageError(ValueError):
    """A room photo that cannot be used; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Region:
    """A rectangle in fractions of the frame (0..1); `keep` False excludes it."""

    x: float
    y: float
    w: float
    h: float
    keep: bool = True

    @classmethod
    def parse(cls, text: str, keep: bool = True) -> Region:
        parts = text.split(",")
        if len(parts) != 4:
            raise ValueError(f"a region is x,y,w,h in fractions of the frame, got {text!r}")
        try:
            x, y, w, h = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"a region is four numbers x,y,w,h, got {text!r}") from None
        if not all(0.0 <= v <= 1.0 for v in (x, y, w, h)) or w <= 0 or h <= 0:
            raise ValueError(f"region values are fractions 0..1 with w, h > 0: {text!r}")
        return cls(x, y, min(w, 1.0 - x), min(h, 1.0 - y), keep)


@dataclass
class Features:
    """Keypoints of one photo: xy in the reduced frame, ORB descriptors, the frame size."""

    xy: np.ndarray  # (n, 2) float32
    desc: np.ndarray  # (n, 32) uint8
    size: tuple[int, int]  # (width, height) of the reduced frame

    def __len__(self) -> int:
        return int(self.xy.shape[0])


def decode(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The photo as an RGB uint8 array reduced to WORK_SIDE, or RoomImageError."""
    if not data:
        raise RoomImageError("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=DECODE_FORMATS)
            w, h = im.size
            if w * h > max_pixels:
                raise RoomImageError(f"image is {w}x{h} pixels, over the {max_pixels:,}-pixel "
                                     "limit: not decoded")
            if min(w, h) < MIN_SIDE:
                raise RoomImageError(f"image is {w}x{h} pixels: too small to match a room")
            if im.format == "JPEG":
                im.draft("RGB", (WORK_SIDE, WORK_SIDE))
            rgb = im.convert("RGB")
            rgb.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except RoomImageError:
        raise
    except UnidentifiedImageError:
        raise RoomImageError("not a recognised image format") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RoomImageError(f"image over the {max_pixels:,}-pixel limit: not decoded") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise RoomImageError(f"image could not be decoded (truncated or damaged): "
                             f"{str(exc)[:120]}") from None


def foreground_mask(rgb: np.ndarray, min_fraction: float = 0.06) -> np.ndarray:
    """uint8 mask (255 = foreground to drop) of large, nearly uniform connected regions."""
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    # local variation: mean absolute deviation from a 5x5 mean, summed over channels
    mean = cv2.blur(lab, (5, 5))
    var = cv2.blur(np.abs(lab - mean).sum(axis=2), (5, 5))
    flat = (var < 2.5).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=4)
    area = small.shape[0] * small.shape[1]
    keep = np.zeros(n, dtype=bool)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] >= min_fraction * area:
            keep[i] = True
    mask: np.ndarray = (keep[labels] * 255).astype(np.uint8)
    mask = np.asarray(cv2.dilate(mask, np.ones((5, 5), np.uint8)), np.uint8)
    return np.asarray(cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST), np.uint8)


def region_mask(shape: tuple[int, int], regions: Sequence[Region]) -> np.ndarray | None:
    """uint8 mask (255 = use) from analyst regions, or None for the whole frame."""
    if not regions:
        return None
    h, w = shape
    keeps = [r for r in regions if r.keep]
    mask = np.zeros((h, w), np.uint8) if keeps else np.full((h, w), 255, np.uint8)
    for r in regions:
        x0, y0 = int(r.x * w), int(r.y * h)
        x1, y1 = int((r.x + r.w) * w), int((r.y + r.h) * h)
        mask[y0:y1, x0:x1] = 255 if r.keep else 0
    return mask


_ORB: cv2.ORB | None = None


def _orb() -> cv2.ORB:
    global _ORB
    if _ORB is None:
        _ORB = cv2.ORB.create(nfeatures=N_FEATURES, scaleFactor=1.2, nlevels=6,
                              fastThreshold=12)
    return _ORB


def extract(rgb: np.ndarray, *, auto_mask: bool = False,
            regions: Sequence[Region] = ()) -> Features:
    """ORB keypoints of a decoded photo, foreground dropped as asked."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    use = region_mask((h, w), regions)
    if auto_mask:
        fg = foreground_mask(rgb)
        use = cv2.bitwise_and(use, cv2.bitwise_not(fg)) if use is not None \
            else cv2.bitwise_not(fg)
    kps, desc = _orb().detectAndCompute(gray, use)
    if desc is None or not kps:
        return Features(np.zeros((0, 2), np.float32), np.zeros((0, DESC_BYTES), np.uint8),
                        (w, h))
    xy = np.array([k.pt for k in kps], dtype=np.float32)
    return Features(xy, np.ascontiguousarray(desc, dtype=np.uint8), (w, h))


def features_of(data: bytes, *, auto_mask: bool = False, regions: Sequence[Region] = (),
                max_pixels: int = MAX_PIXELS) -> Features:
    """decode then extract: the features of a photo's bytes, or RoomImageError."""
    return extract(decode(data, max_pixels), auto_mask=auto_mask, regions=regions)
