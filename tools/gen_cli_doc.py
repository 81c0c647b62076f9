"""Write docs/cli.md from the commands' own help (run after adding or changing a command).

`python tools/gen_cli_doc.py --check` writes nothing and fails when docs/cli.md is out of date
(`make lint` runs it).
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from tracelight.cli.main import cli

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def walk(group: click.Group, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out: list[tuple[list[str], click.Command]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None:
            continue
        out.append(([*path, name], cmd))
        if isinstance(cmd, click.Group) and not getattr(cmd, "alias_of", None):
            out += walk(cmd, [*path, name])
    return out


def render() -> str:
    parts = ["# Command reference", "",
             "Generated from each command's `--help` by `tools/gen_cli_doc.py`.", ""]
    for path, cmd in walk(cli, []):
        name = " ".join(path)
        ctx = click.Context(cmd, info_name=f"tracelight {name}", terminal_width=100)
        parts += [f"## `tracelight {name}`", "", "```text", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        old = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if old == text:
            return 0
        sys.stderr.writelines(difflib.unified_diff(
            old.splitlines(keepends=True), text.splitlines(keepends=True),
            "docs/cli.md", "docs/cli.md (from the commands' help)"))
        print("docs/cli.md is out of date: run `python tools/gen_cli_doc.py`", file=sys.stderr)
        return 1
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
