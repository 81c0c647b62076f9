"""Use case: one crawled ad's original capture as evidence, and checking an export that came back.

`export_capture` copies, byte for byte, the WARC records `tracelight crawl` wrote for one ad
(response, request and metadata of its page, then the same for each of its images) into
DIR/capture.warc.gz, beside ad.json (what the store holds about the ad), manifest.json (where
each record came from, its payload SHA-256 and fetch time) and SHA256SUMS (`sha256sum -c`
reads it). `verify_capture` re-checks all of it without the store: every file against
SHA256SUMS, the WARC through warcio, every payload against the SHA-256 recorded at fetch time,
and each image against the hash the store has for it.

The WARC pointers come from the store (the ad's extra.warc, the crawl state of its images);
they are followed only to files inside the WARC folder, never elsewhere.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracelight import settings
from tracelight.errors import InputError, NotFoundError
from tracelight.services.cases import _read_warc_record, audit
from tracelight.store import Store

FILES = ("capture.warc.gz", "ad.json", "manifest.json")
SUMS = "SHA256SUMS"


@dataclass(frozen=True)
class CaptureRecord:
    uri: str
    type: str
    source_file: str
    source_offset: int
    payload_sha256: str | None  # from the metadata record written at fetch time
    fetched_at: str | None


@dataclass
class CaptureExport:
    out: Path
    ad_id: str
    records: list[CaptureRecord]
    files: dict[str, str]  # name -> SHA-256
    missing: list[str] = field(default_factory=list)  # why a part of the capture is absent


@dataclass
class CaptureCheck:
    ok: bool
    files: int
    records: int
    problems: list[str]


def _warc_path(root: Path, name: object) -> Path | None:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        return None
    try:
        path = (root / name).resolve()
        path.relative_to(root)
    except (ValueError, OSError):
        return None
    return path if path.is_file() else None


def _parse(data: bytes) -> tuple[str, str, bytes] | None:
    """(type, target URI, payload) of one stored record's bytes."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        for rec in ArchiveIterator(io.BytesIO(data)):
            uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
            return rec.rec_type, uri, rec.content_stream().read()
    except (ArchiveLoadFailed, ValueError, OSError):
        return None
    return None


def _capture_of(path: Path, offset: int, uri: str) -> list[tuple[bytes, CaptureRecord]]:
    """The response record at `offset` and the request and metadata records the crawler wrote
    right after it for the same URI."""
    out: list[tuple[bytes, CaptureRecord]] = []
    meta: dict[str, Any] = {}
    pos = offset
    for _ in range(3):
        try:
            data = _read_warc_record(path, pos)
        except (OSError, ValueError):
            break
        parsed = _parse(data)
        if parsed is None or parsed[1] != uri or (not out and parsed[0] != "response"):
            break
        if parsed[0] == "metadata":
            try:
                meta = json.loads(parsed[2])
            except ValueError:
                meta = {}
        out.append((data, CaptureRecord(uri, parsed[0], path.name, pos, None, None)))
        pos += len(data)
    sha = meta.get("payload_sha256") if isinstance(meta, dict) else None
    when = meta.get("fetched_at") if isinstance(meta, dict) else None
    return [(d, CaptureRecord(r.uri, r.type, r.source_file, r.source_offset,
                              sha if isinstance(sha, str) else None,
                              when if isinstance(when, str) else None)) for d, r in out]


def export_capture(store: Store, ad_id: str, out: Path, *, source: str | None = None,
                   warc_dir: str | Path | None = None, actor: str = "",
                   via: str = "cli") -> CaptureExport:
    """Write ad `ad_id`'s original capture and its hashes into folder `out`; the export is
    audited (who, which ad, the files' SHA-256) when `actor` is given."""
    ad = store.get_ad(ad_id, source)
    extra = ad.extra if isinstance(ad.extra, dict) else {}
    ref = extra.get("warc")
    if not isinstance(ref, dict) or not isinstance(ref.get("offset"), int):
        raise NotFoundError(f"ad {ad_id!r} has no WARC capture (it was not crawled by "
                            "tracelight crawl)")
    root = Path(warc_dir or settings.get("warc_dir")).resolve()
    page = _warc_path(root, ref.get("file"))
    if page is None:
        raise NotFoundError(f"ad {ad_id!r}: its WARC file {str(ref.get('file'))[:200]!r} is "
                            f"not in the WARC folder {root}", hint="pass --warc-dir")
    uri = ad.url or ad.ad_id
    records = _capture_of(page, int(ref["offset"]), uri)
    if not records:
        raise InputError(f"ad {ad_id!r}: no response record for {uri} at "
                         f"{page.name}#{ref['offset']}")
    missing: list[str] = []
    images = store.images_for(ad.pk)
    crawl = extra.get("crawl") if isinstance(extra.get("crawl"), dict) else {}
    profile = crawl.get("profile") if isinstance(crawl, dict) else None
    urls = [i.original for i in images if i.original.startswith(("http://", "https://"))]
    states = store.crawl_pages(profile, urls) if isinstance(profile, str) and urls else {}
    for url in urls:
        st = states.get(url)
        path = _warc_path(root, st.warc_file) if st is not None else None
        if st is None or path is None or st.warc_offset is None:
            missing.append(f"image {url}: no WARC capture in {root}")
            continue
        got = _capture_of(path, st.warc_offset, url)
        if not got:
            missing.append(f"image {url}: no response record at {st.warc_file}#{st.warc_offset}")
        records += got
    out.mkdir(parents=True, exist_ok=True)
    taken = [n for n in (*FILES, SUMS) if (out / n).exists()]
    if taken:
        raise InputError(f"{out}: already holds {', '.join(taken)}; choose an empty folder")
    warc_bytes = b"".join(d for d, _ in records)
    ad_doc = {"ad_id": ad.ad_id, "source": ad.source, "url": ad.url, "title": ad.title,
              "body": ad.body, "posted_at": ad.posted_at.isoformat() if ad.posted_at else None,
              "location": ad.location, "revision": ad.revision,
              "content_hash": ad.content_hash,
              "images": [{"position": i.position, "original": i.original, "sha256": i.sha256,
                          "error": i.error} for i in images]}
    recs = [r for _, r in records]
    manifest = {"format": "tracelight ad capture 1", "ad_id": ad.ad_id, "source": ad.source,
                "url": ad.url, "exported_at": datetime.now(UTC).isoformat(),
                "records": [r.__dict__ for r in recs], "missing": missing}
    blobs = {"capture.warc.gz": warc_bytes,
             "ad.json": json.dumps(ad_doc, indent=1, ensure_ascii=False, default=str).encode(),
             "manifest.json": json.dumps(manifest, indent=1, ensure_ascii=False).encode()}
    files = {}
    for name, data in blobs.items():
        (out / name).write_bytes(data)
        files[name] = hashlib.sha256(data).hexdigest()
    (out / SUMS).write_text("".join(f"{h}  {n}\n" for n, h in files.items()), encoding="ascii")
    if actor:
        audit(store, actor, "export.capture", f"ad {ad.pk}",
              {"ad_id": ad.ad_id, "folder": out.name, "files": files, "via": via})
    return CaptureExport(out, ad.ad_id, recs, files, missing)


def verify_capture(folder: Path) -> CaptureCheck:
    """Re-check an export: files against SHA256SUMS, the WARC, payloads, image hashes."""
    problems: list[str] = []
    try:
        sums = (folder / SUMS).read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return CaptureCheck(False, 0, 0, [f"{SUMS}: cannot be read ({exc})"])
    listed: dict[str, str] = {}
    for line in sums:
        digest, _, name = line.partition("  ")
        if name in FILES:
            listed[name] = digest
    for name in FILES:
        if name not in listed:
            problems.append(f"{name}: not listed in {SUMS}")
            continue
        try:
            data = (folder / name).read_bytes()
        except OSError:
            problems.append(f"{name}: missing")
            continue
        if hashlib.sha256(data).hexdigest() != listed[name]:
            problems.append(f"{name}: SHA-256 differs from {SUMS}")
    try:
        manifest = json.loads((folder / "manifest.json").read_bytes())
        ad_doc = json.loads((folder / "ad.json").read_bytes())
    except (OSError, ValueError) as exc:
        return CaptureCheck(False, len(listed), 0, [*problems, f"manifest/ad: {exc}"])
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    payloads: dict[str, str] = {}
    recorded: dict[str, str] = {}
    n = 0
    try:
        with open(folder / "capture.warc.gz", "rb") as fh:
            for rec in ArchiveIterator(fh):
                n += 1
                uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
                body = rec.content_stream().read()
                if rec.rec_type == "response":
                    payloads[uri] = hashlib.sha256(body).hexdigest()
                elif rec.rec_type == "metadata":
                    try:
                        sha = json.loads(body).get("payload_sha256")
                    except (ValueError, AttributeError):
                        sha = None
                    if isinstance(sha, str):
                        recorded[uri] = sha
    except (OSError, ArchiveLoadFailed, ValueError) as exc:
        problems.append(f"capture.warc.gz: not a readable WARC ({exc})")
    for uri, sha in payloads.items():
        if recorded.get(uri) != sha:
            problems.append(f"{uri}: payload SHA-256 differs from the one recorded at fetch time")
    for rec in manifest.get("records") or []:
        if isinstance(rec, dict) and rec.get("type") == "response" and \
                payloads.get(str(rec.get("uri"))) != rec.get("payload_sha256"):
            problems.append(f"{rec.get('uri')}: payload differs from manifest.json")
    for img in ad_doc.get("images") or []:
        if isinstance(img, dict) and img.get("sha256") and img.get("original") in payloads \
                and payloads[img["original"]] != img["sha256"]:
            problems.append(f"image {img['original']}: bytes differ from the stored image hash")
    if not payloads:
        problems.append("capture.warc.gz: no response record")
    return CaptureCheck(not problems, len(listed), n, problems)
