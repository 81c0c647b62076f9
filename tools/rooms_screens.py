"""Screenshots of the workspace's room matching (docs/screens/rooms*.png), with Chromium.

Builds a small synthetic room gallery in WORK (demo/rooms.py: non-explicit, made by our own
code), ingests it, adds a user, serves it on a free 127.0.0.1 port, uploads one occluded query
photo and saves the result page (candidates, the latitude/longitude plot, the blurred
side-by-side), then the same with the photos revealed; attaches the photo to a new case (the
case page); adds three ads photographed in one hotel room on three days in three cities, runs
the background search (`tracelight rooms ads`) and saves the network's movement through rooms
and the ad page's "same room" panel. Never downloads a browser:

    python tools/rooms_screens.py --work /tmp/rooms-shots --out docs/screens
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from workspace_screens import save_screenshot, signed_in

PASSWORD = "rooms screenshot pw"


def add_room_ads(db: str, image_dir: Path, seed: int, hotels: int, chains: int) -> None:
    """Three ads in the room of hotel 1 (another person, day and city each), one phone."""
    from datetime import UTC, datetime, timedelta

    from tracelight.blobs import ImageStore
    from tracelight.demo import rooms as gen
    from tracelight.images import hash_bytes
    from tracelight.records import AdRecord, Mention, ProcessedAd
    from tracelight.store import open_store

    store = open_store(db)
    try:
        if store.ad_versions():
            return
        hotel = gen.hotels(seed, hotels, chains)[1]
        blobs = ImageStore(image_dir)
        batch = []
        for i, city in enumerate(("Denver", "Salt Lake City", "Boise")):
            data, _ = gen.query_photo(seed, hotel, 60 + i)
            info = hash_bytes(data, original=f"room{i}.jpg")
            info = type(info)(**{**{f: getattr(info, f) for f in info.__slots__},
                                 "stored_path": blobs.put(data)})
            body = f"new in {city} {'this week' if i else 'tonight'}, text 206-555-0140"
            at = body.index("206")
            batch.append(ProcessedAd(AdRecord(
                id=f"room-{i}", source="board", title=f"New in {city}, this week only",
                body=body, location=city,
                posted_at=datetime(2026, 3, 1, 20, tzinfo=UTC) + timedelta(days=3 * i)),
                mentions=[Mention("phone", "+12065550140", "body", at, at + 12)],
                images=[info]))
        store.write_batch(None, batch)
    finally:
        store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--out", default="docs/screens", type=Path)
    ap.add_argument("--hotels", type=int, default=24)
    args = ap.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{work / 'rooms.db'}"
    env = {**os.environ, "TRACELIGHT_DB": db, "TRACELIGHT_IMAGE_DIR": str(work / "img"),
           "TRACELIGHT_ROOMS_INDEX_DIR": str(work / "idx")}
    from tracelight.demo.rooms import write_gallery

    if not (work / "g" / "hotels.csv").is_file():
        write_gallery(work / "g", hotels=args.hotels, chains=4, photos=4, queries=2, seed=3)
        subprocess.run([sys.executable, "-m", "tracelight", "rooms", "ingest",
                        str(work / "g" / "gallery"), "--hotels", str(work / "g" / "hotels.csv"),
                        "--words", "512"], env=env, check=True)
        subprocess.run([sys.executable, "-m", "tracelight", "user", "add", "ana", "--role",
                        "admin", "--password-stdin"], env=env, check=False,
                       input=PASSWORD + "\n", text=True)
    add_room_ads(db, work / "img", 3, args.hotels, 4)
    subprocess.run([sys.executable, "-m", "tracelight", "rooms", "ads", "--min-matches", "15",
                    "--format", "jsonl"], env=env, check=True, stdout=subprocess.DEVNULL)
    args.out.mkdir(parents=True, exist_ok=True)
    with signed_in(db, "ana", PASSWORD, env=env) as (page, base):
        for name, reveal in (("rooms", False), ("rooms-revealed", True)):
            page.goto(base + "/rooms")
            page.set_input_files("input[name=photo]", str(work / "g" / "queries" /
                                                           "q00000.jpg"))
            page.fill("input[name=reason]", "screenshot")
            if reveal:
                page.check("input[name=reveal]")
            page.click("button:has-text('Find the hotel')")
            page.wait_for_selector("text=Hotel candidates", timeout=120_000)
            save_screenshot(page, args.out, name)
            page.locator("h2:has-text('Why')").scroll_into_view_if_needed()
            save_screenshot(page, args.out, name + "-pairs")
        # attach the (last) photo to a new case: the photo and its candidates kept only now
        page.locator("#attach").evaluate("e => e.scrollIntoView()")
        save_screenshot(page, args.out, "rooms-attach")
        page.fill("#attach input[name=new_title]", "Hotel room photo from tip 42")
        page.click("button:has-text('Attach photo and candidates')")
        page.wait_for_selector("text=Room photo", timeout=60_000)
        save_screenshot(page, args.out, "rooms-case")
        # the network of the three ads: its movement through rooms
        page.goto(base + "/ads/board/room-0")
        page.locator("h2:has-text('Same room')").evaluate("e => e.scrollIntoView()")
        save_screenshot(page, args.out, "rooms-same-room")
        net = page.locator("a[href^='/networks/']").first.get_attribute("href")
        page.goto(base + str(net))
        page.locator("#rooms").evaluate("e => e.scrollIntoView()")
        save_screenshot(page, args.out, "rooms-network")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
