"""Entry point: run the root group (its commands load lazily) and render errors in one place."""

from __future__ import annotations

import sys

import click

from tracelight.cli.app import cli
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
    except BrokenPipeError:
        # `tracelight ads --format jsonl | head` closes the pipe early: not an error.
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
