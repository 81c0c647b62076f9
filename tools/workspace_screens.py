"""Screenshots of the workspace at 1366x900 with Debian's Chromium, for docs/screens/.

Starts `tracelight serve` on a free 127.0.0.1 port over an existing store (a demo store:
`tracelight demo-generate`, `ingest`, `link`, `user add`), logs in, opens the queue, the
networks list, a network (graph, then its map), an ad (with a revealed image), a text search
and a case, saves one PNG each (under 300 KB), and stops the server. Never downloads a browser:

    python tools/workspace_screens.py --db sqlite:////tmp/demo/demo.db --user ana \\
        --password-file pw.txt --out docs/screens [--case 1] [--network ID] [--ad PK]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
LIMIT = 300 * 1024  # bytes per screenshot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not answer within {seconds:.0f} s")


def save_screenshot(page: Any, out: Path, name: str) -> Path:
    """The page as out/NAME.png, reduced to 256 colours when over LIMIT (text stays sharp,
    files stay small)."""
    path = out / f"{name}.png"
    page.screenshot(path=str(path), type="png")
    if path.stat().st_size > LIMIT:
        from PIL import Image
        with Image.open(path) as img:
            img.convert("RGB").quantize(256).save(path, optimize=True)
    print(f"{path}  {path.stat().st_size // 1024} KB")
    return path


@contextmanager
def signed_in(db: str, user: str, password: str, *, cwd: str | Path = ".",
              env: Mapping[str, str] | None = None) -> Iterator[tuple[Any, str]]:
    """Serve `db` on a free 127.0.0.1 port, open Debian's Chromium at 1366x900 and sign in
    as `user`; yield (page, base URL); close the browser and stop the server afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "tracelight", "serve", "--db", db,
                               "--port", str(port)], cwd=cwd,
                              env={**os.environ, **(env or {}), "TRACELIGHT_DB": db})
    try:
        wait_up(base)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(base + "/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url("**/queue")
            try:
                yield page, base
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True, type=Path)
    ap.add_argument("--out", default="docs/screens", type=Path)
    ap.add_argument("--cwd", default=".", help="folder to serve from (its image store)")
    ap.add_argument("--case", type=int, default=1)
    ap.add_argument("--network", help="network id to show (default: the riskiest with 3+ "
                    "places)")
    ap.add_argument("--ad", type=int, help="ad pk to show (default: the queue's first)")
    ap.add_argument("--search", default="new in town")
    args = ap.parse_args()
    password = args.password_file.read_text(encoding="utf-8").strip()
    args.out.mkdir(parents=True, exist_ok=True)
    with signed_in(args.db, args.user, password, cwd=args.cwd) as (page, base):

        def shot(name: str) -> None:
            save_screenshot(page, args.out, name)

        shot("queue")
        page.goto(base + "/networks")
        shot("networks")
        nid = args.network
        if not nid:
            import json
            with urllib.request.urlopen(urllib.request.Request(
                    base + "/api/networks?limit=500",
                    headers={"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in
                                                 page.context.cookies())})) as r:
                nets = json.load(r)["results"]
            nid = next((n["id"] for n in nets if len(n["places"]) >= 3), nets[0]["id"])
        page.goto(f"{base}/networks/{nid}")
        page.wait_for_selector("#graph canvas")
        page.wait_for_timeout(800)
        shot("network")
        page.locator("h2:has-text('Itinerary')").scroll_into_view_if_needed()
        page.evaluate("document.querySelector('figure.itinerary-map')"
                      ".scrollIntoView({block: 'start'})")
        page.evaluate("window.scrollBy(0, -60)")
        shot("network-map")
        if args.ad:
            page.goto(f"{base}/ads/{args.ad}")
        else:
            page.goto(base + "/queue")
            page.click("table.ads tbody tr >> nth=0 >> a")
        page.wait_for_selector("text=Why this is a lead")
        if page.locator("text=Reveal (audited)").count():
            page.locator("text=Reveal (audited)").first.click()
            page.wait_for_selector("img.revealed")
            page.wait_for_timeout(300)
        shot("ad")
        if page.locator("a:has-text('full size (audited)')").count():
            page.locator("a:has-text('full size (audited)')").first.click()
            page.wait_for_selector("figure.fullsize img")
            shot("image-full")
        page.goto(f"{base}/search?kind=q&q={args.search.replace(' ', '+')}")
        shot("search")
        page.goto(f"{base}/cases/{args.case}")
        shot("case")
        page.goto(base + "/account")
        shot("account")
        page.goto(base + "/api/docs")
        page.locator("code:has-text('/api/cases')").first.scroll_into_view_if_needed()
        shot("api-docs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
