"""The investigator workspace: FastAPI app, pages (Jinja2 + htmx), JSON API, accounts.

`create_app(store)` builds the app; `create_demo_admin(store)` makes an admin with a one-time
password for `tracelight demo`; `check_watchlists(store, ad_pks)` is what ingest calls to raise
watchlist notifications for newly stored ads.
"""

from tracelight.store.cases import check_watchlists
from tracelight.web.auth import create_demo_admin


def create_app(*args, **kwargs):
    """See tracelight.web.app.create_app (imported lazily: FastAPI loads in ~0.3 s)."""
    from tracelight.web.app import create_app as _create_app
    return _create_app(*args, **kwargs)


__all__ = ["check_watchlists", "create_app", "create_demo_admin"]
