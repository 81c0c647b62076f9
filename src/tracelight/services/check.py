"""Use case: check one ad at posting time, while the poster waits.

The ad (the input contract: title, body, location, url, images as bytes or hashes) goes through
the real extractor and scorer; its identifiers and images are looked up against the store's
known networks, watchlists and hash banks; the policy (tracelight.score.policy) turns the
signals into a recommended action. Nothing is stored unless asked (`store=True`). A risk is a
lead for human review, never a finding about a person.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tracelight import settings
from tracelight.errors import RecordError, UsageError
from tracelight.extract import extract_record
from tracelight.images.banks import BankIndex
from tracelight.images.hashing import hash_bytes
from tracelight.records import ImageInfo, ProcessedAd, record_from_mapping
from tracelight.score.policy import Decision, Policy, evaluate, load_policy
from tracelight.score.scorer import score_ad
from tracelight.services.banks import load_bank_index
from tracelight.store import Store
from tracelight.store.cases import Watchlists
from tracelight.store.image_banks import MIN_PDQ_QUALITY

log = logging.getLogger(__name__)

MAX_IMAGES = 10
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # one uploaded picture
NETWORK_CACHE = 500_000  # network summaries kept per worker (about 300 bytes each)
NETWORK_KINDS = ("phone", "email", "social", "crypto", "payment")
_HEX = re.compile(r"^[0-9a-f]+$")
_HASH_LEN = {"md5": 32, "sha256": 64, "pdq": 64}


@dataclass(frozen=True)
class CheckImage:
    """One picture of the ad: its bytes, or hashes only (md5, sha256, pdq as hex)."""

    data: bytes | None = None
    md5: str | None = None
    sha256: str | None = None
    pdq: str | None = None


@dataclass(frozen=True)
class CheckResult:
    risk: float
    reasons: list[dict[str, Any]]
    identifiers: list[dict[str, Any]]
    images: list[dict[str, Any]]
    bank_hits: list[dict[str, Any]]
    watchlist_hits: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    decision: Decision
    stored: dict[str, Any] | None = None
    signals: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"risk": self.risk, "reasons": self.reasons, "identifiers": self.identifiers,
                "images": self.images, "bank_hits": self.bank_hits,
                "watchlist_hits": self.watchlist_hits, "networks": self.networks,
                "action": self.decision.action, "policy": self.decision.to_dict(),
                "signals": self.signals, "stored": self.stored}

    def verdict(self) -> dict[str, Any]:
        """What the audit log keeps of a check: the verdict, never the content."""
        return {"action": self.decision.action, "would_have": self.decision.would_have,
                "rule": self.decision.rule, "dry_run": self.decision.dry_run,
                "risk": round(self.risk, 4), "bank_hits": len(self.bank_hits),
                "watchlist_hits": len(self.watchlist_hits), "networks": len(self.networks),
                "stored": bool(self.stored)}


def image_from_hashes(md5: str | None = None, sha256: str | None = None,
                      pdq: str | None = None) -> CheckImage:
    """A picture given by its hashes; each must be lower-case hex of its length."""
    given = {"md5": md5, "sha256": sha256, "pdq": pdq}
    clean: dict[str, str | None] = {}
    for kind, value in given.items():
        if value is None or value == "":
            clean[kind] = None
            continue
        v = value.strip().lower()
        if len(v) != _HASH_LEN[kind] or not _HEX.match(v):
            raise UsageError(f"image {kind} must be {_HASH_LEN[kind]} hex characters")
        clean[kind] = v
    if not any(clean.values()):
        raise UsageError("an image needs its bytes or at least one of md5, sha256, pdq")
    return CheckImage(md5=clean["md5"], sha256=clean["sha256"], pdq=clean["pdq"])


class Checker:
    """Holds what every check reuses (policy, bank index, network risks) for one store.

    The bank index and the network risks are reloaded after `ttl` seconds, so a bank imported
    or a network built while the server runs is seen within that time."""

    def __init__(self, store: Store, *, policy: Policy | None = None, region: str | None = None,
                 ttl: float = 60.0) -> None:
        self.store = store
        self.policy = policy or load_policy()
        self.region = region or settings.get("region")
        self.ttl = ttl
        self.watch = Watchlists(store)
        self._index: BankIndex | None = None
        self._index_at = 0.0
        self._bank_version: tuple[int, int, str] | None = None
        self._lock = threading.Lock()  # one load of the bank index at a time
        self._net_risk: dict[str, tuple[float, dict[str, Any]]] = {}
        self._net_version: tuple[int, str] | None = None
        # (kind, value) -> network ids, for every identifier a network's ads mention; None:
        # not loaded (then each check asks the store)
        self._net_index: dict[tuple[str, str], list[str]] | None = None
        # identifiers the last link run found to be hubs (a site's phone, a hotline): they
        # join no ads, so they tie a check to no network; None: not read yet
        self._hubs: frozenset[tuple[str, str]] | None = None
        self._ranked = False  # every network's summary is in _net_risk
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    # ---- the hash bank, in memory ------------------------------------------------------------
    def bank_index(self) -> BankIndex:
        """The banks as one in-memory index (exact hashes in dicts, PDQ in the project's
        multi-index), loaded once and swapped whole when the banks change: by the background
        refresher (`start_refresh`, what the server runs), else checked here every `ttl`."""
        index = self._index
        if index is None:
            with self._lock:
                if self._index is None:
                    self._load()
                index = self._index
        elif self._refresher is None and time.monotonic() - self._index_at > self.ttl:
            self.refresh()
            index = self._index
        assert index is not None
        return index

    def _load(self) -> None:
        version = self.store.bank_version()
        index = load_bank_index(self.store)
        if index.pdq_count:
            index.build()  # here, not in the first check that carries a PDQ hash
        self._index, self._bank_version = index, version
        self._index_at = time.monotonic()
        if self._net_version is None:
            self._net_version = self.store.network_version()

    def refresh(self) -> bool:
        """Reload the bank index if any bank changed since it was loaded (one cheap
        fingerprint query otherwise), and forget cached network summaries. True: reloaded."""
        with self._lock:
            self._index_at = time.monotonic()
            nets = self.store.network_version()
            if nets != self._net_version:
                self._net_risk = {}
                self._net_version = nets
                self._ranked = False
                self._hubs = None
                if self._net_index is not None:
                    self._net_index = None  # stale: the store answers until it is rebuilt
                    self._net_index = self._entity_index()
            if self._index is not None and self.store.bank_version() == self._bank_version:
                return False
            self._load()
            return True

    def warm(self) -> None:
        """Load everything a first check would (bank index, gazetteer, extractors, policy)
        before the first caller waits: the server runs this before it answers /healthz."""
        self.bank_index()
        self.index_networks()
        self.check({"title": "warm up", "body": "new in town, call 206 555 0143",
                    "location": "Seattle, WA"}, [image_from_hashes(pdq="0" * 64)])

    def index_networks(self) -> int:
        """Keep in memory which networks each identifier (phone, email, handle, wallet,
        payment id) of their ads belongs to, so a check asks the store nothing for them;
        rebuilt by `refresh` after a link run. Returns how many identifiers."""
        with self._lock:
            if self._net_version is None:  # else refresh() compares against it
                self._net_version = self.store.network_version()
            self._net_index = self._entity_index()
            return len(self._net_index)

    def _hub_pairs(self) -> frozenset[tuple[str, str]]:
        hubs = self._hubs
        if hubs is None:
            hubs = self._hubs = frozenset((h.kind, h.value) for h in self.store.hubs())
        return hubs

    def _entity_index(self) -> dict[tuple[str, str], list[str]]:
        index = self.store.network_entities(NETWORK_KINDS)
        for pair in self._hub_pairs():
            index.pop(pair, None)
        return index

    def rank_networks(self) -> int:
        """Score every network once, in batches (a few queries per 500 networks), into the
        summary cache, so that no caller waits for a network to be scored; the refresher
        runs this at start and after each link run. Returns how many."""
        version = self._net_version
        fresh: dict[str, tuple[float, dict[str, Any]]] = {}
        from tracelight.services.networks import iter_ranked
        for ranked in iter_ranked(self.store, min_size=1):
            if self._stop.is_set() or len(fresh) >= NETWORK_CACHE:
                break
            fresh[ranked.id] = (ranked.risk, {"id": ranked.id, "risk": ranked.risk,
                                              "size": ranked.size, "label": ranked.label})
        with self._lock:
            if version == self._net_version:  # no link run while this ran
                self._net_risk = {**self._net_risk, **fresh}
                self._ranked = True
        return len(fresh)

    def start_refresh(self) -> None:
        """A daemon thread that calls `refresh` every `ttl` seconds off the request path."""
        if self._refresher is not None:
            return

        def loop() -> None:
            wait = 0.0
            while not self._stop.wait(wait):
                wait = self.ttl
                try:
                    self.refresh()
                    if not self._ranked:
                        self.rank_networks()
                except Exception:  # a store hiccup: keep the old index, try again later
                    log.warning("bank index refresh failed", exc_info=True)

        self._refresher = threading.Thread(target=loop, name="tracelight-bank-refresh",
                                           daemon=True)
        self._refresher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join(timeout=5)
            self._refresher = None

    def _network(self, network_id: str) -> dict[str, Any]:
        """A network's summary (id, risk, size, label), scored once and kept until a link
        run changes the networks (checked with the bank index, every `ttl`)."""
        got = self._net_risk.get(network_id)
        if got is None:
            from tracelight.services.networks import get_network
            ranked = get_network(self.store, network_id)
            summary = {"id": ranked.id, "risk": ranked.risk, "size": ranked.size,
                       "label": ranked.label}
            got = (ranked.risk, summary)
            if len(self._net_risk) >= NETWORK_CACHE:
                self._net_risk.clear()
            self._net_risk[network_id] = got
        return dict(got[1])

    def check(self, ad: dict[str, Any], images: Sequence[CheckImage] = (), *,
              store: bool = False, caller: str = "api") -> CheckResult:
        """Check one ad (a mapping in the input contract; `id` and `source` optional)."""
        if len(images) > MAX_IMAGES:
            raise UsageError(f"at most {MAX_IMAGES} images per check, got {len(images)}")
        data = dict(ad)
        data.pop("images", None)
        if not data.get("id"):
            text = f"{data.get('title', '')}\n{data.get('body', '')}\n{data.get('url', '')}"
            data["id"] = "check-" + hashlib.sha256(text.encode("utf-8", "replace")
                                                   ).hexdigest()[:16]
        try:
            record = record_from_mapping(data, default_source="check", origin="check")
        except RecordError as exc:
            raise UsageError(f"invalid ad: {exc.message}") from None
        mentions = extract_record(record, self.region).mentions
        scored = score_ad(record, mentions)
        infos = [self._image(i, img) for i, img in enumerate(images)]

        bank_hits = self._bank_hits(infos)
        identifiers = []
        seen: set[tuple[str, str]] = set()
        for m in mentions:
            if (m.kind, m.value) in seen:
                continue
            seen.add((m.kind, m.value))
            identifiers.append({"kind": m.kind, "value": m.value, "field": m.field,
                                "start": m.start, "end": m.end, "raw": m.raw,
                                "obfuscated": m.obfuscated})
        pairs = [(k, v) for k, v in seen]
        for info in infos:
            pairs += [("image", h) for h in (info.sha256, info.md5, info.pdq) if h]
        if record.url:
            pairs.append(("url", record.url))
        watch_hits = self.watch.matching(pairs)
        networks = self._networks([(k, v) for k, v in seen if k in NETWORK_KINDS], infos)
        signals = {"risk": scored.risk,
                   "network_risk": max((n["risk"] for n in networks), default=0.0),
                   "network_match": float(len(networks)),
                   "watchlist_hit": float(len(watch_hits)),
                   "bank_match": float(len(bank_hits))}
        decision = evaluate(self.policy, signals, {r.code for r in scored.reasons})
        stored = None
        if store:
            stored = self._store(record, mentions, infos, scored.risk, scored.reasons)
        return CheckResult(
            risk=scored.risk, reasons=[r.to_dict() for r in scored.reasons],
            identifiers=identifiers,
            images=[{"position": i.position, "sha256": i.sha256, "md5": i.md5, "pdq": i.pdq,
                     "quality": i.quality, "width": i.width, "height": i.height,
                     "error": i.error} for i in infos],
            bank_hits=bank_hits, watchlist_hits=watch_hits, networks=networks,
            decision=decision, stored=stored, signals=signals)

    def _image(self, position: int, img: CheckImage) -> ImageInfo:
        if img.data is not None:
            if len(img.data) > MAX_IMAGE_BYTES:
                raise UsageError(f"image {position} is over the {MAX_IMAGE_BYTES:,}-byte limit")
            # the one safe decode path: format allow-list, pixel limit, bomb warnings as errors
            return hash_bytes(img.data, position=position, original=f"upload:{position}")
        return ImageInfo(position=position, original=f"hash:{position}", sha256=img.sha256,
                         md5=img.md5, pdq=img.pdq, quality=100 if img.pdq else None)

    def _bank_hits(self, infos: Sequence[ImageInfo]) -> list[dict[str, Any]]:
        index = self.bank_index()
        if not index.banks or not infos:
            return []
        from dataclasses import replace
        ok = [i if (i.quality or 0) >= MIN_PDQ_QUALITY else replace(i, pdq=None) for i in infos]
        threshold = settings.get_int("pdq_threshold")
        return [m.to_dict() for per in index.match(ok, threshold) for m in per]

    def _networks(self, pairs: Sequence[tuple[str, str]],
                  infos: Sequence[ImageInfo]) -> list[dict[str, Any]]:
        """Known networks holding an ad that shares one of these identifiers or images,
        each with the evidence that matched."""
        index = self._net_index
        hubs = self._hub_pairs()
        pairs = [p for p in pairs if p not in hubs]
        found_by: dict[str, list[tuple[str, str]]] = {}
        if index is not None:
            for pair in pairs:
                for nid in index.get(pair, ()):
                    found_by.setdefault(nid, []).append(pair)
        elif pairs:
            found_by = self.store.networks_for_entities(pairs)
        by_net: dict[str, list[dict[str, str]]] = {
            nid: [{"kind": k, "value": v} for k, v in sorted(found)]
            for nid, found in found_by.items()}
        digests = [d for info in infos for d in (info.sha256, info.pdq) if d]
        for nid, found in (self.store.networks_for_image_hashes(digests).items() if digests
                           else ()):
            for d in found:
                ev = {"kind": "image", "value": d}
                if ev not in by_net.setdefault(nid, []):
                    by_net[nid].append(ev)
        if not by_net:
            return []
        out = [{**self._network(nid), "matched": ev} for nid, ev in by_net.items()]
        return sorted(out, key=lambda n: (-n["risk"], n["id"]))

    def _store(self, record: Any, mentions: list[Any], infos: list[ImageInfo], risk: float,
               reasons: list[Any]) -> dict[str, Any]:
        from tracelight.services.ingest import default_after_batch
        item = ProcessedAd(record=record, mentions=list(mentions),
                           images=[i for i in infos if i.sha256], risk=risk,
                           reasons=list(reasons))
        result = self.store.write_batch(None, [item])
        if result.rejected:
            raise UsageError(f"not stored: {result.rejected[0][1]}")
        for hook in default_after_batch(via=None):  # its webhooks: alert() below
            hook(self.store, list(result.written_pks))
        status = "new" if result.new else "updated" if result.updated else "unchanged"
        return {"source": record.source, "id": record.id, "status": status}


HIGH_RISK_NETWORK = 0.7


def alert(store: Store, result: CheckResult) -> int:
    """Queue the webhook events this check raises (watchlist hits, bank matches, a tie to a
    high-risk network); nothing when nobody subscribed. Payloads hold the verdict and ids,
    never the ad's text. Returns how many deliveries were queued."""
    from tracelight.services.webhooks import emit
    base: dict[str, Any] = {"action": result.decision.action, "rule": result.decision.rule,
                            "risk": round(result.risk, 4), "ad": result.stored}
    queued = 0
    if result.watchlist_hits:
        queued += emit(store, "watchlist.hit", {**base, "watches": [
            {"id": w["id"], "watchlist": w["watchlist"], "kind": w["kind"]}
            for w in result.watchlist_hits]})
    if result.bank_hits:
        queued += emit(store, "bank.match", {**base, "matches": [
            {"bank": b["bank"], "kind": b["kind"], "distance": b["distance"],
             "image_position": b["image_position"]} for b in result.bank_hits]})
    risky = [n for n in result.networks if n["risk"] >= HIGH_RISK_NETWORK]
    if risky:
        queued += emit(store, "network.high_risk", {**base, "networks": [
            {"id": n["id"], "risk": n["risk"], "size": n["size"]} for n in risky]})
    return queued
