"""Shared helpers for the image tests: generated, non-explicit pictures only."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# ThreatExchange's PDQ reference images and hashes (BSD): the subset the tests need is
# vendored in tests/data/pdq, so they run on a fresh clone. TRACELIGHT_PDQ_DATA may point at a
# fuller copy of the upstream folder (the same layout and expected.csv).
PDQ_DATA = Path(os.environ.get("TRACELIGHT_PDQ_DATA")
                or Path(__file__).parent / "data" / "pdq")


def scene(path: Path, seed: int, size: tuple[int, int] = (320, 240), quality: int = 90) -> Path:
    """A 'room' of coloured rectangles on a gradient, saved as JPEG."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(60, 200, 3)
    arr = base[None, None, :] + xx[..., None] * rng.uniform(-0.3, 0.3, 3)
    im = Image.fromarray(np.clip(arr + yy[..., None] * 0.1, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(im)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        draw.rectangle((x0, y0, x0 + int(rng.integers(15, w // 2)),
                        y0 + int(rng.integers(15, h // 2))),
                       fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    im.save(path, "JPEG", quality=quality)
    return path


def edited_copy(src: Path, dst: Path) -> Path:
    """Re-encoded at lower quality, resized and brightened: a typical reposted copy."""
    with Image.open(src) as im:
        w, h = im.size
        out = im.resize((w * 3 // 4, h * 3 // 4)).point(lambda v: min(255, v + 12))
        out.save(dst, "JPEG", quality=60)
    return dst


def text_card(path: Path, text: str) -> Path:
    im = Image.new("RGB", (640, 200), (235, 225, 205))
    draw = ImageDraw.Draw(im)
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
            "DejaVuSans.ttf", 44)
    except OSError:
        font = ImageFont.load_default(size=44)
    draw.text((24, 70), text, fill=(15, 15, 15), font=font)
    im.save(path, "PNG")
    return path
