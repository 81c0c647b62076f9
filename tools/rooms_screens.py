"""Screenshots of the workspace's room matching (docs/screens/rooms*.png), with Chromium.

Builds a small synthetic room gallery in WORK (demo/rooms.py: non-explicit, made by our own
code), ingests it, adds a user, serves it on a free 127.0.0.1 port, uploads one occluded query
photo and saves the result page (candidates, the latitude/longitude plot, the blurred
side-by-side), then the same with the photos revealed. Never downloads a browser:

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
