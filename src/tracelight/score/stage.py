"""The pipeline stage: a first risk for each ad as it is ingested.

At ingest time there are no corpus statistics yet (local price medians, shared phones,
movement), so this is the text-and-mentions part of the score with default weights;
`tracelight rescore` adds the corpus indicators and a trained model when there is one.
"""

from __future__ import annotations

from pathlib import Path

from tracelight.records import ProcessedAd
from tracelight.score.scorer import score_ad


def score_stage(item: ProcessedAd, base_dir: Path) -> None:
    """Set `item.risk` and `item.reasons` (signature of tracelight.pipeline.Stage)."""
    result = score_ad(item.record, item.mentions)
    item.risk = result.risk
    item.reasons = result.reasons
