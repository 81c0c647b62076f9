"""`tracelight cluster run|load`: the batch stages on Apache Spark or Ray (docs/scale.md)."""

from __future__ import annotations

import click

from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.output import emit


@cli.group("cluster")
def cluster() -> None:
    """Batch stages (extract, images, score, link) on Apache Spark or Ray, and bulk loading
    of what they wrote."""


@cluster.command("run")
@click.option("--engine", type=click.Choice(["spark", "ray", "local"]), default="spark",
              show_default=True, help="spark: PySpark; ray: Ray tasks; local: a process pool "
              "on this machine (no engine).")
@click.option("--master", default=None, metavar="URL",
              help="Spark master (local[2], spark://HOST:7077, yarn, k8s://...); leave it out "
                   "under spark-submit, which sets it.")
@click.option("--address", default=None, metavar="ADDR",
              help="Ray cluster to join (auto, ray://HEAD:10001); default: a local Ray.")
@click.option("--workers", type=click.IntRange(1, 1024), default=2, show_default=True,
              help="CPUs of a local Ray or of the local pool.")
@click.option("--source", "default_source", default=None,
              help="Source name for records that carry none.")
@click.option("--region", default="US", show_default=True,
              help="Country assumed for phone numbers written without one.")
@click.option("--no-images", is_flag=True, help="Skip image hashing.")
@click.option("--no-link", is_flag=True, help="Skip linking (ads only).")
@click.option("--link-on", type=click.Choice(["engine", "driver"]), default=None,
              help="driver (default): the link core over the features gathered on the "
                   "driver; engine: the linking steps as distributed group-bys and joins "
                   "(Spark only; lacks three newer rules, see docs/scale.md).")
@format_option("table", "jsonl")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.argument("out", metavar="OUT")
def run_cmd(engine: str, master: str | None, address: str | None, workers: int,
            default_source: str | None, region: str, no_images: bool, no_link: bool,
            link_on: str | None, fmt: str, inputs: tuple[str, ...], out: str) -> None:
    """Run extract, image hashing, score and link over INPUT shards and write Parquet to OUT.

    INPUT: JSON Lines (.jsonl, .jsonl.gz) or Parquet shards: files, folders, globs or fsspec
    URLs (s3://..., gs://..., file://...). OUT: a new folder (or URL) every worker can write:
    ads/part-*.parquet, networks.parquet, hubs.parquet, link_state/, rejects.jsonl,
    manifest.json. Load it with `tracelight cluster load OUT`.

    The stages are the local pipeline's own functions; the networks are those `tracelight
    link` makes from the same ads.
    """
    from tracelight.engine import run_job
    from tracelight.pipeline import PipelineOptions

    opts = PipelineOptions(region=region, images=not no_images, ocr=False)
    summary = run_job(list(inputs), out, engine=engine, master=master, address=address,
                      workers=workers, options=opts, default_source=default_source,
                      link=not no_link, link_on=link_on, say=lambda m: click.echo(m, err=True))
    row = {"engine": summary.engine, "shards": summary.shards, "read": summary.read,
           "ads": summary.ads, "rejected": summary.rejected, "networks": summary.networks,
           "hubs": summary.hubs, "seconds": summary.seconds["total"]}
    if fmt == "jsonl":
        emit([summary.to_dict()], fmt, [])
    else:
        emit([row], fmt, list(row), title=f"Cluster job written to {out}")


@cluster.command("load")
@db_option
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False), default=None,
              help="Append the ads the store refuses (e.g. repeated ids) to this file.")
@format_option("table", "jsonl")
@click.argument("out", metavar="OUT")
def load_cmd(db_url: str, rejects_path: str | None, fmt: str, out: str) -> None:
    """Bulk-load the ads, networks, hubs and linker state a `cluster run` wrote to OUT.

    Ads go through the store's batch write (idempotent: loading twice changes nothing);
    networks are loaded when the store then holds exactly the ads the job linked (otherwise
    run `tracelight link`).
    """
    from tracelight.cli.common import progress_bar, store_from
    from tracelight.services.cluster import load_output, read_manifest

    total = int(read_manifest(out).get("ads", 0)) or None
    with store_from(db_url, create=True) as store, progress_bar(total=total) as prog:
        task = prog.add_task("loading", total=total, info="")
        summary = load_output(store, out, rejects_path=rejects_path,
                              progress=lambda n: prog.advance(task, n))
    for note in summary.notes:
        click.echo(note, err=True)
    row = {k: v for k, v in summary.to_dict().items() if k != "notes"}
    emit([row], fmt, list(row) if fmt == "table" else [], title=f"Loaded {out}")
