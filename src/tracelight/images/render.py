"""Images as the web app sends them: decoded under the pixel limit, re-encoded, never passed on.

The served bytes are always a fresh JPEG, PNG or WebP made by Pillow from the decoded pixels,
with the media type of the format written, so a file that merely claims to be an image (HTML,
JavaScript, SVG, a polyglot) never reaches a browser as itself, and metadata such as EXIF
locations is not passed on. The size is read from the header first: an image over the pixel
limit is refused before any pixel is decoded; JPEG previews are decoded reduced (Image.draft).

Pure functions over bytes, no web imports.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFilter, UnidentifiedImageError

from tracelight.images.hashing import DECODE_FORMATS, MAX_PIXELS
from tracelight.images.refs import ImageRefused

PREVIEW_SIDE = 24  # the blurred preview keeps this much detail: enough to tell images apart
PREVIEW_OUT = 240


@dataclass(frozen=True, slots=True)
class Rendered:
    data: bytes
    media_type: str  # of the format written, never guessed from a name


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=DECODE_FORMATS)
    except UnidentifiedImageError:
        raise ImageRefused("not a recognised image format") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(f"image over the {max_pixels:,}-pixel limit: not decoded") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRefused(f"image could not be decoded: {exc}") from None
    width, height = im.size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        im.close()
        raise ImageRefused(f"image is {width}x{height}, over the {max_pixels:,}-pixel limit: "
                           "not decoded")
    return im


def _decode(im: Image.Image, reduce_to: tuple[int, int] | None = None) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if reduce_to is not None and im.format in ("JPEG", "MPO"):
                im.draft("RGB", reduce_to)  # decode at 1/2..1/8 scale: far fewer pixels
            im.load()
            return im
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        raise ImageRefused(f"image could not be decoded: {exc}") from None


def reencode(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Rendered:
    """The image re-encoded: JPEG stays JPEG, WebP stays WebP, everything else becomes PNG."""
    with _open(data, max_pixels) as im:
        fmt = im.format
        _decode(im)
        out = io.BytesIO()
        if fmt in ("JPEG", "MPO"):
            frame = im if im.mode in ("RGB", "L") else im.convert("RGB")
            frame.save(out, "JPEG", quality=92)
            return Rendered(out.getvalue(), "image/jpeg")
        if fmt == "WEBP":
            frame = im if im.mode in ("RGB", "RGBA") else im.convert("RGBA")
            frame.save(out, "WEBP", quality=90)
            return Rendered(out.getvalue(), "image/webp")
        frame = im if im.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else im.convert("RGBA")
        frame.save(out, "PNG")  # first frame only for animations
        return Rendered(out.getvalue(), "image/png")


def blurred_preview(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Rendered:
    """A heavily blurred PNG preview: enough to tell images apart, not to see a person."""
    with _open(data, max_pixels) as im:
        _decode(im, reduce_to=(PREVIEW_SIDE * 4, PREVIEW_SIDE * 4))
        small = im.convert("RGB")
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    blurred = small.resize((PREVIEW_OUT, PREVIEW_OUT)).filter(ImageFilter.GaussianBlur(12))
    out = io.BytesIO()
    blurred.save(out, "PNG")
    return Rendered(out.getvalue(), "image/png")
