"""Use cases: each module coordinates stages (extract, score, link, images) over the store.

One module per use case (ingest, link, similar, networks, queue, search, rescore, banks,
image search, watchlists). Each takes a `tracelight.store.Store` and returns typed records.
The CLI and the web app are thin shells over these modules: they parse input, call a
service, render the result. Only the shells (tracelight.cli, tracelight.web) import this
package; see docs/architecture.md and tests/test_architecture.py.
"""
