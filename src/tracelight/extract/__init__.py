"""Entity extraction: phones (de-obfuscated), emails, URLs, social and payment handles, crypto
addresses, ages, prices, places and names, each with a span into the original text.

Pure functions over records: no database, web or CLI imports. See docs/extraction.md.
"""

from tracelight.extract.core import KINDS, Extraction, extract_record, extract_text

__all__ = ["KINDS", "Extraction", "extract_record", "extract_text"]
