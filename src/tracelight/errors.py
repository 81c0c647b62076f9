"""One error hierarchy. Each class knows its CLI exit code and HTTP status.

The CLI and the web app render these in one place each (`cli.main`, `web.app`), so a user's
own mistake shows as one clear line, never a traceback.
"""

from __future__ import annotations


class TracelightError(Exception):
    """Base class: an error whose message is meant for the user."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(TracelightError):
    """The user asked for something that cannot be done as asked (bad option, bad value)."""

    exit_code = 2
    http_status = 400


class TooLargeError(TracelightError):
    """A request body or upload over its size limit (HTTP 413)."""

    exit_code = 2
    http_status = 413


class BusyError(TracelightError):
    """The server is busy with the same kind of work; retry later (HTTP 503)."""

    exit_code = 5
    http_status = 503


class InputError(TracelightError):
    """An input file or path cannot be read at all (missing, unreadable, unknown format)."""

    exit_code = 3
    http_status = 400


class RecordError(TracelightError):
    """One input record is malformed. Ingest writes these to the rejects file and goes on."""

    exit_code = 3
    http_status = 422

    def __init__(self, message: str, *, origin: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.origin = origin  # "file:line" or "file#record" where the record came from


class NotFoundError(TracelightError):
    exit_code = 4
    http_status = 404


class StoreError(TracelightError):
    """The database cannot be opened, is locked, unreachable, or at an unknown schema version."""

    exit_code = 5
    http_status = 503


class AuthError(TracelightError):
    exit_code = 6
    http_status = 401


class ForbiddenError(TracelightError):
    exit_code = 6
    http_status = 403


class ConfigError(TracelightError):
    """A configuration or data file (indicator catalogue, settings) is invalid."""

    exit_code = 7
    http_status = 500


class TamperError(TracelightError):
    """Stored evidence fails its integrity check (the audit log's hash chain is broken, or the
    triggers that keep it append-only are gone)."""

    exit_code = 8
    http_status = 500
