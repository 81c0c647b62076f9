"""Screenshots of the triage queue at 1366x900 with Debian's Chromium, for docs/screens/.

Starts `tracelight serve` on a free 127.0.0.1 port over an existing linked and scored store
with an analyst, logs in, and saves: the queue with ads selected (the bulk-action bar lit),
a network closed at once (the count of its ads), the "mine" view and "What's new". Never downloads a
browser:

    python tools/triage_screens.py --db sqlite:////tmp/demo/demo.db --user bo \\
        --password-file pw.txt --out docs/screens
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from workspace_screens import CHROMIUM, free_port, save_screenshot, wait_up


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True, type=Path)
    ap.add_argument("--out", default="docs/screens", type=Path)
    args = ap.parse_args()
    password = args.password_file.read_text(encoding="utf-8").strip()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "tracelight", "serve", "--db", args.db,
                               "--port", str(port)],
                              env={**os.environ, "TRACELIGHT_DB": args.db})
    try:
        wait_up(base)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1366, "height": 900})

            def shot(name: str) -> None:
                save_screenshot(page, args.out, name)

            page.goto(base + "/login")
            page.fill("input[name=username]", args.user)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.goto(base + "/queue")
            boxes = page.locator("tr.qrow input.sel")
            boxes.nth(1).click()
            boxes.nth(4).click(modifiers=["Shift"])  # a range: rows 2 to 5
            page.keyboard.press("j")
            page.select_option("select[name=reason]", index=2)
            shot("triage-queue-selected")
            for i in range(1, 5):
                boxes.nth(i).uncheck()
            page.locator("aside input.sel").first.check()
            page.select_option("select[name=state]", "escalated")
            page.click("button[value=mark]")
            page.wait_for_load_state()
            shot("triage-network-closed")
            page.locator("tr.qrow input.sel").nth(0).check()
            page.locator("tr.qrow input.sel").nth(2).check()
            page.fill("input[name=to]", args.user)
            page.click("button[value=assign]")
            page.wait_for_load_state()
            page.goto(base + "/queue?view=mine")
            shot("triage-mine")
            page.goto(base + "/new?since=30d")
            shot("triage-whats-new")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
