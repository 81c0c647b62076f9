"""Use case: bulk-load what a cluster job wrote (`tracelight cluster load OUT`).

The ads go through the store's own batch write (the one `tracelight ingest` uses: idempotent,
revisions kept, a refused ad rejected alone, then the after-batch hooks: bank matches and
watchlists); the networks, hubs and linker state are saved as `tracelight link` saves its own,
so a later `tracelight link` continues incrementally from them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracelight.engine.rows import read_processed, read_rows
from tracelight.errors import InputError
from tracelight.ingest.runner import AfterBatch, IngestSummary, _Rejects, _store_batch
from tracelight.link import Hub, LinkResult, LinkState, Network
from tracelight.link.features import FeatureTable
from tracelight.records import utcnow
from tracelight.services.ingest import default_after_batch
from tracelight.services.link import save_result
from tracelight.store import Store


@dataclass
class LoadSummary:
    run_pk: int = 0
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    networks: int = 0
    hubs: int = 0
    linked: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def read_manifest(out: str) -> dict[str, Any]:
    import fsspec

    path = _join(out, "manifest.json")
    try:
        with fsspec.open(path, "r", encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        raise InputError(f"{out}: no manifest.json: not the output of `tracelight cluster run`"
                         " (or the job did not finish)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != 1 \
            or not isinstance(manifest.get("parts"), list):
        raise InputError(f"{path}: not a tracelight cluster manifest of format 1")
    return manifest


def load_output(store: Store, out: str, *, batch_size: int = 1000,
                rejects_path: str | None = None,
                progress: Callable[[int], None] | None = None,
                after_batch: Sequence[AfterBatch] | None = None) -> LoadSummary:
    manifest = read_manifest(out)
    parts = [str(p) for p in manifest["parts"]]
    hooks = default_after_batch() if after_batch is None else after_batch
    summary = LoadSummary()
    started = utcnow()
    run = IngestSummary(rejects_path=rejects_path)
    run.run_pk = summary.run_pk = store.start_run([out], rejects_path)
    rejects = _Rejects(rejects_path)
    status = "failed"
    try:
        batch: list[Any] = []
        origins: list[str] = []

        def flush() -> None:
            written = _store_batch(store, batch, origins, run, rejects)
            for hook in hooks:
                hook(store, written)
            if progress:
                progress(len(batch))
            batch.clear()
            origins.clear()

        for origin, item in read_processed(parts):
            run.read += 1
            batch.append(item)
            origins.append(origin)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        status = "done"
    finally:
        rejects.close()
        store.update_run(run.run_pk, status=status, finished_at=utcnow(), read=run.read,
                         new=run.new, updated=run.updated, unchanged=run.unchanged,
                         rejected=run.rejected)
    summary.read, summary.new, summary.updated = run.read, run.new, run.updated
    summary.unchanged, summary.rejected = run.unchanged, run.rejected
    if manifest.get("linked"):
        _load_networks(store, out, manifest, summary, started)
    return summary


def _read_features(out: str) -> FeatureTable | None:
    """The linker state's features: one file (linked on the driver) or, linked on the
    engine, one part per block of rows in key order (link_state/features/part-*.npz)."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(_join(out, "link_state"))
    if fs.exists(root + "/features.npz"):
        with fs.open(root + "/features.npz", "rb") as fh:
            return FeatureTable.from_bytes(fh.read())
    parts = []
    for path in sorted(fs.glob(root + "/features/part-*.npz")):
        with fs.open(path, "rb") as fh:
            table = FeatureTable.from_bytes(fh.read())
        if table is None:
            return None
        parts.append(table)
    return FeatureTable.concat(parts)


def _load_networks(store: Store, out: str, manifest: dict[str, Any], summary: LoadSummary,
                   started: Any) -> None:
    import fsspec

    networks = [Network.from_dict(json.loads(r["record"]))
                for r in read_rows(_join(out, "networks.parquet"), expect="networks")]
    hubs = [Hub(r["kind"], r["value"], r["ads"], r["groups"], r["reason"], r["example"])
            for r in read_rows(_join(out, "hubs.parquet"), expect="hubs")]
    table = _read_features(out)
    with fsspec.open(_join(out, "link_state/assignment.json"), "rb") as fh:
        assignment = json.loads(fh.read())
    if table is None:
        raise InputError(f"{out}: its link features are of another tracelight version",
                         hint="run `tracelight link --rebuild` after loading")
    versions = store.ad_versions()
    missing = [k for k in table.keys if k not in versions]
    if missing or len(versions) != len(table):
        # the store holds other ads too (or lacks some): the job's networks are not the
        # store's; the ads are loaded, and `tracelight link` brings the networks up to date
        summary.notes.append(
            f"networks not loaded: the store holds {len(versions):,} ads, the job linked "
            f"{len(table):,}; run `tracelight link` to link them all")
        return
    key_to_pk = {k: pk for k, (pk, _h) in versions.items()}
    result = LinkResult(networks=networks, hubs=hubs,
                        state=LinkState(table=table, assignment=assignment),
                        stats={**manifest.get("link_stats", {}), "new_ads": len(table)})
    save_result(store, result, key_to_pk, {k: h for k, (_pk, h) in versions.items()},
                mode="cluster", started=started)
    summary.linked = True
    summary.networks = sum(1 for n in networks if n.size >= 2)
    summary.hubs = len(hubs)
