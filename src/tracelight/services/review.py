"""Use case: triage that remembers. Review state for ads and networks, shared by the team in
the store, every change audited; verdicts (escalated, no concern) kept as labels; and the
rules the queue uses to hide what is closed and show it again, named, once it changed.

States: `new`, `in review` (by whom), `no concern` (with a reason), `escalated` (to a case,
optionally), `needs follow-up` (with a date). Closed: `no concern` and `escalated`; a
`needs follow-up` target is hidden until its date. A closed ad whose revision grew, or a closed
network that gained ads, is shown as `new` again with the change named.

A reference is an ad (SOURCE/ID, read by services.adref) or `network:ID`. Marking a network
marks every ad in it too, and says how many.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracelight.errors import UsageError
from tracelight.records import utcnow
from tracelight.services import adref
from tracelight.store import Store, StoredAd
from tracelight.store.audit import AuditLog, clean_text
from tracelight.store.reviews import Review, ReviewChange, ReviewLabel

STATES = ("new", "in review", "no concern", "escalated", "needs follow-up")
CLOSED = ("no concern", "escalated")
LABEL_OF = {"escalated": 1, "no concern": 0}
# the short list of no-concern reasons (free text is accepted too)
REASONS = ("not a lead: ordinary adult services ad", "duplicate of a reviewed ad",
           "spam or scam, no sign of exploitation", "already handled elsewhere",
           "not enough information")
MAX_REASON = 500
MAX_NETWORK_ADS = 100_000
MAX_REFS = 10_000

__all__ = ["CLOSED", "REASONS", "STATES", "MarkResult", "Target", "annotate_ads",
           "annotate_networks", "assign", "list_reviews", "mark", "normalize_state",
           "parse_follow_up", "resolve_targets"]


def normalize_state(text: str) -> str:
    """'no-concern', 'No_Concern', 'no concern' -> 'no concern'; UsageError names the known."""
    key = "".join(c for c in text.lower() if c.isalpha())
    state = next((s for s in STATES if s.replace(" ", "").replace("-", "") == key), "")
    if not state:
        raise UsageError(f"unknown review state {text!r}",
                         hint=f"one of: {', '.join(s.replace(' ', '-') for s in STATES)}")
    return state


def parse_follow_up(text: str) -> datetime:
    """A follow-up date 'YYYY-MM-DD' (or an ISO time) as an aware UTC datetime."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"not a date: {text[:40]!r}", hint="give it as YYYY-MM-DD") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to review: an ad (key: its internal key as text) or a network."""

    kind: str
    key: str
    label: str  # SOURCE/ID or network:ID, as printed and audited
    seen: int  # an ad's revision, a network's size
    ad_pks: tuple[int, ...]  # the ad itself, or the network's ads


@dataclass(frozen=True, slots=True)
class MarkResult:
    state: str
    targets: tuple[str, ...]
    ads: int  # ads whose state changed (a network's ads included)
    networks: int
    labels: int  # verdicts stored as labels

    def summary(self) -> str:
        nets = f" in {self.networks} network(s)" if self.networks else ""
        return f"{self.state}: {self.ads} ad(s){nets} touched, {self.labels} label(s) stored"


def resolve_targets(store: Store, refs: Sequence[str]) -> list[Target]:
    """Every reference resolved (all checked before anything is written)."""
    if not refs:
        raise UsageError("nothing to review", hint="give SOURCE/ID or network:ID")
    if len(refs) > MAX_REFS:
        raise UsageError(f"too many references ({len(refs)}; at most {MAX_REFS})")
    refs = list(dict.fromkeys(refs))  # the same target named twice is one target
    out: list[Target] = []
    for ref in refs:
        if ref.startswith("network:"):
            nid = ref[len("network:"):].strip()
            if not nid:
                raise UsageError("a network reference is empty (use network:ID)")
            store.network_record(nid)  # NotFoundError names it
            pks = tuple(store.member_pks(nid, limit=MAX_NETWORK_ADS))
            out.append(Target("network", nid, f"network:{nid}", len(pks), pks))
        else:
            if not ref.strip():
                raise UsageError("an ad reference is empty (use SOURCE/ID)")
            ad = adref.resolve_ad(store, ref)
            out.append(Target("ad", str(ad.pk), adref.ref_of(ad), ad.revision, (ad.pk,)))
    return out


def _audit(store: Store, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
    AuditLog(store).append(actor, action, target, detail=detail)


def mark(store: Store, refs: Sequence[str], state: str, actor: str, *,
         reason: str | None = None, case_pk: int | None = None,
         follow_up: datetime | None = None, assignee: str | None = None,
         via_cli: bool = True) -> MarkResult:
    """Give every target (and a network's ads) the state; audit each target; store verdicts
    (escalated: 1, no concern: 0) as labels with who and when."""
    state = normalize_state(state)
    reason = clean_text(reason, MAX_REASON).strip() if reason else None
    if state == "no concern" and not reason:
        raise UsageError("`no concern` needs a reason",
                         hint="--reason TEXT, e.g. " + "; ".join(REASONS[:3]))
    if state == "needs follow-up" and follow_up is None:
        raise UsageError("`needs follow-up` needs a date", hint="--follow-up YYYY-MM-DD")
    if case_pk is not None:
        from tracelight.store.cases import Cases

        Cases(store).get(case_pk)  # NotFoundError names a missing case
    if state == "in review" and assignee is None:
        assignee = actor
    targets = resolve_targets(store, refs)
    ads = {pk: t for t in targets for pk in t.ad_pks}
    refs_of = store.ad_refs(list(ads))
    revisions = {a.pk: a.revision for a in store.get_ads_by_pks(list(ads))}
    nets = [t for t in targets if t.kind == "network"]
    common: dict[str, Any] = {"state": state, "by": actor, "reason": reason,
                              "case_pk": case_pk, "follow_up": follow_up,
                              "assignee": assignee}
    store.set_reviews([ReviewChange("network", t.key, t.seen) for t in nets], **common)
    store.set_reviews([ReviewChange("ad", str(pk), revisions.get(pk)) for pk in ads], **common)
    n_labels = 0
    if state in LABEL_OF:
        now = utcnow()
        n_labels = store.add_labels([
            ReviewLabel(pk, LABEL_OF[state], state, reason,
                        t.label if t.kind == "network" else None, actor, now)
            for pk, t in ads.items()])
    entries = []
    for t in targets:
        detail: dict[str, Any] = {"state": state, "reason": reason, "cli": via_cli}
        if case_pk is not None:
            detail["case"] = case_pk
        if follow_up is not None:
            detail["follow_up"] = follow_up.isoformat()
        if assignee is not None:
            detail["assignee"] = assignee
        if t.kind == "network":
            detail["ads"] = len(t.ad_pks)
        entries.append({"username": actor, "action": "review.mark", "target": t.label,
                        "detail": detail})
    AuditLog(store).append_many(entries)  # one entry per target, one commit
    if case_pk is not None:
        from tracelight.services.cases import add_to_case

        for t in targets:
            if t.kind == "network":
                add_to_case(store, case_pk, "network", t.key, actor, _checked=True)
            else:
                pk = int(t.key)
                add_to_case(store, case_pk, "ad", t.key, actor,
                            label=adref.format_ref(*refs_of[pk]), _checked=True)
    return MarkResult(state, tuple(t.label for t in targets), len(ads), len(nets), n_labels)


def assign(store: Store, refs: Sequence[str], to: str, actor: str, *,
           via_cli: bool = True) -> MarkResult:
    """Put the targets (and a network's ads) `in review` by `to`."""
    from tracelight.store.accounts import validate_username

    to = validate_username(to)
    targets = resolve_targets(store, refs)
    ads = {pk: t for t in targets for pk in t.ad_pks}
    revisions = {a.pk: a.revision for a in store.get_ads_by_pks(list(ads))}
    nets = [t for t in targets if t.kind == "network"]
    store.set_reviews([ReviewChange("network", t.key, t.seen) for t in nets],
                      state="in review", by=actor, assignee=to, keep_assignee=False)
    store.set_reviews([ReviewChange("ad", str(pk), revisions.get(pk)) for pk in ads],
                      state="in review", by=actor, assignee=to, keep_assignee=False)
    entries = []
    for t in targets:
        detail: dict[str, Any] = {"assignee": to, "cli": via_cli}
        if t.kind == "network":
            detail["ads"] = len(t.ad_pks)
        entries.append({"username": actor, "action": "review.assign", "target": t.label,
                        "detail": detail})
    AuditLog(store).append_many(entries)
    return MarkResult("in review", tuple(t.label for t in targets), len(ads), len(nets), 0)


def list_reviews(store: Store, actor: str, *, state: str | None = None,
                 assignee: str | None = None, kind: str | None = None,
                 limit: int = 200, via_cli: bool = True) -> list[dict[str, Any]]:
    """Review rows, most recently changed first, each with its public reference."""
    st = normalize_state(state) if state else None
    if kind not in (None, "ad", "network"):
        raise UsageError(f"unknown kind {kind!r}", hint="ad or network")
    found = store.list_reviews(kind=kind, state=st, assignee=assignee, limit=limit)
    ad_refs = store.ad_refs([int(r.ref) for r in found if r.kind == "ad"])
    rows = []
    for r in found:
        if r.kind == "ad":
            pair = ad_refs.get(int(r.ref))
            ref = adref.format_ref(*pair) if pair else f"ad {r.ref} (deleted)"
        else:
            ref = f"network:{r.ref}"
        rows.append({"ref": ref, "kind": r.kind, "state": r.state, "assignee": r.assignee,
                     "reason": r.reason, "case": r.case_pk, "follow_up": r.follow_up,
                     "changed_by": r.changed_by, "changed_at": r.changed_at})
    _audit(store, actor, "review.list", "", {"state": st, "assignee": assignee,
                                             "shown": len(rows), "cli": via_cli})
    return rows


# ---- what the queue shows ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QueueNote:
    """How the queue shows one target: `state` as shown (a changed closed target is `new`),
    `hidden` when closed and unchanged, `note` the change or who holds it."""

    state: str
    hidden: bool
    note: str = ""
    assignee: str | None = None


def _note(review: Review | None, now_seen: int | None, now: datetime, kind: str) -> QueueNote:
    if review is None or review.state == "new":
        return QueueNote("new", False)
    if review.state == "in review":
        return QueueNote("in review", False, f"in review by {review.assignee or '?'}",
                         review.assignee)
    if now_seen is not None and review.seen is not None and now_seen > review.seen:
        what = (f"gained {now_seen - review.seen} ad(s)" if kind == "network"
                else f"revised (revision {review.seen} -> {now_seen})")
        return QueueNote("new", False, f"{what} since marked {review.state} by "
                                       f"{review.changed_by}", review.assignee)
    if review.state == "needs follow-up":
        due = review.follow_up is not None and review.follow_up <= now
        return QueueNote("needs follow-up", not due,
                         f"follow-up due {review.follow_up:%Y-%m-%d}" if review.follow_up
                         else "", review.assignee)
    return QueueNote(review.state, True, f"{review.state} by {review.changed_by}",
                     review.assignee)


def annotate_ads(store: Store, ads: Iterable[StoredAd]) -> dict[int, QueueNote]:
    ads = list(ads)
    found = store.reviews_for("ad", [str(a.pk) for a in ads])
    now = utcnow()
    return {a.pk: _note(found.get(str(a.pk)), a.revision, now, "ad") for a in ads}


def annotate_networks(store: Store, nets: Iterable[tuple[str, int]]) -> dict[str, QueueNote]:
    """(network id, size now) -> how the queue shows each."""
    nets = list(nets)
    found = store.reviews_for("network", [n for n, _ in nets])
    now = utcnow()
    return {n: _note(found.get(n), size, now, "network") for n, size in nets}
