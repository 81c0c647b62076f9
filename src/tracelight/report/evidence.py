"""Evidence bundles for prosecutors: one zip per case that a recipient can check byte for byte.

Layout (all under `case-N/`):

    README.txt            what the bundle is and how to check it
    case.json             the case: title, status, items, notes
    ads/PK/ad.json        the ad as stored (text, dates, risk and reasons, image hashes)
    ads/PK/entities.json  what was extracted, with spans (field, start, end, raw text)
    ads/PK/capture.warc   the original WARC record when collection supplied one (byte copy),
      or capture-note.txt saying that the stored text stands in for it
    networks.json         the networks in the case, with the evidence joining their ads
    custody.jsonl         the chain of custody: audit entries about the case, its ads, their
                          images and networks (who viewed, added, exported what, when), each
                          with its place in the audit log's hash chain
    tool.json             the tracelight version that made the bundle
    certification.txt     a business-records certification for a records custodian to sign
    manifest.json         SHA-256 and size of every other file, and the audit head
    manifest.sha256       the same hashes in `sha256sum -c` format

The zip is written deterministically (stored, not compressed; fixed times and attributes), so
`verify_bundle` rebuilds it from its own entries and compares the bytes: a change to any byte,
in a file or in the zip's own structure, is found and named. Image bytes are never included,
only hashes. Verification never writes to disk and refuses hostile zips (paths leaving the
folder, duplicate names, entries or totals beyond fixed bounds, compression bombs).
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from tracelight.report.base import CaseAd, CaseFile, WrittenFile, sha256_hex, write_file

FORMAT = "tracelight-evidence/1"
MAX_ENTRIES = 50_000
MAX_ENTRY_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed size beyond which an entry is a bomb
NOT_LISTED = ("manifest.json", "manifest.sha256")

EntryHash = Callable[..., str]  # store.audit.entry_hash's signature


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False,
                      default=_default).encode("utf-8", "replace")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def _ad_json(ad: CaseAd) -> dict[str, Any]:
    return {"pk": ad.pk, "source": ad.source, "id": ad.ad_id, "url": ad.url,
            "title": ad.title, "body": ad.body, "posted_at": ad.posted_at,
            "location": ad.location, "first_seen": ad.first_seen, "last_seen": ad.last_seen,
            "revision": ad.revision, "content_hash": ad.content_hash, "risk": ad.risk,
            "reasons": list(ad.reasons), "network": ad.network,
            "images": [i.to_dict() for i in ad.images],
            "note": "Risk scores are leads for human review, never findings about a person. "
                    "Images are identified by their hashes; no image bytes are included."}


CERTIFICATION = """\
CERTIFICATION OF RECORDS OF REGULARLY CONDUCTED ACTIVITY
(for example Federal Rules of Evidence 803(6) and 902(11), or the equivalent rule where filed)

I, ______________________________ (name), certify under penalty of perjury that:

1. I am employed by ______________________________ (organisation) as
   ______________________________ (title). By reason of my position I am a custodian of the
   records described below, or am otherwise familiar with the manner in which they are made
   and kept, and I am qualified to make this certification.

2. The records in the evidence bundle described below (case {case_id}, "{title}", made on
   {made_at} by {made_by} with tracelight {version}) are true copies of records that were:
   (a) made at or near the time of the occurrence of the matters set forth in them, by, or
       from information transmitted by, a person with knowledge of those matters, or by an
       automated process whose output is accurate;
   (b) kept in the course of the regularly conducted activity of
       ______________________________ (organisation); and
   (c) made as a regular practice of that activity.

3. Each record is identified by the SHA-256 hash listed below. Recomputing these hashes
   (`tracelight evidence verify BUNDLE.zip`, or `sha256sum -c manifest.sha256` in the
   unpacked folder) shows whether any record was changed after the bundle was made. The
   audit log's hash chain stood at entry {head_seq} with hash {head_hash} when the bundle was
   made.

{listing}

I certify under penalty of perjury under the laws of ______________________________ that
the foregoing is true and correct.

Executed on ____________________ (date) at ______________________________ (place).

Signature: ______________________________

Printed name: ______________________________
"""

README = """\
Evidence bundle for case {case_id}: "{title}"
Made {made_at} by {made_by} with tracelight {version}.

Every file is listed with its SHA-256 in manifest.json and manifest.sha256. To check the
bundle: `tracelight evidence verify THIS.zip` (also re-checks the zip's structure and the
chain of custody's hashes), or unpack it and run `sha256sum -c manifest.sha256` in case-{case_id}/.

custody.jsonl is the chain of custody from tracelight's hash-chained audit log: each entry's
row_hash is the SHA-256 of its content and of the previous entry's hash (prev_hash).

Captures: {captures}
Risk scores and network links are leads for human review, never findings about a person.
Images are identified by their hashes only; no image bytes are included.
"""


def bundle_files(case: CaseFile) -> dict[str, bytes]:
    """Every file of the bundle (names under case-N/), manifests included."""
    root = f"case-{case.id}"
    files: dict[str, bytes] = {}
    files["case.json"] = _json({
        "id": case.id, "title": case.title, "description": case.description,
        "status": case.status, "created_by": case.created_by, "created_at": case.created_at,
        "tags": list(case.tags), "items": list(case.items), "notes": list(case.notes),
        "missing": list(case.missing), "room_photos": list(case.room_photos)})
    with_warc = 0
    for ad in case.ads:
        base = f"ads/{ad.pk}"
        files[f"{base}/ad.json"] = _json(_ad_json(ad))
        files[f"{base}/entities.json"] = _json([m.to_dict() for m in ad.mentions])
        if ad.capture.warc is not None:
            with_warc += 1
            files[f"{base}/capture.warc"] = ad.capture.warc
            files[f"{base}/capture-note.txt"] = (ad.capture.note + "\n").encode("utf-8",
                                                                                 "replace")
        else:
            files[f"{base}/capture-note.txt"] = (
                f"{ad.capture.note or 'no original capture'}.\nad.json holds the ad's text as "
                f"stored (content hash {ad.content_hash}, revision {ad.revision}).\n"
            ).encode()
    files["networks.json"] = _json([{"id": n.id, **n.summary, "ad_pks": list(n.ad_pks)}
                                    for n in case.networks])
    files["custody.jsonl"] = "".join(
        json.dumps(e.to_dict(), ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n"
        for e in case.custody).encode("utf-8", "replace")
    files["tool.json"] = _json({"tool": "tracelight", "version": case.tool_version,
                                "format": FORMAT})
    info = dict(case_id=case.id, title=case.title.replace('"', "'"),
                made_at=case.loaded_at.isoformat(), made_by=case.loaded_by,
                version=case.tool_version, head_seq=case.audit_head[0],
                head_hash=case.audit_head[1])
    captures = (f"{with_warc} of {len(case.ads)} ads have their original WARC record "
                "(capture.warc); for the others, capture-note.txt says that the stored text "
                "stands in.") if case.ads else "no ads in this case."
    files["README.txt"] = README.format(**info, captures=captures).encode("utf-8", "replace")
    listing = "\n".join(f"   {sha256_hex(data)}  {name}" for name, data in sorted(files.items()))
    files["certification.txt"] = CERTIFICATION.format(**info, listing=listing).encode("utf-8",
                                                                                   "replace")
    manifest: dict[str, Any] = {
                "format": FORMAT, "case": case.id, "made_at": case.loaded_at.isoformat(),
                "made_by": case.loaded_by, "tool": {"name": "tracelight",
                                                    "version": case.tool_version},
                "audit_head": {"seq": case.audit_head[0], "hash": case.audit_head[1]},
                "custody_entries": len(case.custody),
                "files": {name: {"sha256": sha256_hex(data), "size": len(data)}
                          for name, data in sorted(files.items())}}
    files["manifest.json"] = _json(manifest)
    files["manifest.sha256"] = "".join(
        f"{v['sha256']}  {k}\n" for k, v in manifest["files"].items()).encode("utf-8")
    return {f"{root}/{name}": data for name, data in files.items()}


def _zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    year = min(max(when.year, 1980), 2107)
    return (year, when.month, when.day, when.hour, when.minute, when.second - when.second % 2)


def write_zip(files: dict[str, bytes], fh: IO[bytes],
              date_time: tuple[int, int, int, int, int, int]) -> None:
    """The deterministic zip: stored entries in the given order, fixed attributes."""
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=False) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, data)


def build_bundle(case: CaseFile) -> bytes:
    buf = io.BytesIO()
    write_zip(bundle_files(case), buf, _zip_time(case.loaded_at))
    return buf.getvalue()


class EvidenceExporter:
    """`case.zip`: the evidence bundle (see the module docstring)."""

    name = "evidence"

    def export(self, case: CaseFile, out: Path) -> list[WrittenFile]:
        return [write_file(out, build_bundle(case))]


# ---- verification ------------------------------------------------------------------------------

@dataclass
class VerifyReport:
    path: str
    files: int = 0
    custody_entries: int = 0
    audit_head: tuple[int, str] = (0, "")
    case: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_name(name: str) -> str | None:
    """Why an entry name is hostile, or None."""
    if not name or len(name) > 500:
        return "an empty or overlong name"
    if "\\" in name or "\x00" in name or name.startswith("/") or ":" in name.split("/")[0]:
        return "an absolute path or a drive letter"
    if any(p in ("..", ".", "") for p in PurePosixPath(name).parts) or "//" in name:
        return "a path that leaves the bundle's folder"
    return None


def _entries(zf: zipfile.ZipFile, report: VerifyReport) -> dict[str, zipfile.ZipInfo] | None:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        report.problems.append(f"{len(infos)} entries: more than a bundle holds "
                               f"({MAX_ENTRIES})")
        return None
    out: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        why = _safe_name(info.filename)
        if why:
            report.problems.append(f"entry {info.filename!r} is refused: {why}")
            continue
        if info.filename in out:
            report.problems.append(f"entry {info.filename!r} appears twice")
            continue
        if info.is_dir():
            continue
        if info.file_size > MAX_ENTRY_BYTES:
            report.problems.append(f"{info.filename}: {info.file_size} bytes, more than an "
                                   f"entry may hold ({MAX_ENTRY_BYTES})")
            continue
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            ratio = info.file_size // max(1, info.compress_size)
            report.problems.append(f"{info.filename}: compressed {ratio}:1, refused as a "
                                   "compression bomb")
            continue
        total += info.file_size
        out[info.filename] = info
    if total > MAX_TOTAL_BYTES:
        report.problems.append(f"{total} bytes in all: more than a bundle holds")
        return None
    return out


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's bytes, never more than it declares (zipfile stops at file_size and checks
    the CRC)."""
    with zf.open(info) as fh:
        data = fh.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise zipfile.BadZipFile(f"{info.filename}: size differs from the directory")
    return data


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    while chunk := fh.read(1 << 20):
        yield chunk


def verify_bundle(path: Path, entry_hash: EntryHash) -> VerifyReport:
    """Check an evidence bundle: every file's SHA-256 against the manifest, no file missing or
    added, the zip byte for byte against its canonical rebuild, and the chain of custody's
    hashes. `entry_hash` is the audit log's hash function (tracelight.store.audit)."""
    report = VerifyReport(str(path))
    try:
        size = path.stat().st_size
    except OSError as exc:
        report.problems.append(f"cannot read {path}: {exc.strerror or exc}")
        return report
    if size > MAX_TOTAL_BYTES + 64 * 1024 * 1024:
        report.problems.append(f"{size} bytes: more than a bundle holds")
        return report
    try:
        with open(path, "rb") as raw, zipfile.ZipFile(raw) as zf:
            entries = _entries(zf, report)
            if entries is None or report.problems:
                return report
            _verify_entries(zf, entries, report, entry_hash)
            if not report.problems:
                _verify_structure(raw, zf, entries, report)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, struct.error, EOFError,
            NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        report.problems.append(f"not a readable zip (changed or cut short): {exc}")
    return report


def _verify_entries(zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo],
                    report: VerifyReport, entry_hash: EntryHash) -> None:
    roots = {name.split("/", 1)[0] for name in entries}
    if len(roots) != 1:
        report.problems.append("not an evidence bundle: files outside one case folder")
        return
    root = roots.pop()
    mname = f"{root}/manifest.json"
    if mname not in entries or entries[mname].file_size > MAX_MANIFEST_BYTES:
        report.problems.append("not an evidence bundle: manifest.json is missing")
        return
    try:
        manifest = json.loads(_read(zf, entries[mname]))
        listed = manifest["files"]
        assert isinstance(listed, dict) and manifest.get("format") == FORMAT
    except (ValueError, KeyError, TypeError, AssertionError):
        report.problems.append("manifest.json was changed: it is no longer a manifest")
        return
    report.case = manifest.get("case") if isinstance(manifest.get("case"), int) else None
    head = manifest.get("audit_head") or {}
    report.audit_head = (int(head.get("seq", 0)), str(head.get("hash", "")))
    present = {name[len(root) + 1:] for name in entries} - set(NOT_LISTED)
    for name in sorted(set(listed) - present):
        report.problems.append(f"{name}: listed in the manifest but missing")
    for name in sorted(present - set(listed)):
        report.problems.append(f"{name}: in the zip but not in the manifest (added)")
    custody: bytes | None = None
    for name in sorted(present & set(listed)):
        want = listed[name]
        data = _read(zf, entries[f"{root}/{name}"])
        got = hashlib.sha256(data).hexdigest()
        if not isinstance(want, dict) or want.get("sha256") != got:
            report.problems.append(f"{name}: changed (SHA-256 {got[:16]}… does not match the "
                                   "manifest)")
        if name == "custody.jsonl":
            custody = data
    report.files = len(present)
    sname = f"{root}/manifest.sha256"
    if sname in entries:
        if _read(zf, entries[sname]).decode("utf-8", "replace") != "".join(
                f"{v.get('sha256') if isinstance(v, dict) else v}  {k}\n"
                for k, v in listed.items()):
            report.problems.append("manifest.sha256: changed (differs from manifest.json)")
    else:
        report.problems.append("manifest.sha256: missing")
    if custody is not None:
        _verify_custody(custody, report, entry_hash)


def _verify_custody(data: bytes, report: VerifyReport, entry_hash: EntryHash) -> None:
    prev: dict[str, Any] | None = None
    for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        try:
            e = json.loads(line)
            at = datetime.fromisoformat(str(e["at"]).replace("Z", "+00:00"))
            digest = entry_hash(int(e["seq"]), at, e["username"], e["action"], e["target"],
                                e["reason"], e["detail"], e["ip"], e["prev_hash"])
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"custody.jsonl line {n}: not an audit entry ({exc})")
            return
        if digest != e["row_hash"]:
            report.problems.append(f"custody.jsonl line {n} (audit entry {e['seq']}): content "
                                   "changed after it was written (hash chain)")
        if prev is not None:
            if e["seq"] <= prev["seq"]:
                report.problems.append(f"custody.jsonl line {n}: entries out of order")
            elif e["seq"] == prev["seq"] + 1 and e["prev_hash"] != prev["row_hash"]:
                report.problems.append(f"custody.jsonl line {n} (audit entry {e['seq']}): does "
                                       "not link to the entry before it")
        if report.audit_head[0] and e["seq"] > report.audit_head[0]:
            report.problems.append(f"custody.jsonl line {n}: entry {e['seq']} is newer than "
                                   "the audit head the manifest records")
        prev = e
        report.custody_entries += 1


def _verify_structure(raw: IO[bytes], zf: zipfile.ZipFile,
                      entries: dict[str, zipfile.ZipInfo], report: VerifyReport) -> None:
    """Rebuild the zip from its own entries the way `write_zip` writes it; any differing byte
    (headers, times, attributes, comments, padding) is a change."""
    infos = zf.infolist()
    times = {i.date_time for i in infos}
    if len(times) != 1 or zf.comment:
        report.problems.append("the zip's structure was changed (times or comment)")
        return
    files = {i.filename: _read(zf, i) for i in infos}
    raw.seek(0)
    original = hashlib.sha256()
    for chunk in _chunks(raw):
        original.update(chunk)
    with tempfile.TemporaryFile() as tmp:
        write_zip(files, tmp, times.pop())
        tmp.seek(0)
        rebuilt = hashlib.sha256()
        for chunk in _chunks(tmp):
            rebuilt.update(chunk)
    if rebuilt.digest() != original.digest():
        report.problems.append("the zip's structure was changed (bytes outside the files "
                               "differ from a bundle as tracelight writes it)")
