"""The workspace's view of optional capabilities: extraction, networks, image banks and
image search. Each may not have landed (or been built) yet; pages then say so instead of
failing. This is the one place that knows how to call them.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import phonenumbers

from tracelight.records import Reason

log = logging.getLogger(__name__)


def _optional(module: str) -> Any | None:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _first(obj: Any, *names: str) -> Any | None:
    for name in names:
        fn = getattr(obj, name, None) if obj is not None else None
        if callable(fn):
            return fn
    return None


# ---- identifiers ------------------------------------------------------------------------------

def normalize_phone(written: str, region: str) -> str | None:
    """A phone number as written (any punctuation, with or without +country) to E.164."""
    text = written.strip()
    if not text:
        return None
    try:
        parsed = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def lookup_values(kind: str, written: str, region: str) -> list[str]:
    """The stored values a typed identifier may have (tracelight.values when present:
    handles as "platform:name" on every platform, crypto as "BTC:address"...)."""
    values_mod = _optional("tracelight.values")
    fn = _first(values_mod, "normalize_lookup")
    if fn is not None:
        return list(fn(kind, written, region))
    if kind == "phone":
        e164 = normalize_phone(written, region)
        return [e164] if e164 else []
    return [written.strip().lower() if kind == "email" else written.strip()]


def normalize_email(written: str) -> str:
    return written.strip().lower()


# ---- networks ---------------------------------------------------------------------------------

def _networks() -> Any | None:
    return _optional("tracelight.store.networks")


def _network_store(store: Any) -> Any | None:
    """tracelight.store.networks.NetworkStore over this store, when the linker has landed."""
    cls = getattr(_networks(), "NetworkStore", None)
    return cls(store) if cls is not None else None


def networks_available(store: Any) -> bool:
    ns = _network_store(store)
    try:
        if ns is not None:
            return bool(ns.count_networks())
        fn = _first(_networks(), "networks_built", "has_networks", "count_networks")
        return bool(fn(store)) if fn is not None else _networks() is not None
    except Exception:
        log.warning("networks: availability check failed", exc_info=True)
        return False


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    return {k: getattr(obj, k) for k in dir(obj) if not k.startswith("_")
            and not callable(getattr(obj, k))}


def network_summary(obj: Any) -> dict[str, Any]:
    d = _as_dict(obj)
    nid = d.get("network_id", d.get("id", d.get("pk")))
    risk = d.get("risk")
    reasons = d.get("reasons") or []
    if isinstance(risk, dict):  # the linker's {"score": .., "reasons": [..]}
        reasons = risk.get("reasons") or reasons
        risk = risk.get("score", risk.get("risk"))
    locations = d.get("locations")
    cities = d.get("cities", len(locations) if isinstance(locations, list) else None)
    names = d.get("names") or []
    label = d.get("label") or f"network {nid}" + (f" ({', '.join(names[:2])})" if names else "")
    return {"id": str(nid), "risk": risk if isinstance(risk, (int, float)) else None,
            "size": d.get("size", d.get("n_ads")), "label": label,
            "reasons": [r.to_dict() if isinstance(r, Reason) else r if isinstance(r, dict)
                        else {"label": str(r)} for r in reasons],
            "cities": cities, "first_seen": d.get("first_seen"), "last_seen": d.get("last_seen"),
            "evidence": d.get("evidence") or []}


_top_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}


def top_networks(store: Any, limit: int = 20) -> list[dict[str, Any]] | None:
    """Networks by risk (then size), or None when networks are not built yet.

    Ranked as `tracelight queue` ranks them (score.runs.network_queue) and kept for a minute,
    so the queue page does not re-read them on every view.
    """
    import time
    if not networks_available(store):
        return None
    now = time.monotonic()
    hit = _top_cache.get(id(store))
    if hit and now - hit[0] < 60 and (limit <= 100 or len(hit[1]) >= limit):
        return hit[1][:limit]
    from tracelight.score.runs import network_queue

    ns = _network_store(store)
    if ns is None:
        return None
    try:
        # the same ranking as `tracelight queue`: score_network over each network's ads
        nets = [network_summary({**row["network"].to_dict(), "risk": row["risk"],
                                 "reasons": row["reasons"]})
                for row in network_queue(store, ns, max(limit, 100))]
    except Exception:
        log.warning("networks: listing failed", exc_info=True)
        return None
    _top_cache[id(store)] = (now, nets)
    return nets[:limit]


def networks_for_ad(store: Any, ad_pk: int) -> list[dict[str, Any]] | None:
    if not networks_available(store):
        return None
    ns = _network_store(store)
    try:
        if ns is not None:
            nid = ns.network_id_of(ad_pk)
            return [network_summary(ns.get_network(nid))] if nid else []
        fn = _first(_networks(), "networks_for_ad", "networks_of_ad", "ad_networks")
        return [network_summary(n) for n in fn(store, ad_pk)] if fn else None
    except Exception:
        log.warning("networks: look-up for ad %s failed", ad_pk, exc_info=True)
        return None


def _scored_summary(store: Any, net: Any, pks: list[int]) -> dict[str, Any]:
    """A network's summary with its risk and reasons from score_network, as in the queue."""
    from tracelight.score.runs import rank_networks

    ads = store.get_ads_by_pks(pks)
    [row] = rank_networks([net], lambda _n: [(a.ad_id, a.risk, a.reasons) for a in ads], 1)
    return network_summary({**net.to_dict(), "risk": row["risk"], "reasons": row["reasons"]})


def network_members(store: Any, network_id: str) -> tuple[dict[str, Any], list[int]] | None:
    """(summary, member ad keys) of one network, or None if unknown / not built."""
    if not networks_available(store):
        return None
    ns = _network_store(store)
    try:
        if ns is not None:
            net = ns.get_network(str(network_id))
            pks = list(ns.member_pks(str(network_id), limit=5000))
            return _scored_summary(store, net, pks), pks
        fn = _first(_networks(), "get_network", "network")
        net = fn(store, network_id) if fn else None
    except Exception:
        log.info("networks: no network %r", network_id, exc_info=True)
        return None
    if net is None:
        return None
    d = _as_dict(net)
    pks = d.get("ad_pks") or d.get("members") or []
    return network_summary(net), [int(getattr(p, "pk", p)) for p in pks]


# ---- images -----------------------------------------------------------------------------------

def bank_matched(store: Any, image: dict[str, Any]) -> bool:
    """Whether an image matches a known-abuse hash bank. Fails closed: if the check itself
    fails, the image is treated as matched and never shown."""
    mod = _optional("tracelight.store.image_banks")
    fn = _first(mod, "is_bank_matched")
    if fn is None:
        return False
    try:
        return bool(fn(store, image.get("sha256")))
    except Exception:
        log.warning("image bank check failed; withholding the image", exc_info=True)
        return True


def image_search(store: Any) -> Any | None:
    """A function photo bytes -> [(ad key, distance, exact, bank matched)], closest first,
    when image search exists; else None."""
    banks = _optional("tracelight.store.image_banks")
    search = _first(banks, "search_similar_ads")
    hash_bytes = _first(_optional("tracelight.images"), "hash_bytes")
    if search is None or hash_bytes is None:
        return None

    def run(data: bytes, limit: int = 50) -> list[tuple[int, int, bool, bool]]:
        query = hash_bytes(data, original="upload")
        return [(h.ad_pk, h.distance, h.exact, h.bank_matched)
                for h in search(store, query, limit=limit)]

    return run
