"""The store: one narrow interface over SQLite (embedded default) and PostgreSQL (team server).

Rows become dataclasses at this boundary. No other package writes SQL.
"""

from __future__ import annotations

from tracelight.store import db
from tracelight.store.ads import AdFilter, AdTables, BatchResult, StoredAd
from tracelight.store.authorship import AuthorshipTables
from tracelight.store.crawl import CrawlTables
from tracelight.store.finance import FinanceTables
from tracelight.store.image_banks import BankTables
from tracelight.store.interfaces import StoreInterface
from tracelight.store.networks import NetworkTables
from tracelight.store.reviews import DigestTables, ReviewTables
from tracelight.store.rooms import RoomTables
from tracelight.store.search import SearchTables
from tracelight.store.workspace import WorkspaceTables

__all__ = ["AdFilter", "BatchResult", "Store", "StoredAd", "open_store"]


class Store(AdTables, SearchTables, NetworkTables, BankTables, WorkspaceTables,
            FinanceTables, CrawlTables, AuthorshipTables, ReviewTables, DigestTables,
            RoomTables):
    """All reads and writes tracelight makes. Open with `open_store(url)`.

    One store type made of repositories, each behind a small Protocol in
    tracelight.store.interfaces: ads, mentions and ingest runs (store/ads.py), full-text
    search (store/search.py),
    networks (store/networks.py), hash banks (store/image_banks.py) and the queue and
    workspace queries (store/workspace.py), bank accounts, transactions, alerts and
    account <-> ad links (store/finance.py), crawl state (store/crawl.py), same-author links
    and Bitcoin transactions (store/authorship.py), review states and verdict labels
    (store/reviews.py), the room gallery (store/rooms.py), all over one engine (store/base.py).
    """


def _implements(store: Store) -> StoreInterface:
    return store  # mypy checks here that Store implements every repository Protocol


def open_store(url: str, *, migrate: bool = True, must_exist: bool = False) -> Store:
    """Open (and, by default, create or upgrade) the database at `url`.

    must_exist: for commands that only read. A SQLite file that is not there (or is empty)
    is then an error naming the path, instead of a new empty database.
    """
    if must_exist:
        db.require_existing(url)
    engine = db.make_engine(url)
    if migrate:
        db.migrate(engine, url)
    return Store(engine, url)
