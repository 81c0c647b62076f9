"""Use case: share signals with partners (export a case's or a watchlist's signals as STIX 2.1,
followthemoney or HMA files) and take theirs in (import a file into a named watchlist).

Imported signals become watches, each keeping its source and TLP marking: they are things to
look out for in new ads, never facts about people. TLP:RED signals are kept on import and
never written by an export.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from tracelight.errors import InputError, UsageError
from tracelight.report import signals as sig
from tracelight.services.cases import audit, load_case
from tracelight.store import Store
from tracelight.store.cases import Watchlists

MAX_IMPORT_BYTES = 200_000_000

# signal kind -> watch kind (store.cases.WATCH_KINDS)
WATCH_KIND = {"phone": "phone", "email": "email", "handle": "social", "url": "url",
              "sha256": "image", "sha1": "image", "md5": "image", "pdq": "image",
              "text_sha256": "text"}


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    sha256: str
    written: int
    red_held_back: int
    not_in_format: int


@dataclass
class ImportResult:
    watchlist: str
    fmt: str
    read: int
    added: int
    already: int
    skipped: int
    by_tlp: dict[str, int] = field(default_factory=dict)
    skipped_examples: list[str] = field(default_factory=list)


def _write(out: Path, text: str) -> str:
    from tracelight.report.base import write_file

    return write_file(out, text.encode("utf-8", "replace")).sha256


def _export(signals: list[sig.Signal], fmt: str, out: Path) -> ExportResult:
    keep, red = sig.shareable(signals)
    if not keep:
        raise UsageError("nothing to export" + (f": all {red} signals are TLP:RED, which "
                                                 "never leaves" if red else ""))
    text, red, left = sig.render(signals, fmt)
    digest = _write(out, text)
    return ExportResult(out, digest, len(keep) - left, red, left)


def export_case(store: Store, case_pk: int, actor: str, *, fmt: str, tlp: str,
                out: Path, via: str = "cli") -> ExportResult:
    """The case's signals, all marked `tlp`, written to `out`; audited with the file's hash."""
    case = load_case(store, case_pk, actor)
    result = _export(sig.case_signals(case, tlp), fmt, out)
    audit(store, actor, "export.signals", f"case {case_pk}",
          {"format": fmt, "tlp": sig.normalise_tlp(tlp), "file": out.name,
           "sha256": result.sha256, "signals": result.written, "via": via})
    return result


def watchlist_signals(store: Store, name: str) -> list[sig.Signal]:
    out = []
    for w in Watchlists(store).watchlist(name):
        kind = _signal_kind(w["kind"], w["value"], w["label"] or "")
        if kind is None:
            continue
        try:
            out.append(sig.make_signal(kind, w["value"], tlp=w["tlp"] or "amber",
                                       source=w["source"] or f"tracelight watchlist {name}",
                                       label=_strip_tag(w["label"] or "")))
        except UsageError:
            continue
    return out


def export_watchlist(store: Store, name: str, actor: str, *, fmt: str, out: Path,
                     via: str = "cli") -> ExportResult:
    """A watchlist's signals with the TLP each came with (TLP:RED ones held back)."""
    signals = watchlist_signals(store, name)
    if not signals:
        raise UsageError(f"no watchlist {name!r} (or it holds no signals)")
    result = _export(signals, fmt, out)
    audit(store, actor, "export.signals", f"watchlist {name}",
          {"format": fmt, "file": out.name, "sha256": result.sha256,
           "signals": result.written, "red_held_back": result.red_held_back, "via": via})
    return result


def _tag(kind: str, label: str) -> str:
    """The watch label, tagged with the signal kind where the watch kind loses it."""
    return f"[{kind}] {label}".strip() if WATCH_KIND[kind] == "image" else label


def _strip_tag(label: str) -> str:
    return label.split("] ", 1)[1] if label.startswith("[") and "] " in label else \
        (label if not label.startswith("[") else "")


def _signal_kind(watch_kind: str, value: str, label: str) -> str | None:
    if watch_kind == "image":
        for k in ("sha256", "sha1", "md5", "pdq"):
            if label.startswith(f"[{k}]"):
                return k
        return {32: "md5", 40: "sha1", 64: "sha256"}.get(len(value))
    return {"phone": "phone", "email": "email", "social": "handle", "url": "url",
            "text": "text_sha256"}.get(watch_kind)


def import_signals(store: Store, path: Path, watchlist: str, actor: str, *,
                   fmt: str = "auto", tlp: str = "amber", via: str = "cli") -> ImportResult:
    """Read a STIX, followthemoney or HMA file into watchlist `watchlist` (the actor's
    watches), each signal with its source (the file) and TLP."""
    name = " ".join(watchlist.split())[:120]
    if not name:
        raise UsageError("a watchlist needs a name")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"{path}: not a file")
        if size > MAX_IMPORT_BYTES:
            raise InputError(f"{path}: {size} bytes, more than a signal file may hold")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    fmt = sig.detect_format(data) if fmt == "auto" else fmt
    source = f"{path.name} (sha256 {hashlib.sha256(data).hexdigest()[:16]})"
    default_tlp = sig.normalise_tlp(tlp)
    if fmt == "stix":
        parsed = sig.from_stix(data, source=source, default_tlp=default_tlp)
    elif fmt == "ftm":
        parsed = sig.from_ftm(data, source=source, default_tlp=default_tlp)
    elif fmt == "hma":
        parsed = sig.from_hma(data, source=source, tlp=default_tlp)
    else:
        raise UsageError(f"unknown signal format {fmt!r}", hint="stix, ftm, hma or auto")
    if len(parsed.signals) > sig.MAX_SIGNALS:
        raise InputError(f"{path}: more than {sig.MAX_SIGNALS} signals")
    lists = Watchlists(store)
    result = ImportResult(name, fmt, len(parsed.signals), 0, 0, parsed.n_skipped,
                          skipped_examples=parsed.skipped[:10])
    for s in parsed.signals:
        added = lists.add(actor, WATCH_KIND[s.kind], s.value, _tag(s.kind, s.label),
                          watchlist=name, source=s.source, tlp=s.tlp)
        result.added += added
        result.already += not added
        result.by_tlp[s.tlp] = result.by_tlp.get(s.tlp, 0) + 1
    audit(store, actor, "signals.import", f"watchlist {name}",
          {"file": path.name, "format": fmt, "read": result.read, "added": result.added,
           "skipped": result.skipped, "tlp": result.by_tlp, "via": via})
    return result


@dataclass(frozen=True, slots=True)
class WatchHit:
    watch: int
    kind: str
    value: str
    tlp: str | None
    ad_pks: tuple[int, ...]


def watchlist_hits(store: Store, name: str) -> list[WatchHit]:
    """Every watch in the list with the stored ads it matches."""
    entries = {w["id"]: w for w in Watchlists(store).watchlist(name)}
    if not entries:
        raise UsageError(f"no watchlist {name!r}")
    hits = Watchlists(store).hits(name)
    return [WatchHit(pk, entries[pk]["kind"], entries[pk]["value"], entries[pk]["tlp"],
                     tuple(hits.get(pk, []))) for pk in entries]


def case_signals_file(store: Store, case_pk: int, actor: str, *, fmt: str,
                      tlp: str) -> tuple[bytes, str, ExportResult]:
    """(file bytes, file name, result) of a case's signals for the workspace's download."""
    import tempfile

    suffix = {"stix": ".stix.json", "ftm": ".ftm.jsonl", "hma": ".hma.txt"}.get(fmt, ".txt")
    name = f"case-{case_pk}-signals{suffix}"
    with tempfile.TemporaryDirectory() as tmp:
        result = export_case(store, case_pk, actor, fmt=fmt, tlp=tlp, out=Path(tmp) / name,
                             via="web")
        data = result.path.read_bytes()
    return data, name, result
