"""Authorship linking and Bitcoin ad-payment tracing (after Portnoff et al., KDD 2017).

Pure core: no store, web, CLI or service imports. `features` (stylometry with contacts
masked), `model` (pair classifier, LSH candidates, TPR at a fixed FPR), `evaluate`
(train/evaluate on held-out authors), `bitcoin` (payments matched to ads, owners by the
common-input heuristic). See docs/authorship.md.
"""
