"""Entry point: run the root group (its commands load lazily) and render errors in one place."""

from __future__ import annotations

import os
import sys

import click

from tracelight.cli.app import ClosedPipe, cli
from tracelight.errors import TracelightError

__all__ = ["cli", "main"]


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
    except (BrokenPipeError, ClosedPipe):
        # `tracelight ads --format jsonl | head` closes the pipe early: not an error.
        _pipe_closed()
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


def _pipe_closed() -> None:
    """Exit 0 without a word when the reader of stdout has gone (data left unflushed would
    raise again at shutdown: send it to /dev/null)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(0)
