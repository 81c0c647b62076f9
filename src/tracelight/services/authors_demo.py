"""Use case: the demo's authors and blockchain (`tracelight demo`).

Next to the main corpus, `tracelight demo` writes OUT/btc/: ads by recurring authors who rotate
their phones and keep their habits (tracelight.demo.authors), a synthetic ad site's wallet
with the payments that bought those ads among unrelated ones, rates, a price list and the
truth (tracelight.demo.payments). `load` ingests the ads and payments, scores same-author
pairs among those ads with the shipped model (trained on synthetic authors, threshold for
<= 1% FPR) and stores the Bitcoin attributions, so the next `link` shows `author` and
`wallet_owner` evidence in networks and `similar`.

Only the authors' ads are scored: the main corpus is written from a few shared templates,
which the model (trained on authors with habits) reads as one writer: scored over every
demo ad, author links cut the main corpus's pairwise precision from 1.00 to 0.90
(docs/authorship.md).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelight.errors import InputError
from tracelight.pipeline import PipelineOptions
from tracelight.store import Store

# the model `tracelight authorship train --authors 300 --seed 7` writes (TPR 0.925 at 1% FPR)
SHIPPED_MODEL = Path(__file__).resolve().parents[1] / "demo" / "data" / "authorship-model.json"
FOLDER = "btc"
SOURCE = "authors-demo"  # tracelight.demo.authors.AuthoredAd.to_record
MODEL = "authorship-model.json"


@dataclass(frozen=True, slots=True)
class AuthorsDemo:
    ads: int
    transactions: int
    author_links: int
    attributions: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"ads": self.ads, "transactions": self.transactions,
                "author_links": self.author_links, "attributions": self.attributions,
                "seconds": round(self.seconds, 2)}


def authors_for(n_ads: int) -> int:
    """Recurring authors (and as many one-ad authors) for a main corpus of n_ads: about one
    ad in ten of the demo is theirs, at least 10 authors, at most 200."""
    return min(max(n_ads // 40, 10), 200)


def write(out: Path, *, n_ads: int, seed: int) -> Path:
    """OUT/btc/ (ads.jsonl with price tiers, payments.jsonl, rates.json, prices.json,
    wallets.txt, truth.json) for a main corpus of n_ads; one day of payments, 2 unrelated
    payments a minute into the wallet."""
    from tracelight.demo.payments import write_btc_demo

    folder = out / FOLDER
    write_btc_demo(folder, n_authors=authors_for(n_ads), seed=seed, days=1.0,
                   noise_per_minute=2.0)
    return folder


def model_path(out: Path, *, seed: int = 7) -> Path:
    """OUT/authorship-model.json: a copy of the shipped model, or one trained here when the
    shipped one does not fit this tracelight's features (a few seconds more)."""
    from tracelight.services.authorship import load_model, train_model

    path = out / MODEL
    if path.is_file():
        try:
            load_model(path)
            return path
        except InputError:
            pass
    try:
        load_model(SHIPPED_MODEL)
        shutil.copyfile(SHIPPED_MODEL, path)
    except InputError:
        train_model(path, n_authors=300, seed=seed)
    return path


def load(store: Store, folder: Path, model: Path, *,
         options: PipelineOptions | None = None) -> AuthorsDemo:
    """Ingest OUT/btc's ads and payments, replace the stored author links (among those ads)
    and the stored Bitcoin attributions."""
    from tracelight.services.authorship import link_stored
    from tracelight.services.btc import attribute_stored, ingest_payments, read_wallets
    from tracelight.services.ingest import ingest

    t0 = time.perf_counter()
    summary = ingest(store, [str(folder / "ads.jsonl")], options=options)
    pays = ingest_payments(store, folder / "payments.jsonl")
    links = link_stored(store, model, source=SOURCE)
    att = attribute_stored(store, wallets=read_wallets((), folder / "wallets.txt"),
                           prices_path=folder / "prices.json",
                           rates_path=folder / "rates.json", save=True)
    return AuthorsDemo(summary.read, pays.read, links.links, att.stored or 0,
                       time.perf_counter() - t0)
