"""Entity extraction: phones (de-obfuscated), emails, URLs, social and payment handles, crypto
addresses, ages, prices, places and names, each with a span into the original text.

Pure functions over records: no database, web or CLI imports. See docs/extraction.md. The
kinds are declared in tracelight/kinds.yaml; each is read by one registered `Extractor`
(extract/interface.py, extract/registry.py).
"""

from tracelight.extract.core import KINDS, Extraction, extract_record, extract_text
from tracelight.extract.interface import Context, Extractor
from tracelight.extract.registry import EXTRACTORS

__all__ = ["EXTRACTORS", "KINDS", "Context", "Extraction", "Extractor", "extract_record",
           "extract_text"]
