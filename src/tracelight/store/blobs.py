"""The image store as the store package names it: tracelight.blobs, re-exported.

The content-addressed image store is plain files, shared by every layer (ingest's image
stage writes it, the store checks content keys, the web reads it), so it lives in
tracelight.blobs, which the core may import; the store may not import the core.
"""

from __future__ import annotations

from tracelight.blobs import ImageRefused, ImageStore, is_key, key_for, read_regular_file

__all__ = ["ImageRefused", "ImageStore", "is_key", "key_for", "read_regular_file"]
