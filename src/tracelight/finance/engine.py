"""The streaming scorer: red flags per account over sliding windows, typologies on combinations.

`Scorer.observe(tx)` updates the state of the accounts a transaction touches (the payer and
the payee: per account, and per relationship through the counterparties kept for fan-in,
fan-out and scatter-gather), evaluates only the red flags that transaction can change, and
returns the alerts that fire because of it: an alert fires when a typology's rule is met, that
is when its red flags co-occur within the rule's `within_days` (never on one red flag alone).

Memory is bounded by accounts x window, not by the length of the stream: every window drops
what falls out of it, and each red flag keeps at most MAX_TX_IDS transaction ids.
Transactions are expected in time order (per account); a late one is counted where it falls.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from sys import intern

from tracelight.finance.catalogue import RedFlag, RedFlags, Typology, load_redflags
from tracelight.finance.records import Account, Alert, Evidence, Transaction

DAY = 86400.0
MAX_TX_IDS = 500
SWEEP_EVERY = 100_000  # transactions between sweeps of idle state
# event: (epoch seconds, tx_id, amount, place, counterparty)
Event = tuple[float, str, float, str, str]
# detector -> the event categories it reads
READS: dict[str, tuple[str, ...]] = {
    "ad_site_payments": ("ad",), "foreign_ad_payments": ("fad",), "lodging_cities": ("lodging",),
    "cash_in_places": ("cash_in",), "out_elsewhere": ("cash_in", "out"),
    "structuring": ("struct",), "fan_in": ("in_cp",), "fan_out": ("out_cp",),
    "scatter_gather": ("in_cp", "out_cp"), "after_hours_cash": ("after_hours",),
    "cash_no_payroll": ("biz_cash", "payroll"), "prepaid_loads": ("prepaid",),
    "crypto_kiosk": ("crypto",),
}
CP_CHANNELS = frozenset({"wire", "p2p", "ach", "check"})


def alert_id_for(account: str) -> str:
    return "TXA-" + hashlib.sha1(account.encode("utf-8")).hexdigest()[:12]


def noisy_or(weights: Iterable[float]) -> float:
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


@dataclass(slots=True)
class _Fired:
    first: float
    last: float
    ids: dict[str, None] = field(default_factory=dict)


@dataclass(slots=True)
class _State:
    ev: dict[str, deque[Event]] = field(default_factory=dict)
    fired: dict[str, _Fired] = field(default_factory=dict)
    typos: list[str] = field(default_factory=list)
    since: float = 0.0  # when this account was first seen in the stream


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Scorer:
    """Score a stream of transactions; `alerts()` gives every alert so far."""

    def __init__(self, accounts: Mapping[str, Account] | None = None,
                 redflags: RedFlags | None = None) -> None:
        self.rf = redflags or load_redflags()
        self.accounts: Mapping[str, Account] = accounts or {}
        self.states: dict[str, _State] = {}
        self.seen = 0
        self._hours: dict[str, tuple[time, time] | None] = {}
        self._by_cat: dict[str, list[RedFlag]] = {}
        self._keep: dict[str, float] = {}
        for flag in self.rf.flags:
            for cat in READS[flag.detector]:
                self._by_cat.setdefault(cat, []).append(flag)
                self._keep[cat] = max(self._keep.get(cat, 0.0), flag.window_days * DAY)
        self._max_within = max(t.within_days for t in self.rf.typologies) * DAY
        self._typos_of: dict[str, list[Typology]] = {}
        for typo in self.rf.typologies:
            for code in typo.members:
                self._typos_of.setdefault(code, []).append(typo)
        lists, mcc = self.rf.lists, self.rf.mcc
        self._ad_sites, self._foreign = lists["escort_ad_sites"], lists["foreign_ad_sites"]
        self._payroll = lists["payroll_merchants"]
        self._mcc_ad, self._mcc_lodging = mcc["advertising"], mcc["lodging"]
        self._mcc_prepaid, self._mcc_quasi = mcc["prepaid"], mcc["quasi_cash"]
        self._ctr = self.rf.ctr_threshold
        struct = [f for f in self.rf.flags if f.detector == "structuring"]
        self._struct_low = (struct[0].param("low_ratio") * self._ctr) if struct else self._ctr

    # ---- events --------------------------------------------------------------------------
    def _events(self, tx: Transaction) -> list[tuple[str, str, str, str]]:
        """(account, category, place, counterparty) for each thing this transaction tells."""
        out: list[tuple[str, str, str, str]] = []
        ch, payer, payee = tx.channel, tx.from_account, tx.to_account
        if ch == "card" and payer:
            name = tx.merchant.lower()
            acct = self.accounts.get(payer)
            foreign = name in self._foreign or (
                tx.mcc in self._mcc_ad and bool(tx.country) and acct is not None
                and bool(acct.country) and tx.country != acct.country)
            if foreign:
                out.append((payer, "fad", tx.country, ""))
            elif name in self._ad_sites or tx.mcc in self._mcc_ad:
                out.append((payer, "ad", tx.city, ""))
            if tx.mcc in self._mcc_lodging:
                out.append((payer, "lodging", tx.city.lower(), ""))
            elif tx.mcc in self._mcc_prepaid:
                out.append((payer, "prepaid", tx.city, ""))
            elif tx.mcc in self._mcc_quasi:
                out.append((payer, "crypto", tx.city, ""))
        elif ch == "cash_deposit":
            who = payee or payer
            if tx.amount < self._ctr:
                out.append((who, "cash_in", (tx.region or tx.city).lower() + "|"
                            + tx.city.lower(), ""))
                if tx.amount >= self._struct_low:
                    out.append((who, "struct", tx.city, ""))
            acct = self.accounts.get(who)
            if acct is not None and acct.kind == "business":
                out.append((who, "biz_cash", tx.city, ""))
                hours = self._hours_of(acct)
                if hours is not None:
                    clock = tx.timestamp.timetz().replace(tzinfo=None)
                    if not hours[0] <= clock <= hours[1]:
                        out.append((who, "after_hours", tx.city, ""))
        elif ch == "cash_withdrawal":
            out.append((payer or payee, "out", (tx.region or tx.city).lower(), ""))
        elif ch in CP_CHANNELS:
            if payer:
                if payee:
                    out.append((payer, "out_cp", "", payee))
                out.append((payer, "out", (tx.region or tx.city).lower(), ""))
                if ch == "ach" and tx.merchant.lower() in self._payroll:
                    out.append((payer, "payroll", "", payee))
            if payee and payer:
                out.append((payee, "in_cp", "", payer))
        elif ch == "prepaid_load":
            out.append((payer or payee, "prepaid", tx.city, ""))
        elif ch == "crypto_kiosk":
            out.append((payer or payee, "crypto", tx.city, ""))
        return out

    def _hours_of(self, acct: Account) -> tuple[time, time] | None:
        if acct.account_id not in self._hours:
            try:
                self._hours[acct.account_id] = acct.hours()
            except ValueError:
                self._hours[acct.account_id] = None
        return self._hours[acct.account_id]

    # ---- the stream ----------------------------------------------------------------------
    def observe(self, tx: Transaction) -> list[Alert]:
        """Take one transaction; return the alerts that fire because of it."""
        self.seen += 1
        events = self._events(tx)
        if not events:
            return []
        now = tx.timestamp.timestamp()
        if self.seen % SWEEP_EVERY == 0:
            self.sweep(now)
        touched: dict[str, set[str]] = {}
        for account, cat, place, cp in events:
            st = self.states.get(account)
            if st is None:
                st = self.states[account] = _State(since=now)
            dq = st.ev.get(cat)
            if dq is None:
                dq = st.ev[cat] = deque()
            dq.append((now, tx.tx_id, tx.amount, intern(place), cp))
            touched.setdefault(account, set()).add(cat)
        fired: list[Alert] = []
        for account, cats in touched.items():
            st = self.states[account]
            for cat in list(st.ev):
                self._prune(st.ev[cat], now - self._keep.get(cat, 0.0))
            new_codes = []
            flags: dict[str, RedFlag] = {}
            for cat in cats:
                for flag in self._by_cat.get(cat, ()):
                    flags[flag.code] = flag
            for flag in flags.values():
                ids = self._detect(flag, account, st, now)
                if ids:
                    f = st.fired.get(flag.code)
                    if f is None:
                        f = st.fired[flag.code] = _Fired(now, now)
                    f.last = now
                    if not st.typos:  # no alert yet: what is behind the flag now is enough
                        f.ids = dict.fromkeys(ids[-MAX_TX_IDS:])
                    else:  # an alert's evidence only grows (up to MAX_TX_IDS per flag)
                        for i in ids:
                            if len(f.ids) >= MAX_TX_IDS:
                                break
                            f.ids[i] = None
                    new_codes.append(flag.code)
            if not st.typos and st.fired:
                for code in [c for c, f in st.fired.items() if f.last < now - self._max_within]:
                    del st.fired[code]  # too old to combine with anything any more
            if new_codes and self._check_typologies(st, new_codes, now):
                fired.append(self._alert(account, st))
        return fired

    def sweep(self, now: float) -> None:
        """Drop what every window has left behind, and accounts with nothing left to keep
        (memory follows the accounts active in the windows, not the length of the stream)."""
        for account in list(self.states):
            st = self.states[account]
            for cat in list(st.ev):
                self._prune(st.ev[cat], now - self._keep.get(cat, 0.0))
                if not st.ev[cat]:
                    del st.ev[cat]
            if not st.typos:
                for code in [c for c, f in st.fired.items() if f.last < now - self._max_within]:
                    del st.fired[code]
            if not st.ev and not st.fired and not st.typos:
                del self.states[account]

    @staticmethod
    def _prune(dq: deque[Event], before: float) -> None:
        while dq and dq[0][0] < before:
            dq.popleft()

    def _window(self, st: _State, cat: str, since: float) -> list[Event]:
        dq = st.ev.get(cat)
        if not dq:
            return []
        if dq[0][0] >= since:
            return list(dq)
        return [e for e in dq if e[0] >= since]

    def _detect(self, flag: RedFlag, account: str, st: _State, now: float) -> list[str]:
        since = now - flag.window_days * DAY
        det = flag.detector
        if det in ("ad_site_payments", "foreign_ad_payments", "prepaid_loads", "crypto_kiosk",
                   "after_hours_cash"):
            cat = READS[det][0]
            dq = st.ev.get(cat)
            if not dq or len(dq) < flag.param("min_count"):
                return []
            evs = self._window(st, cat, since)
            return [e[1] for e in evs] if len(evs) >= flag.param("min_count") else []
        if det in ("lodging_cities", "cash_in_places"):
            cat = READS[det][0]
            evs = self._window(st, cat, since)
            places = {e[3].rsplit("|", 1)[-1] for e in evs if e[3]}
            return [e[1] for e in evs] if len(places) >= flag.param("min_places") else []
        if det == "structuring":
            evs = self._window(st, "struct", since)
            if len(evs) >= flag.param("min_count") and sum(e[2] for e in evs) >= self._ctr:
                return [e[1] for e in evs]
            return []
        if det in ("fan_in", "fan_out"):
            evs = self._window(st, READS[det][0], since)
            if len({e[4] for e in evs}) >= flag.param("min_distinct"):
                return [e[1] for e in evs]
            return []
        if det == "scatter_gather":
            ins = self._window(st, "in_cp", since)
            outs = self._window(st, "out_cp", since)
            both = {e[4] for e in ins} & {e[4] for e in outs}
            if len(both) < flag.param("min_distinct"):
                return []
            paid = sum(e[2] for e in outs if e[4] in both)
            back = sum(e[2] for e in ins if e[4] in both)
            if paid <= 0 or back / paid < flag.param("min_ratio"):
                return []
            return [e[1] for e in outs if e[4] in both] + [e[1] for e in ins if e[4] in both]
        if det == "cash_no_payroll":
            acct = self.accounts.get(account)
            if acct is None or acct.kind != "business" or st.since > since:
                return []  # "no payroll in the window" needs a whole window of history
            if self._window(st, "payroll", since):
                return []
            evs = self._window(st, "biz_cash", since)
            if sum(e[2] for e in evs) >= flag.param("min_amount"):
                return [e[1] for e in evs]
            return []
        if det == "out_elsewhere":
            ins = self._window(st, "cash_in", since)
            if not ins:
                return []
            regions = {e[3].split("|", 1)[0] for e in ins}
            first, last = ins[0][0], ins[-1][0]
            horizon = last + flag.param("out_days") * DAY
            outs = [e for e in self._window(st, "out", first)
                    if e[0] <= horizon and e[3] and e[3] not in regions]
            deposited = sum(e[2] for e in ins)
            if outs and sum(e[2] for e in outs) >= flag.param("min_ratio") * deposited:
                return [e[1] for e in ins] + [e[1] for e in outs]
            return []
        return []  # pragma: no cover - the catalogue refuses unknown detectors

    def _check_typologies(self, st: _State, codes: list[str], now: float) -> bool:
        grew = False
        for code in codes:
            for typo in self._typos_of.get(code, ()):
                if typo.code in st.typos:
                    continue
                since = now - typo.within_days * DAY
                recent = {c for c, f in st.fired.items() if f.last >= since}
                if not all(c in recent for c in typo.all_of):
                    continue
                if sum(1 for c in typo.any_of if c in recent) < typo.min_any:
                    continue
                st.typos.append(typo.code)
                grew = True
        return grew

    def _alert(self, account: str, st: _State) -> Alert:
        members: dict[str, None] = {}
        for typo in self.rf.typologies:
            if typo.code in st.typos:
                members.update(dict.fromkeys(c for c in typo.members if c in st.fired))
        evidence = [Evidence(code=c, citation=self.rf.citation_of(c),
                             first_seen=_ts(st.fired[c].first), last_seen=_ts(st.fired[c].last),
                             tx_ids=list(st.fired[c].ids)) for c in members]
        weights = [self.rf.by_code[c].weight for c in members]
        return Alert(alert_id=alert_id_for(account), account=account,
                     typologies=[t.code for t in self.rf.typologies if t.code in st.typos],
                     indicators=evidence, score=noisy_or(weights),
                     first_seen=min(e.first_seen for e in evidence),
                     last_seen=max(e.last_seen for e in evidence))

    def alerts(self) -> Iterator[Alert]:
        """Every alert so far, with all the evidence gathered until now."""
        for account, st in self.states.items():
            if st.typos:
                yield self._alert(account, st)

    def fired_flags(self) -> dict[str, set[str]]:
        """Account -> the red flags raised on it (alerted or not): for evaluation."""
        return {a: set(st.fired) for a, st in self.states.items() if st.fired}


def score_all(transactions: Iterable[Transaction], accounts: Mapping[str, Account],
              redflags: RedFlags | None = None) -> list[Alert]:
    scorer = Scorer(accounts, redflags)
    for tx in transactions:
        scorer.observe(tx)
    return sorted(scorer.alerts(), key=lambda a: (-a.score, a.account))
