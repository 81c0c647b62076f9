"""Entry point: attach every command module and render errors in one place."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

import tracelight.cli
from tracelight.cli.app import cli
from tracelight.errors import TracelightError


def _load_commands() -> None:
    """Import every `cli/*_cmd.py`; each attaches its commands to `cli` (no list to edit)."""
    for info in sorted(pkgutil.iter_modules(tracelight.cli.__path__), key=lambda m: m.name):
        if info.name.endswith("_cmd"):
            importlib.import_module(f"tracelight.cli.{info.name}")


_load_commands()


def main(argv: list[str] | None = None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="tracelight", standalone_mode=False)
    except TracelightError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        # `tracelight ads --format jsonl | head` closes the pipe early: not an error.
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
