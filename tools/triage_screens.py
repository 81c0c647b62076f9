"""Screenshots of the triage queue at 1366x900 with Debian's Chromium, for docs/screens/.

Starts `tracelight serve` on a free 127.0.0.1 port over an existing linked and scored store
with an analyst, logs in, and saves: the queue with ads selected (the bulk-action bar lit),
a network closed at once (the count of its ads), the "mine" view, "What's new" since the last
visit, and the About page (model card, data facts). Never downloads a browser:

    python tools/triage_screens.py --db sqlite:////tmp/demo/demo.db --user bo \\
        --password-file pw.txt --out docs/screens

`--build DIR` first makes such a store in DIR from the demo generator, in two steps so "since
my last visit" has something to show: the first ads are ingested, linked and scored; the
analyst `bo` holds the riskiest network, watches a phone and marks the visit seen; analysts'
verdicts on random ads train a candidate (promoted by the admin `ana` when it is better);
then the remaining ads arrive (new ads in the held network, networks that grow, a watchlist
hit).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from workspace_screens import save_screenshot, signed_in


def build(folder: Path, n_ads: int = 800, first: int = 640) -> tuple[str, Path]:
    """The staged demo store described in the module help: (db URL, password file)."""
    import json
    import random

    from tracelight.demo import generate
    from tracelight.score.catalogue import load_catalogue
    from tracelight.services import digest, review, review_train
    from tracelight.services.ingest import ingest
    from tracelight.services.link import update_networks
    from tracelight.services.rescore import network_context, rescore
    from tracelight.store import open_store
    from tracelight.store.accounts import Accounts
    from tracelight.store.cases import Watchlists
    from tracelight.web.auth import hash_password

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus"
    generate(corpus, n_ads=n_ads, seed=7, images=False, network_labels=True)
    lines = (corpus / "ads.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    truth = {json.loads(t)["id"]: json.loads(t) for t in
             (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()}
    (folder / "part1.jsonl").write_text("".join(lines[:first]), encoding="utf-8")
    (folder / "part2.jsonl").write_text("".join(lines[first:]), encoding="utf-8")
    url = f"sqlite:///{folder / 'triage.db'}"
    cat = load_catalogue()
    store = open_store(url)
    try:
        password = "triage screens 2026"
        (folder / "pw.txt").write_text(password + "\n", encoding="utf-8")
        accounts = Accounts(store)
        accounts.add_user("bo", hash_password(password), "analyst")
        accounts.add_user("ana", hash_password(password), "admin")

        def stage(path: Path) -> None:
            ingest(store, [str(path)])
            update_networks(store)
            rescore(store, catalogue=cat)
            network_context(store, catalogue=cat)

        stage(folder / "part1.jsonl")
        later = [json.loads(x) for x in lines[first:]]
        nets = {n: truth[a["id"]]["network_id"] for n, a in enumerate(later)}
        linked = store.network_ids_of([a.pk for a in store.iter_ads()])
        by_truth: dict[str, str] = {}
        for a in store.iter_ads():
            t = truth.get(a.ad_id, {}).get("network_id")
            if t and a.pk in linked:
                by_truth.setdefault(t, linked[a.pk])
        held = next((by_truth[t] for t in nets.values() if t in by_truth), None)
        if held:
            review.assign(store, [f"network:{held}"], "bo", "bo", via_cli=False)
        phone = next((p for a in later for p in truth[a["id"]].get("phones", [])), None)
        if phone:
            Watchlists(store).add("bo", "phone", phone, "seen in a case")
        rng = random.Random(7)
        ads = [a for a in store.iter_ads() if truth.get(a.ad_id, {}).get("label") is not None]
        picked = rng.sample(ads, min(260, len(ads)))
        pos = [f"{a.source}/{a.ad_id}" for a in picked if truth[a.ad_id]["label"] == 1]
        neg = [f"{a.source}/{a.ad_id}" for a in picked if truth[a.ad_id]["label"] == 0]
        review.mark(store, pos, "escalated", "bo", via_cli=False)
        review.mark(store, neg, "no concern", "bo", reason=review.REASONS[0], via_cli=False)
        models = folder / "models"
        rep = review_train.train_from_reviews(store, cat, models, "bo", folds=5)
        if rep.version is not None:
            review_train.promote(store, models, rep.version, "ana")
        digest.mark_seen(store, "bo", None, how="build")
        stage(folder / "part2.jsonl")
    finally:
        store.close()
    return url, folder / "pw.txt"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db")
    ap.add_argument("--user", default="bo")
    ap.add_argument("--password-file", type=Path)
    ap.add_argument("--build", type=Path, metavar="DIR",
                    help="first build the staged demo store in DIR (see above)")
    ap.add_argument("--out", default="docs/screens", type=Path)
    args = ap.parse_args()
    if args.build:
        args.db, args.password_file = build(args.build)
        os.environ["TRACELIGHT_MODEL_DIR"] = str(args.build / "models")
    if not args.db or not args.password_file:
        ap.error("give --db and --password-file, or --build DIR")
    password = args.password_file.read_text(encoding="utf-8").strip()
    args.out.mkdir(parents=True, exist_ok=True)
    with signed_in(args.db, args.user, password) as (page, base):

        def shot(name: str) -> None:
            save_screenshot(page, args.out, name)

        page.goto(base + "/queue")
        boxes = page.locator("tr.qrow td:first-child input.sel")
        boxes.nth(1).click()
        boxes.nth(4).click(modifiers=["Shift"])  # a range: rows 2 to 5
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("w")  # and the whole network of the second row
        page.select_option("select[name=reason]", index=2)
        shot("triage-queue-selected")
        page.keyboard.press("w")
        for i in range(1, 5):
            boxes.nth(i).uncheck()
        page.locator("aside input.sel").first.check()
        page.select_option("select[name=state]", "escalated")
        page.click("button[value=mark]")
        page.wait_for_load_state()
        shot("triage-network-closed")
        boxes.nth(0).check()
        boxes.nth(2).check()
        page.fill("input[name=to]", args.user)
        page.click("button[value=assign]")
        page.wait_for_load_state()
        page.goto(base + "/queue?view=mine")
        shot("triage-mine")
        page.goto(base + "/new")
        shot("triage-since-last-visit")
        page.goto(base + "/about")
        shot("triage-about")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
