"""`tracelight link`, `networks`, `hubs` and `similar`: thin shells over
tracelight.services (link, similar, networks) over tracelight.link (pure)."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import echo_err, progress_bar, store_from
from tracelight.cli.output import dumps, emit

# the text of tracelight.services.similar.SCORE_SCALE, kept here so that `--help` does not
# import the services (lazy CLI); tests/test_adref.py checks the two are equal
SIMILAR_SCALE = ("score = points: +10 for each shared phone, email, handle or identical image; "
                 "up to +5 for shared wording or template (5 x its similarity, 0-1); up to "
                 "+0.5 for each weak hint (writing style; same name and city within a week). "
                 "10 or more means at least one shared contact or image; below 10, "
                 "resemblance only.")

if TYPE_CHECKING:
    from tracelight.services.networks import RankedNetwork

NETWORK_COLUMNS = ["network_id", "size", "phones", "emails", "names", "cities", "first_seen",
                   "last_seen", "evidence_kinds", "risk"]
TABLE_COLUMNS = ["network_id", "risk", "size", "phones", "names", "cities", "first_seen",
                 "last_seen", "evidence_kinds"]


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
    if mode != "unchanged":
        echo_err("run `tracelight rescore` to score each ad with its network's evidence")


def _network_row(ranked: RankedNetwork) -> dict[str, Any]:
    """A network's record, its risk carrying `score` (the queue's ranking) and its reasons."""
    row = ranked.network.to_dict()
    if "risk" in row:  # only when its ads were scored
        row["risk"] = ranked.risk_dict()
    return row


def _table_row(net: dict[str, Any], *, short: bool = False) -> dict[str, Any]:
    risk = net.get("risk")
    row = {**net, "cities": [loc["city"] for loc in net["locations"]],
           "evidence_kinds": sorted({e["kind"] for e in net["evidence"]}),
           "risk": risk.get("score") if isinstance(risk, dict) else None}
    if short:  # dates without times keep the table readable
        for k in ("first_seen", "last_seen"):
            row[k] = (row[k] or "")[:10]
    return row


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
@format_option()
def networks_cmd(db_url: str, min_size: int, limit: int | None, sort: str, fmt: str) -> None:
    """List networks with their risk: member ads, phones, emails, names, the cities they
    moved through (first/last dates), and the evidence that joins them.

    `risk` is the one network risk the queue and the workspace show (docs/risk.md); in JSON
    Lines it is `risk.score` with the parts it came from (`risk.parts`, `risk.reasons`).
    """
    from tracelight.services.networks import list_ranked

    if fmt == "table" and limit is None:
        limit = 50
    with store_from(db_url) as store:
        if store.last_link_run() is None:
            echo_err("no networks yet: run `tracelight link` first")
        rows = (_network_row(r) for r in list_ranked(store, sort=sort, min_size=min_size,
                                                     limit=limit))
        if fmt == "table":
            emit((_table_row(r, short=True) for r in rows), fmt, TABLE_COLUMNS,
                 title="networks")
        elif fmt == "csv":
            emit((_table_row(_with_refs(store, r)) for r in rows), fmt,
                 [*NETWORK_COLUMNS, "ads", "ad_ids"])
        else:
            emit((_with_refs(store, r) for r in rows), fmt, [])


@cli.command("hubs")
@db_option
@format_option()
def hubs_cmd(db_url: str, fmt: str) -> None:
    """Identifiers and sentences shared by an implausible number of unrelated ads (a site's
    own phone, boilerplate). Reported here, never used to join ads."""
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
        emit(rows, fmt, ["kind", "value", "ads", "groups", "reason", "example"])


@cli.command("similar", help="""Ads closest to AD in contacts, images and wording, each
with its reasons (strong: shared phone/email/handle/image; medium: wording/template; weak:
style, same name and city within a week).

AD is the ad's reference as tables print it, SOURCE/ID, or its bare id when only one source
has it.

The similarity """ + SIMILAR_SCALE.replace("score = ", "score is in ", 1))
@click.argument("ad_ref", metavar="AD")
@click.option("--k", type=click.IntRange(min=1, max=1000), default=20, show_default=True,
              help="How many ads to list.")
@click.option("--source", help="Read AD as an id of this source only.")
@db_option
@format_option()
def similar_cmd(ad_ref: str, k: int, source: str | None, db_url: str, fmt: str) -> None:
    from tracelight.services.adref import ref_of, resolve_ad
    from tracelight.services.similar import similar_ads

    with store_from(db_url) as store:
        ad = resolve_ad(store, ad_ref, source)
        rows = [r.to_dict() for r in similar_ads(store, ad, k=k)]
    if fmt == "table":
        if not rows:
            click.echo(f"nothing similar to {ref_of(ad)}: no other ad shares a contact or an "
                       "image with it, or resembles its wording or template")
            return
        click.echo(SIMILAR_SCALE)  # above the table: what its numbers mean
        for r in rows:
            r["why"] = "; ".join(f"{x['kind']}: {x['value']}" for x in r["reasons"])
        emit(rows, fmt, ["ref", "score", "network_id", "why", "title"],
             title=f"ads similar to {ref_of(ad)} (score in points, see above)",
             widths={"why": 80})
    else:
        for r in rows:
            r["reasons_text"] = "; ".join(f"{x['kind']}: {x['value']}" for x in r["reasons"])
        emit(rows, fmt, ["ref", "ad_id", "source", "score", "network_id", "reasons_text",
                         "title"])
