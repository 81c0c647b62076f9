"""`tracelight link`, `networks`, `hubs` and `similar`: thin shells over
tracelight.services (link, similar, networks) over tracelight.link (pure)."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import echo_err, progress_bar, store_from
from tracelight.cli.output import (
    Col,
    Columns,
    columns_option,
    day_text,
    dumps,
    emit,
    fill_text,
    no_results,
    risk_text,
    row_ref,
)

# the text of tracelight.services.similar.SCORE_SCALE, kept here so that `--help` does not
# import the services (lazy CLI); tests/test_adref.py checks the two are equal
SIMILAR_SCALE = ("score = points: +10 for each shared phone, email, handle or identical image; "
                 "up to +5 for shared wording or template (5 x its similarity, 0-1), and for "
                 "the same author or Bitcoin owner (5 x its confidence); up to "
                 "+0.5 for each weak hint (writing style; same name and city within a week). "
                 "10 or more means at least one shared contact or image; below 10, "
                 "resemblance only.")

if TYPE_CHECKING:
    from tracelight.services.networks import RankedNetwork

NETWORK_COLUMNS = ["network_id", "size", "phones", "emails", "names", "cities", "first_seen",
                   "last_seen", "evidence_kinds", "risk"]
NETWORKS = Columns(
    Col("network_id", "network"),
    Col("risk", right=True, show=risk_text,
        value=lambda r: r["risk"].get("score") if isinstance(r.get("risk"), dict) else None),
    Col("size", "ads", right=True),
    Col("first_seen", "first", show=day_text),
    Col("last_seen", "last", show=day_text),
    Col("cities", flex=True, min=12),
    Col("names", flex=True, min=8, drop=True),
    Col("evidence_kinds", "evidence", flex=True, min=10, drop=True),
    Col("phones", flex=True, min=14, drop=True),
    Col("emails", flex=True, min=14, drop=True),
    Col("ads", "members", flex=True, min=14, drop=True),
    Col("ad_ids", flex=True, min=14, drop=True),
    table=["network_id", "risk", "size", "first_seen", "last_seen", "cities", "names",
           "evidence_kinds"],
    csv=[*NETWORK_COLUMNS, "ads", "ad_ids"],
)
SIMILAR = Columns(
    Col("ref", "ad", value=row_ref),
    Col("ad_id"),
    Col("source"),
    Col("score", right=True, show=lambda v: f"{v:.1f}" if isinstance(v, (int, float)) else ""),
    Col("network_id", "network"),
    Col("why", flex=True, min=20),
    Col("reasons_text", flex=True, min=20),
    Col("title", flex=True, min=12, drop=True),
    Col("location", flex=True, min=13, drop=True),
    Col("posted_at", "posted", show=day_text, drop=True),
    table=["ref", "score", "network_id", "why", "title"],
    csv=["ref", "ad_id", "source", "score", "network_id", "reasons_text", "title"],
)
HUBS = Columns(  # the example is a SOURCE/ID reference: whole or not at all, before the reason
    Col("kind"), Col("value", flex=True, min=16), Col("ads", right=True),
    Col("groups", right=True), Col("reason", flex=True, min=16, drop=True),
    Col("example", drop=True),
    table=["kind", "value", "ads", "groups", "example", "reason"],
    csv=["kind", "value", "ads", "groups", "reason", "example"],
)


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
    else:  # one summary reads best as a sentence (as ingest prints its counts)
        click.echo(f"{row['mode']}: {row['ads']:,} ads ({row['ads_read']:,} read), "
                   f"{row['networks']:,} networks holding {row['ads_in_networks']:,} ads; "
                   f"{row['hubs']} shared identifiers and {row['boilerplate_sentences']} "
                   f"boilerplate sentences kept from joining ads; {row['seconds']:.1f} s")
    if mode != "unchanged":
        echo_err("run `tracelight rescore` to score each ad with its network's evidence")


def _network_row(ranked: RankedNetwork) -> dict[str, Any]:
    """A network's record, its risk carrying `score` (the queue's ranking) and its reasons."""
    row = ranked.network.to_dict()
    if "risk" in row:  # only when its ads were scored
        row["risk"] = ranked.risk_dict()
    return row


def _reason_text(x: dict[str, Any]) -> str:
    """'phone: +1...', or with its score for author and wallet-owner evidence."""
    if x["kind"] in ("author", "wallet_owner") and x.get("score") is not None:
        return f"{x['kind']} {x['score']:.2f} ({x['strength']}): {x['value']}"
    return f"{x['kind']}: {x['value']}"


def _kinds_line(kinds: list[str]) -> str:
    """'phone, image_near x2, wording': the kinds of evidence in order, for a table."""
    counts: dict[str, int] = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    return ", ".join(k if n == 1 else f"{k} x{n}" for k, n in counts.items())


def _table_row(net: dict[str, Any]) -> dict[str, Any]:
    return {**net, "cities": [loc["city"] for loc in net["locations"]],
            "evidence_kinds": sorted({e["kind"] for e in net["evidence"]})}


def _with_refs(store: Any, net: dict[str, Any]) -> dict[str, Any]:
    """The network's member ads as public references (SOURCE/ID), under `ads`; `ad_ids`
    stay the linker's keys."""
    pks = store.member_pks(net["network_id"], limit=100_000)
    refs = store.ad_refs(pks)
    return {**net, "ads": sorted(f"{s}/{i}" for s, i in refs.values())}


@cli.command("networks")
@db_option
@click.option("--min-size", type=click.IntRange(min=1), default=2, show_default=True,
              help="Only networks with at least this many ads (ads linked to no other ad "
                   "form no network).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most this many networks (table default: 50; jsonl/csv: all).")
@click.option("--sort", "sort", type=click.Choice(["size", "risk", "recent"]), default="size",
              show_default=True,
              help="size: biggest first; risk: riskiest first (the queue's network risk); "
                   "recent: latest posting first. Ties by network id.")
@columns_option(NETWORKS)
@format_option()
def networks_cmd(db_url: str, min_size: int, limit: int | None, sort: str, columns: str | None,
                 fmt: str) -> None:
    """List networks with their risk: member ads, phones, emails, names, the cities they
    moved through (first/last dates), and the evidence that joins them.

    `risk` is the one network risk the queue and the workspace show (docs/risk.md); in JSON
    Lines it is `risk.score` with the parts it came from (`risk.parts`, `risk.reasons`).
    """
    from tracelight.services.networks import list_ranked

    if fmt == "table" and limit is None:
        limit = 50
    cols = NETWORKS.choose(columns, fmt)
    with store_from(db_url) as store:
        if store.last_link_run() is None:
            no_results("no networks yet", "tracelight link (joins ads into networks)")
            return
        if fmt == "csv" and sort == "size" and "risk" not in {c.key for c in cols}:
            rows = (n for n in store.iter_network_records(min_size=min_size, limit=limit))
        else:  # the records alone above; here each scored
            rows = (_network_row(r) for r in list_ranked(store, sort=sort, min_size=min_size,
                                                         limit=limit))
        empty = f"no network has {min_size} or more ads"
        hint = "a smaller --min-size" if min_size > 2 else "tracelight link --rebuild"
        if fmt == "table":
            order = {"size": "biggest", "risk": "riskiest", "recent": "latest"}[sort]
            emit((_table_row(r) for r in rows), fmt, cols, empty=empty, hint=hint,
                 title=f"Networks, {order} first ({store.count_networks():,} in all)")
        elif fmt == "csv":
            emit((_table_row(_with_refs(store, r)) for r in rows), fmt, cols, empty=empty,
                 hint=hint)
        else:
            emit((_with_refs(store, r) for r in rows), fmt, [], empty=empty, hint=hint)


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
    from tracelight.services.adref import find_ads, ref_of
    from tracelight.services.link import stored_hubs

    with store_from(db_url) as store:
        rows = []
        for h in stored_hubs(store):
            row = h.to_dict()
            found = find_ads(store, h.example) if h.example else []
            if len(found) == 1:  # the example ad as SOURCE/ID (the linker keeps its key)
                ad = found[0]
                row["example"] = ref_of(ad)
                # a sentence hub shows its sentence; a value that is no hash stays as stored
                if h.kind == "sentence" and re.fullmatch(r"#[0-9a-f]+", h.value):
                    row["value"] = sentence_text(ad.title, ad.body,
                                                 store.mentions_for([ad.pk])[ad.pk],
                                                 int(h.value[1:], 16)) or h.value
            rows.append(row)
        emit(rows, fmt, HUBS.choose(None, fmt),
             empty="no identifier or sentence is shared widely enough to be a hub",
             hint="tracelight link (hubs are found while linking)")


@cli.command("similar", help="""Ads closest to AD in contacts, images and wording, each
with its reasons (strong: shared phone/email/handle/image; medium: wording/template; weak:
style, same name and city within a week).

Same-author and same-Bitcoin-owner evidence (`tracelight authorship link`, `tracelight btc
match`) is listed too, with its score and what agrees: medium where it may join networks,
weak otherwise.

AD is the ad's reference as tables print it, SOURCE/ID, or its bare id when only one source
has it.

The similarity """ + SIMILAR_SCALE.replace("score = ", "score is in ", 1))
@click.argument("ad_ref", metavar="AD")
@click.option("--k", type=click.IntRange(min=1, max=1000), default=20, show_default=True,
              help="How many ads to list.")
@click.option("--source", help="Read AD as an id of this source only.")
@db_option
@columns_option(SIMILAR)
@format_option()
def similar_cmd(ad_ref: str, k: int, source: str | None, db_url: str, columns: str | None,
                fmt: str) -> None:
    from tracelight.services.adref import ref_of, resolve_ad
    from tracelight.services.similar import similar_ads

    with store_from(db_url) as store:
        ad = resolve_ad(store, ad_ref, source)
        rows = [r.to_dict() for r in similar_ads(store, ad, k=k)]
    cols = SIMILAR.choose(columns, fmt)
    for r in rows:
        r["reasons_text"] = "; ".join(_reason_text(x) for x in r["reasons"])
        r["why"] = _kinds_line([x["kind"] for x in r["reasons"]])
    if fmt == "table" and rows:
        click.echo(fill_text(SIMILAR_SCALE))  # above the table: what its numbers mean
    emit(rows, fmt, cols, title=f"Ads similar to {ref_of(ad)} (score in points, see above)",
         widths={"why": 80},
         empty=f"nothing similar to {ref_of(ad)}: no other ad shares a contact or an image "
               "with it, or resembles its wording or template",
         hint=f"its words: tracelight search \"WORDS\"; or tracelight show {ref_of(ad)} for "
              "its identifiers")
