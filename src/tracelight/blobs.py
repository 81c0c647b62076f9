"""tracelight's own content-addressed image store: checked image bytes kept under their SHA-256.

Layout under the image folder (setting `image_dir`, default `tracelight-images/`):

    ab/ab12...ef        the bytes whose SHA-256 is ab12...ef (64 hex characters, no extension)

The database keeps the *content key* (`ab/ab12...ef`), relative to the image folder, so moving
the folder (with the database) never breaks an image. Only bytes that passed the ingest checks
(a regular file inside the input's folder, under the size cap, decodable under the pixel limit)
are put here, and the web app serves nothing else. Pure file operations: no database, no web.

Shared by every layer (like records.py): ingest's image stage keeps bytes here, the store
checks content keys, the web reads. Also the one safe file read (`read_regular_file`: a
regular file under a size cap, never a FIFO, a device or a symlink) and its `ImageRefused`,
re-exported by tracelight.images.refs and tracelight.store.blobs.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

_KEY = re.compile(r"^([0-9a-f]{2})/(\1[0-9a-f]{62})$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


class ImageRefused(Exception):
    """An image reference that fails a check; `reason` is the image error stored on the ad."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, or ImageRefused.

    Never blocks on a FIFO and never reads a device: the type is checked before opening, the
    file is opened with O_NONBLOCK and O_NOFOLLOW, and the descriptor is checked again.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise ImageRefused("file not found") from None
    except OSError as exc:
        raise ImageRefused(f"file could not be read: {exc.strerror or exc}") from None
    _check_stat(st, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ImageRefused(f"file could not be read: {exc.strerror or exc}") from None
    try:
        _check_stat(os.fstat(fd), max_bytes)  # the file may have been swapped since lstat
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise ImageRefused(f"file could not be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise ImageRefused(f"file grew past the {max_bytes:,}-byte image limit while read")
    return b"".join(chunks)


def _check_stat(st: os.stat_result, max_bytes: int) -> None:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise ImageRefused("is a directory, not a file")
    if stat.S_ISLNK(mode):
        raise ImageRefused("is a symlink: not followed")
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise ImageRefused(f"is {kind}, not a regular file: not read")
    if st.st_size > max_bytes:
        raise ImageRefused(f"file is {st.st_size:,} bytes, over the {max_bytes:,}-byte image "
                           "limit (TRACELIGHT_IMAGE_MAX_BYTES)")


def key_for(sha256: str) -> str:
    """The content key of these bytes' SHA-256 (lower-case hex)."""
    if not _SHA.match(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256[:70]!r}")
    return f"{sha256[:2]}/{sha256}"


def is_key(value: object) -> bool:
    """Whether a stored value is a content key (older stores kept absolute source paths)."""
    return isinstance(value, str) and _KEY.match(value) is not None


class ImageStore:
    """The image folder. `put` is idempotent and atomic; `get` re-checks what it reads."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / key_for(sha256)

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, data: bytes, sha256: str | None = None) -> str:
        """Keep `data` (once) and return its content key."""
        digest = hashlib.sha256(data).hexdigest()
        if sha256 is not None and sha256 != digest:
            raise ValueError("bytes do not match the SHA-256 given")
        dest = self.path(digest)
        if not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)  # atomic: a crash never leaves a half-written image
        return key_for(digest)

    def get(self, sha256: str, max_bytes: int) -> bytes:
        """The kept bytes of this SHA-256, or ImageRefused (missing, not a regular file,
        over the cap, or changed on disk since they were kept)."""
        try:
            key_for(sha256)
        except ValueError:
            raise ImageRefused("not a SHA-256 content key") from None
        try:
            data = read_regular_file(self.path(sha256), max_bytes)
        except ImageRefused as exc:
            if exc.reason == "file not found":
                raise ImageRefused("not in the image store (run `tracelight image migrate` "
                                   "for a store made by an older version)") from None
            raise
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ImageRefused("the kept file changed on disk since it was stored")
        return data
