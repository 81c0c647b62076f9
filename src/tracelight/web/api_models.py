"""What the JSON API's main answers hold, as pydantic models for its OpenAPI schema, and the
schema flattened into field tables for the /api/docs page.

The models document; they do not filter (routes return the view dicts, attached with
`responses={200: {"model": ...}}`), so a field added to a view is never silently dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AdSummary(BaseModel):
    id: str = Field(description="the ad's id in its source")
    pk: int = Field(description="tracelight's own number for the ad (used in page URLs)")
    source: str = Field(description="where the ad came from")
    title: str = Field(description="its title, or the start of its text")
    url: str | None = Field(None, description="its original address (never opened)")
    posted_at: str | None = Field(None, description="when it was posted (ISO 8601)")
    location: str | None = Field(None, description="the place it gives")
    category: str | None = Field(None, description="extra.category, when the source has one")
    risk: float | None = Field(None, description="risk score 0-1: a lead, not a finding")
    top_reasons: list[str] = Field(description="labels of its strongest reasons")


class SearchOut(BaseModel):
    total: int = Field(description="ads found (text search stops counting at 2,001)")
    results: list[AdSummary]
    kind: str = Field(description="what was searched: q, phone, email, handle, ...")
    query: str = Field(description="the query as given")
    looked_for: list[str] = Field(description="the normalised values searched")
    order: str = Field(description="how results are ordered, in words")


class NetworkSummary(BaseModel):
    id: str = Field(description="the network's id (stable between link runs)")
    label: str = Field(description="a readable name: places, size, shared contact")
    risk: float = Field(description="the network's risk (score_network over its ads)")
    size: int = Field(description="member ads")
    reasons: list[dict[str, Any]] = Field(description="reasons behind the risk, each with "
                                          "code, label, weight, description")
    cities: int = Field(description="how many places its ads give")
    places: list[str] = Field(description="those places, in the order they first appeared")
    first_seen: str | None = Field(None, description="first posting (ISO 8601)")
    last_seen: str | None = Field(None, description="last posting (ISO 8601)")
    evidence: list[dict[str, Any]] = Field(description="what links its ads: kind, value, "
                                           "strength, ad_ids")


class QueueOut(BaseModel):
    total: int = Field(description="ads matching the filters (stops counting at 1,001)")
    scored: bool = Field(description="false while no ad is scored (then newest first)")
    results: list[AdSummary]
    networks: list[NetworkSummary] | None = Field(
        None, description="the riskiest networks; null before the linker has run")


class NetworksOut(BaseModel):
    built: bool = Field(description="false until the linker has built networks")
    total: int = Field(description="networks in all")
    sort: str | None = Field(None, description="risk, size or recent")
    order: str | None = Field(None, description="the order in words")
    first: int | None = Field(None, description="position of the first result (1-based)")
    last: int | None = Field(None, description="position of the last result")
    offset: int | None = None
    limit: int | None = None
    results: list[NetworkSummary]


class Added(BaseModel):
    added: bool = Field(description="false when it was already there")


class Ok(BaseModel):
    ok: bool


# ---- the schema as tables for /api/docs ------------------------------------------------------

def _type(schema: dict[str, Any]) -> str:
    """A schema's type in words: "string", "list of AdSummary", "integer or null"."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(dict.fromkeys(_type(s) for s in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "array":
        return "list of " + _type(schema.get("items") or {})
    if kind == "object" and "additionalProperties" in schema and not schema.get("properties"):
        return "object"
    return str(kind or "any")


def _ref_name(schema: dict[str, Any] | None) -> str | None:
    ref = (schema or {}).get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else None


def fields(components: dict[str, Any], name: str | None) -> list[dict[str, Any]]:
    """The fields of the component schema `name`: name, type, required, description."""
    schema = components.get(name or "") or {}
    required = set(schema.get("required") or [])
    out = []
    for field_name, prop in (schema.get("properties") or {}).items():
        limits = [f"{k.replace('Length', ' length')} {prop[k]}" for k in
                  ("minLength", "maxLength", "minimum", "maximum") if k in prop]
        out.append({"name": field_name, "type": _type(prop), "required": field_name in required,
                    "description": prop.get("description") or "",
                    "default": prop.get("default"), "limits": ", ".join(limits)})
    return out


def describe(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document as the docs page lists it: every endpoint with its parameters,
    body fields and answer fields, and every model those mention."""
    components = (openapi.get("components") or {}).get("schemas") or {}
    endpoints = []
    for path, ops in (openapi.get("paths") or {}).items():
        for method, op in ops.items():
            body = (((op.get("requestBody") or {}).get("content") or {})
                    .get("application/json") or {}).get("schema")
            ok: dict[str, Any] = next((r for code, r in (op.get("responses") or {}).items()
                       if str(code).startswith("2")), {})
            answer = ((ok.get("content") or {}).get("application/json") or {}).get("schema")
            endpoints.append({
                "method": method, "path": path, "summary": op.get("summary") or "",
                "description": op.get("description") or "",
                "parameters": [{"name": p.get("name"), "in": p.get("in"),
                                "type": _type(p.get("schema") or {}),
                                "required": bool(p.get("required")),
                                "default": (p.get("schema") or {}).get("default"),
                                "description": p.get("description") or ""}
                               for p in op.get("parameters") or []],
                "body": _ref_name(body), "body_fields": fields(components, _ref_name(body)),
                "answer": _ref_name(answer),
                "answer_fields": fields(components, _ref_name(answer)),
                "answer_type": ("zip or text file" if answer is None and ok.get("content")
                                is None else _type(answer or {}))})
    wanted = {e["body"] for e in endpoints} | {e["answer"] for e in endpoints}
    for name in list(wanted):  # models a listed model refers to (AdSummary in SearchOut)
        for f in fields(components, name):
            for word in f["type"].replace("list of ", "").split(" or "):
                if word in components:
                    wanted.add(word)
    models = {name: fields(components, name) for name in sorted(n for n in wanted if n)
              if name in components and not name.endswith("Error")}
    return {"endpoints": endpoints, "models": models}
