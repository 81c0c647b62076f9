"""ProcessedAd <-> flat Parquet rows: the one format between the engine and the store.

Nested values (mentions, images, reasons, extra) are JSON text in their columns, so every
Parquet reader (Spark, DuckDB, pyarrow, PostgreSQL's COPY via a converter) can read the files
without a nested schema, and the round trip is exact (tests/test_engine.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from tracelight.errors import InputError
from tracelight.records import (
    AdRecord,
    ImageInfo,
    Mention,
    ProcessedAd,
    reasons_from_json,
    reasons_to_json,
)

AD_COLUMNS = ("source", "ad_id", "url", "title", "body", "posted_at", "location", "images",
              "extra", "mentions", "image_info", "risk", "reasons", "origin")
FORMAT_VERSION = 1
_MENTION_FIELDS = tuple(f.name for f in fields(Mention))
_IMAGE_FIELDS = tuple(f.name for f in fields(ImageInfo))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def ad_row(item: ProcessedAd, origin: str = "") -> dict[str, Any]:
    rec = item.record
    return {
        "source": rec.source, "ad_id": rec.id, "url": rec.url, "title": rec.title,
        "body": rec.body, "posted_at": rec.posted_at.isoformat() if rec.posted_at else None,
        "location": rec.location, "images": list(rec.images), "extra": _dumps(dict(rec.extra)),
        "mentions": _dumps([[getattr(m, f) for f in _MENTION_FIELDS] for m in item.mentions]),
        "image_info": _dumps([asdict(i) for i in item.images]),
        "risk": item.risk,
        "reasons": None if item.reasons is None else _dumps(reasons_to_json(item.reasons)),
        "origin": origin,
    }


def processed_from_row(row: dict[str, Any]) -> ProcessedAd:
    """The ProcessedAd a row was made from (ValueError/KeyError on a row of another shape)."""
    posted = row["posted_at"]
    record = AdRecord(
        id=row["ad_id"], source=row["source"], title=row["title"] or "",
        body=row["body"] or "", url=row["url"],
        posted_at=datetime.fromisoformat(posted) if posted else None,
        location=row["location"], images=tuple(row["images"] or ()),
        extra=json.loads(row["extra"] or "{}"))
    mentions = [Mention(**dict(zip(_MENTION_FIELDS, m, strict=True)))
                for m in json.loads(row["mentions"] or "[]")]
    images = [ImageInfo(**{k: v for k, v in i.items() if k in _IMAGE_FIELDS})
              for i in json.loads(row["image_info"] or "[]")]
    reasons = row["reasons"]
    return ProcessedAd(record=record, mentions=mentions, images=images, risk=row["risk"],
                       reasons=None if reasons is None
                       else reasons_from_json(json.loads(reasons)))


def ads_schema() -> Any:
    import pyarrow as pa

    s, f = pa.string(), pa.float64()
    return pa.schema([("source", s), ("ad_id", s), ("url", s), ("title", s), ("body", s),
                      ("posted_at", s), ("location", s), ("images", pa.list_(s)),
                      ("extra", s), ("mentions", s), ("image_info", s), ("risk", f),
                      ("reasons", s), ("origin", s)],
                     metadata={"tracelight": f"ads/{FORMAT_VERSION}"})


def write_rows(path: str, rows: Sequence[dict[str, Any]], schema: Any) -> None:
    """Write rows as one Parquet file at `path` (a local path or an fsspec URL)."""
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(list(rows), schema=schema)
    with fsspec.open(path, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")


def read_rows(path: str, *, batch_size: int = 2000,
              expect: str | None = None) -> Iterator[dict[str, Any]]:
    """The rows of one Parquet file, streamed batch by batch."""
    import fsspec
    import pyarrow.parquet as pq

    with fsspec.open(path, "rb") as fh:
        try:
            pf = pq.ParquetFile(fh)
        except Exception as exc:
            raise InputError(f"{path}: not a Parquet file ({type(exc).__name__}: "
                             f"{' '.join(str(exc).split())[:120]})") from None
        if expect is not None:
            meta = pf.schema_arrow.metadata or {}
            got = meta.get(b"tracelight", b"").decode()
            if got.split("/")[0] != expect:
                raise InputError(f"{path}: not a tracelight {expect} file "
                                 f"(found {got or 'no tracelight marker'})")
        for batch in pf.iter_batches(batch_size=batch_size):
            yield from batch.to_pylist()


def read_processed(paths: Iterable[str]) -> Iterator[tuple[str, ProcessedAd]]:
    """(origin, ProcessedAd) for every row of these ads part files."""
    for path in paths:
        for row in read_rows(path, expect="ads"):
            try:
                yield row.get("origin") or path, processed_from_row(row)
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{path}: a row does not have the ads shape "
                                 f"({type(exc).__name__}: {exc})") from None
