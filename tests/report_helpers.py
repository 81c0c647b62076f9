"""Synthetic cases for the exporter tests (no store): plain CaseFile values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracelight.report.base import (
    CaseAd,
    CaseFile,
    CaseIdentifier,
    CaseImage,
    CaseMention,
    CaseNetwork,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def case_ad(pk: int, *, title: str = "Sunny afternoons", body: str = "Call 206 555 0143",
            phone: str = "+12065550143", email: str = "demo@example.org",
            handle: str = "instagram:demo_handle", network: str | None = "net-1",
            url: str | None = None) -> CaseAd:
    return CaseAd(
        pk=pk, source="demo-board", ad_id=f"ad-{pk}",
        url=url if url is not None else f"https://demo-board.example/ads/{pk}",
        title=title, body=body, posted_at=T0 + timedelta(hours=pk), location="Seattle",
        first_seen=T0 + timedelta(days=1), last_seen=T0 + timedelta(days=2), revision=1,
        content_hash="c" * 64, risk=0.7, reasons=({"code": "x", "label": "X"},),
        mentions=(CaseMention("phone", phone, "body", 5, 17, "206 555 0143"),
                  CaseMention("email", email, "body", 0, 3, email),
                  CaseMention("social", handle, "body", 0, 3, "@demo_handle"),
                  CaseMention("age", "19", "body", 0, 2, "19"),
                  CaseMention("name", "Jasmine", "body", 0, 7, "Jasmine")),
        images=(CaseImage(0, "page_files/pic.jpg", f"{pk:064x}", f"{pk:032x}",
                          f"{pk + 1:064x}"),),
        network=network)


def make_case(n_ads: int = 3, **ad_kwargs: object) -> CaseFile:
    ads = tuple(case_ad(i + 1, **ad_kwargs) for i in range(n_ads))  # type: ignore[arg-type]
    return CaseFile(
        id=7, title="Synthetic review", description="", status="open", created_by="bo",
        created_at=T0, tags=("demo",), loaded_at=T0 + timedelta(days=3), loaded_by="bo",
        tool_version="0.1.0", ads=ads,
        networks=(CaseNetwork("net-1", {"size": n_ads, "label": "demo"},
                              tuple(a.pk for a in ads)),),
        identifiers=(CaseIdentifier("phone", "+12065550199", "tip line"),),
        items=({"id": 1, "kind": "network", "ref": "net-1", "label": "",
                "added_by": "bo", "added_at": T0.isoformat()},))
