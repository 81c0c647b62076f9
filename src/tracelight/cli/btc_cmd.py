"""`tracelight btc generate|ingest|ingest-payments|attribute|match`: who paid for the ads, in
Bitcoin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import emit, stderr
from tracelight.errors import UsageError

MATCH_COLUMNS = ["ad_id", "owner", "txid", "delay_s", "amount_btc", "amount_usd", "price_usd",
                 "diff_usd", "candidates", "confidence"]
SPEND_COLUMNS = ["owner", "ads", "usd", "btc", "first", "last"]


@cli.group()
def btc() -> None:
    """Bitcoin ad-payment tracing: match ads to payments into the ad site's wallet, group
    paying addresses into owners (common-input heuristic), and total what each owner spent.

    An attribution is a lead for review: a payment that matches an ad's time and price.
    """


@btc.command("generate")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--authors", "n_authors", type=click.IntRange(1, 100_000), default=200,
              show_default=True, help="Recurring ad buyers (plus as many one-ad buyers).")
@click.option("--days", type=click.FloatRange(0.01, 365), default=7.0, show_default=True)
@click.option("--noise", "noise", type=click.FloatRange(0, 1000), default=20.0,
              show_default=True, help="Unrelated payments into the wallet per minute.")
@click.option("--seed", type=int, default=7, show_default=True)
@format_option("table", "jsonl")
def btc_generate(out: Path, n_authors: int, days: float, noise: float, seed: int,
                 fmt: str) -> None:
    """Write a synthetic ad site: OUT/ads.jsonl (with price_tier), payments.jsonl, rates.json,
    prices.json, wallets.txt and truth.json. Addresses are fake (bc1qdemo...)."""
    from tracelight.demo.payments import write_btc_demo

    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    with stderr.status("generating payments"):
        res = write_btc_demo(out, n_authors=n_authors, seed=seed, days=days,
                             noise_per_minute=noise)
    row = res.to_dict()
    emit([row], fmt, list(row))


@btc.command("ingest")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--mempool", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mempool first-seen times: JSON Lines {txid, first_seen}.")
@db_option
@format_option("table", "jsonl")
def btc_ingest(files: tuple[Path, ...], mempool: Path | None, db_url: str, fmt: str) -> None:
    """Store transactions from Bitcoin Core's JSON: `getblock <hash> 2` (or 3) blocks and
    `getrawtransaction <txid> true` transactions, as one JSON value or JSON Lines per FILE
    (- reads stdin).

    Input addresses come from `prevout` (verbosity 3) or from outputs read earlier in the same
    run; a transaction's time is its mempool first-seen time when --mempool has it, else its
    block time. A malformed object stops the import with its file and field; nothing is
    written.
    """
    import sys

    from tracelight.services.btc import ingest_core, read_core_files

    texts = [("stdin", sys.stdin.read()) if str(f) == "-" else read_core_files([f])[0]
             for f in files]
    with store_from(db_url, create=True) as store, stderr.status("storing transactions"):
        res = ingest_core(store, texts, mempool)
    row = res.to_dict()
    emit([row], fmt, list(row))


@btc.command("ingest-payments")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@format_option("table", "jsonl")
def btc_ingest_payments(file: Path, db_url: str, fmt: str) -> None:
    """Store the transactions in FILE (JSON Lines: txid, time, inputs, outputs[address, btc]).

    A malformed line stops the import with its line number and field; nothing is written.
    """
    from tracelight.services.btc import ingest_payments

    with store_from(db_url, create=True) as store, stderr.status("storing transactions"):
        res = ingest_payments(store, file)
    row = res.to_dict()
    emit([row], fmt, list(row))


def _match_options(f: Callable[..., None]) -> Callable[..., None]:
    opts = [
        click.option("--wallet", "wallet", multiple=True, metavar="ADDR",
                     help="An address of the ad site's wallet (repeatable)."),
        click.option("--wallets", "wallet_file",
                     type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="A file of wallet addresses, one a line."),
        click.option("--prices", "prices", type=click.Path(dir_okay=False, path_type=Path),
                     required=True, help="The site's price list: JSON {tier: USD}."),
        click.option("--rates", "rates", type=click.Path(dir_okay=False, path_type=Path),
                     required=True, help="BTC/USD rates: JSON [{time, usd_per_btc}]."),
        click.option("--truth", type=click.Path(dir_okay=False, path_type=Path),
                     default=None, help="Synthetic truth (btc generate's truth.json): "
                     "print precision/recall."),
        click.option("--window", "window", type=float, default=10.0, show_default=True,
                     help="Minutes before an ad's posting a payment may fall."),
        click.option("--tolerance", type=float, default=0.0005, show_default=True,
                     help="Relative difference allowed between price and payment at the "
                     "quote rate."),
        click.option("--change-heuristic", "change", is_flag=True,
                     help="Also join change addresses to their spender (off by default: it "
                     "can join unrelated payees; docs/authorship.md)."),
        click.option("--show", type=click.Choice(["owners", "matches", "score"]),
                     default="owners", show_default=True),
        click.option("--limit", type=click.IntRange(1), default=50, show_default=True),
        db_option,
        format_option(),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _run_match(wallet: tuple[str, ...], wallet_file: Path | None, prices: Path, rates: Path,
               truth: Path | None, window: float, tolerance: float, change: bool, show: str,
               limit: int, db_url: str, fmt: str, save: bool) -> None:
    from tracelight.services.btc import attribute_stored, read_wallets

    wallets = read_wallets(wallet, wallet_file)
    with store_from(db_url) as store, stderr.status("matching payments to ads"):
        res = attribute_stored(store, wallets=wallets, prices_path=prices, rates_path=rates,
                               truth_path=truth, window_min=window, tolerance=tolerance,
                               save=save, change_heuristic=change)
    if res.stored is not None:
        stderr.print(f"stored {res.stored} attributions ({res.written} by an address written "
                     "in the ad); run `tracelight link` to bring networks up to date")
    if show == "score":
        rows = [{"metric": "ads_priced", "value": res.postings},
                {"metric": "transactions", "value": res.transactions},
                {"metric": "owners", "value": res.owners},
                {"metric": "matched", "value": len(res.matches)},
                {"metric": "seconds", "value": round(res.seconds, 2)}]
        if res.score is not None:
            rows += [{"metric": k, "value": round(v, 4) if isinstance(v, float) else v}
                     for k, v in ((f, getattr(res.score, f)) for f in res.score.__slots__)]
        emit(rows, fmt, ["metric", "value"])
    elif show == "matches":
        emit([m.to_dict() for m in res.matches[:limit]], fmt, MATCH_COLUMNS)
    else:
        emit(res.spend[:limit], fmt, SPEND_COLUMNS)


@btc.command("attribute")
@_match_options
def btc_attribute(wallet: tuple[str, ...], wallet_file: Path | None, prices: Path, rates: Path,
                  truth: Path | None, window: float, tolerance: float, change: bool, show: str,
                  limit: int, db_url: str, fmt: str) -> None:
    """Attribute stored ads (posted_at, extra price_tier) to the owners who paid for them:
    owners' total spend, each match (time delta, amount difference, candidates), or the score
    against a truth file. Stores nothing (`btc match` does)."""
    _run_match(wallet, wallet_file, prices, rates, truth, window, tolerance, change, show,
               limit, db_url, fmt, save=False)


@btc.command("match")
@_match_options
def btc_match(wallet: tuple[str, ...], wallet_file: Path | None, prices: Path, rates: Path,
              truth: Path | None, window: float, tolerance: float, change: bool, show: str,
              limit: int, db_url: str, fmt: str) -> None:
    """As `btc attribute`, and store the attributions (time delta, amount difference,
    confidence) and the owners' addresses; ads that name an owner's address join it too.

    A specific owner (few candidate payments, a small address cluster) is medium evidence:
    `tracelight link` joins its ads into one network; a weak one is shown, never linked.
    """
    _run_match(wallet, wallet_file, prices, rates, truth, window, tolerance, change, show,
               limit, db_url, fmt, save=True)
