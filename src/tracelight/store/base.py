"""What every repository of the store shares: the engine, and connections that turn database
failures into one clear StoreError. Connections never leave the store package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from tracelight.store import db


class StoreBase:
    """The engine and its connections; repositories (AdTables, NetworkTables...) build on it."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def safe_url(self) -> str:
        return db.safe_url(self.url)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read connection; database failures become one clear StoreError.

        For the store's own repositories (and store/accounts.py, store/cases.py): code outside
        tracelight.store calls repository methods instead.
        """
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            raise db.translate_db_error(exc, self.url) from None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: all of it is stored, or none of it."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            raise db.translate_db_error(exc, self.url) from None

    def close(self) -> None:
        self.engine.dispose()
