"""tracelight's own content-addressed image store: checked image bytes kept under their SHA-256.

Layout under the image folder (setting `image_dir`, default `tracelight-images/`):

    ab/ab12...ef        the bytes whose SHA-256 is ab12...ef (64 hex characters, no extension)

The database keeps the *content key* (`ab/ab12...ef`), relative to the image folder, so moving
the folder (with the database) never breaks an image. Only bytes that passed the ingest checks
(a regular file inside the input's folder, under the size cap, decodable under the pixel limit)
are put here, and the web app serves nothing else. Pure file operations: no database, no web.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from tracelight.images.refs import ImageRefused, read_regular_file

_KEY = re.compile(r"^([0-9a-f]{2})/(\1[0-9a-f]{62})$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


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
