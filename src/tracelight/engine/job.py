"""One batch job: shards -> stages on the engine's workers -> linking -> Parquet output.

What runs where (docs/scale.md, "What is distributed"):
- on the workers, one task per shard: reading and validating records, `pipeline.Processor`
  (extract, image hashing, score: the local ingest's stages), the ads Parquet part, and the
  per-ad link featurisation (`link.features.FeatureTable`, the expensive per-ad part of
  linking: cleaning text, shingles, sentences, identifiers);
- on the driver: the compact feature rows of every ad are gathered, given the store's linker
  keys, and handed to the link core's own global steps (`link.pipeline.link_table`: document
  frequencies, hubs, LSH, constrained merging, components, network records). The decisions are
  the core's, so the networks are those `tracelight link` makes on the same ads.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracelight.engine.executors import make_executor
from tracelight.engine.rows import FORMAT_VERSION, ad_row, ads_schema
from tracelight.engine.shards import list_shards, read_shard
from tracelight.errors import InputError, RecordError
from tracelight.pipeline import PipelineOptions, Processor

ENGINES = ("spark", "ray", "local")
LINK_ON = ("engine", "driver")
CHUNK = 2000  # records processed and written per step inside a task (bounds task memory)


@dataclass(frozen=True)
class ShardTask:
    index: int
    path: str
    out: str
    options: PipelineOptions
    default_source: str | None
    link: bool
    features_to: str | None = None  # write the link features here instead of returning them


@dataclass
class ShardResult:
    index: int
    path: str
    part: str | None
    read: int = 0
    ok: int = 0
    rejects: list[tuple[str, str]] = field(default_factory=list)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (source, ad id) per row
    features: bytes | None = None
    error: str | None = None  # the shard as a whole could not be read
    seconds: float = 0.0


def _join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def process_shard(task: ShardTask) -> ShardResult:
    """Run the stages over one shard (on a worker). Never raises for bad data: a bad record
    is a reject, an unreadable shard an `error`; the driver decides what to do."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tracelight.link.features import FeatureTable, LinkAd

    t0 = time.perf_counter()
    part = _join(task.out, "ads", f"part-{task.index:05d}.parquet")
    res = ShardResult(task.index, task.path, part)
    processor = Processor(task.options)
    tables: list[FeatureTable] = []
    schema = ads_schema()
    writer: Any = None
    fh: Any = None

    def flush(batch: list[Any], origins: list[str]) -> None:
        nonlocal writer, fh
        done = processor.each(batch)
        rows, kept = [], []
        for origin, item in zip(origins, done, strict=True):
            if isinstance(item, RecordError):
                res.rejects.append((origin, item.message))
                continue
            rows.append(ad_row(item, origin))
            kept.append(item)
            res.refs.append((item.record.source, item.record.id))
        if writer is None:
            import fsspec

            fh = fsspec.open(part, "wb").open()
            writer = pq.ParquetWriter(fh, schema, compression="zstd")
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
        res.ok += len(rows)
        if task.link and kept:
            tables.append(FeatureTable.from_ads(
                LinkAd.from_processed(it, key=f"{it.record.source}/{it.record.id}")
                for it in kept))

    try:
        batch: list[Any] = []
        origins: list[str] = []
        for origin, base, rec in read_shard(task.path, task.default_source):
            res.read += 1
            if isinstance(rec, RecordError):
                res.rejects.append((origin, rec.message))
                continue
            batch.append((rec, base))
            origins.append(origin)
            if len(batch) >= CHUNK:
                flush(batch, origins)
                batch, origins = [], []
        flush(batch, origins)
    except InputError as exc:
        res.error = str(exc)
    except Exception as exc:  # a shard that breaks mid-file is named, not a stack trace
        text = " ".join(str(exc).split())[:200]
        res.error = f"{task.path}: cannot be read after {res.read:,} records: " \
                    f"{type(exc).__name__}" + (f": {text}" if text else "")
    finally:
        if writer is not None:
            writer.close()
            fh.close()
    if task.link:
        data = FeatureTable.concat(tables).to_bytes()
        if task.features_to is None:
            res.features = data
        else:  # linking on the engine: the features stay where the workers can read them
            import fsspec

            with fsspec.open(task.features_to, "wb") as fh:
                fh.write(data)
    res.seconds = round(time.perf_counter() - t0, 3)
    return res


@dataclass
class JobSummary:
    engine: str
    shards: int
    read: int = 0
    ads: int = 0
    rejected: int = 0
    duplicates: int = 0
    networks: int = 0
    ads_in_networks: int = 0
    hubs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    link_stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def linker_keys(refs: Sequence[tuple[str, str]]) -> tuple[list[str], list[bool]]:
    """The store's linker key of each (source, ad id) (store.ad_versions: the ad id; ids that
    repeat across sources become "source/id"), and which rows are first occurrences (a
    repeated (source, id) is a duplicate the store rejects, as ingest does)."""
    first: list[bool] = []
    seen_ref: set[tuple[str, str]] = set()
    per_id: dict[str, int] = {}
    for ref in refs:
        new = ref not in seen_ref
        first.append(new)
        if new:
            seen_ref.add(ref)
            per_id[ref[1]] = per_id.get(ref[1], 0) + 1
    keys = [i if per_id[i] == 1 else f"{s}/{i}" for s, i in refs]
    return keys, first


def link_results(results: Sequence[ShardResult], config: Any = None) -> tuple[Any, int]:
    """The link core's result over the gathered features (driver side), and the number of
    duplicate rows left out."""
    import numpy as np

    from tracelight.link import LinkConfig
    from tracelight.link.features import FeatureTable
    from tracelight.link.pipeline import link_table

    ordered = sorted(results, key=lambda r: r.index)
    refs = [ref for r in ordered for ref in r.refs]
    keys, first = linker_keys(refs)
    parts = []
    at = 0
    for r in ordered:
        table = FeatureTable.from_bytes(r.features or FeatureTable().to_bytes())
        if table is None or len(table) != len(r.refs):
            raise InputError(f"{r.path}: the features of this shard do not match its ads")
        n = len(table)
        keep = np.array([j for j in range(n) if first[at + j]], dtype=np.int64)
        if keep.size != n:
            table = table.take(keep)
        table.keys = [keys[at + int(j)] for j in keep.tolist()]
        at += n
        parts.append(table)
    table = FeatureTable.concat(parts).canonical()
    result = link_table(table, config or LinkConfig(), previous={})
    return result, len(first) - sum(first)


def write_link_output(out: str, result: Any) -> None:
    import fsspec
    import pyarrow as pa

    from tracelight.engine.rows import write_rows

    s = pa.string()
    net_schema = pa.schema([("network_id", s), ("size", pa.int64()), ("ad_ids", pa.list_(s)),
                            ("record", s)], metadata={"tracelight": f"networks/{FORMAT_VERSION}"})
    write_rows(_join(out, "networks.parquet"), [
        {"network_id": n.network_id, "size": n.size, "ad_ids": n.ad_ids,
         "record": json.dumps(n.to_dict(), ensure_ascii=False, separators=(",", ":"))}
        for n in result.networks], net_schema)
    hub_schema = pa.schema([("kind", s), ("value", s), ("ads", pa.int64()),
                            ("groups", pa.int64()), ("reason", s), ("example", s)],
                           metadata={"tracelight": f"hubs/{FORMAT_VERSION}"})
    write_rows(_join(out, "hubs.parquet"), [
        {"kind": h.kind, "value": h.value, "ads": h.ads, "groups": h.groups,
         "reason": h.reason, "example": h.example} for h in result.hubs], hub_schema)
    with fsspec.open(_join(out, "link_state", "features.npz"), "wb") as fh:
        fh.write(result.state.table.to_bytes())
    with fsspec.open(_join(out, "link_state", "assignment.json"), "wb") as fh:
        fh.write(result.state.assignment_bytes())


def _network_schema() -> Any:
    import pyarrow as pa

    s = pa.string()
    return pa.schema([("network_id", s), ("size", pa.int64()), ("ad_ids", pa.list_(s)),
                      ("record", s)], metadata={"tracelight": f"networks/{FORMAT_VERSION}"})


def _hub_schema() -> Any:
    import pyarrow as pa

    s = pa.string()
    return pa.schema([("kind", s), ("value", s), ("ads", pa.int64()), ("groups", pa.int64()),
                      ("reason", s), ("example", s)],
                     metadata={"tracelight": f"hubs/{FORMAT_VERSION}"})


def write_engine_networks(out: str, rows: Any, batch: int = 2000) -> None:
    """Stream (network_id, size, ad_ids, record JSON, member keys) rows, in network order,
    into networks.parquet and link_state/assignment.json (the shapes write_link_output
    gives), without holding them all."""
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _network_schema()
    with fsspec.open(_join(out, "networks.parquet"), "wb") as fh, \
            fsspec.open(_join(out, "link_state", "assignment.json"), "w",
                        encoding="utf-8") as ah:
        writer = pq.ParquetWriter(fh, schema, compression="zstd")
        pending: list[dict[str, Any]] = []
        ah.write("{")
        sep = ""
        for network_id, size, ad_ids, record, members in rows:
            pending.append({"network_id": network_id, "size": size, "ad_ids": list(ad_ids),
                            "record": record})
            for k in members:
                ah.write(f"{sep}{json.dumps(k)}:{json.dumps(network_id)}")
                sep = ","
            if len(pending) >= batch:
                writer.write_table(pa.Table.from_pylist(pending, schema=schema))
                pending = []
        if pending:
            writer.write_table(pa.Table.from_pylist(pending, schema=schema))
        writer.close()
        ah.write("}")


def _link_on_engine(spark: Any, results: Sequence[ShardResult], tasks: Sequence[ShardTask],
                    out: str, config: Any, summary: JobSummary) -> None:
    from tracelight.engine.dlink import ShardFeatures, link_on_engine
    from tracelight.engine.rows import write_rows

    ordered = sorted(results, key=lambda r: r.index)
    keys, first = linker_keys([ref for r in ordered for ref in r.refs])
    shards, at = [], 0
    for r in ordered:
        n = len(r.refs)
        path = tasks[r.index].features_to
        assert path is not None
        shards.append(ShardFeatures(r.index, path, keys[at:at + n], first[at:at + n]))
        at += n
    res = link_on_engine(spark, shards, out, config,
                         write_networks=lambda rows: write_engine_networks(out, rows))
    write_rows(_join(out, "hubs.parquet"), [
        {"kind": h.kind, "value": h.value, "ads": h.ads, "groups": h.groups,
         "reason": h.reason, "example": h.example} for h in res.hubs], _hub_schema())
    summary.duplicates = len(first) - sum(first)
    summary.networks = res.networks
    summary.ads_in_networks = res.ads_in_networks
    summary.hubs = len(res.hubs)
    summary.link_stats = res.stats


def _prepare_out(out: str) -> None:
    import fsspec

    fs, root = fsspec.core.url_to_fs(out)
    if fs.exists(root) and (fs.isfile(root) or fs.ls(root)):
        raise InputError(f"{out}: already exists and is not empty",
                         hint="give a new output folder (a job never overwrites one)")
    for sub in ("ads", "link_state"):
        fs.makedirs(_join(root, sub), exist_ok=True)


def run_job(inputs: Sequence[str], out: str, *, engine: str = "spark",
            master: str | None = None, address: str | None = None, workers: int = 2,
            options: PipelineOptions | None = None, default_source: str | None = None,
            link: bool = True, link_config: Any = None, link_on: str | None = None,
            say: Callable[[str], None] = lambda m: None) -> JobSummary:
    """Run the batch stages over `inputs` on `engine` and write `out` (see docs/scale.md).

    link_on: "engine" (Spark only: the global linking steps as distributed group-bys,
    engine.dlink) or "driver" (the link core's link_table over the gathered features);
    default: "driver" (byte-identical to the local linker by construction). The engine path
    does not yet carry three rules the local linker gained later (ad-builder "service text",
    short wording, a network's own frequent template kept as wording: docs/scale.md), so on
    a large realistic corpus its networks can differ; it is identical on the demo corpus.
    """
    import fsspec

    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}", hint=f"one of {', '.join(ENGINES)}")
    if link_on is None:
        link_on = "driver"
    if link_on not in LINK_ON:
        raise InputError(f"unknown link place {link_on!r}", hint=f"one of {', '.join(LINK_ON)}")
    if link_on == "engine" and engine != "spark":
        raise InputError("linking on the engine needs --engine spark",
                         hint="use --link-on driver with the ray or local engines")
    shards = list_shards(inputs)
    if "://" not in out:
        out = os.path.abspath(out)  # the workers may run in another folder
    _prepare_out(out)
    opts = options or PipelineOptions(images=True, ocr=False)
    if opts.image_dir is not None:
        raise InputError("the cluster job keeps image hashes only (no image folder)",
                         hint="image bytes stay where the shards are; load hashes only")
    summary = JobSummary(engine=engine, shards=len(shards))
    on_engine = link and link_on == "engine"
    tasks = [ShardTask(i, p, out, opts, default_source, link,
                       _join(out, "link_state", "shards", f"features-{i:05d}.npz")
                       if on_engine else None) for i, p in enumerate(shards)]
    t0 = time.perf_counter()
    say(f"starting {engine} ({len(shards)} shards)")
    with make_executor(engine, master=master, address=address, workers=workers) as ex:
        summary.seconds["startup"] = round(time.perf_counter() - t0, 3)
        t1 = time.perf_counter()
        stages = [n for n, on in (("extract", opts.extract), ("image hashing", opts.images),
                                  ("score", opts.score), ("link features", link)) if on]
        say(f"running {', '.join(stages)} on the workers")
        results = ex.map(process_shard, tasks)
        summary.seconds["stages"] = round(time.perf_counter() - t1, 3)
        if on_engine and not any(r.error for r in results):
            t2 = time.perf_counter()
            say("linking on the engine (distributed group-bys and components)")
            _link_on_engine(getattr(ex, "spark", None), results, tasks, out, link_config, summary)
            summary.seconds["link"] = round(time.perf_counter() - t2, 3)
    broken = [r for r in results if r.error]
    if broken:
        raise InputError(f"{len(broken)} shard(s) could not be read; first: {broken[0].error}")
    summary.read = sum(r.read for r in results)
    summary.rejected = sum(len(r.rejects) for r in results)
    with fsspec.open(_join(out, "rejects.jsonl"), "w", encoding="utf-8") as fh:
        for r in sorted(results, key=lambda r: r.index):
            for origin, reason in r.rejects:
                fh.write(json.dumps({"origin": origin, "reason": reason},
                                    ensure_ascii=False) + "\n")
    ok = sum(r.ok for r in results)
    if link and not on_engine:
        t2 = time.perf_counter()
        say(f"linking {ok:,} ads on the driver (the link core's global steps)")
        result, summary.duplicates = link_results(results, link_config)
        write_link_output(out, result)
        summary.seconds["link"] = round(time.perf_counter() - t2, 3)
        summary.networks = int(result.stats.get("networks", 0))
        summary.ads_in_networks = int(result.stats.get("ads_in_networks", 0))
        summary.hubs = len(result.hubs)
        summary.link_stats = result.stats
    summary.ads = ok - summary.duplicates
    summary.seconds["total"] = round(time.perf_counter() - t0, 3)
    manifest = {"format": FORMAT_VERSION, "inputs": list(inputs), "shards": shards,
                "options": opts.__dict__, "linked": link, "link_on": link_on if link else None,
                "link_config": (link_config.to_dict() if link_config else None),
                "parts": [r.part for r in sorted(results, key=lambda r: r.index)],
                **summary.to_dict()}
    with fsspec.open(_join(out, "manifest.json"), "w", encoding="utf-8") as fh:
        fh.write(json.dumps(manifest, indent=1, default=str))
    return summary
