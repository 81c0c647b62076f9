"""Batch stages on a cluster engine (Apache Spark or Ray): an adapter over the core.

    shards (JSONL / Parquet, local or fsspec URLs)
      -> [distributed, one task per shard]  read + validate -> pipeline.Processor (extract,
         image hashing, score) -> ads Parquet part -> link featurisation (FeatureTable)
      -> [driver]  linker keys, FeatureTable.concat().canonical(), link.pipeline.link_table
      -> networks / hubs Parquet + the linker state, which `tracelight cluster load` bulk-loads

No stage logic lives here: every decision is made by the same pure functions the local
pipeline and `tracelight link` call (tracelight.pipeline, tracelight.link). This package only
moves records between them (docs/scale.md says exactly what runs where).
"""

from tracelight.engine.job import ENGINES, JobSummary, run_job

__all__ = ["ENGINES", "JobSummary", "run_job"]
