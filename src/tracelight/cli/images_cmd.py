"""`tracelight image hash` and `tracelight image-search`.

Thin shell over tracelight.images (pure) and tracelight.services (banks, alerts, search).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import Progress

from tracelight import settings
from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import progress_bar as common_progress
from tracelight.cli.common import store_from
from tracelight.cli.output import emit, stderr
from tracelight.errors import InputError
from tracelight.images.hashing import hash_image, image_info_dict

HASH_COLUMNS = ("path", "sha256", "md5", "pdq", "quality", "width", "height", "error")


@contextmanager
def progress_bar(total: int | None, label: str) -> Iterator[Progress]:
    """The shared progress bar on stderr (hidden when stderr is not a terminal)."""
    with common_progress(total=total, unit="images") as prog:
        prog.add_task(label, total=total, info="")
        yield prog


def _advance(prog: Progress, n: int = 1) -> None:
    prog.advance(prog.task_ids[0], n)


@cli.group()
def image() -> None:
    """Hash images: SHA-256, MD5, PDQ perceptual hash and quality."""


@image.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option("jsonl", "table", "csv", default="jsonl")
def image_hash(files: Sequence[Path], fmt: str) -> None:
    """Print the hashes of each FILE: {"path","sha256","md5","pdq","quality","width","height"}.

    pdq is 64 hex characters, big-endian as in ThreatExchange; quality is 0..100 (below 50 the
    picture is too flat for its PDQ hash to mean much). Files that cannot be read are printed
    with an "error" field and make the command exit with status 3.
    """
    failed = 0

    def rows() -> Iterator[dict[str, object]]:
        nonlocal failed
        with progress_bar(len(files), "hashing") as prog:
            for f in files:
                info = hash_image(f, original=str(f))
                if info.error:
                    failed += 1
                yield image_info_dict(info)
                _advance(prog)

    emit(rows(), fmt, HASH_COLUMNS, widths={"sha256": 64, "pdq": 64})
    if failed:
        raise InputError(f"{failed} of {len(files)} file(s) could not be hashed",
                         hint="see the error field")


@image.command("migrate")
@db_option
@click.option("--image-dir", default=None,
              help="The image folder. [default: TRACELIGHT_IMAGE_DIR or tracelight-images]")
def image_migrate(db_url: str, image_dir: str | None) -> None:
    """Move a store made by an older version onto the content-addressed image store.

    Copies every image that is still readable and valid (a regular file inside the image
    folder, same SHA-256 as at ingest, decodes under the pixel limit) into the store and flags
    the rest as image errors on their ads. Safe to run again: it then changes nothing.
    """
    from tracelight.services.image_migrate import migrate_images

    folder = image_dir or settings.get("image_dir")
    with store_from(db_url) as store:
        summary = migrate_images(store, folder, max_bytes=settings.get_int("image_max_bytes"))
    emit([summary.to_dict()], "jsonl", ())
    for line in summary.examples:
        stderr.print(f"flagged {line}", markup=False, highlight=False)


@cli.command("image-search")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--max-distance", type=click.IntRange(0, 256), default=None,
              help="Largest PDQ distance shown as a resemblance. [default: TRACELIGHT_"
                   "PDQ_THRESHOLD or 31]")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@db_option
@format_option()
def image_search(file: Path, max_distance: int | None, limit: int, db_url: str,
                 fmt: str) -> None:
    """Ads whose images match or resemble the photo in FILE, closest first, with distances.

    distance 0 with exact=true means the very same file; small distances are edited copies
    (re-encoded, resized, cropped, brightness shifted). Query images of PDQ quality below 50
    are searched by exact hash only.
    """
    from tracelight.services.image_search import search_similar_ads

    info = hash_image(file)
    if info.error:
        raise InputError(f"{file}: {info.error}")
    threshold = max_distance if max_distance is not None else settings.get_int("pdq_threshold")
    with store_from(db_url) as store:
        hits = search_similar_ads(store, info, max_distance=threshold, limit=limit)
    if not hits and fmt == "table":
        stderr.print(f"no ad image within PDQ distance {threshold} of {file}")
    emit((h.to_dict() for h in hits), fmt,
         ("ref", "distance", "exact", "position", "image_sha256", "bank_matched", "title")
         if fmt == "table" else ("ref", "ad_id", "source", "distance", "exact", "position",
                                 "image_sha256", "bank_matched", "title"),
         widths={"title": 50, "image_sha256": 16})
