"""Non-explicit pictures for the demo corpus, drawn with Pillow, deterministic per seed.

Three kinds of base picture: abstract (gradient + shapes), "room" (walls, floor, a bed-like
block, a window, a lamp: the hotel-room shape TraffickCam-style matching deals with) and text
cards (a name and sometimes a phone number, for OCR). Networks reuse a base picture as the same
file (exact copy) or as an edited copy: re-encoded at another JPEG quality, resized, slightly
cropped or brightness-shifted — edits a perceptual hash (PDQ) should see through.
"""

from __future__ import annotations

import multiprocessing
import random
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

SIZES = [(320, 240), (480, 360), (640, 480), (800, 600), (600, 800), (360, 480), (512, 512)]
EDITS = ("exact", "reencode", "resize", "crop", "brightness")


@dataclass(frozen=True)
class BaseImage:
    """A picture drawn from scratch. `text` is written inside it (cards only)."""

    base_id: str
    seed: int
    kind: str  # abstract, room, card
    size: tuple[int, int]
    text: str = ""
    fmt: str = "jpg"


@dataclass(frozen=True)
class ImageJob:
    """One file to write: a base picture, or an edited copy of one."""

    path: str  # relative to the corpus folder, e.g. images/n0012-b1-e2.jpg
    base: BaseImage
    edit: str = "exact"
    edit_seed: int = 0


def _gradient(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    c1 = rng.integers(0, 256, 3).astype(np.float32)
    c2 = rng.integers(0, 256, 3).astype(np.float32)
    angle = rng.uniform(0, np.pi)
    sw, sh = max(2, w // 8), max(2, h // 8)  # draw small, scale up: same look, 50x cheaper
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = xs / sw * np.cos(angle) + ys / sh * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    arr = c1[None, None, :] * (1 - t[..., None]) + c2[None, None, :] * t[..., None]
    return Image.fromarray(arr.astype(np.uint8), "RGB").resize((w, h), Image.Resampling.BILINEAR)


def _color(r: random.Random) -> tuple[int, int, int]:
    return (r.randrange(256), r.randrange(256), r.randrange(256))


def _abstract(r: random.Random, img: Image.Image) -> None:
    d = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(r.randint(8, 20)):
        x0, y0 = r.randrange(w), r.randrange(h)
        x1, y1 = x0 + r.randint(w // 12, w // 2), y0 + r.randint(h // 12, h // 2)
        shape = r.random()
        if shape < 0.4:
            d.ellipse((x0, y0, x1, y1), fill=_color(r))
        elif shape < 0.75:
            d.rectangle((x0, y0, x1, y1), fill=_color(r))
        else:
            pts = [(r.randrange(w), r.randrange(h)) for _ in range(3)]
            d.polygon(pts, fill=_color(r))


def _room(r: random.Random, img: Image.Image) -> None:
    d = ImageDraw.Draw(img)
    w, h = img.size
    horizon = int(h * r.uniform(0.55, 0.7))
    d.rectangle((0, 0, w, horizon), fill=_color(r))  # wall
    d.rectangle((0, horizon, w, h), fill=_color(r))  # floor
    for _ in range(r.randint(0, 6)):  # wallpaper stripes or frames
        x = r.randrange(w)
        d.rectangle((x, 0, x + r.randint(4, 30), horizon), fill=_color(r))
    wx = r.randrange(w // 2)
    d.rectangle((wx, h // 10, wx + w // 4, h // 10 + h // 4), fill=(200, 225, 250),
                outline=_color(r), width=6)  # window
    bx = r.randrange(w // 3)
    d.rectangle((bx, horizon - h // 8, bx + w // 2, horizon + h // 6), fill=_color(r))  # bed
    d.rectangle((bx, horizon - h // 4, bx + w // 20, horizon + h // 6), fill=_color(r))
    lx = r.randrange(w // 2, w - 20)
    d.ellipse((lx, horizon - h // 3, lx + w // 12, horizon - h // 3 + w // 12),
              fill=(250, 230, 150))  # lamp
    d.rectangle((lx + w // 30, horizon - h // 3 + w // 12, lx + w // 24, horizon),
                fill=_color(r))
    for _ in range(r.randint(2, 6)):  # furniture
        x0 = r.randrange(w)
        y0 = r.randrange(horizon - h // 5, h)
        d.rectangle((x0, y0, x0 + r.randint(20, w // 4), y0 + r.randint(15, h // 6)),
                    fill=_color(r))


def _card(r: random.Random, img: Image.Image, text: str) -> None:
    _abstract(r, img)
    d = ImageDraw.Draw(img)
    w, h = img.size
    size = max(18, min(w // max(len(max(text.split("\n"), key=len)), 1) * 3 // 2, h // 6))
    font = ImageFont.load_default(size=size)  # bundled font: identical output everywhere
    box = d.multiline_textbbox((0, 0), text, font=font, spacing=size // 3)
    tw, th = box[2] - box[0], box[3] - box[1]
    x, y = max(4, (w - tw) // 2), max(4, (h - th) // 2)
    pad = size // 2
    d.rectangle((x - pad, y - pad, x + tw + pad, y + th + pad), fill=(250, 250, 245))
    d.multiline_text((x, y), text, font=font, fill=(20, 20, 30), spacing=size // 3)


def draw_base(base: BaseImage) -> Image.Image:
    r = random.Random(base.seed)
    img = _gradient(np.random.default_rng(base.seed), *base.size)
    if base.kind == "room":
        _room(r, img)
    elif base.kind == "card":
        _card(r, img, base.text)
    else:
        _abstract(r, img)
    return img


def apply_edit(img: Image.Image, edit: str, seed: int) -> tuple[Image.Image, int]:
    """An edited copy and the JPEG quality to save it at."""
    r = random.Random(seed)
    quality = 88
    if edit == "reencode":
        quality = r.choice([55, 65, 72, 95])
    elif edit == "resize":
        f = r.uniform(0.55, 0.9)
        img = img.resize((max(64, int(img.width * f)), max(64, int(img.height * f))),
                         Image.Resampling.BILINEAR)
    elif edit == "crop":
        w, h = img.size
        # Slight (<= 2% a side): PDQ is not built for crops, and these must stay matchable.
        dx, dy = int(w * r.uniform(0.005, 0.02)), int(h * r.uniform(0.005, 0.02))
        img = img.crop((dx, dy, w - int(w * r.uniform(0.0, 0.02)), h - int(h * r.uniform(0, .02))))
    elif edit == "brightness":
        img = ImageEnhance.Brightness(img).enhance(r.choice([0.85, 0.9, 1.1, 1.15]))
    return img, quality


def write_images(out_dir: Path, jobs: Iterable[ImageJob],
                 progress: Callable[[int], None] | None = None, workers: int = 1) -> int:
    """Write every job's file; base pictures are drawn once and reused for their copies.

    With `workers` > 1 the jobs (grouped by base picture) are split across processes; each
    file depends only on its job, so the bytes are the same either way.
    """
    jobs = list(jobs)
    if workers > 1 and len(jobs) > 100:
        groups: dict[str, list[ImageJob]] = {}
        for job in jobs:
            groups.setdefault(job.base.base_id, []).append(job)
        chunks: list[list[ImageJob]] = [[] for _ in range(workers * 8)]
        for i, group in enumerate(groups.values()):
            chunks[i % len(chunks)].extend(group)
        ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        n = 0
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for done in pool.map(_write_chunk, [out_dir] * len(chunks), chunks):
                n += done
                if progress:
                    progress(done)
        return n
    return _write_serial(out_dir, jobs, progress)


def _write_chunk(out_dir: Path, jobs: list[ImageJob]) -> int:
    return _write_serial(out_dir, jobs, None)


def _write_serial(out_dir: Path, jobs: Iterable[ImageJob],
                  progress: Callable[[int], None] | None) -> int:
    cache: dict[str, Image.Image] = {}
    n = 0
    for job in jobs:
        base = cache.get(job.base.base_id)
        if base is None:
            if len(cache) > 64:
                cache.clear()
            base = cache[job.base.base_id] = draw_base(job.base)
        img, quality = apply_edit(base, job.edit, job.edit_seed)
        target = out_dir / job.path
        if job.path.endswith(".png"):
            img.save(target, format="PNG", optimize=False)
        else:
            img.save(target, format="JPEG", quality=quality)
        n += 1
        if progress:
            progress(1)
    return n


def bench_jpegs(folder: Path, count: int, width: int, height: int, seed: int = 1) -> list[Path]:
    """`count` same-size 'room' JPEGs for hashing benchmarks: gradient walls, furniture
    rectangles and grain (non-explicit by construction), deterministic per seed."""
    rng = np.random.default_rng(seed)
    paths = []
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    for i in range(count):
        base = rng.uniform(60, 200, 3)
        slope = rng.uniform(-0.15, 0.15, 3)
        arr = base[None, None, :] + (xx[..., None] * slope[None, None, :]
                                     + yy[..., None] * slope[::-1][None, None, :] * 0.5)
        arr += rng.normal(0, 6, (height, width, 1))
        im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(im)
        for _ in range(int(rng.integers(4, 10))):
            x0, y0 = int(rng.integers(0, width * 3 // 4)), int(rng.integers(0, height * 3 // 4))
            x1 = min(width, x0 + int(rng.integers(width // 16 + 1, width // 2 + 2)))
            y1 = min(height, y0 + int(rng.integers(height // 16 + 1, height // 2 + 2)))
            draw.rectangle((x0, y0, x1, y1), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        p = folder / f"bench-{i:05d}.jpg"
        im.save(p, "JPEG", quality=85)
        paths.append(p)
    return paths
