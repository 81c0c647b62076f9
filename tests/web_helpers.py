"""Shared set-up for the web tests: a store built by the real pipeline from demo ads (extract,
hash images, score; link when asked), users of every role, login, and the facts about the
corpus (from its ground truth) that the tests check the pages against."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from tracelight.demo import generate
from tracelight.ingest.runner import ingest
from tracelight.pipeline import PipelineOptions
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.web import auth
from tracelight.web.app import create_app
from tracelight.web.auth import LoginLimiter, hash_password

PASSWORD = "correct horse battery"
DEMO_ADS = 120
DEMO_SEED = 7

# Tests hash with cheap argon2 parameters (the hash records them, so verifying is cheap too);
# the product keeps argon2-cffi's defaults.
auth._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
auth._DUMMY_HASH = auth._hasher.hash("tracelight-dummy-password")  # unknown names: cheap too
USERS = {"ana": "admin", "bo": "analyst", "cy": "viewer", "dee": "analyst"}


def demo_corpus(folder: Path, n_ads: int = DEMO_ADS, *, images: bool = True) -> Path:
    """The demo corpus (ads.jsonl, truth.jsonl, images/) in `folder`, generated once."""
    if not (folder / "truth.jsonl").is_file():
        generate(folder, n_ads=n_ads, seed=DEMO_SEED, images=images)
    return folder


def ingest_demo(store: Any, corpus: Path, image_dir: Path | None = None) -> None:
    """Run the real ingest pipeline over the corpus: extract, hash images, score."""
    ingest(store, [str(corpus / "ads.jsonl")], workers=1,
           options=PipelineOptions(images=image_dir is not None,
                                   image_dir=str(image_dir) if image_dir else None))


def build_store(tmp: Path, corpus: Path, *, link: bool = False) -> Any:
    store = open_store(f"sqlite:///{tmp / 'web.db'}")
    ingest_demo(store, corpus, tmp / "images")
    if link:
        from tracelight.services.link import update_networks

        update_networks(store)
    accounts = Accounts(store)
    for name, role in USERS.items():
        accounts.add_user(name, hash_password(PASSWORD), role)
    accounts.set_disabled("dee", True)
    return store


def make_app(store: Any, tmp: Path) -> Any:
    return create_app(store, image_dir=str(tmp / "images"), secret_key="test-secret",
                      limiter=LoginLimiter())


def login_token(client: Any) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    token = login_token(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, "next": "/queue"},
                       follow_redirects=False)


def csrf(client: Any, page: str = "/cases") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text).group(1)


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


@dataclass
class Facts:
    """What the ground truth says about the demo corpus: the expected answers."""

    n_ads: int
    ids: list[str]  # in ingest order: ids[pk - 1]
    phone: str  # the phone shared by the most ads (E.164)
    phone_written: str  # ... as one ad writes it in plain digits
    phone_ids: list[str]  # the ads carrying it
    email: str
    email_ids: list[str]
    handle: str  # "platform:handle" of a handle shared by several ads
    handle_ids: list[str]
    city: str
    category: str
    source: str
    name: str  # a first name in the text
    name_ids: list[str]
    image_id: str  # the first ad with a picture, carrying a shared phone
    network_ad_id: str  # an ad whose phone other ads share, with a picture
    by_id: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)

    def pk(self, ad_id: str) -> int:
        return self.ids.index(ad_id) + 1


@cache
def facts(corpus: Path) -> Facts:
    ads = [json.loads(line) for line in
           (corpus / "ads.jsonl").read_text(encoding="utf-8").splitlines()]
    truth = [json.loads(line) for line in
             (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    by_id = {a["id"]: {**a, "truth": t} for a, t in zip(ads, truth, strict=True)}
    hubs = {p for t in truth for p in t["hub_phones"]}

    def carrying(pred: Any) -> list[str]:
        return [t["id"] for t in truth if pred(t)]

    phones = Counter(p for t in truth for p in set(t["phones"]) if p not in hubs)
    phone = phones.most_common(1)[0][0]
    written = next(x["raw"] for t in truth for x in t["phone_text"]
                   if x["phone"] == phone and x["style"] == "plain")
    emails = Counter(e for t in truth for e in set(t["emails"]))
    email = emails.most_common(1)[0][0]
    handles = Counter(f"{s['platform']}:{s['handle'].lower()}" for t in truth
                      for s in t["social"])
    handle = handles.most_common(1)[0][0]
    names = Counter(n for t in truth for n in set(t["names"]))
    name = next(n for n, _ in names.most_common() if re.fullmatch(r"[A-Za-z]+", n))
    shared = {p for p, n in phones.items() if n > 1}
    with_image = [t["id"] for t in truth if by_id[t["id"]]["images"] and set(t["phones"]) & shared]
    return Facts(
        n_ads=len(ads), ids=[a["id"] for a in ads], phone=phone, phone_written=written,
        phone_ids=carrying(lambda t: phone in t["phones"]), email=email,
        email_ids=carrying(lambda t: email in t["emails"]), handle=handle,
        handle_ids=carrying(lambda t: any(f"{s['platform']}:{s['handle'].lower()}" == handle
                                          for s in t["social"])),
        city=Counter(t["city"] for t in truth).most_common(1)[0][0],
        category=Counter(a["category"] for a in ads).most_common()[-1][0],
        source=ads[0]["source"], name=name,
        name_ids=[a["id"] for a in ads if name.lower() in words(a["title"] + " " + a["body"])],
        image_id=with_image[0], network_ad_id=with_image[-1], by_id=by_id)
