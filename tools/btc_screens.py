"""Screenshots of the Bitcoin owner page and the author / wallet-owner evidence on an ad and a
network page, at 1366x900 with Debian's Chromium, for docs/screens/.

Starts `tracelight serve` on a free 127.0.0.1 port over a store where `tracelight authorship
link`, `tracelight btc match` and `tracelight link` have run (docs/authorship.md), logs in and
saves btc-owner.png (the owner whose ads are most numerous), btc-ad.png (one of its ads) and
btc-network.png (that ad's network). Never downloads a browser:

    python tools/btc_screens.py --db sqlite:////tmp/site/site.db --user ana \\
        --password-file pw.txt --out docs/screens
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from workspace_screens import save_screenshot, signed_in


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True, type=Path)
    ap.add_argument("--out", default="docs/screens", type=Path)
    args = ap.parse_args()
    password = args.password_file.read_text(encoding="utf-8").strip()
    args.out.mkdir(parents=True, exist_ok=True)
    from tracelight.store import open_store

    store = open_store(args.db)
    try:
        attrs = store.btc_attributions()
        owner = Counter(a.owner for a in attrs).most_common(1)[0][0]
        pk = next(a.ad_pk for a in attrs if a.owner == owner)
        source, ad_id = store.ad_refs([pk])[pk]
        net = store.network_id_of(pk)
    finally:
        store.close()
    with signed_in(args.db, args.user, password) as (page, base):
        page.goto(f"{base}/btc/owners/{urllib.parse.quote(owner, safe='')}")
        save_screenshot(page, args.out, "btc-owner")
        page.goto(f"{base}/ads/{urllib.parse.quote(source)}/{urllib.parse.quote(ad_id)}")
        page.locator("text=Who wrote it and who paid").scroll_into_view_if_needed()
        save_screenshot(page, args.out, "btc-ad")
        if net:
            page.goto(f"{base}/networks/{net}")
            page.locator("text=What links these ads").scroll_into_view_if_needed()
            save_screenshot(page, args.out, "btc-network")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
