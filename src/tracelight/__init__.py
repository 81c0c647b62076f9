"""tracelight: find possible victims of sex trafficking in online ads, and the networks behind them.

Data flows one way: sources -> records -> extract -> score -> link -> store -> serve/export.
"""

__version__ = "0.1.0"
