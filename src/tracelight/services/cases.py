"""Use case: cases from the CLI (create, list, show, add), audited as the web audits them, and
the one loader that turns a stored case into the typed `CaseFile` every exporter reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelight import __version__, settings
from tracelight.errors import NotFoundError, UsageError
from tracelight.records import utcnow
from tracelight.report.base import (
    Capture,
    CaseAd,
    CaseFile,
    CaseIdentifier,
    CaseImage,
    CaseMention,
    CaseNetwork,
    CustodyEntry,
)
from tracelight.services import adref
from tracelight.store import Store
from tracelight.store.audit import AuditLog, canonical_at
from tracelight.store.cases import Case, Cases

MAX_CASE_ADS = 5000  # ads one case export resolves (a network's members included)
MAX_CAPTURE_BYTES = 50_000_000  # one WARC record copied into an evidence bundle


def os_user() -> str:
    """The operating-system user running the CLI ('?' when the uid has no name)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (containers): still audit, without it
        return "?"


def audit(store: Store, actor: str, action: str, target: str = "",
          detail: dict[str, Any] | None = None) -> int:
    """One audit entry, as the web writes them (the CLI marks its entries `cli: true`)."""
    return AuditLog(store).append(actor, action, target, detail=detail)


@dataclass(frozen=True, slots=True)
class AddResult:
    case: int
    kind: str
    ref: str
    added: bool


def parse_ad_ref(store: Store, ref: str) -> tuple[int, str]:
    """'SOURCE/ID' (or a bare ID) -> (internal key, 'SOURCE/ID') of a stored ad, through the
    one resolver every command and page uses (services.adref)."""
    if not ref.strip():
        raise UsageError("an ad reference is empty (use SOURCE/ID)")
    ad = adref.resolve_ad(store, ref)
    return ad.pk, adref.ref_of(ad)


def create_case(store: Store, title: str, actor: str, *, ads: Sequence[str] = (),
                networks: Sequence[str] = (), description: str = "",
                tags: Sequence[str] = ()) -> Case:
    """A new case holding the given ads (SOURCE/ID) and networks; every step audited."""
    resolved = [parse_ad_ref(store, a) for a in ads]  # all refs checked before anything
    for net in networks:
        store.network_record(net)  # NotFoundError names a missing one
    cases = Cases(store)
    case = cases.create(title, actor, description=description, tags=list(tags))
    audit(store, actor, "case.create", f"case {case.pk}", {"title": case.title, "cli": True})
    for pk, label in resolved:
        add_to_case(store, case.pk, "ad", str(pk), actor, label=label, _checked=True)
    for net in networks:
        add_to_case(store, case.pk, "network", net, actor, _checked=True)
    return cases.get(case.pk)


def add_to_case(store: Store, case_pk: int, kind: str, ref: str, actor: str, *,
                label: str = "", _checked: bool = False) -> AddResult:
    """Add an ad (SOURCE/ID), a network id or an identifier ('kind:value') to a case."""
    if kind == "ad" and not _checked:
        pk, label = parse_ad_ref(store, ref)
        ref = str(pk)
    elif kind == "network" and not _checked:
        store.network_record(ref)
    elif kind == "room_photo":  # needs its photo and candidates: services.room_uploads
        raise UsageError("room photos are attached from the workspace's Rooms page")
    added = Cases(store).add_item(case_pk, kind, ref, actor, label)
    audit(store, actor, "case.add_item", f"case {case_pk}",
          {"kind": kind, "ref": ref, "added": added, "cli": True})
    return AddResult(case_pk, kind, ref, added)


def list_cases(store: Store, actor: str, *, status: str | None = None) -> list[dict[str, Any]]:
    found = Cases(store).list_cases(status=status)
    audit(store, actor, "case.list", "", {"status": status, "shown": len(found), "cli": True})
    return found


def show_case(store: Store, pk: int, actor: str) -> Case:
    case = Cases(store).get(pk)
    audit(store, actor, "case.view", f"case {pk}", {"cli": True})
    return case


# ---- loading a case for export ---------------------------------------------------------------

def _capture(extra: dict[str, Any], url: str | None) -> Capture:
    """The WARC record an ad's `extra.warc` points at ({"file": name under TRACELIGHT_WARC_DIR,
    "offset": bytes}), copied byte for byte; otherwise a note saying why there is none."""
    ref = extra.get("warc") if isinstance(extra, dict) else None
    if not ref:
        return Capture(None, "collection supplied no WARC capture for this ad; the stored "
                             "text (ad.json) stands in for it")
    if not isinstance(ref, dict) or not isinstance(ref.get("file"), str) \
            or not isinstance(ref.get("offset"), int) or ref["offset"] < 0:
        return Capture(None, "the ad's WARC reference is malformed; the stored text stands in")
    root = Path(settings.get("warc_dir")).resolve()
    try:
        path = (root / ref["file"]).resolve()
        path.relative_to(root)
    except (ValueError, OSError):
        return Capture(None, "the ad's WARC reference points outside TRACELIGHT_WARC_DIR and "
                             "was not followed; the stored text stands in")
    origin = f"{ref['file']}#{ref['offset']}"
    try:
        if not path.is_file():
            return Capture(None, f"WARC file {ref['file']} is not in TRACELIGHT_WARC_DIR; the "
                                 "stored text stands in", origin)
        data = _read_warc_record(path, ref["offset"])
    except (OSError, ValueError) as exc:
        return Capture(None, f"WARC record {origin} cannot be read ({exc}); the stored text "
                             "stands in", origin)
    return Capture(data, f"original WARC record {origin}", origin)


def _read_warc_record(path: Path, offset: int) -> bytes:
    """The bytes of the one WARC record at `offset` (compressed as stored)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with open(path, "rb") as fh:
        fh.seek(offset)
        head = fh.read(5)  # a record starts with "WARC/" (or a gzip member in .warc.gz)
        if head != b"WARC/" and head[:3] != b"\x1f\x8b\x08":
            raise ValueError(f"no WARC record starts at offset {offset}")
        fh.seek(offset)
        it = ArchiveIterator(fh)
        try:
            record = next(iter(it))
        except (StopIteration, ArchiveLoadFailed) as exc:
            raise ValueError(f"no WARC record at offset {offset}") from exc
        record.content_stream().read(MAX_CAPTURE_BYTES + 1)
        it.read_to_end(record)
        length = it.get_record_length()
        if length is None or length > MAX_CAPTURE_BYTES:
            raise ValueError("record larger than an evidence bundle takes")
        fh.seek(offset)
        return fh.read(length)


def _case_ad(store: Store, pk: int, network: str | None) -> CaseAd:
    ad = store.get_ad_by_pk(pk)
    mentions = store.mentions_for([pk]).get(pk, [])
    return CaseAd(
        pk=pk, source=ad.source, ad_id=ad.ad_id, url=ad.url, title=ad.title, body=ad.body,
        posted_at=ad.posted_at, location=ad.location, first_seen=ad.first_seen,
        last_seen=ad.last_seen, revision=ad.revision, content_hash=ad.content_hash,
        risk=ad.risk, reasons=tuple(r.to_dict() for r in ad.reasons or []),
        mentions=tuple(CaseMention(m.kind, m.value, m.field, m.start, m.end, m.raw,
                                   m.obfuscated) for m in mentions),
        images=tuple(CaseImage(i.position, i.original, i.sha256, i.md5, i.pdq, i.error)
                     for i in store.images_for(pk)),
        network=network or store.network_id_of(pk), capture=_capture(ad.extra, ad.url))


def load_case(store: Store, pk: int, actor: str) -> CaseFile:
    """The case with its items resolved (ads, network members, identifiers) and its chain of
    custody: every audit entry about the case, its ads, their images and its networks."""
    from tracelight.services import networks as network_service

    case = Cases(store).get(pk)
    ad_order: dict[int, str | None] = {}
    networks: list[CaseNetwork] = []
    identifiers: list[CaseIdentifier] = []
    missing: list[str] = []
    for item in case.items:
        if item["kind"] == "ad":
            try:
                ad_order.setdefault(int(item["ref"]), None)
            except ValueError:
                missing.append(f"ad {item['ref']}")
        elif item["kind"] == "network":
            try:
                ranked = network_service.get_network(store, item["ref"])
            except NotFoundError:
                missing.append(f"network {item['ref']}")
                continue
            members = store.member_pks(ranked.id, limit=MAX_CASE_ADS)
            networks.append(CaseNetwork(ranked.id, ranked.summary(), tuple(members)))
            for m in members:
                ad_order.setdefault(m, ranked.id)
        elif item["kind"] == "room_photo":
            continue  # an uploaded photo's SHA-256: listed in `items`, bytes stay home
        else:
            kind, _, value = str(item["ref"]).partition(":")
            if value:
                identifiers.append(CaseIdentifier(kind, value, item["label"] or ""))
    ads: list[CaseAd] = []
    for ad_pk, net in list(ad_order.items())[:MAX_CASE_ADS]:
        try:
            ads.append(_case_ad(store, ad_pk, net))
        except NotFoundError:
            missing.append(f"ad {ad_pk}")
    log = AuditLog(store)
    targets = [f"case {pk}", *(a.ref for a in ads), *(n.id for n in networks)]
    custody = tuple(
        CustodyEntry(seq=int(e["seq"] or 0), at=canonical_at(e["at"]), username=e["username"],
                     action=e["action"], target=e["target"], reason=e["reason"],
                     detail=e["detail"], ip=e["ip"], prev_hash=e["prev_hash"] or "",
                     row_hash=e["row_hash"] or "")
        for e in log.chain_for(targets, [f"ad {a.pk} image " for a in ads]))
    return CaseFile(
        id=case.pk, title=case.title, description=case.description, status=case.status,
        created_by=case.created_by, created_at=case.created_at, tags=tuple(case.tags),
        loaded_at=utcnow(), loaded_by=actor, tool_version=__version__, ads=tuple(ads),
        networks=tuple(networks), identifiers=tuple(identifiers),
        items=tuple({**i, "added_at": i["added_at"].isoformat() if i["added_at"] else None}
                    for i in case.items),
        notes=tuple({**n, "at": n["at"].isoformat()} for n in case.notes),
        custody=custody, audit_head=log.head(), missing=tuple(missing),
        room_photos=tuple(u.to_dict() for u in store.room_uploads_for_case(pk)))


def actor_name(given: str | None) -> str:
    """--as USER, else the OS user; never empty."""
    name = (given or "").strip() or os_user()
    return name[:64]
