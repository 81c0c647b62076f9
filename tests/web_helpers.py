"""Shared set-up for the web tests: a store with synthetic ads, users of every role, login."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.store.blobs import ImageStore
from tracelight.web import auth
from tracelight.web.app import create_app
from tracelight.web.auth import LoginLimiter, hash_password
from tracelight.web.sample import make_ads, sample_image

PASSWORD = "correct horse battery"

# Tests hash with cheap argon2 parameters (the hash records them, so verifying is cheap too);
# the product keeps argon2-cffi's defaults.
auth._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
auth._DUMMY_HASH = auth._hasher.hash("tracelight-dummy-password")  # unknown names: cheap too
USERS = {"ana": "admin", "bo": "analyst", "cy": "viewer", "dee": "analyst"}


def build_store(tmp: Path, n_ads: int = 120) -> Any:
    image_dir = tmp / "images"
    image_dir.mkdir()
    kept = ImageStore(image_dir)
    for group in range(n_ads // 8 + 1):
        kept.put(sample_image(group))  # plain colour squares: stand-ins for ad photos
    store = open_store(f"sqlite:///{tmp / 'web.db'}")
    store.write_batch(None, list(make_ads(n_ads, with_images=True)))
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
