"""Case export: a zip holding a CSV of the case's ads, a JSON evidence bundle, and a SHA-256
manifest of both, so a recipient can check nothing changed after export.

Image bytes are not exported, only their hashes: the evidence points to them without copying
possibly abusive material around.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime
from typing import Any

from tracelight import __version__, jsonutil
from tracelight.errors import NotFoundError, TracelightError
from tracelight.records import utcnow
from tracelight.report.csvsafe import SafeCsvWriter
from tracelight.services import networks as network_service
from tracelight.services.adref import ref_of, resolve_legacy
from tracelight.store.cases import Case
from tracelight.web import views

CSV_COLUMNS = ["item", "ad", "ad_id", "source", "title", "posted_at", "location", "risk",
               "top_reasons", "identifiers", "url", "network", "added_by", "added_at"]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _ad_evidence(store: Any, pk: int) -> dict[str, Any]:
    ad = store.get_ad_by_pk(pk)
    mentions = store.mentions_for([pk])[pk]
    return {"ref": ref_of(ad), **ad.to_dict(), "pk": pk, "content_hash": ad.content_hash,
            "reasons": views.reasons_view(ad.reasons),
            "mentions": [m.to_dict() for m in mentions],
            "images": [{k: getattr(i, k) for k in ("position", "original", "sha256", "md5",
                                                   "pdq")} for i in store.images_for(pk)],
            "revisions": [{"revision": r["revision"], "content_hash": r["content_hash"],
                           "seen_at": r["seen_at"]} for r in store.revisions(pk)]}


def case_bundle(store: Any, case: Case, exported_by: str) -> tuple[bytes, str]:
    """(zip bytes, file name)."""
    ads: dict[int, dict[str, Any]] = {}
    networks: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for item in case.items:
        base = {"item": item["kind"], "added_by": item["added_by"],
                "added_at": item["added_at"].isoformat() if item["added_at"] else ""}
        if item["kind"] == "ad":
            try:  # SOURCE/ID, or an internal key in cases from before it
                pk = resolve_legacy(store, item["ref"])[0].pk
                ev = ads.setdefault(pk, _ad_evidence(store, pk))
            except (TracelightError, ValueError):
                rows.append({**base, "title": f"(ad {item['ref']} no longer stored)"})
                continue
            rows.append({**base, **_csv_ad(ev)})
        elif item["kind"] == "network":
            try:
                ranked = network_service.get_network(store, item["ref"])
            except NotFoundError:
                networks[item["ref"]] = {"id": item["ref"], "note": "network not available"}
                rows.append({**base, "network": item["ref"]})
                continue
            summary, pks = ranked.summary(), store.member_pks(ranked.id, limit=5000)
            networks[item["ref"]] = {**summary, "ad_pks": pks}
            for pk in pks[:2000]:
                try:
                    ev = ads.setdefault(pk, _ad_evidence(store, pk))
                except NotFoundError:
                    continue
                rows.append({**base, **_csv_ad(ev), "network": item["ref"]})
        elif item["kind"] == "room_photo":  # its bytes stay home, like ad images
            rows.append({**base, "title": item["label"], "identifiers": f"image:{item['ref']}"})
        else:
            rows.append({**base, "identifiers": item["ref"], "title": item["label"]})
    from tracelight.services.room_uploads import uploads_for_case

    room_photos = [u.to_dict() for u in uploads_for_case(store, case.pk).values()]
    bundle = {
        "format": "tracelight-case-evidence/1",
        "note": "Scores are leads for human review, never findings about a person. Image "
                "bytes are not included; images are identified by their hashes.",
        "exported_at": utcnow(), "exported_by": exported_by, "tracelight": __version__,
        "case": {k: v for k, v in case.to_dict().items()},
        "ads": [ads[k] for k in sorted(ads)], "networks": list(networks.values()),
        "room_photos": room_photos,
    }
    csv_buf = io.StringIO()
    writer = SafeCsvWriter(csv_buf)  # ad text is hostile: no cell may be a formula
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([row.get(c, "") for c in CSV_COLUMNS])
    files = {
        "case.csv": csv_buf.getvalue().encode("utf-8"),
        "evidence.json": jsonutil.dumps(bundle, indent=2).encode("utf-8"),
    }
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                       for name, data in sorted(files.items()))
    files["manifest.sha256"] = manifest.encode("ascii")
    out = io.BytesIO()
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue(), f"case-{case.pk}-{stamp}.zip"


def _csv_ad(ev: dict[str, Any]) -> dict[str, Any]:
    idents = sorted({f"{m['kind']}:{m['value']}" for m in ev["mentions"]
                     if m["kind"] in views.LINK_KINDS})
    return {"ad": ev["ref"], "ad_id": ev["id"], "source": ev["source"], "title": ev["title"],
            "posted_at": _json_default(ev["posted_at"]) if ev["posted_at"] else "",
            "location": ev["location"] or "", "risk": "" if ev["risk"] is None else ev["risk"],
            "top_reasons": "; ".join(r["label"] for r in ev["reasons"][:3]),
            "identifiers": " ".join(idents), "url": ev["url"] or ""}
