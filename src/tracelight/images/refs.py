"""Image references from hostile records: resolve them inside the input's folder, read them safely.

An ad's `images` list, an HTML page's `<img src>` and a WARC record are written by whoever wrote
the ad. A reference is therefore only ever read when it names a regular file inside the folder
of the input it came from:

- no absolute paths, no root-relative URL paths (`/etc/passwd`, `/static/x.png`), no drive letters
  or UNC names, no `file:` or other URL schemes, no `..` component anywhere, no NUL byte;
- after following symlinks, the file must still be inside that folder (no symlinks out);
- it must be a regular file (never a FIFO, a device such as /dev/zero, a socket or a folder):
  checked with stat before opening, opened non-blocking and without following a final symlink,
  and checked again on the open descriptor;
- it is size-capped before reading: a file over the cap is refused without reading it, and at
  most cap + 1 bytes are ever read (a file that grows while being read is refused too).

Pure functions over paths, no database or web imports. `ImageRefused` and
`read_regular_file` live in tracelight.blobs (shared with the image store) and are
re-exported here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# the one safe file read, shared with the image store (tracelight.blobs)
from tracelight.blobs import ImageRefused, read_regular_file

__all__ = ["ImageRefused", "check_reference_text", "is_remote", "read_reference",
           "read_regular_file", "resolve_reference"]

# A URL scheme ("http:", "file:", "data:", "javascript:"); one letter is a Windows drive instead.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_REF_CHARS = 4096


def is_remote(ref: str) -> bool:
    """http(s) and protocol-relative URLs: images a crawler would have to fetch."""
    low = ref.strip().lower()
    return low.startswith(("http://", "https://", "//"))


def check_reference_text(ref: str) -> list[str]:
    """The path parts of a local image reference, or ImageRefused, from its text alone."""
    if not ref or not ref.strip():
        raise ImageRefused("empty image reference")
    if len(ref) > MAX_REF_CHARS:
        raise ImageRefused(f"image reference longer than {MAX_REF_CHARS} characters")
    if "\x00" in ref:
        raise ImageRefused("image reference contains a NUL byte")
    if is_remote(ref):
        raise ImageRefused("remote image not fetched (no crawler configured)")
    if ref.startswith(("/", "\\")):
        raise ImageRefused("absolute path or root-relative URL path: only files inside the "
                           "input's folder are read")
    if _DRIVE.match(ref):
        raise ImageRefused("absolute Windows path: only files inside the input's folder are read")
    if _SCHEME.match(ref):
        raise ImageRefused("URL scheme other than http(s): not read")
    parts = re.split(r"[/\\]", ref)
    if any(p == ".." for p in parts):
        raise ImageRefused("path leaves the input's folder ('..'): not read")
    kept = [p for p in parts if p not in ("", ".")]
    if not kept:
        raise ImageRefused("names a folder, not a file")
    return kept


def resolve_reference(ref: str, base_dir: Path) -> Path:
    """The real path of a local image reference inside `base_dir`, or ImageRefused.

    The returned path has its symlinks resolved and lies inside the real `base_dir`; it is not
    yet known to be a regular file (read_regular_file checks that when it opens it).
    """
    parts = check_reference_text(ref)
    try:
        base_real = Path(os.path.realpath(base_dir))
        real = Path(os.path.realpath(base_real.joinpath(*parts)))
    except (OSError, ValueError) as exc:
        raise ImageRefused(f"image path cannot be resolved: {exc}") from None
    if real == base_real or not real.is_relative_to(base_real):
        raise ImageRefused("path leads outside the input's folder (symlink out): not read")
    return real


def read_reference(ref: str, base_dir: Path, max_bytes: int) -> bytes:
    """resolve_reference then read_regular_file: the bytes a record's image reference names."""
    return read_regular_file(resolve_reference(ref, base_dir), max_bytes)
