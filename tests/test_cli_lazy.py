"""The root command loads its subcommands lazily: the declared table must match the real ones,
and `--help` / `--version` must not import the heavy libraries."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import tracelight
import tracelight.cli
from tracelight.cli.app import COMMANDS
from tracelight.cli.main import cli

HEAVY = ("numpy", "faiss", "sklearn", "scipy", "sqlalchemy", "alembic", "PIL", "fastapi",
         "phonenumbers", "datasketch", "rich.progress", "tracelight.store", "tracelight.bench")


def test_the_table_names_every_command_of_every_module() -> None:
    every = cli.load_all()
    assert set(every) == set(COMMANDS)
    for name, cmd in every.items():
        module, _help = COMMANDS[name]
        assert cmd.callback is not None
        assert cmd.callback.__module__ == f"tracelight.cli.{module}", name


def test_every_command_module_is_in_the_table() -> None:
    modules = {m.name for m in pkgutil.iter_modules(tracelight.cli.__path__)
               if m.name.endswith("_cmd")}
    assert modules == {module for module, _ in COMMANDS.values()}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_declared_help_gives_the_real_short_help(name: str) -> None:
    real = cli.load_all()[name]
    stub = click.Command(name, help=COMMANDS[name][1])
    for limit in range(10, 200, 7):
        assert stub.get_short_help_str(limit) == real.get_short_help_str(limit), (name, limit)


def _root_help(*, load_all: bool) -> str:
    code = ("import sys; from tracelight.cli.main import cli, main\n"
            f"if {load_all}:\n    cli.load_all()\n"
            "main(['--help'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, check=True)
    return done.stdout


def test_root_help_is_the_same_loaded_or_not() -> None:
    lazy = _root_help(load_all=False)
    assert "Commands:" in lazy and all(f"  {name} " in lazy for name in COMMANDS)
    assert _root_help(load_all=True) == lazy


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_heavy_library(args: list[str]) -> None:
    code = ("import sys; from tracelight.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r}]\n"
            "print('HEAVY', bad, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=True)
    assert "HEAVY []" in done.stderr
    if args == ["--version"]:
        assert done.stdout.strip() == f"tracelight, version {tracelight.__version__}"


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output
