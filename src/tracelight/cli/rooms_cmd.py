"""`tracelight rooms ...`: the room gallery, matching a photo, background search across ads.

Thin shell over services/rooms.py (the matching itself is tracelight.rooms).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tracelight import settings
from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.common import progress_bar, store_from
from tracelight.cli.output import emit, stderr
from tracelight.errors import InputError

if TYPE_CHECKING:
    from tracelight.store import Store

F = TypeVar("F", bound=Callable[..., Any])

MATCH_COLUMNS = ("rank", "hotel_id", "name", "city", "country", "verified_matches",
                 "confidence")
MATCH_CSV = (*MATCH_COLUMNS, "chain", "lat", "lon", "word_score", "image_sha256", "drawing")
HOTEL_COLUMNS = ("hotel_id", "name", "chain", "city", "country", "lat", "lon")
PAIR_COLUMNS = ("a", "b", "verified_matches", "confidence")


def _dirs(image_dir: str | None, index_dir: str | None) -> tuple[str, str]:
    return (image_dir or settings.get("image_dir"),
            index_dir or settings.get("rooms_index_dir"))


def _image_dir_option(func: F) -> F:
    return click.option("--image-dir", default=None,
                        help="The image store. [default: TRACELIGHT_IMAGE_DIR or "
                             "tracelight-images]")(func)


def _index_dir_option(func: F) -> F:
    return click.option("--index-dir", default=None,
                        help="The room index folder. [default: TRACELIGHT_ROOMS_INDEX_DIR or "
                             "tracelight-rooms]")(func)


@cli.group()
def rooms() -> None:
    """Where was this photo taken: match photos against a gallery of hotel rooms, and find ads
    photographed in the same room.

    Local features (ORB) survive another viewpoint, re-encoding and a person in front of the
    room; visual words find candidates, RANSAC verifies them. See docs/rooms.md.
    """


@rooms.command("ingest")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--hotels", "hotels_csv", required=True, type=click.Path(path_type=Path),
              help="CSV: hotel_id,name,chain,address,city,country,lat,lon ('-' for stdin).")
@click.option("--words", type=click.IntRange(64, 65536), default=32768, show_default=True,
              help="Visual words trained on the first ingest.")
@db_option
@_image_dir_option
@_index_dir_option
def rooms_ingest(folder: Path, hotels_csv: Path, words: int, db_url: str,
                 image_dir: str | None, index_dir: str | None) -> None:
    """Add hotels and their room photos to the gallery.

    Photos are read from FOLDER/<hotel_id>/*.jpg (or the paths listed in FOLDER/images.csv:
    hotel_id,path), only as regular files inside FOLDER, deduplicated on SHA-256 and kept
    in the content-addressed image store (never served unreviewed). Prints one JSON summary.
    """
    from tracelight.services.rooms import RoomsError, ingest_gallery

    images, index = _dirs(image_dir, index_dir)
    with store_from(db_url, create=True) as store, \
            progress_bar(total=None, unit="photos") as prog:
        task = prog.add_task("rooms ingest", total=None, info="")
        try:
            summary = ingest_gallery(
                store, folder, hotels_csv, image_dir=images, index_dir=index,
                max_bytes=settings.get_int("image_max_bytes"), words=words,
                progress=lambda n: prog.advance(task, n),
                on_total=lambda t: prog.update(task, total=t))
        except RoomsError as exc:
            raise InputError(str(exc)) from None
    emit([summary.to_dict()], "jsonl", ())
    for line in summary.problems[:20]:
        stderr.print(f"skipped {line}", markup=False, highlight=False)


def _read_query(store: Store, query: str, image_dir: str) -> list[tuple[str, bytes]]:
    """(label, bytes) of the photos to match: a file, '-' (stdin) or an ad's images."""
    from tracelight.blobs import ImageRefused, read_regular_file
    from tracelight.services.adref import resolve_ad
    from tracelight.services.rooms import ad_image_bytes

    max_bytes = settings.get_int("image_max_bytes")
    if query == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputError(f"stdin is over the {max_bytes:,}-byte image limit")
        return [("stdin", data)]
    path = Path(query)
    if path.exists():
        try:
            return [(str(path), read_regular_file(path, max_bytes))]
        except ImageRefused as exc:
            raise InputError(f"{path}: {exc.reason}") from None
    ad = resolve_ad(store, query)  # NotFoundError names what was looked for
    found = ad_image_bytes(store, ad.pk, image_dir=image_dir, max_bytes=max_bytes)
    if not found:
        raise InputError(f"ad {ad.source}/{ad.ad_id} has no kept image to match")
    return [(f"{ad.source}/{ad.ad_id}#{pos}", data) for pos, _sha, data in found]


@rooms.command("match")
@click.argument("query")
@click.option("--k", type=click.IntRange(1, 200), default=20, show_default=True,
              help="Hotels to list.")
@click.option("--draw", "draw_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Write the photo and each hotel's best photo side by side, "
                                 "matched points drawn, as PNGs into this folder.")
@click.option("--exclude", "excludes", multiple=True, metavar="X,Y,W,H",
              help="Leave out a region (fractions of the frame), e.g. the person: "
                   "--exclude 0.3,0.2,0.4,0.8. Repeatable.")
@click.option("--only", "onlys", multiple=True, metavar="X,Y,W,H",
              help="Use only these regions (fractions of the frame). Repeatable.")
@click.option("--no-mask", is_flag=True, help="Do not drop large flat foreground regions.")
@db_option
@_image_dir_option
@_index_dir_option
@format_option()
def rooms_match(query: str, k: int, draw_dir: Path | None, excludes: Sequence[str],
                onlys: Sequence[str], no_mask: bool, db_url: str, image_dir: str | None,
                index_dir: str | None, fmt: str) -> None:
    """The hotels whose rooms look like the photo QUERY (a file, '-' for stdin, or a stored
    ad's reference: its images are matched one by one).

    verified_matches counts the keypoints that agree with one geometry (RANSAC): the reason
    a hotel is listed; 0 means proposed by visual words alone. --draw shows the matches.
    """
    from tracelight.rooms import Region, RoomImageError
    from tracelight.services.rooms import RoomsError, match_photo, png_bytes, side_by_side

    try:
        regions = [Region.parse(t, keep=False) for t in excludes] + \
            [Region.parse(t, keep=True) for t in onlys]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    images, index = _dirs(image_dir, index_dir)
    rows: list[dict[str, Any]] = []
    with store_from(db_url) as store:
        for label, data in _read_query(store, query, images):
            try:
                found, feats, _rgb = match_photo(store, data, index_dir=index, k=k,
                                                 regions=regions, auto_mask=not no_mask)
            except (RoomsError, RoomImageError) as exc:
                raise InputError(f"{label}: {exc}") from None
            for r in found:
                d = r.to_dict()
                d["query"] = label
                if draw_dir is not None and r.inliers > 0:
                    draw_dir.mkdir(parents=True, exist_ok=True)
                    pic, _n = side_by_side(data, feats, r.image_sha256, image_dir=images,
                                           max_bytes=settings.get_int("image_max_bytes"))
                    name = f"match-{len(rows) + 1:03d}-{r.hotel.hotel_id[:40]}.png"
                    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
                    out = draw_dir / safe
                    out.write_bytes(png_bytes(pic))
                    d["drawing"] = str(out)
                rows.append(d)
    cols = MATCH_COLUMNS if fmt == "table" else ("query", *MATCH_CSV)
    emit(rows, fmt, cols, widths={"name": 28, "hotel_id": 12},
         empty="no hotel matched", hint="is the gallery ingested? (tracelight rooms ingest)")


@rooms.command("search")
@click.option("--city", default=None, help="City, as the hotels CSV writes it.")
@click.option("--country", default=None, help="Country code (ISO alpha-2).")
@click.option("--name", "text", default=None, help="A word of the hotel's name or chain.")
@click.option("--limit", type=click.IntRange(1), default=200, show_default=True)
@db_option
@format_option()
def rooms_search(city: str | None, country: str | None, text: str | None, limit: int,
                 db_url: str, fmt: str) -> None:
    """Hotels of the gallery by place (city, country) or name."""
    with store_from(db_url) as store:
        found = store.search_hotels(city=city, country=country, text=text, limit=limit)
        counts = {h.hotel_id: len(store.room_images_of(h.hotel_id)) for h in found}
    rows = [{"hotel_id": h.hotel_id, "name": h.name, "chain": h.chain, "city": h.city,
             "country": h.country, "lat": h.lat, "lon": h.lon, "photos": counts[h.hotel_id]}
            for h in found]
    emit(rows, fmt, (*HOTEL_COLUMNS, "photos") if fmt != "table" else
         ("hotel_id", "name", "city", "country", "photos"), widths={"name": 30},
         empty="no hotel found there")


@rooms.command("ads")
@click.option("--min-matches", type=click.IntRange(10), default=25, show_default=True,
              help="Verified matches for two ad photos to count as the same room.")
@click.option("--link/--no-link", "relink", default=True, show_default=True,
              help="Rebuild the networks with the pairs as medium `room` evidence.")
@click.option("--hotels/--no-hotels", "with_hotels", default=True, show_default=True,
              help="Also match each ad photo against the room gallery (when there is one) "
                   "for the network pages' movement through rooms.")
@db_option
@_image_dir_option
@_index_dir_option
@format_option()
def rooms_ads(min_matches: int, relink: bool, with_hotels: bool, db_url: str,
              image_dir: str | None, index_dir: str | None, fmt: str) -> None:
    """Background search across ads: pairs of ads whose photos show the same room (another
    person, another day), the person masked out.

    Kept for `tracelight link` (medium `room` evidence, under the same contradiction test as
    wording), for the ad page's "same room" panel and, with the ads' photos matched to
    gallery hotels (--hotels), for the network pages' movement through rooms.
    """
    from tracelight.services.link import update_networks
    from tracelight.services.rooms import (
        ad_hotel_matches,
        build_ad_index,
        load_index,
        room_edges,
        same_room_pairs,
        save_ad_hotels,
        save_pairs,
    )

    images, index = _dirs(image_dir, index_dir)
    with store_from(db_url) as store, progress_bar(total=None, unit="photos") as prog:
        task = prog.add_task("indexing ad photos", total=None, info="")
        idx, refs = build_ad_index(store, image_dir=images, index_dir=index,
                                   max_bytes=settings.get_int("image_max_bytes"),
                                   progress=lambda n: prog.advance(task, n))
        pairs = []
        if idx is not None:
            task2 = prog.add_task("comparing backgrounds", total=len(idx), info="")
            pairs = same_room_pairs(idx, refs, min_inliers=min_matches,
                                    progress=lambda n: prog.advance(task2, n))
        save_pairs(index, pairs)
        gallery = load_index(index) if with_hotels and idx is not None else None
        if gallery is not None and idx is not None and len(gallery):
            task3 = prog.add_task("matching ad photos to hotels", total=len(idx), info="")
            found = ad_hotel_matches(idx, gallery, refs, min_inliers=min_matches,
                                     progress=lambda n: prog.advance(task3, n))
            save_ad_hotels(index, found)
            stderr.print(f"{len(found)} ad(s) whose photos match a gallery hotel",
                         markup=False, highlight=False)
        else:  # no stale matches of an earlier run
            save_ad_hotels(index, [])
        if relink and store.ad_versions():
            result, _mode = update_networks(store, rebuild=True,
                                            external_edges=room_edges(store, pairs))
            stderr.print(f"networks rebuilt: {result.stats.get('external_used', 0)} "
                         f"of {len(pairs)} same-room pair(s) used as evidence",
                         markup=False, highlight=False)
    emit((p.to_dict() for p in pairs), fmt, PAIR_COLUMNS if fmt == "table" else
         ("a", "b", "verified_matches", "confidence", "a_sha256", "b_sha256"),
         empty="no two ads show the same room")
