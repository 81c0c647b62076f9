"""Screenshot of a network page's risk parts (docs/screens/network-risk.png), with Debian's
Chromium, over an existing store (see tools/workspace_screens.py, whose helpers it uses):

    python tools/network_risk_screen.py --db sqlite:////tmp/demo/demo.db --user ana \\
        --password-file pw.txt [--network ID] [--out docs/screens]

Opens the riskiest network (or --network), scrolls to "How this network's risk is
computed" and saves one PNG. Never downloads a browser.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workspace_screens import save_screenshot, signed_in


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True, type=Path)
    ap.add_argument("--out", default="docs/screens", type=Path)
    ap.add_argument("--network", help="network id (default: the riskiest with 5+ ads)")
    args = ap.parse_args()
    password = args.password_file.read_text(encoding="utf-8").strip()
    args.out.mkdir(parents=True, exist_ok=True)
    with signed_in(args.db, args.user, password) as (page, base):
        nid = args.network
        if not nid:
            cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
            with urllib.request.urlopen(urllib.request.Request(
                    base + "/api/networks?limit=100&sort=risk",
                    headers={"Cookie": cookie})) as r:
                nets = json.load(r)["results"]
            nid = next((n["id"] for n in nets if (n.get("size") or 0) >= 5), nets[0]["id"])
        page.goto(f"{base}/networks/{nid}")
        page.wait_for_selector("#risk-parts")
        page.wait_for_timeout(800)
        save_screenshot(page, args.out, "network-risk")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
