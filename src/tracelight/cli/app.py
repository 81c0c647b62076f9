"""The root `tracelight` command group and the options every command shares.

Command modules (cli/*_cmd.py) attach themselves to `cli`; `cli.main` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from tracelight import __version__, settings

F = TypeVar("F", bound=Callable[..., Any])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="tracelight")
def cli() -> None:
    """tracelight: turn a firehose of ads into a short, explainable, prioritised list of
    possible victims and the networks behind them.

    Every score is a lead for human review, never a finding about a person.
    """


def db_option(func: F) -> F:
    """`--db URL`, defaulting to TRACELIGHT_DB or sqlite:///tracelight.db."""
    return click.option(
        "--db", "db_url", default=lambda: settings.get("db"), show_default="TRACELIGHT_DB or "
        + settings.SETTINGS["db"].default, metavar="URL", help=settings.SETTINGS["db"].help,
    )(func)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """`--format table|jsonl|csv` for commands that print records."""
    choices = choices or ("table", "jsonl", "csv")

    def deco(func: F) -> F:
        return click.option(
            "--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
            help="table for people; jsonl (one JSON object per line) or csv for pipelines.",
        )(func)

    return deco
