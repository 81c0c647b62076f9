"""The workspace's view of optional capabilities: extraction, networks, image banks and
image search. Each may not have landed (or been built) yet; pages then say so instead of
failing. This is the one place that knows how to call them.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import phonenumbers

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


def networks_available(store: Any) -> bool:
    mod = _networks()
    if mod is None:
        return False
    fn = _first(mod, "networks_built", "has_networks", "count_networks")
    if fn is None:
        return True
    try:
        return bool(fn(store))
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
    nid = d.get("id", d.get("network_id", d.get("pk")))
    return {"id": str(nid), "risk": d.get("risk"), "size": d.get("size", d.get("n_ads")),
            "label": d.get("label") or d.get("name") or f"network {nid}",
            "reasons": d.get("reasons") or [], "cities": d.get("cities")}


def top_networks(store: Any, limit: int = 20) -> list[dict[str, Any]] | None:
    """Networks by risk, or None when networks are not built yet."""
    mod = _networks()
    fn = _first(mod, "top_networks", "list_networks", "networks_by_risk")
    if fn is None or not networks_available(store):
        return None
    try:
        return [network_summary(n) for n in fn(store, limit=limit)]
    except Exception:
        log.warning("networks: listing failed", exc_info=True)
        return None


def networks_for_ad(store: Any, ad_pk: int) -> list[dict[str, Any]] | None:
    mod = _networks()
    fn = _first(mod, "networks_for_ad", "networks_of_ad", "ad_networks")
    if fn is None or not networks_available(store):
        return None
    try:
        return [network_summary(n) for n in fn(store, ad_pk)]
    except Exception:
        log.warning("networks: look-up for ad %s failed", ad_pk, exc_info=True)
        return None


def network_members(store: Any, network_id: str) -> tuple[dict[str, Any], list[int]] | None:
    """(summary, member ad keys) of one network, or None if unknown / not built."""
    mod = _networks()
    fn = _first(mod, "get_network", "network")
    if fn is None or not networks_available(store):
        return None
    try:
        net = fn(store, int(network_id) if str(network_id).isdigit() else network_id)
    except Exception:
        log.info("networks: no network %r", network_id, exc_info=True)
        return None
    if net is None:
        return None
    d = _as_dict(net)
    pks = d.get("ad_pks") or d.get("ads") or d.get("members") or []
    pks = [p if isinstance(p, int) else getattr(p, "pk", p) for p in pks]
    return network_summary(net), [int(p) for p in pks]


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
