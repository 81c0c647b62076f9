"""Write docs/configuration.md from the declared settings (run after adding a setting)."""

from __future__ import annotations

from pathlib import Path

from tracelight import settings

HEAD = """# Configuration

Every setting is declared once (`src/tracelight/settings.py`) with its default and help. Each can
be set with an environment variable `TRACELIGHT_<NAME>`; commands that use one also take an
option that overrides it (`--db`, `--region`, `--host`, ...). `tracelight settings` prints the
values in force and where each comes from.

| setting | environment variable | default | meaning |
|---|---|---|---|
"""
TAIL = """
No secret is ever stored in the repository: the web session key, when not given, is
generated on first use and kept in the database.
"""


def main() -> None:
    rows = "".join(f"| `{s.name}` | `{s.env}` | `{s.default}` | {s.help} |\n"
                   for s in settings.SETTINGS.values())
    out = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    out.write_text(HEAD + rows + TAIL)


if __name__ == "__main__":
    main()
