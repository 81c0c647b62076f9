"""The layering rule, enforced by reading every module's imports (AST, lazy imports included).

    shells (cli, web, bench)  ->  services  ->  core (extract, score, link, images)
                 |                   |               ^
                 +----> engine ------+---------------+   (adapter: Spark/Ray over the core)
                                     v
                                   store

- The core is pure: it never imports the store, the shells or the services.
- The store only stores: it never imports the services, the shells or the core's stages.
- Only the shells (and the services themselves) import the services.
- The engine (tracelight.engine: Spark/Ray) is an adapter over the core: it runs the core's
  and the pipeline's functions on a cluster and never imports the store, the services or the
  shells; nothing in the core or the store imports it.

See docs/architecture.md.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracelight

ROOT = Path(tracelight.__file__).parent
CORE = ("extract", "score", "link", "images", "report", "finance", "outreach", "collect",
        "authorship", "rooms")
SHELLS = ("cli", "web", "bench")
ENGINE = "engine"
STORE_MAY_NOT = ("services", "cli", "web", "bench", "demo", "ingest", "pipeline", ENGINE, *CORE)
CORE_MAY_NOT = ("store", "services", "cli", "web", "bench", ENGINE)
ENGINE_MAY_NOT = ("store", "services", "cli", "web", "bench", "demo")
MAY_IMPORT_SERVICES = (*SHELLS, "services")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    return _imports_in(path.read_text(encoding="utf-8"), _module_name(path),
                       is_package=path.name == "__init__.py")


def _imports_in(text: str, module: str, *, is_package: bool = False,
                ) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `text`, wherever it is written
    (functions included), relative imports resolved against `module`."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:  # `from tracelight import store` imports a package
                yield node.lineno, f"{name}.{alias.name}"


def _area(module: str) -> str | None:
    """The top-level area of a tracelight module ("store", "cli", ...), None if not ours."""
    parts = module.split(".")
    if parts[0] != "tracelight" or len(parts) < 2:
        return None
    return parts[1]


def _edges() -> list[tuple[str, int, str, str]]:
    """(file, line, importing area, imported area) for every import between our areas."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        src = _area(_module_name(path))
        if src is None:
            continue
        for line, module in _imports(path):
            dst = _area(module)
            if dst is not None and dst != src:
                out.append((str(path.relative_to(ROOT.parent)), line, src, dst))
    return out


EDGES = _edges()


def _violations(rule: str) -> list[str]:
    bad = []
    for file, line, src, dst in EDGES:
        if rule == "core" and src in CORE and dst in CORE_MAY_NOT:
            bad.append(f"{file}:{line}: the core ({src}) imports {dst}")
        elif rule == "store" and src == "store" and dst in STORE_MAY_NOT:
            bad.append(f"{file}:{line}: the store imports {dst}")
        elif rule == "engine" and src == ENGINE and dst in ENGINE_MAY_NOT:
            bad.append(f"{file}:{line}: the engine imports {dst}")
        elif rule == "services" and dst == "services" and src not in MAY_IMPORT_SERVICES:
            bad.append(f"{file}:{line}: {src} imports the services (only "
                       f"{', '.join(SHELLS)} may)")
    return sorted(set(bad))


@pytest.mark.parametrize("rule", ["core", "store", "services", "engine"])
def test_layering_rule(rule: str) -> None:
    bad = _violations(rule)
    assert not bad, "layering rule broken (see docs/architecture.md):\n" + "\n".join(bad)


def test_the_scan_sees_the_layers() -> None:
    """Guard against a scan that finds nothing and so passes everything."""
    seen = {(src, dst) for _f, _l, src, dst in EDGES}
    assert {("cli", "services"), ("web", "services"), ("services", "store"),
            ("services", "link"), ("services", "score"), ("cli", "store"),
            ("engine", "link"), ("engine", "pipeline"), ("services", "engine")} <= seen


# Known exceptions, each with the change that removes it. The list may only shrink.
SQL_OUTSIDE_STORE_KNOWN = {
    "tracelight/bench/ingest.py",  # scratch PostgreSQL databases: the benchmarks' own package
}


def _sql_outside_store() -> dict[str, list[int]]:
    """Files outside tracelight.store that import sqlalchemy or open a store connection."""
    out: dict[str, list[int]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = str(path.relative_to(ROOT.parent))
        if _area(_module_name(path)) == "store":
            continue
        lines = [line for line, module in _imports(path)
                 if module.split(".")[0] == "sqlalchemy"]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("connect", "transaction")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("store", "self.store", "admin")):
                lines.append(node.lineno)
        if lines:
            out[rel] = sorted(set(lines))
    return out


def test_only_the_store_writes_sql() -> None:
    """No SQL and no raw store connection outside tracelight.store (known exceptions aside,
    and that list may only shrink)."""
    found = _sql_outside_store()
    new = {f: lines for f, lines in found.items() if f not in SQL_OUTSIDE_STORE_KNOWN}
    assert not new, f"SQL outside the store: {new}"


def test_relative_and_lazy_imports_are_seen() -> None:
    text = ("def f():\n    from ..services import queue\n    import tracelight.web\n"
            "from . import schema\n")
    found = {m for _l, m in _imports_in(text, "tracelight.store.x")}
    assert {"tracelight.services", "tracelight.web", "tracelight.store.schema"} <= found
    assert {_area(m) for m in found} >= {"services", "web", "store"}
