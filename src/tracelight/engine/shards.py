"""Input shards: JSON Lines (optionally .gz) or Parquet files, local or behind any fsspec URL.

Paths come from the person running the job, never from an ad. Every record is validated by
the same reader the local `tracelight ingest` uses; a bad record becomes a RecordError (a
reject), a file that cannot be read at all an InputError naming it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tracelight.errors import InputError, RecordError
from tracelight.ingest.readers import _iter_jsonl, _validate
from tracelight.records import AdRecord

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
# where images named by a remote shard are looked for: nowhere (they are refused as missing)
REMOTE_BASE = Path("/nonexistent/tracelight-remote-shard")


def shard_format(path: str) -> str:
    name = path.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise InputError(f"{path}: not a JSON Lines or Parquet shard",
                     hint="name shards *.jsonl, *.jsonl.gz or *.parquet")


def list_shards(inputs: Sequence[str]) -> list[str]:
    """Every shard named by `inputs` (files, folders, globs, fsspec URLs), sorted per input."""
    import fsspec

    out: list[str] = []
    for text in inputs:
        if text == "-":
            raise InputError("a cluster job cannot read stdin ('-'): its workers read shards",
                             hint="write the records to .jsonl files, or use "
                                  "`tracelight ingest -`")
        fs, root = fsspec.core.url_to_fs(text)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]

        def url(p: str, fs: Any = fs, protocol: str = protocol) -> str:
            return p if protocol in ("file", "local") else fs.unstrip_protocol(p)

        if any(ch in root for ch in "*?["):
            found = sorted(fs.glob(root))
        elif fs.isdir(root):
            found = sorted(p for p in fs.find(root)
                           if p.lower().endswith(JSONL_SUFFIXES + PARQUET_SUFFIXES))
        elif fs.exists(root):
            shard_format(root)
            found = [root]
        else:
            raise InputError(f"{text}: no such file or folder")
        shards = [url(p) for p in found if p.lower().endswith(JSONL_SUFFIXES + PARQUET_SUFFIXES)]
        if not shards:
            raise InputError(f"{text}: holds no .jsonl, .jsonl.gz or .parquet shard")
        out.extend(shards)
    if len(set(out)) != len(out):
        raise InputError("the same shard is named twice in the inputs")
    return out


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def _local(path: str) -> Path:
    return Path(path[len("file://"):] if path.startswith("file://") else path)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def read_shard(path: str, default_source: str | None,
               ) -> Iterator[tuple[str, Path, AdRecord | RecordError]]:
    """(origin, image base folder, record or reject) for every record of one shard."""
    import fsspec

    base = _local(path).parent if _is_local(path) else REMOTE_BASE
    fmt = shard_format(path)
    try:
        if fmt == "jsonl":
            with fsspec.open(path, "rb", compression="infer") as fh:
                for item in _iter_jsonl(fh, path, base, default_source,
                                        compressed=path.lower().endswith(".gz")):
                    yield item.origin, base, item.result
            return
        from tracelight.engine.rows import read_rows

        for i, row in enumerate(read_rows(path)):
            origin = f"{path}#row{i + 1}"
            yield origin, base, _validate({k: _plain(v) for k, v in row.items()
                                           if v is not None}, default_source, origin)
    except FileNotFoundError:
        raise InputError(f"{path}: no such shard") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
