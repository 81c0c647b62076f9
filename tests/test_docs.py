"""The docs stay honest: every command and every setting is documented."""

from __future__ import annotations

from pathlib import Path

import click

from tracelight import settings
from tracelight.cli.main import cli

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = Path(__file__).resolve().parents[1] / "README.md"


def _all_commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # commands load lazily: ask the group, not .commands
        cmd = group.get_command(ctx, name)
        assert cmd is not None, f"{prefix}{name} is listed but cannot be loaded"
        full = f"{prefix}{name}"
        out.append(full)
        # an alias group (`author` for `authorship`) is documented once, its commands under
        # the group it stands for, as tools/gen_cli_doc.py writes them
        if isinstance(cmd, click.Group) and not getattr(cmd, "alias_of", None):
            out += _all_commands(cmd, full + " ")
    return out


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    for s in settings.SETTINGS.values():
        assert f"`{s.env}`" in text, f"{s.env} missing from docs/configuration.md"


def test_every_command_is_documented_and_has_help() -> None:
    text = (DOCS / "cli.md").read_text()
    for name in _all_commands(cli):
        assert f"`tracelight {name}`" in text, f"`tracelight {name}` missing from docs/cli.md"
        cmd: click.Command | None = cli
        for part in name.split():
            assert isinstance(cmd, click.Group)
            cmd = cmd.get_command(click.Context(cmd), part)
        assert cmd is not None
        assert cmd.help, f"tracelight {name} has no help text"


def test_readme_opens_with_the_two_setup_commands() -> None:
    text = README.read_text()
    first_block = text.split("```", 2)[1]
    lines = [ln for ln in first_block.splitlines()[1:] if ln.strip()]
    assert lines == ["make demo", "make test"]
