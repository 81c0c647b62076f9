"""Sources: read ad records from JSON Lines, CSV, folders of saved HTML pages and WARC files.

Every reader streams (memory stays flat whatever the file size) and yields, per record, where it
came from ("file:line") and either an AdRecord or the RecordError explaining why it was refused.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tracelight.errors import InputError, RecordError
from tracelight.ingest.html import parse_html_page
from tracelight.records import AdRecord, record_from_mapping

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


@dataclass(frozen=True, slots=True)
class SourceItem:
    origin: str  # "file:line" (or "file#offset" for WARC) for messages and the rejects file
    base_dir: Path  # relative image paths are resolved against this folder
    result: AdRecord | RecordError
    position: int = 0  # bytes consumed so far in the current file, for progress bars


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir():
        return "html-dir"
    if name.endswith((".jsonl", ".ndjson", ".json", ".jsonl.gz")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if path.suffix.lower() in HTML_SUFFIXES:
        return "html"
    raise InputError(f"{path}: unknown input format",
                     hint="use .jsonl, .csv, .warc(.gz), .html or a folder of .html pages")


def check_readable(path_text: str) -> Path:
    if path_text == "-":
        return Path("-")
    path = Path(path_text)
    if not path.exists():
        raise InputError(f"{path_text}: no such file or folder")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path_text}: permission denied")
    detect_format(path)
    return path


def iter_source(path_text: str, default_source: str | None) -> Iterator[SourceItem]:
    """Records from one path (a file, a folder of HTML pages, or '-' for JSON Lines on stdin)."""
    path = check_readable(path_text)
    if path_text == "-":
        yield from _iter_jsonl(sys.stdin.buffer, "<stdin>", Path.cwd(), default_source)
        return
    fmt = detect_format(path)
    try:
        if fmt == "jsonl":
            if path.name.endswith(".gz"):
                import gzip
                with gzip.open(path, "rb") as fh:
                    yield from _iter_jsonl(fh, str(path), path.parent, default_source)
            else:
                with open(path, "rb") as fh:
                    yield from _iter_jsonl(fh, str(path), path.parent, default_source)
        elif fmt == "csv":
            yield from _iter_csv(path, default_source)
        elif fmt == "warc":
            yield from _iter_warc(path, default_source)
        elif fmt == "html":
            yield _html_item(path, path.parent, default_source)
        else:
            for page in sorted(p for p in path.rglob("*") if p.suffix.lower() in HTML_SUFFIXES):
                yield _html_item(page, page.parent, default_source, fallback_source=path.name)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def iter_records(path: str, default_source: str | None = None,
                 ) -> Iterator[tuple[str, AdRecord | RecordError]]:
    """(origin, record or error) pairs: the simple form for commands that only need records."""
    for item in iter_source(path, default_source):
        yield item.origin, item.result


def _iter_jsonl(fh: IO[bytes] | Any, name: str, base: Path,
                default_source: str | None) -> Iterator[SourceItem]:
    position = 0
    for lineno, raw in enumerate(fh, start=1):
        position += len(raw)
        if not raw.strip():
            continue
        origin = f"{name}:{lineno}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            err = RecordError(f"not valid UTF-8 (byte {exc.start} of the line)", origin=origin)
            yield SourceItem(origin, base, err, position)
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            err = RecordError(f"invalid JSON: {exc.msg} at column {exc.colno}", origin=origin)
            yield SourceItem(origin, base, err, position)
            continue
        yield SourceItem(origin, base, _validate(data, default_source, origin), position)


def _validate(data: Any, default_source: str | None, origin: str) -> AdRecord | RecordError:
    try:
        return record_from_mapping(data, default_source=default_source, origin=origin)
    except RecordError as err:
        return err


def _iter_csv(path: Path, default_source: str | None) -> Iterator[SourceItem]:
    csv.field_size_limit(sys.maxsize)
    # surrogateescape keeps going past bad bytes so only the affected row is refused
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "id" not in reader.fieldnames:
            raise InputError(f"{path}: CSV needs a header row with at least an 'id' column")
        for row in reader:
            origin = f"{path}:{reader.line_num}"
            if None in row:
                err = RecordError("row has more cells than the header", origin=origin)
                yield SourceItem(origin, path.parent, err, 0)
                continue
            if any(isinstance(v, str) and _has_surrogates(v) for v in row.values()):
                err = RecordError("not valid UTF-8", origin=origin)
                yield SourceItem(origin, path.parent, err, 0)
                continue
            data = {k: v for k, v in row.items() if v not in (None, "")}
            yield SourceItem(origin, path.parent, _validate(data, default_source, origin), 0)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _html_item(page: Path, base: Path, default_source: str | None,
               fallback_source: str | None = None) -> SourceItem:
    origin = str(page)
    raw = page.read_bytes()
    data = parse_html_page(raw, url=None)
    data.setdefault("id", data.get("url") or page.stem)
    source = default_source or _host(data.get("url")) or fallback_source or page.parent.name
    return SourceItem(origin, base, _validate(data, source, origin), len(raw))


def _host(url: Any) -> str | None:
    if not isinstance(url, str) or "://" not in url:
        return None
    from urllib.parse import urlsplit
    return urlsplit(url).hostname


def _iter_warc(path: Path, default_source: str | None) -> Iterator[SourceItem]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        try:
            for record in it:
                if record.rec_type != "response":
                    continue
                ctype = (record.http_headers.get_header("Content-Type") or "").lower() \
                    if record.http_headers else ""
                if "html" not in ctype:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                captured = record.rec_headers.get_header("WARC-Date")
                body = record.content_stream().read()  # before the offset: that call reads on
                offset = it.get_record_offset()
                origin = f"{path}#{offset}"
                data = parse_html_page(body, url=url)
                data.setdefault("id", url or hashlib.sha256(body).hexdigest()[:16])
                if captured:
                    data.setdefault("captured_at", captured)
                source = default_source or _host(url) or path.stem
                yield SourceItem(origin, path.parent, _validate(data, source, origin), offset)
        except ArchiveLoadFailed as exc:
            raise InputError(f"{path}: not a readable WARC file: {exc}") from None
