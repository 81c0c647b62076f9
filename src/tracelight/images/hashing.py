"""Image hashing: SHA-256, MD5, PDQ perceptual hash and quality, dimensions.

Pure functions over bytes and paths (no database, no CLI). A file that cannot be read or
decoded never raises: the returned ImageInfo carries an `error` string instead, so one bad
picture never stops an ingest.

PDQ hex follows ThreatExchange: the 256 hash bits as one big-endian integer, 64 lower-case hex
characters, the first bit of `pdqhash.compute()` being the most significant. That is the form
hash-sharing programmes exchange, so our hashes compare directly with theirs.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

from tracelight.images.refs import ImageRefused, read_regular_file
from tracelight.records import ImageInfo

PDQ_BITS = 256
PDQ_HEX_CHARS = PDQ_BITS // 4
# Pillow's own decompression-bomb limit (its default Image.MAX_IMAGE_PIXELS, ~89 megapixels).
# Ad photos never come close, so a larger image is reported as an error and never decoded: the
# size is read from the header first. Ingest, the migration and every web route use this limit.
MAX_PIXELS = 89_478_485
MAX_FILE_BYTES = 200 * 1024 * 1024  # `tracelight image hash` on an analyst's own files
# The only formats decoded. Pillow knows more (EPS hands the bytes to Ghostscript, some read
# other files); hostile input gets the raster formats ad photos come in, nothing else.
DECODE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")

_HEX = frozenset("0123456789abcdef")
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def bits_to_hex(bits: Sequence[int] | np.ndarray) -> str:
    """256 hash bits (first = most significant) to 64 hex characters."""
    arr = np.asarray(bits, dtype=np.uint8).reshape(-1)
    if arr.size != PDQ_BITS:
        raise ValueError(f"a PDQ hash has {PDQ_BITS} bits, got {arr.size}")
    return np.packbits(arr > 0).tobytes().hex()


def is_pdq_hex(value: str) -> bool:
    return len(value) == PDQ_HEX_CHARS and set(value.lower()) <= _HEX


def pdq_to_bytes(hex_hash: str) -> bytes:
    """64 hex characters to the 32 bytes faiss binary indexes store (same bit order)."""
    if not is_pdq_hex(hex_hash):
        raise ValueError(f"not a PDQ hash (64 hex characters): {hex_hash[:70]!r}")
    return bytes.fromhex(hex_hash)


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two equal-length hex hashes (PDQ: 0..256)."""
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hashes differ in length: {len(a_hex)} vs {len(b_hex)} hex characters")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def hamming_many(query: bytes, packed: np.ndarray) -> np.ndarray:
    """Hamming distances from one 32-byte hash to each row of an (n, 32) uint8 array."""
    q = np.frombuffer(query, dtype=np.uint8)
    return _POPCOUNT[np.bitwise_xor(packed, q)].sum(axis=1, dtype=np.int32)


def pdq_of_image(image: Image.Image) -> tuple[str, int]:
    """PDQ hash (hex) and quality (0..100) of an already decoded image."""
    if image.mode != "RGB":
        # Transparent pixels become black, as in the reference tools' RGB conversion.
        image = image.convert("RGB")
    bits, quality = pdqhash.compute(np.asarray(image))
    return bits_to_hex(bits), int(quality)


def hash_bytes(data: bytes, *, position: int = 0, original: str = "",
               stored_path: str | None = None) -> ImageInfo:
    """Hash image bytes. Cryptographic hashes are always filled; PDQ only if it decodes."""
    sha256 = hashlib.sha256(data).hexdigest()
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    base = ImageInfo(position=position, original=original, sha256=sha256, md5=md5,
                     stored_path=stored_path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=DECODE_FORMATS) as im:
                width, height = im.size
                if width * height > MAX_PIXELS or width <= 0 or height <= 0:
                    return _replace(base, width=width, height=height,
                                    error=f"image is {width}x{height}, over the "
                                          f"{MAX_PIXELS:,}-pixel limit")
                im.load()
                pdq, quality = pdq_of_image(im)
    except UnidentifiedImageError:
        return _replace(base, error="not a recognised image format")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return _replace(base, error=f"image too large to decode safely (over the "
                                    f"{MAX_PIXELS:,}-pixel limit): {exc}")
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        # Truncated or corrupt files raise OSError/SyntaxError from the decoders.
        return _replace(base, error=f"image could not be decoded: {exc}")
    return _replace(base, pdq=pdq, quality=quality, width=width, height=height)


def hash_image(path: str | Path, *, position: int = 0, original: str | None = None) -> ImageInfo:
    """Read and hash one image file. Never raises for a bad file: see ImageInfo.error."""
    p = Path(path)
    name = original if original is not None else str(path)
    real = Path(os.path.realpath(p))
    try:
        # Follows a symlink the user named, but never reads a FIFO or a device (/dev/zero).
        data = read_regular_file(real, MAX_FILE_BYTES)
    except ImageRefused as exc:
        return ImageInfo(position=position, original=name, error=exc.reason)
    return hash_bytes(data, position=position, original=name, stored_path=str(real))


def _hash_job(job: tuple[str, int, str]) -> ImageInfo:
    path, position, original = job
    return hash_image(path, position=position, original=original)


def hash_images(jobs: Iterable[tuple[str | Path, int, str]], *, workers: int = 1,
                chunksize: int = 8) -> Iterator[ImageInfo]:
    """Hash many (path, position, original) jobs, in order, on `workers` processes.

    PDQ needs the full-resolution decode (a reduced JPEG decode moved hashes up to 12 bits
    from the reference), so throughput comes from using every core instead.
    """
    items = ((str(p), pos, orig) for p, pos, orig in jobs)
    if workers <= 1:
        yield from map(_hash_job, items)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_hash_job, items, chunksize=chunksize)


def image_info_dict(info: ImageInfo) -> dict[str, object]:
    """The public JSON form printed by `tracelight image hash` (field names are an interface)."""
    out: dict[str, object] = {
        "path": info.original, "sha256": info.sha256, "md5": info.md5, "pdq": info.pdq,
        "quality": info.quality, "width": info.width, "height": info.height,
    }
    if info.error:
        out["error"] = info.error
    return out


def _replace(info: ImageInfo, **changes: object) -> ImageInfo:
    return replace(info, **changes)  # type: ignore[arg-type]
