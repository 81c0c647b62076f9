"""Use case: what's new since a time, for a team channel (`tracelight digest`): new ads in
watched networks (networks analysts hold: in review, escalated, needs follow-up), networks
that grew (most new ads first), and watchlist hits. Markdown or JSON Lines; the file is
written locally and sent nowhere.

"Since my last visit" (`since_last_visit`, the web's What's new): per user and store, the
time up to which the user has seen what's new (store: visits). Showing the page never moves
it, so a refresh loses nothing; it moves when the visit is marked seen: the page's button
(up to what that page showed), logging out, or the next login (up to what the last visit
showed). Every move is audited (`visit.seen`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tracelight.errors import UsageError
from tracelight.records import utcnow
from tracelight.services import adref
from tracelight.store import Store
from tracelight.store.audit import AuditLog

WATCHED_STATES = ("in review", "escalated", "needs follow-up")
MAX_GREW = 50
MAX_LISTED = 20  # ads named per network
_SPAN = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """'24h', '90m', '7d', '2w' back from now, or an ISO date/time (UTC when naive)."""
    now = now or utcnow()
    m = _SPAN.match(text)
    if m:
        return now - timedelta(**{_UNIT[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"not a time span or date: {text[:40]!r}",
                         hint="e.g. 24h, 7d, or 2026-12-01") from None
    from datetime import UTC

    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass
class Digest:
    since: datetime
    until: datetime
    watched: list[dict[str, Any]] = field(default_factory=list)
    grew: list[dict[str, Any]] = field(default_factory=list)
    hits: list[dict[str, Any]] = field(default_factory=list)
    new_ads: int = 0

    def records(self) -> list[dict[str, Any]]:
        """One JSON object per line: a header, then each item with its `section`."""
        out: list[dict[str, Any]] = [{"section": "digest", "since": self.since,
                                      "until": self.until, "new_ads": self.new_ads,
                                      "watched_networks": len(self.watched),
                                      "networks_grew": len(self.grew),
                                      "watchlist_hits": len(self.hits)}]
        out += [{"section": "watched_network", **w} for w in self.watched]
        out += [{"section": "network_grew", **g} for g in self.grew]
        out += [{"section": "watchlist_hit", **h} for h in self.hits]
        return out

    def markdown(self) -> str:
        def esc(text: Any) -> str:  # nothing in an ad may become Markdown or a link
            return re.sub(r"([\\`*_{}\[\]()<>#+!|~-])", r"\\\1", str(text))

        lines = [f"# tracelight digest {self.since:%Y-%m-%d %H:%M}Z to "
                 f"{self.until:%Y-%m-%d %H:%M}Z", "",
                 f"{self.new_ads} new ad(s); leads for review, not findings about people.", ""]
        lines.append(f"## New ads in watched networks ({len(self.watched)})")
        lines += [f"- network {esc(w['network'])} ({esc(w['state'])}"
                  + (f", {esc(w['assignee'])}" if w.get("assignee") else "")
                  + f"): {w['new_ads']} new: " + ", ".join(esc(r) for r in w["ads"])
                  for w in self.watched] or ["- none"]
        lines += ["", f"## Networks that grew ({len(self.grew)})"]
        lines += [f"- network {esc(g['network'])}: +{g['new_ads']} ad(s), {g['size']} now"
                  for g in self.grew] or ["- none"]
        lines += ["", f"## Watchlist hits ({len(self.hits)})"]
        lines += [f"- {esc(h['kind'])} {esc(h['value'])}"
                  + (f" (list {esc(h['watchlist'])})" if h.get("watchlist") else "")
                  + f" for {esc(h['user'])}: {esc(h['ad'])}" for h in self.hits] or ["- none"]
        return "\n".join(lines) + "\n"


def digest(store: Store, since: datetime, actor: str, *, via_cli: bool = True,
           hits_for: str | None = None, view: str | None = None) -> Digest:
    """What's new since `since`; `hits_for`: only that user's watchlist hits."""
    until = utcnow()
    new = store.new_ads_since(since)
    refs = store.ad_refs([pk for pk, _ in new])
    by_net: dict[str, list[int]] = {}
    for pk, nid in new:
        if nid:
            by_net.setdefault(nid, []).append(pk)
    out = Digest(since, until, new_ads=len(new))
    held = {r.ref: r for r in store.reviews_for("network", list(by_net))
            .values() if r.state in WATCHED_STATES}

    def named(pks: list[int]) -> list[str]:
        return [adref.format_ref(*refs[p]) for p in pks[:MAX_LISTED] if p in refs]

    for nid in sorted(held):
        r = held[nid]
        out.watched.append({"network": nid, "state": r.state, "assignee": r.assignee,
                            "new_ads": len(by_net[nid]), "ads": named(by_net[nid])})
    grown = sorted(by_net.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:MAX_GREW]
    for nid, pks in grown:
        size = len(store.member_pks(nid, limit=100_000))
        if size > len(pks):  # existed before `since`: it grew (not only new)
            out.grew.append({"network": nid, "new_ads": len(pks), "size": size,
                             "ads": named(pks)})
    hits = store.watch_hits_since(since)
    if hits_for is not None:
        hits = [h for h in hits if h["user"] == hits_for]
    hit_refs = store.ad_refs([h["ad_pk"] for h in hits])
    for h in hits:
        pair = hit_refs.get(h.pop("ad_pk"))
        h["ad"] = adref.format_ref(*pair) if pair else "(deleted ad)"
        out.hits.append(h)
    AuditLog(store).append(actor, "digest", "", detail={
        "since": since.isoformat(), "new_ads": len(new), "watched": len(out.watched),
        "grew": len(out.grew), "hits": len(out.hits), "cli": via_cli,
        **({"view": view} if view else {})})
    return out


# ---- since my last visit -------------------------------------------------------------------

VISIT_PAGE = "new"
FIRST_VISIT = timedelta(days=7)  # a user who never marked a visit seen: the last 7 days


def last_seen(store: Store, user: str) -> tuple[datetime, bool]:
    """(the time the user's last visit was marked seen, whether there was one); the first
    visit counts from FIRST_VISIT back."""
    v = store.get_visit(user, VISIT_PAGE)
    if v is None or v.seen_at is None:
        return utcnow() - FIRST_VISIT, False
    return v.seen_at, True


def since_last_visit(store: Store, user: str, *, via_cli: bool = False) -> Digest:
    """What's new since the user's last visit; remembers what this view showed (applied when
    the visit ends) without moving the last visit itself."""
    since, _known = last_seen(store, user)
    found = digest(store, since, user, via_cli=via_cli, hits_for=user, view="since last visit")
    store.set_visit(user, VISIT_PAGE, shown_until=found.until)
    return found


def mark_seen(store: Store, user: str, until: datetime | None, *, how: str,
              via_cli: bool = False) -> datetime | None:
    """Everything up to `until` (never later than now, never earlier than the last visit)
    counts as seen. Returns the new last visit, None when nothing moved."""
    now = utcnow()
    v = store.get_visit(user, VISIT_PAGE)
    old = v.seen_at if v else None
    when = min(until or now, now)
    if old is not None and when <= old:
        store.set_visit(user, VISIT_PAGE, clear_shown=True)
        return None
    store.set_visit(user, VISIT_PAGE, seen_at=when, clear_shown=True)
    AuditLog(store).append(user, "visit.seen", VISIT_PAGE, detail={
        "seen_until": when.isoformat(), "previous": old.isoformat() if old else None,
        "how": how, "cli": via_cli})
    return when


def end_visit(store: Store, user: str, *, how: str) -> datetime | None:
    """The visit ended (logout, or a new login after a session that ran out): what its
    views showed counts as seen."""
    v = store.get_visit(user, VISIT_PAGE)
    if v is None or v.shown_until is None:
        return None
    return mark_seen(store, user, v.shown_until, how=how)
