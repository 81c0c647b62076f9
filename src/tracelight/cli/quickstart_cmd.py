"""`tracelight demo`: the whole product on synthetic data in one command.

Generate a corpus (or reuse one already generated), ingest it, link networks, then open the
workspace with a fresh admin account. Nothing in the corpus describes a real person.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracelight import settings
from tracelight.cli.app import cli, db_option
from tracelight.cli.common import store_from
from tracelight.cli.output import stderr
from tracelight.pipeline import PipelineOptions
from tracelight.store import Store


def _existing_corpus(out: Path, n_ads: int, seed: int) -> dict[str, object] | None:
    """The corpus.json of a corpus in OUT generated with these n_ads and seed, else None."""
    marker = out / "corpus.json"
    if not (out / "ads.jsonl").is_file() or not marker.is_file():
        return None
    try:
        meta = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("n_ads") != n_ads or meta.get("seed") != seed:
        return None
    return meta


@cli.command("demo")
@click.option("--ads", "n_ads", type=click.IntRange(10, 1_000_000), default=2000,
              show_default=True, help="How many synthetic ads to generate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("tracelight-demo"), show_default=True,
              help="Folder for the generated corpus (reused when it already matches).")
@db_option
@click.option("--ocr/--no-ocr", default=False, show_default=True,
              help="Also read phones written inside the pictures (slower).")
@click.option("--btc/--no-btc", default=True, show_default=True,
              help="Also authors who rotate their phones and the ad site's blockchain "
                   "(OUT/btc/): same-author and Bitcoin-owner evidence in networks and "
                   "`similar` (docs/authorship.md).")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Open the investigator workspace when done.")
@click.option("--host", default=lambda: settings.get("host"), show_default="127.0.0.1")
@click.option("--port", type=click.IntRange(1, 65535), default=lambda: settings.get_int("port"),
              show_default="8000")
def demo_cmd(n_ads: int, seed: int, out: Path, db_url: str, ocr: bool, btc: bool, serve: bool,
             host: str, port: int) -> None:
    """Generate a synthetic corpus, ingest it, link networks and open the workspace."""
    from tracelight.demo import generate
    from tracelight.services import authors_demo
    from tracelight.services.ingest import default_after_batch, ingest

    steps = 4 if btc else 3
    meta = _existing_corpus(out, n_ads, seed)
    has_btc = bool(meta and meta.get("btc") and (out / authors_demo.FOLDER / "ads.jsonl").is_file())
    if meta is not None and (has_btc or not btc):
        stderr.print(f"[bold]1/{steps}[/] reusing the corpus in {out}")
    else:
        what = "the authors and the blockchain" if meta is not None else \
            f"{n_ads:,} synthetic ads"
        stderr.print(f"[bold]1/{steps}[/] generating {what} into {out} ...")
        with stderr.status("generating"):
            if meta is None:
                generate(out, n_ads=n_ads, seed=seed, images=True)
            if btc:
                authors_demo.write(out, n_ads=n_ads, seed=seed)
        (out / "corpus.json").write_text(json.dumps({"n_ads": n_ads, "seed": seed,
                                                     "btc": btc or has_btc}))
    stderr.print(f"[bold]2/{steps}[/] ingesting into {db_url} (extract, hash images, score) ...")
    options = PipelineOptions(region=settings.get("region"), ocr=ocr,
                              image_dir=settings.get("image_dir"))
    with store_from(db_url, create=True) as store:
        with stderr.status("ingesting"):
            summary = ingest(store, [str(out / "ads.jsonl")], options=options,
                             rejects_path=str(out / "rejects.txt"),
                             after_batch=default_after_batch())
        stderr.print(f"    read {summary.read:,}, new {summary.new:,}, unchanged "
                     f"{summary.unchanged:,}, rejected {summary.rejected:,} "
                     f"({summary.ads_per_second:,.0f} ads/s)")
        if btc:
            stderr.print(f"[bold]3/{steps}[/] authors who rotate phones, and the ad site's "
                         "blockchain: same-author links and Bitcoin owners ...")
            with stderr.status("authors and payments"):
                res = authors_demo.load(store, out / authors_demo.FOLDER,
                                        authors_demo.model_path(out, seed=seed),
                                        options=options)
            stderr.print(f"    {res.ads:,} ads, {res.transactions:,} transactions; "
                         f"{res.author_links:,} same-author links, {res.attributions:,} ads "
                         "attributed to Bitcoin owners")
        stderr.print(f"[bold]{steps}/{steps}[/] linking ads into networks ...")
        _link(store)
        click.echo(_next_steps(store, out, db_url, serving=serve))
        if serve:
            _serve(store, db_url, host, port)


def _link(store: Store) -> None:
    """Join ads that share contacts, pictures or wording into networks."""
    from tracelight.services.link import update_networks

    with stderr.status("linking"):
        result, _mode = update_networks(store)
    stats = result.stats
    stderr.print(f"    {stats.get('networks', 0):,} networks holding "
                 f"{stats.get('ads_in_networks', 0):,} ads; "
                 f"{len([h for h in result.hubs if h.kind != 'sentence'])} shared identifiers "
                 "kept from joining strangers (hubs)")


def _serve(store: Store, db_url: str, host: str, port: int) -> None:
    """Open the workspace with a fresh admin whose one-time password is printed once."""
    from tracelight.cli.web_cmd import ensure_port_free, serve_store
    from tracelight.web import create_demo_admin

    ensure_port_free(host, port)  # before an account and a URL that could not be used
    user, password = create_demo_admin(store)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"\nWorkspace: http://{shown}:{port}/\n  user {user}\n  one-time password "
               f"{password}  (you will be asked to choose your own)\n")
    serve_store(store, host, port)


def command_prefix() -> str:
    """How this shell can call tracelight: `tracelight` when that name on PATH is this very
    program, else the path this run was started by (`make demo` runs .venv/bin/tracelight)."""
    import shutil
    import sys

    argv0 = Path(sys.argv[0])
    if argv0.name != "tracelight":
        return "tracelight"  # python -m tracelight, a test runner: say the plain name
    found = shutil.which("tracelight")
    try:
        if found and Path(found).resolve() == argv0.resolve():
            return "tracelight"
        return str(argv0.resolve().relative_to(Path.cwd().resolve()))
    except (OSError, ValueError):
        return str(argv0)


def _examples(store: Store) -> tuple[str | None, str | None, str | None]:
    """(the queue's top ad, an ad in the riskiest network, one of that network's phones as
    a person would type it), taken from the store just built."""
    from tracelight.services.networks import network_queue
    from tracelight.services.queue import scored_ads

    top = scored_ads(store, limit=1)
    nets = network_queue(store, 5)
    networked = phone = None
    for net in nets:
        if net.network.phones and net.network.ad_ids:
            networked, phone = net.network.ad_ids[0], _typed_phone(net.network.phones[0])
            break
    return (top[0].ad_id if top else None), networked, phone


def _authored_example(store: Store) -> str | None:
    """An ad of the demo's authors in a network that author and wallet-owner evidence
    joined, biggest such network first (None without the authors' corpus)."""
    from tracelight.services.link import stored_networks

    for net in stored_networks(store):
        if {"author", "wallet_owner"} <= {e.kind for e in net.evidence}:
            ads = [k for k in net.ad_ids if k.startswith("au-")]
            if ads:
                return ads[0]
    return None


def _typed_phone(e164: str) -> str:
    """+13054541934 -> (305) 454-1934: the national form, to show that lookups normalise."""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL
           if number.country_code == 1 else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return str(phonenumbers.format_number(number, fmt))


def _next_steps(store: Store, out: Path, db_url: str, *, serving: bool) -> str:
    """The 'Try:' lines, every one runnable as printed, on this store's own data."""
    import shlex

    tl = command_prefix()
    db = "" if db_url == settings.SETTINGS["db"].default else f" --db {shlex.quote(db_url)}"
    top, networked, phone = _examples(store)
    tries = [("queue --limit 10", "leads for review, highest first"),
             ("networks --limit 10", "ads joined by shared evidence")]
    if phone:
        tries.append((f"search --phone {shlex.quote(phone)}",
                      "every ad with this phone, however it was written"))
    if top:
        tries.append((f"show {top}", "the top lead with its evidence"))
    if networked:
        tries.append((f"similar {networked}", "the ads closest to it"))
    authored = _authored_example(store)
    if authored:
        tries.append((f"similar {authored}", "same author, same Bitcoin owner: phones rotated"))
    commands = [f"{tl} {cmd}{db}" for cmd, _ in tries]
    width = max(len(c) for c in commands) + 2
    lines = ["", "Done. Everything here is synthetic. Try:"]
    if 2 + width + 2 + max(len(why) for _, why in tries) <= 80:
        lines += [f"  {c.ljust(width)}# {why}"
                  for c, (_, why) in zip(commands, tries, strict=True)]
    else:  # an 80-column terminal would wrap the comments: put each above its command
        for c, (_, why) in zip(commands, tries, strict=True):
            lines += [f"  # {why}", f"  {c}"]
    if tl != "tracelight":
        lines.append(f"  (or first `. {Path(tl).parent}/activate`, then type plain "
                     "`tracelight`)")
    if serving:
        lines += ["  The workspace below keeps this shell busy: run these in a second shell",
                  "  in this folder, or stop the workspace with Ctrl+C first."]
    lines.append(f"  Ground truth for checking: {out / 'truth.jsonl'}")
    return "\n".join(lines)
