"""Use case: outreach to possible victims and buyer deterrence, safe by construction.

- Only users with the `advocate` role may plan, approve, send, read conversations or see the
  report (`require_advocate`); no other role, admins included, reaches outreach data.
- A batch holds one message per distinct phone, never one per ad. Phones that opted out, are
  on the do-not-contact list, were contacted within the cool-off, or are hubs / site phones /
  service numbers are kept in the batch as `skipped` with the reason, and never messaged.
- Nothing is sent by itself: `send` needs an approved batch, and the provider is a dry run
  unless a file outbox or gateway address is named explicitly. Quiet hours (the recipient's
  time zone, from the phone's region) and per-hour/per-day limits defer messages to a later
  `send`.
- A reply whose first word is an opt-out word opts the phone out at once.
- Outreach data lives in its own tables (store/outreach.py) that no enforcement code reads.
  Audit entries carry counts and batch numbers, never phones or message text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tracelight.errors import ForbiddenError, NotFoundError, UsageError
from tracelight.outreach import catalogue
from tracelight.outreach.catalogue import Catalogue
from tracelight.records import utcnow
from tracelight.services import adref
from tracelight.services.outreach_providers import Provider
from tracelight.store import AdFilter, Store
from tracelight.store.accounts import Accounts
from tracelight.store.audit import AuditLog
from tracelight.store.outreach import Batch, Message, Outreach

COOLOFF_DAYS = 30
QUIET_START = 21  # local hour from which nothing is sent...
QUIET_END = 9  # ...until this local hour
PER_HOUR = 60
PER_DAY = 300
MAX_BATCH = 1000  # distinct phones in one batch
MAX_REPLY = 2000  # characters of one stored reply
ORG = "a local support service"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def require_advocate(store: Store, username: str | None) -> str:
    """The user's name if they hold the advocate role; ForbiddenError otherwise."""
    if not username:
        raise ForbiddenError("outreach needs an advocate: give --as USER")
    try:
        user = Accounts(store).get_user(username)
    except NotFoundError:
        raise ForbiddenError(f"{username!r} is not a workspace user") from None
    if user.disabled or not user.can("outreach"):
        raise ForbiddenError(f"{username!r} is not an advocate; outreach is for advocates "
                             "only")
    return str(user.username)


def _audit(store: Store, actor: str, action: str, target: str, detail: dict[str, Any], *,
           via: str = "cli") -> None:
    mark = {"cli": True} if via == "cli" else {"via": via}
    AuditLog(store).append(actor, action, target, detail={**detail, **mark})


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    phone: str
    region: str
    status: str  # planned or skipped
    reason: str
    text: str
    services: tuple[str, ...]
    ads: tuple[str, ...]  # SOURCE/ID of the ads the phone was found in (preview only)


@dataclass(frozen=True, slots=True)
class Plan:
    batch: Batch
    template: str
    messages: list[PlannedMessage] = field(default_factory=list)

    @property
    def planned(self) -> int:
        return sum(1 for m in self.messages if m.status == "planned")

    @property
    def skipped(self) -> int:
        return sum(1 for m in self.messages if m.status == "skipped")


def _phones_of(store: Store, ad_pks: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for pk, mentions in store.mentions_for(list(ad_pks)).items():
        out[pk] = [m.value for m in mentions if m.kind == "phone"]
    return out


def gather_phones(store: Store, *, ads: Sequence[str] = (), networks: Sequence[str] = (),
                  phones: Sequence[str] = (), queue_top: int = 0,
                  search: str | None = None) -> dict[str, list[str]]:
    """Distinct phones (E.164) from the chosen ads, networks, queue and search, each with
    the ads it was found in, in the order first met."""
    chosen: list[int] = []
    for ref in ads:
        chosen.append(adref.resolve_ad(store, ref).pk)
    for net in networks:
        store.network_record(net)  # NotFoundError names a missing one
        chosen.extend(store.member_pks(net))
    if queue_top:
        if not 0 < queue_top <= MAX_BATCH:
            raise UsageError(f"--queue takes 1 to {MAX_BATCH} ads")
        _, top, _ = store.queue_page(AdFilter(), limit=queue_top)
        chosen.extend(a.pk for a in top)
    if search:
        _, found = store.search_text(search, limit=MAX_BATCH)
        chosen.extend(a.pk for a in found)
    seen_pk: list[int] = list(dict.fromkeys(chosen))
    refs = {pk: adref.format_ref(*sr) for pk, sr in store.ad_refs(seen_pk).items()}
    found_phones: dict[str, list[str]] = {}
    by_ad = _phones_of(store, seen_pk)
    for pk in seen_pk:
        for phone in by_ad.get(pk, []):
            found_phones.setdefault(phone, []).append(refs.get(pk, str(pk)))
    for phone in phones:
        found_phones.setdefault(catalogue.clean_value(phone, 32), [])
    return found_phones


def _site_phones(store: Store, cat: Catalogue) -> dict[str, str]:
    out = {h.value: "a hub: shared by many unrelated ads (a site's or a service's phone)"
           for h in store.hubs() if h.kind == "phone"}
    for region in cat.regions.values():
        for s in region.services:
            out[s.contact] = "a service directory number"
    return out


def _suppression(contact: Any, now: datetime, cooloff: timedelta) -> str:
    if contact is None:
        return ""
    if contact.opted_out_at is not None:
        return "opted out"
    if contact.do_not_contact:
        return "on the do-not-contact list"
    if contact.last_contacted_at is not None and now - contact.last_contacted_at < cooloff:
        return f"contacted within the last {cooloff.days} days"
    return ""


def render_for(cat: Catalogue, template: str, phone: str, org: str,
               kind: str = "outreach") -> tuple[str, str, tuple[str, ...]]:
    """(text, region key, service names) of one message to one phone."""
    tpl = cat.template(template, kind)
    region = cat.region_for(phone)
    text = catalogue.render(tpl.text, {
        "org": org, "services": catalogue.services_line(region.services),
        "hotline": cat.hotline, "optout": cat.optout})
    return text, region.key, tuple(s.name for s in region.services)


def plan(store: Store, actor: str | None, *, template: str = "first_contact",
         ads: Sequence[str] = (), networks: Sequence[str] = (), phones: Sequence[str] = (),
         queue_top: int = 0, search: str | None = None, org: str = ORG,
         cooloff_days: int = COOLOFF_DAYS, now: datetime | None = None,
         cat: Catalogue | None = None) -> Plan:
    """A planned batch: one message per distinct phone, suppressed phones kept as skipped."""
    who = require_advocate(store, actor)
    cat = cat or catalogue.load()
    cat.template(template, "outreach")
    if cooloff_days < 0:
        raise UsageError("--cooloff-days cannot be negative")
    now = now or utcnow()
    found = gather_phones(store, ads=ads, networks=networks, phones=phones,
                          queue_top=queue_top, search=search)
    if not found:
        raise UsageError("no phones found in what was chosen",
                         hint="choose ads, networks, --queue N, --search or --phone")
    if len(found) > MAX_BATCH:
        raise UsageError(f"{len(found)} phones: a batch holds at most {MAX_BATCH}")
    repo = Outreach(store)
    contacts = repo.contacts(list(found))
    site = _site_phones(store, cat)
    cooloff = timedelta(days=cooloff_days)
    out: list[PlannedMessage] = []
    for phone, refs in found.items():
        reason = ""
        if not E164.fullmatch(phone):
            reason = "not a phone number in E.164 form"
        reason = reason or site.get(phone, "") or _suppression(contacts.get(phone), now,
                                                               cooloff)
        text, region, names = render_for(cat, template, phone, org)
        out.append(PlannedMessage(phone, region, "skipped" if reason else "planned",
                                  reason, "" if reason else text, names, tuple(refs)))
    batch = repo.create_batch(template, who, [(m.phone, m.region, m.text, m.status, m.reason)
                                              for m in out])
    made = Plan(batch, template, out)
    _audit(store, who, "outreach.plan", f"outreach batch {batch.pk}",
           {"planned": made.planned, "skipped": made.skipped, "template": template})
    return made


def list_batches(store: Store, actor: str | None, *, via: str = "cli",
                 limit: int = 100) -> list[Batch]:
    who = require_advocate(store, actor)
    found = Outreach(store).batches(limit)
    _audit(store, who, "outreach.batches", "outreach batches", {"shown": len(found)}, via=via)
    return found


def preview(store: Store, actor: str | None, batch_pk: int, *,
            via: str = "cli") -> tuple[Batch, list[Message]]:
    who = require_advocate(store, actor)
    repo = Outreach(store)
    batch = repo.batch(batch_pk)
    _audit(store, who, "outreach.preview", f"outreach batch {batch_pk}", {}, via=via)
    return batch, repo.messages(batch_pk)


def approve(store: Store, actor: str | None, batch_pk: int, *, via: str = "cli") -> Batch:
    who = require_advocate(store, actor)
    repo = Outreach(store)
    batch = repo.batch(batch_pk)
    if batch.status != "planned":
        raise UsageError(f"outreach batch {batch_pk} is already {batch.status}")
    repo.set_batch(batch_pk, status="approved", approved_by=who, approved_at=utcnow())
    _audit(store, who, "outreach.approve", f"outreach batch {batch_pk}", {}, via=via)
    return repo.batch(batch_pk)


@dataclass(frozen=True, slots=True)
class SendResult:
    batch: int
    provider: str
    dry_run: bool
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    would_send: list[tuple[str, str]] = field(default_factory=list)  # dry run: (phone, text)
    notes: list[str] = field(default_factory=list)


def in_quiet_hours(when: datetime, timezone: str, start: int = QUIET_START,
                   end: int = QUIET_END) -> bool:
    hour = when.astimezone(ZoneInfo(timezone)).hour
    return hour >= start or hour < end if start > end else start <= hour < end


def send(store: Store, actor: str | None, batch_pk: int, provider: Provider, *,
         now: datetime | None = None, per_hour: int = PER_HOUR, per_day: int = PER_DAY,
         cooloff_days: int = COOLOFF_DAYS, quiet: tuple[int, int] = (QUIET_START, QUIET_END),
         cat: Catalogue | None = None) -> SendResult:
    """Send an approved batch's planned messages through `provider`.

    Rules are checked again at send time (an opt-out may have arrived since planning);
    quiet hours and the hourly/daily limits leave messages planned for a later send.
    """
    who = require_advocate(store, actor)
    cat = cat or catalogue.load()
    repo = Outreach(store)
    batch = repo.batch(batch_pk)
    if batch.status == "planned":
        raise UsageError(f"outreach batch {batch_pk} is not approved",
                         hint=f"an advocate approves it first: tracelight outreach approve "
                              f"{batch_pk} --as USER")
    now = now or utcnow()
    msgs = [m for m in repo.messages(batch_pk) if m.status == "planned"]
    contacts = repo.contacts([m.phone for m in msgs])
    cooloff = timedelta(days=cooloff_days)
    hour_left = max(0, per_hour - repo.sent_since(now - timedelta(hours=1)))
    day_left = max(0, per_day - repo.sent_since(now - timedelta(days=1)))
    sent = failed = deferred = skipped = quiet_n = 0
    would: list[tuple[str, str]] = []
    for m in msgs:
        reason = _suppression(contacts.get(m.phone), now, cooloff)
        if reason:
            skipped += 1
            if not provider.dry_run:
                repo.set_message(m.pk, status="skipped", reason=reason)
            continue
        region = cat.regions.get(m.region) or cat.regions["default"]
        if in_quiet_hours(now, region.timezone, *quiet):
            deferred += 1
            quiet_n += 1
            continue
        if min(hour_left, day_left) <= 0:
            deferred += 1
            continue
        if provider.dry_run:
            would.append((m.phone, m.text))
            hour_left -= 1
            day_left -= 1
            continue
        result = provider.send(m.phone, m.text)
        if result.ok:
            sent += 1
            hour_left -= 1
            day_left -= 1
            repo.set_message(m.pk, status="sent", sent_at=now, provider_id=result.provider_id)
            repo.update_contact(m.phone, last_contacted_at=now,
                                advocate=batch.approved_by or who)
            repo.add_turn(m.phone, "out", m.text, batch_pk=batch_pk,
                          advocate=batch.approved_by or who, at=now)
        else:
            failed += 1
            repo.set_message(m.pk, status="failed", reason=result.error[:500])
    notes = []
    if quiet_n:
        notes.append(f"{quiet_n} deferred: quiet hours in the recipient's time zone; send "
                     "again later")
    if deferred - quiet_n:
        notes.append(f"{deferred - quiet_n} deferred: the hourly or daily limit was reached; "
                     "send again later")
    if not provider.dry_run and sent and not deferred:
        repo.set_batch(batch_pk, status="sent", sent_at=now)
    _audit(store, who, "outreach.send", f"outreach batch {batch_pk}",
           {"provider": provider.name, "dry_run": provider.dry_run, "sent": sent,
            "failed": failed, "deferred": deferred, "skipped": skipped,
            "would_send": len(would)})
    return SendResult(batch_pk, provider.name, provider.dry_run, sent, failed, deferred,
                      skipped, would, notes)


@dataclass(frozen=True, slots=True)
class ReplyResult:
    stored: int
    opted_out: int
    rejected: int


def ingest_replies(store: Store, actor: str | None, replies: Iterable[Any], *,
                   cat: Catalogue | None = None) -> ReplyResult:
    """Store replies ({"from": phone, "body": text}) in the conversations, routed to the
    advocate who approved the phone's last batch; opt-out words opt out at once."""
    who = require_advocate(store, actor)
    cat = cat or catalogue.load()
    repo = Outreach(store)
    stored = opted = rejected = 0
    for reply in replies:
        if not isinstance(reply, dict):
            rejected += 1
            continue
        phone = reply.get("from")
        body = reply.get("body", reply.get("text"))
        if not isinstance(phone, str) or not E164.fullmatch(phone.strip()) or \
                not isinstance(body, str):
            rejected += 1
            continue
        phone = phone.strip()
        text = catalogue.clean_value(body, MAX_REPLY)
        contact = repo.contacts([phone]).get(phone)
        advocate = contact.advocate if contact else None
        if catalogue.is_opt_out(text, cat.opt_out_words):
            repo.update_contact(phone, opted_out_at=utcnow())
            opted += 1
        repo.add_turn(phone, "in", text, batch_pk=None, advocate=advocate)
        stored += 1
    _audit(store, who, "outreach.replies", "outreach replies",
           {"stored": stored, "opted_out": opted, "rejected": rejected})
    return ReplyResult(stored, opted, rejected)


def inbox(store: Store, actor: str | None, *, mine: bool = False) -> list[dict[str, Any]]:
    who = require_advocate(store, actor)
    rows = Outreach(store).inbox(who if mine else None)
    _audit(store, who, "outreach.inbox", "outreach inbox", {"threads": len(rows)})
    return rows


def thread(store: Store, actor: str | None, phone: str) -> list[dict[str, Any]]:
    who = require_advocate(store, actor)
    turns = Outreach(store).thread(phone.strip())
    _audit(store, who, "outreach.thread", "outreach thread", {"turns": len(turns)})
    return [{"at": t.at, "direction": t.direction, "text": t.text, "advocate": t.advocate}
            for t in turns]


def refer(store: Store, actor: str | None, phone: str, service: str) -> None:
    """Record that the person at `phone` was connected to `service` (for counts only)."""
    who = require_advocate(store, actor)
    name = catalogue.clean_value(service)
    if not name:
        raise UsageError("name the service the person was referred to")
    Outreach(store).add_referral(phone.strip()[:32], name, who)
    _audit(store, who, "outreach.refer", "outreach referral", {})


def do_not_contact(store: Store, actor: str | None, phone: str, reason: str) -> None:
    """Put a phone on the do-not-contact list (e.g. in an open case, flagged by a
    supervisor): every later batch skips it with this reason."""
    who = require_advocate(store, actor)
    why = catalogue.clean_value(reason) or "do not contact"
    Outreach(store).update_contact(phone.strip()[:32], do_not_contact=why)
    _audit(store, who, "outreach.dnc", "outreach do-not-contact", {})


def deter(store: Store, actor: str | None, decoy: str, buyer: str, text: str, *,
          template: str = "buyer_warning", org: str = "this service",
          cat: Catalogue | None = None) -> str:
    """Answer a would-be buyer's message to a decoy ad with the deterrence template (dry run
    only in this build: logged, never sent). Returns the answer."""
    who = require_advocate(store, actor)
    cat = cat or catalogue.load()
    if not isinstance(buyer, str) or not E164.fullmatch(buyer.strip()):
        raise UsageError("the buyer's number must be in E.164 form (+ and digits)")
    answer, _, _ = render_for(cat, template, buyer.strip(), org, kind="deterrence")
    repo = Outreach(store)
    decoy_name = catalogue.clean_value(decoy, 120) or "decoy"
    repo.log_deterrence(decoy_name, buyer.strip(), "in", catalogue.clean_value(text, MAX_REPLY))
    repo.log_deterrence(decoy_name, buyer.strip(), "out", answer, dry_run=True)
    _audit(store, who, "outreach.deter", "deterrence", {"dry_run": True})
    return answer


def report(store: Store, actor: str | None) -> dict[str, int]:
    """Counts only: no phones, no text."""
    who = require_advocate(store, actor)
    repo = Outreach(store)
    counts = repo.message_counts()
    det = repo.deterrence_counts()
    out = {"batches": len(repo.batches(limit=100000)),
           "sent": counts.get("sent", 0) + counts.get("delivered", 0),
           "delivered": counts.get("delivered", 0), "failed": counts.get("failed", 0),
           "skipped": counts.get("skipped", 0), "replies": repo.count_replies(),
           "opt_outs": repo.count_opted_out(), "referrals": repo.count_referrals(),
           "buyers_reached": det["buyers"], "repeat_buyers": det["repeat_buyers"],
           "deterrence_messages": det["warnings"]}
    _audit(store, who, "outreach.report", "outreach report", {})
    return out


def purge(store: Store, actor: str | None, older_than_days: int, *,
          now: datetime | None = None) -> dict[str, int]:
    """Apply the retention period: delete outreach records older than the given days.
    Opt-outs and the do-not-contact list are kept (forgetting them would re-contact people)."""
    who = require_advocate(store, actor)
    if older_than_days < 1:
        raise UsageError("--older-than is at least 1 day")
    counts = Outreach(store).purge((now or utcnow()) - timedelta(days=older_than_days))
    _audit(store, who, "outreach.purge", "outreach data", {**counts, "days": older_than_days})
    return counts
