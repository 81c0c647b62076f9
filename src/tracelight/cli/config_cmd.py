"""`tracelight settings`: every setting, its environment variable, default and current value."""

from __future__ import annotations

import os

from tracelight import settings
from tracelight.cli.app import cli, format_option
from tracelight.cli.output import emit
from tracelight.store.db import safe_url


@cli.command("settings")
@format_option()
def settings_cmd(fmt: str) -> None:
    """Show every setting with its environment variable, default and value now in force."""
    rows = []
    for s in settings.SETTINGS.values():
        value = settings.get(s.name)
        if s.name == "db":
            value = safe_url(value)
        if s.name == "secret_key" and value:
            value = "(set)"
        rows.append({"name": s.name, "env": s.env, "default": s.default, "value": value,
                     "from": "environment" if s.env in os.environ else "default",
                     "help": s.help})
    emit(rows, fmt, ["name", "env", "value", "from", "help"], widths={"help": 70})
