"""Validate CyberTipline documents against NCMEC's schema (packaged in report/data/ncmec/).

The schema is loaded once per process (xmlschema, about a second). Validation never fetches
anything: the XSD has no imports, and xmlschema is told to resolve nothing remote.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).parent / "data" / "ncmec" / "cybertipline-report.xsd"
MAX_ERRORS = 20


@cache
def schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA_PATH), allow="sandbox", defuse="always")


def validate(xml: bytes) -> list[str]:
    """Problems with the document (empty: valid). Each names the element path."""
    import xmlschema

    s = schema()
    out: list[str] = []
    try:
        resource = xmlschema.XMLResource(xml.decode("utf-8"), allow="none", defuse="always")
        for err in s.iter_errors(resource):
            out.append(f"{err.path or '/'}: {err.reason or err.message}")
            if len(out) >= MAX_ERRORS:
                out.append("(more errors not shown)")
                break
    except (xmlschema.XMLSchemaException, xmlschema.XMLResourceError, ValueError,
            SyntaxError) as exc:
        out.append(f"not a readable XML document: {exc}")
    return out
