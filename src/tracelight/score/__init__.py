"""Risk scoring: which ads a person should read first, and why.

Pure functions over records and mentions (no database, web or CLI imports). A risk is a lead
for human review, never a finding about a person. See docs/risk.md.
"""

from tracelight.records import Reason
from tracelight.score.catalogue import Catalogue, Indicator, load_catalogue
from tracelight.score.features import AdFeatures, Evidence, Hit, NetworkInfo, extract_features
from tracelight.score.scorer import (
    RiskResult,
    ScoreContext,
    score_ad,
    score_batch,
    score_network,
)
from tracelight.score.stats import CorpusStats

__all__ = [
    "AdFeatures", "Catalogue", "CorpusStats", "Evidence", "Hit", "Indicator", "NetworkInfo",
    "Reason", "RiskResult", "ScoreContext", "extract_features", "load_catalogue", "score_ad",
    "score_batch", "score_network",
]
