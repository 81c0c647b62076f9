"""Synthetic, non-explicit demo corpus with ground truth (see docs/demo.md).

    from tracelight.demo import generate
    summary = generate(Path("demo"), n_ads=3000, seed=7)
"""

from tracelight.demo.generator import DemoSummary, generate
from tracelight.demo.truth import identifier_linking, load_truth, networks, pairwise_scores

__all__ = ["DemoSummary", "generate", "identifier_linking", "load_truth", "networks",
           "pairwise_scores"]
