"""Write docs/cli.md from the commands' own help (run after adding or changing a command)."""

from __future__ import annotations

from pathlib import Path

import click

from tracelight.cli.main import cli


def walk(group: click.Group, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out: list[tuple[list[str], click.Command]] = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        out.append(([*path, name], cmd))
        if isinstance(cmd, click.Group):
            out += walk(cmd, [*path, name])
    return out


def main() -> None:
    parts = ["# Command reference", "",
             "Generated from each command's `--help` by `tools/gen_cli_doc.py`.", ""]
    for path, cmd in walk(cli, []):
        name = " ".join(path)
        ctx = click.Context(cmd, info_name=f"tracelight {name}", terminal_width=100)
        parts += [f"## `tracelight {name}`", "", "```text", cmd.get_help(ctx).rstrip(), "```", ""]
    Path(__file__).resolve().parents[1].joinpath("docs", "cli.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main()
