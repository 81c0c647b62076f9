"""`tracelight signals export|import|hits`: share signals with partners (STIX 2.1 with
TLP 2.0 markings, followthemoney, HMA) and watch for theirs."""

from __future__ import annotations

from pathlib import Path

import click

from tracelight.cli.app import actor_option, cli, db_option, format_option
from tracelight.cli.common import store_from
from tracelight.cli.output import emit
from tracelight.report.signals import FORMATS, TLP_LEVELS

ACTOR_HELP = "Who is acting (and, on import, whose watches they become). [default: the OS user]"


@cli.group()
def signals() -> None:
    """Share signals (phones, emails, handles, URLs, image and ad-text hashes) with partners.

    TLP:RED signals never leave in an export. Imported signals become a watchlist: things to
    look out for, never facts about people.
    """


@signals.command("export")
@click.argument("case_id", type=int, required=False)
@click.option("--watchlist", default=None, help="Export this watchlist instead of a case.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="stix", show_default=True,
              help="stix: STIX 2.1 bundle; ftm: followthemoney JSON Lines; hma: "
                   "ThreatExchange/HMA signal file (pdq and url).")
@click.option("--tlp", type=click.Choice(TLP_LEVELS), default="amber", show_default=True,
              help="TLP 2.0 marking of a case's signals (a watchlist keeps each signal's own).")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@actor_option(ACTOR_HELP)
@db_option
def signals_export(case_id: int | None, watchlist: str | None, fmt: str, tlp: str, out: Path,
                   actor: str | None, db_url: str) -> None:
    """Write the signals of case CASE_ID (or of --watchlist) to --out."""
    from tracelight.errors import UsageError
    from tracelight.services import signals as service
    from tracelight.services.cases import actor_name

    if (case_id is None) == (watchlist is None):
        raise UsageError("give a CASE_ID or --watchlist NAME (one of them)")
    with store_from(db_url) as store:
        if watchlist is not None:
            res = service.export_watchlist(store, watchlist, actor_name(actor), fmt=fmt,
                                           out=out)
        else:
            assert case_id is not None
            res = service.export_case(store, case_id, actor_name(actor), fmt=fmt, tlp=tlp,
                                      out=out)
    click.echo(f"{res.sha256}  {res.path}")
    extra = f", {res.not_in_format} with no {fmt} type left out" if res.not_in_format else ""
    click.echo(f"{res.written} signal(s) written; {res.red_held_back} TLP:RED held back"
               f"{extra}", err=True)


@signals.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--watchlist", required=True, help="The watchlist they go into (made if new).")
@click.option("--format", "fmt", type=click.Choice(("auto", *FORMATS)), default="auto",
              show_default=True)
@click.option("--tlp", type=click.Choice(TLP_LEVELS), default="amber", show_default=True,
              help="TLP for signals that carry no marking of their own.")
@actor_option(ACTOR_HELP)
@db_option
def signals_import(file: Path, watchlist: str, fmt: str, tlp: str, actor: str | None,
                   db_url: str) -> None:
    """Import the signals in FILE (STIX 2.1, followthemoney JSONL or HMA) as watches."""
    from tracelight.services import signals as service
    from tracelight.services.cases import actor_name

    with store_from(db_url) as store:
        res = service.import_signals(store, file, watchlist, actor_name(actor), fmt=fmt,
                                     tlp=tlp)
    tlps = ", ".join(f"{k}: {v}" for k, v in sorted(res.by_tlp.items())) or "none"
    click.echo(f"watchlist {res.watchlist!r} ({res.fmt}): {res.read} signal(s) read, "
               f"{res.added} added, {res.already} already watched, {res.skipped} skipped; "
               f"TLP {tlps}")
    for why in res.skipped_examples:
        click.echo(f"skipped: {why}", err=True)


@signals.command("hits")
@click.argument("watchlist")
@format_option()
@db_option
def signals_hits(watchlist: str, fmt: str, db_url: str) -> None:
    """The stored ads each signal of WATCHLIST matches."""
    from tracelight.services.signals import watchlist_hits

    with store_from(db_url) as store:
        found = watchlist_hits(store, watchlist)
        refs = {ad.pk: f"{ad.source}/{ad.ad_id}" for ad in store.get_ads_by_pks(
            sorted({pk for h in found for pk in h.ad_pks}))}
    emit(({"watch": h.watch, "kind": h.kind, "value": h.value, "tlp": h.tlp,
           "ads": len(h.ad_pks), "examples": [refs.get(pk, str(pk)) for pk in h.ad_pks[:3]]}
          for h in found), fmt, ["watch", "kind", "value", "tlp", "ads", "examples"])
