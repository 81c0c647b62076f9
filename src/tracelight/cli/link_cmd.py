"""`tracelight link`, `networks`, `hubs` and `similar`: thin shells over
tracelight.services (link, similar, networks) over tracelight.link (pure)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import echo_err, progress_bar, store_from
from tracelight.cli.output import dumps, emit

if TYPE_CHECKING:
    from tracelight.services.networks import RankedNetwork

NETWORK_COLUMNS = ["network_id", "size", "phones", "emails", "names", "cities", "first_seen",
                   "last_seen", "evidence_kinds"]
TABLE_COLUMNS = ["network_id", "size", "phones", "names", "cities", "first_seen", "last_seen",
                 "evidence_kinds"]


@cli.command("link")
@db_option
@click.option("--rebuild", is_flag=True,
              help="Re-read every ad instead of only the new and changed ones (same result; "
                   "network ids stay stable either way).")
@format_option("table", "jsonl")
def link_cmd(db_url: str, rebuild: bool, fmt: str) -> None:
    """Build or update networks: ads that share contacts, images or a template.

    Incremental: only ads ingested or changed since the last run are read. Identifiers and
    sentences shared by an implausible number of unrelated ads (a site's phone, boilerplate)
    are reported as hubs and never join ads.
    """
    from tracelight.services.link import update_networks

    started = time.perf_counter()
    with store_from(db_url) as store, progress_bar(total=None) as bar:
        task = bar.add_task("link", total=None, info="")

        def on_progress(phase: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None, info=phase)

        result, mode = update_networks(store, rebuild=rebuild, progress=on_progress)
    row = {"mode": mode, "ads": result.stats.get("ads", 0),
           "ads_read": result.stats.get("new_ads", 0),
           "networks": result.stats.get("networks", 0),
           "ads_in_networks": result.stats.get("ads_in_networks", 0),
           "hubs": len([h for h in result.hubs if h.kind != "sentence"]),
           "boilerplate_sentences": len([h for h in result.hubs if h.kind == "sentence"]),
           "seconds": round(time.perf_counter() - started, 2)}
    if fmt == "jsonl":
        click.echo(dumps(row))
    else:
        emit([row], "table", list(row))


def _network_row(ranked: RankedNetwork) -> dict[str, Any]:
    """A network's record, its risk carrying `score` (the queue's ranking) and its reasons."""
    row = ranked.network.to_dict()
    if "risk" in row:  # only when its ads were scored
        row["risk"] = ranked.risk_dict()
    return row


def _table_row(net: dict[str, Any], *, short: bool = False) -> dict[str, Any]:
    row = {**net, "cities": [loc["city"] for loc in net["locations"]],
           "evidence_kinds": sorted({e["kind"] for e in net["evidence"]})}
    if short:  # dates without times keep the table readable
        for k in ("first_seen", "last_seen"):
            row[k] = (row[k] or "")[:10]
    return row


@cli.command("networks")
@db_option
@click.option("--min-size", type=click.IntRange(min=1), default=2, show_default=True,
              help="Only networks with at least this many ads (ads linked to no other ad "
                   "form no network).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most this many networks (table default: 50; jsonl/csv: all).")
@format_option()
def networks_cmd(db_url: str, min_size: int, limit: int | None, fmt: str) -> None:
    """List networks, biggest first: member ads, phones, emails, names, the cities they
    moved through (first/last dates), and the evidence that joins them."""
    from tracelight.services.networks import iter_ranked

    if fmt == "table" and limit is None:
        limit = 50
    with store_from(db_url) as store:
        if store.last_link_run() is None:
            echo_err("no networks yet: run `tracelight link` first")
        if fmt == "csv":  # no risk column: the records alone
            rows = (n for n in store.iter_network_records(min_size=min_size, limit=limit))
        else:
            rows = (_network_row(r) for r in iter_ranked(store, min_size=min_size,
                                                         limit=limit))
        if fmt == "table":
            emit((_table_row(r, short=True) for r in rows), fmt, TABLE_COLUMNS,
                 title="networks")
        elif fmt == "csv":
            emit((_table_row(r) for r in rows), fmt, [*NETWORK_COLUMNS, "ad_ids"])
        else:
            emit(rows, fmt, [])


@cli.command("hubs")
@db_option
@format_option()
def hubs_cmd(db_url: str, fmt: str) -> None:
    """Identifiers and sentences shared by an implausible number of unrelated ads (a site's
    own phone, boilerplate).

    Each comes with the reason in words: what sits beside it (a site's helpline sits beside
    each advertiser's own contact), in how many groups of otherwise unrelated ads, in how
    many cities, inside which boilerplate. Reported here, never used to join ads; a
    network's only contact is never a hub."""
    from tracelight.link.text import sentence_text
    from tracelight.services.link import stored_hubs

    with store_from(db_url) as store:
        rows = []
        for h in stored_hubs(store):
            row = h.to_dict()
            if h.kind == "sentence" and h.example:
                try:
                    ad = store.get_ad(h.example.rsplit("/", 1)[-1])
                    row["value"] = sentence_text(ad.title, ad.body,
                                                 store.mentions_for([ad.pk])[ad.pk],
                                                 int(h.value[1:], 16)) or h.value
                except Exception:  # the example ad may be gone; the hash still identifies it
                    pass
            rows.append(row)
        emit(rows, fmt, ["kind", "value", "ads", "groups", "reason", "example"])


@cli.command("similar")
@click.argument("ad_id")
@click.option("--k", type=click.IntRange(min=1, max=1000), default=20, show_default=True,
              help="How many ads to list.")
@click.option("--source", help="The ad's source, when its id exists in several sources.")
@db_option
@format_option()
def similar_cmd(ad_id: str, k: int, source: str | None, db_url: str, fmt: str) -> None:
    """Ads closest to AD_ID in contacts, images and wording, each with its reasons
    (strong: shared phone/email/handle/image; medium: wording/template; weak: style,
    same name and city within a week)."""
    from tracelight.services.similar import similar_ads

    with store_from(db_url) as store:
        ad = store.get_ad(ad_id, source)
        rows = [r.to_dict() for r in similar_ads(store, ad, k=k)]
    if fmt == "table":
        for r in rows:
            r["why"] = "; ".join(f"{x['kind']}: {x['value']}" for x in r["reasons"])
        emit(rows, fmt, ["ad_id", "score", "network_id", "why", "title"],
             title=f"ads similar to {ad_id}", widths={"why": 80})
    else:
        for r in rows:
            r["reasons_text"] = "; ".join(f"{x['kind']}: {x['value']}" for x in r["reasons"])
        emit(rows, fmt, ["ad_id", "source", "score", "network_id", "reasons_text", "title"])
