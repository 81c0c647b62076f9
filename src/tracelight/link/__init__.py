"""Linking ads into networks: pure functions over plain records (no database, no CLI).

Entry point: `link_batch(ads, state=...)`. See docs/networks.md.
"""

from tracelight.link.cluster import Network
from tracelight.link.evidence import Evidence, compare
from tracelight.link.features import FeatureTable, LinkAd
from tracelight.link.hubs import Hub
from tracelight.link.metrics import PairScores, pairwise_scores
from tracelight.link.pipeline import LinkConfig, LinkResult, LinkState, link_batch

__all__ = ["Evidence", "FeatureTable", "Hub", "LinkAd", "LinkConfig", "LinkResult",
           "LinkState", "Network", "PairScores", "compare", "link_batch", "pairwise_scores"]
