"""A real browser (Debian's Chromium through Playwright) drives the workspace end to end:
log in, search a phone, open an ad, open its network, add it to a case, export the case.

Set TRACELIGHT_SCREENSHOTS=/some/folder to keep a PNG of every page visited.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from web_helpers import PASSWORD, Facts, build_store, facts, make_app

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser


def _chromium_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


NETWORK: dict[str, str] = {}  # the label of the first phone group's network


@pytest.fixture(scope="module")
def F(demo_corpus_dir: Path) -> Facts:
    return facts(demo_corpus_dir)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_corpus_dir: Path,
           F: Facts) -> Iterator[str]:
    problem = _chromium_problem()
    if problem:
        pytest.skip(problem)
    import uvicorn

    from tracelight.services.link import update_networks

    tmp = tmp_path_factory.mktemp("browser")
    store = build_store(tmp, demo_corpus_dir)
    update_networks(store)  # the real linker: ads sharing a phone become one network
    nid = store.network_id_of(F.pk(F.phone_ids[0]))
    assert nid is not None and {F.pk(i) for i in F.phone_ids} <= set(store.member_pks(nid))
    from tracelight.services.networks import get_network

    NETWORK["label"] = get_network(store, nid).label  # its readable name, as pages show it
    app = make_app(store, tmp)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    store.close()


def test_investigation_flow_in_chromium(server: str, tmp_path: Path, F: Facts) -> None:
    from playwright.sync_api import sync_playwright

    shots = os.environ.get("TRACELIGHT_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    def shot(page: Any, name: str) -> None:
        if shots:
            page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(accept_downloads=True, viewport={"width": 1360,
                                                                        "height": 900})
        page = context.new_page()
        # any CSP violation or script error shows in the console: the test fails on them
        page.on("console", lambda m: problems.append(f"{page.url}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        # nothing may be fetched from anywhere but the workspace itself
        page.on("request", lambda r: None if r.url.startswith(server) or r.url.startswith(
            ("data:", "blob:")) else problems.append(f"external request {r.url}"))

        page.goto(server + "/queue")
        assert "/login" in page.url
        shot(page, "01-login")
        page.fill("input[name=username]", "bo")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server + "/queue")
        assert page.locator("table.ads tbody tr").count() == 50
        shot(page, "02-queue")

        page.click("nav >> text=Search")
        page.select_option("select[name=kind]", "phone")
        page.fill("input[name=q]", F.phone_written)
        page.fill("input[name=reason]", "tip from hotline")
        page.click("form.search button[type=submit]")
        page.wait_for_selector(f"text={len(F.phone_ids)} ads")
        shot(page, "03-search-phone")

        page.click("table.ads tbody tr >> nth=0 >> a")
        page.wait_for_selector("text=Why this is a lead")
        assert page.locator("mark.m-ident").count() >= 1
        shot(page, "04-ad")
        page.click("text=Reveal (audited)")
        page.wait_for_selector("img.revealed")
        shot(page, "05-ad-image-revealed")

        page.click(f"aside >> text={NETWORK['label']}")
        page.wait_for_selector("#graph canvas")
        page.wait_for_timeout(500)
        shot(page, "06-network")
        assert page.locator("ol.itinerary li").count() >= 1

        page.fill("form.add-case input[name=new_title]", "Hotline tip 42")
        page.click("form.add-case button[type=submit]")
        page.wait_for_selector("h1:has-text('Hotline tip 42')")
        assert page.locator(f"text={NETWORK['label']}").count() >= 1
        shot(page, "07-case")

        with page.expect_download() as dl:
            page.click("text=Export (CSV + JSON evidence + SHA-256 manifest)")
        target = tmp_path / "case.zip"
        dl.value.save_as(target)
        assert set(zipfile.ZipFile(target).namelist()) == {"case.csv", "evidence.json",
                                                           "manifest.sha256"}

        for name, url in [("08-cases", "/cases"), ("09-watchlists", "/watchlists"),
                          ("10-networks", "/networks"), ("11-account", "/account"),
                          ("12-api-docs", "/api/docs")]:
            page.goto(server + url)
            shot(page, name)
        page.click("text=Log out")
        page.wait_for_url("**/login")
        # an admin sees the audit log with what the analyst did
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(server + "/audit")
        assert page.locator("text=tip from hotline").count() >= 1
        shot(page, "13-audit")
        page.goto(server + "/nothing")
        shot(page, "14-not-found")
        browser.close()
    real = [p for p in problems if "404" not in p]  # the deliberate not-found page
    assert not real, real
