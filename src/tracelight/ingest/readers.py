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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tracelight.errors import InputError, RecordError
from tracelight.ingest.html import parse_html_page
from tracelight.jsonutil import MAX_DEPTH
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
                    yield from _iter_jsonl(fh, str(path), path.parent, default_source,
                                           compressed=True)
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
                default_source: str | None, *, compressed: bool = False) -> Iterator[SourceItem]:
    position = 0
    lineno = 0
    lines = iter(fh)
    while True:
        try:
            raw = next(lines)
        except StopIteration:
            return
        except (EOFError, OSError, zlib.error) as exc:
            # a .gz cut short (or corrupt) ends here: what was read before stays read
            if lineno == 0:
                raise InputError(f"{name}: cannot be read: {_reason(exc)}") from None
            what = " after decompression" if compressed else ""
            raise InputError(f"{name}: ends early after line {lineno:,} ({position:,} bytes "
                             f"read{what}): {_reason(exc)}") from None
        lineno += 1
        position += len(raw)
        if not raw.strip():
            continue
        origin = f"{name}:{lineno}"
        yield SourceItem(origin, base, _jsonl_record(raw, origin, default_source), position)


def _jsonl_record(raw: bytes, origin: str, default_source: str | None,
                  ) -> AdRecord | RecordError:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RecordError(f"not valid UTF-8 (byte {exc.start} of the line)", origin=origin)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = "" if raw.endswith(b"\n") else " (the file ends inside this line: truncated?)"
        return RecordError(f"invalid JSON: {exc.msg} at column {exc.colno}{cut}", origin=origin)
    except RecursionError:
        return RecordError(f"invalid JSON: nested too deeply (the limit is {MAX_DEPTH} levels)",
                           origin=origin)
    return _validate(data, default_source, origin)


def _reason(exc: BaseException) -> str:
    """One line naming what went wrong, for a reject or an error message."""
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _validate(data: Any, default_source: str | None, origin: str) -> AdRecord | RecordError:
    try:
        return record_from_mapping(data, default_source=default_source, origin=origin)
    except RecordError as err:
        return err
    except Exception as exc:  # one odd record must not end the run: it becomes a reject
        return RecordError(f"cannot read record: {_reason(exc)}", origin=origin)


class _Lines:
    """The lines of a text file, noting when the csv reader asked past the last one."""

    def __init__(self, fh: IO[str]) -> None:
        self._fh = fh
        self.at_end = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._fh.readline()
        if not line:
            self.at_end = True
            raise StopIteration
        return line


def _iter_csv(path: Path, default_source: str | None) -> Iterator[SourceItem]:
    csv.field_size_limit(sys.maxsize)
    # surrogateescape keeps going past bad bytes so only the affected row is refused
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        lines = _Lines(fh)
        reader = csv.DictReader(lines)
        if not reader.fieldnames or "id" not in reader.fieldnames:
            raise InputError(f"{path}: CSV needs a header row with at least an 'id' column")
        start = reader.line_num + 1
        rows = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"{path}: unreadable CSV at line {reader.line_num:,} after "
                                 f"{rows:,} rows: {exc}") from None
            rows += 1
            if lines.at_end:
                # the reader ran out of file inside a quoted cell: the quote opened on line
                # `start` is never closed, and everything after it was swallowed by that cell
                origin = f"{path}:{start}"
                yield SourceItem(origin, path.parent, RecordError(
                    "a quoted cell opened here is never closed (the file ends inside it)",
                    origin=origin), 0)
                raise InputError(f"{path}: ends inside a quoted cell opened on line {start:,} "
                                 f"(unterminated quote); the {rows - 1:,} rows before it were read")
            start = reader.line_num + 1
            origin = f"{path}:{reader.line_num}"
            yield SourceItem(origin, path.parent, _csv_row(row, origin, default_source), 0)


def _csv_row(row: dict[str | Any, Any], origin: str,
             default_source: str | None) -> AdRecord | RecordError:
    if None in row:
        return RecordError("row has more cells than the header", origin=origin)
    if any(isinstance(v, str) and _has_surrogates(v) for v in row.values()):
        return RecordError("not valid UTF-8", origin=origin)
    data = {k: v for k, v in row.items() if v not in (None, "")}
    return _validate(data, default_source, origin)


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
    try:
        data = parse_html_page(raw, url=None)
    except Exception as exc:  # one odd page must not end the run: it becomes a reject
        err = RecordError(f"cannot read page: {_reason(exc)}", origin=origin)
        return SourceItem(origin, base, err, len(raw))
    # a file name need not be UTF-8: its bytes show as \xff escapes rather than refusing the ad
    stem = os.fsencode(page.stem).decode("utf-8", "backslashreplace")
    data.setdefault("id", data.get("url") or stem)
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

    records = 0
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        try:
            for record in it:
                item = _warc_item(path, record, default_source)
                offset = it.get_record_offset()  # reads the rest of the record
                length = record.rec_headers.get_header("Content-Length") \
                    if record.format.startswith("warc") else "0"
                if record.raw_stream.limit > 0 or not (length or "").strip().isdigit():
                    # fewer bytes than its Content-Length: the file was cut inside this record
                    raise InputError(f"{path}: ends early inside the record at byte {offset:,} "
                                     f"(record {records + 1:,}; {records:,} complete records "
                                     "before it were read)")
                records += 1
                if item is not None:
                    origin = f"{path}#{offset}"
                    result = _validate_warc(item, origin)
                    yield SourceItem(origin, path.parent, result, offset)
        except ArchiveLoadFailed as exc:
            raise InputError(f"{path}: not a readable WARC file after {records:,} records: "
                             f"{exc}") from None
        except InputError:
            raise
        except Exception:  # warcio fails in many ways (AttributeError...) on a cut file
            raise InputError(f"{path}: ends early or is damaged after {records:,} complete "
                             f"records (at byte {it.offset:,})") from None
        end = it.offset
        fh.seek(end)
        tail = fh.read(4096)
    if tail.strip():
        # a .warc.gz cut inside a gzip member: warcio stops there without a word
        raise InputError(f"{path}: ends early: the bytes from {end:,} on are not a complete "
                         f"record ({records:,} complete records before them were read)")


def _warc_item(path: Path, record: Any, default_source: str | None,
               ) -> tuple[dict[str, Any], str] | RecordError | None:
    """(raw record, source) for an HTML response, None for other records."""
    if record.rec_type != "response":
        return None
    ctype = (record.http_headers.get_header("Content-Type") or "").lower() \
        if record.http_headers else ""
    if "html" not in ctype:
        return None
    try:
        url = record.rec_headers.get_header("WARC-Target-URI")
        captured = record.rec_headers.get_header("WARC-Date")
        body = record.content_stream().read()  # before the offset: that call reads on
        data = parse_html_page(body, url=url)
    except (EOFError, OSError, zlib.error):
        raise  # the file itself is cut or damaged: reported for the file
    except Exception as exc:  # one odd page must not end the run: it becomes a reject
        return RecordError(f"cannot read page: {_reason(exc)}")
    data.setdefault("id", url or hashlib.sha256(body).hexdigest()[:16])
    if captured:
        data.setdefault("captured_at", captured)
    return data, default_source or _host(url) or path.stem


def _validate_warc(item: tuple[dict[str, Any], str] | RecordError,
                   origin: str) -> AdRecord | RecordError:
    if isinstance(item, RecordError):
        item.origin = origin
        return item
    data, source = item
    return _validate(data, source, origin)
