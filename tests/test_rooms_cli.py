"""The room gallery end to end: store tables on both backends, `tracelight rooms ...`, the
background search feeding networks (`room` evidence), and the workspace upload (audited,
never stored)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image

from tracelight.blobs import ImageStore
from tracelight.cli.main import cli
from tracelight.demo import rooms as gen
from tracelight.images import hash_bytes
from tracelight.link import LinkAd, link_batch
from tracelight.link.evidence import MEDIUM
from tracelight.link.external import ExternalEdge
from tracelight.records import AdRecord, Mention, ProcessedAd
from tracelight.store import open_store
from tracelight.store.rooms import Hotel, RoomImage

SEED = 5


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small gallery (4 hotels of 2 chains x 3 photos) ingested through the CLI."""
    tmp = tmp_path_factory.mktemp("rooms")
    gen.write_gallery(tmp / "g", hotels=4, chains=2, photos=3, queries=3, seed=SEED)
    env = {"db": f"sqlite:///{tmp / 'r.db'}", "images": str(tmp / "img"),
           "index": str(tmp / "idx"), "tmp": tmp}
    r = CliRunner().invoke(cli, ["rooms", "ingest", str(tmp / "g" / "gallery"), "--hotels",
                                 str(tmp / "g" / "hotels.csv"), "--words", "256", "--db",
                                 env["db"], "--image-dir", env["images"], "--index-dir",
                                 env["index"]])
    assert r.exit_code == 0, r.output
    env["summary"] = json.loads(r.stdout.strip().splitlines()[-1])
    env["truth"] = [json.loads(x) for x in
                    (tmp / "g" / "queries.jsonl").read_text().splitlines()]
    return env


def _err(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run through the real entry point: (exit code, stderr)."""
    from tracelight.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code or 0), capsys.readouterr().err


def _args(env: dict[str, Any]) -> list[str]:
    return ["--db", env["db"], "--image-dir", env["images"], "--index-dir", env["index"]]


def test_store_keeps_hotels_and_photos(db_url: str) -> None:
    store = open_store(db_url)
    try:
        assert store.upsert_hotels([Hotel("h1", "Inn One", "Inn", None, "Denver", "US", 39.7,
                                          -105.0), Hotel("h2", "Two", None, None, "Paris",
                                                         "FR", None, None)]) == (2, 0)
        assert store.upsert_hotels([Hotel("h1", "Inn One (renamed)", city="Denver")]) == (0, 1)
        sha = "a" * 64
        assert store.add_room_images([RoomImage(sha, "h1", 10, 10, 5, "x.jpg")] * 2) == 1
        assert store.add_room_images([RoomImage(sha, "h1", 10, 10, 5, "x.jpg")]) == 0
        assert [h.hotel_id for h in store.search_hotels(city="denver")] == ["h1"]
        assert [h.hotel_id for h in store.search_hotels(country="fr")] == ["h2"]
        assert store.search_hotels(text="renamed")[0].name == "Inn One (renamed)"
        assert store.room_counts() == (2, 1) and store.room_images_known([sha]) == {sha}
        assert [i.sha256 for i in store.iter_room_images()] == [sha]
    finally:
        store.close()


@pytest.mark.slow
def test_ingest_is_deduplicated_and_content_addressed(gallery: dict[str, Any]) -> None:
    s = gallery["summary"]
    assert s["hotels_added"] == 4 and s["photos_added"] == 12 and s["indexed"] == 12
    kept = [p for p in Path(gallery["images"]).rglob("*") if p.is_file()]
    assert len(kept) == 12 and all(len(p.name) == 64 for p in kept)
    r = CliRunner().invoke(cli, ["rooms", "ingest", str(gallery["tmp"] / "g" / "gallery"),
                                 "--hotels", str(gallery["tmp"] / "g" / "hotels.csv"),
                                 *_args(gallery)])
    again = json.loads(r.stdout.strip().splitlines()[-1])
    assert again["photos_added"] == 0 and again["duplicates"] == 12 and again["indexed"] == 12


@pytest.mark.slow
def test_match_lists_the_hotel_with_verified_matches_and_draws_why(
        gallery: dict[str, Any]) -> None:
    t = gallery["truth"][0]
    q = gallery["tmp"] / "g" / "queries" / t["query"]
    draw = gallery["tmp"] / "draw"
    r = CliRunner().invoke(cli, ["rooms", "match", str(q), "--k", "3", "--draw", str(draw),
                                 "--format", "jsonl", *_args(gallery)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert rows[0]["hotel_id"] == t["hotel_id"] and rows[0]["verified_matches"] > 0
    assert rows[0]["city"] and 0 < rows[0]["confidence"] <= 1
    assert Path(rows[0]["drawing"]).is_file()
    table = CliRunner().invoke(cli, ["rooms", "match", str(q), *_args(gallery)])
    assert table.exit_code == 0 and max(len(x) for x in table.stdout.splitlines()) <= 80


@pytest.mark.slow
def test_match_refuses_what_is_not_a_photo(gallery: dict[str, Any],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = gallery["tmp"] / "bad.jpg"
    bad.write_bytes(b"<html>not a photo</html>")
    code, err = _err(["rooms", "match", str(bad), *_args(gallery)], capsys)
    assert code == 3 and "not a recognised image format" in err
    code, err = _err(["rooms", "match", str(bad), "--exclude", "2,0,1,1", *_args(gallery)],
                     capsys)
    assert code == 2 and "fractions" in err


def test_search_by_place_and_hostile_hotel_rows(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "g" / "H1").mkdir(parents=True)
    full = next(iter(gen.gallery_photos(SEED, gen.hotels(SEED, 1, 1)[0], 1)))
    (tmp_path / "g" / "H1" / "a.jpg").write_bytes(full[:len(full) // 2])  # truncated
    (tmp_path / "g" / "images.csv").write_text("hotel_id,path\nH1,../../etc/passwd\n"
                                               "H1,H1/a.jpg\nNOPE,H1/a.jpg\n")
    (tmp_path / "h.csv").write_text("hotel_id,name,city,country,lat,lon\n"
                                    "H1,Inn <b>,Lyon,FR,45.7,999\n,no id,,,,\n")
    db = f"sqlite:///{tmp_path / 'r.db'}"
    args = ["--db", db, "--image-dir", str(tmp_path / "img"), "--index-dir",
            str(tmp_path / "idx")]
    r = CliRunner().invoke(cli, ["rooms", "ingest", str(tmp_path / "g"), "--hotels",
                                 str(tmp_path / "h.csv"), *args])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["hotels_added"] == 1 and s["photos_added"] == 0 and s["refused"] == 2
    text = " ".join(s["problems"])
    assert "leaves the input's folder" in text and "truncated" in text
    assert "not in the hotels CSV" in text and "no hotel_id" in text
    r = CliRunner().invoke(cli, ["rooms", "search", "--city", "lyon", "--format", "jsonl",
                                 "--db", db])
    row = json.loads(r.stdout)
    assert row["name"] == "Inn <b>" and row["lon"] is None and row["photos"] == 0
    code, err = _err(["rooms", "match", str(tmp_path / "h.csv"), *args], capsys)
    assert code == 3 and "gallery is empty" in err


def test_link_takes_room_edges_as_medium_evidence_under_the_contradiction_test() -> None:
    ads = [LinkAd("a", body="hello there"), LinkAd("b", body="something else entirely"),
           LinkAd("c", mentions=(Mention("phone", "+12065550100", "body", 0, 1),)),
           LinkAd("d", mentions=(Mention("phone", "+12065550199", "body", 0, 1),))]
    edges = [ExternalEdge("a", "b", "room", 0.7, "photos show the same room"),
             ExternalEdge("c", "d", "room", 0.9, "same room"),
             ExternalEdge("a", "zz", "room", 0.9, "an ad not in the table")]
    res = link_batch(ads, external_edges=edges)
    a = res.state.assignment
    # small groups join as under wording's contradiction test; an unknown ad is dropped
    assert a["a"] == a["b"] and a["c"] == a["d"] and a["a"] != a["c"]
    ev = sorted((e for n in res.networks for e in n.evidence if e.kind == "room"),
                key=lambda e: e.ad_ids)
    assert [e.ad_ids for e in ev] == [("a", "b"), ("c", "d")]
    assert all(e.strength == MEDIUM for e in ev) and ev[0].score == pytest.approx(0.7)
    assert res.stats["external_used"] == 2
    plain = link_batch(ads).state.assignment
    assert plain["a"] != plain["b"]


@pytest.mark.slow
def test_background_search_links_ads_in_the_same_room_and_the_web_shows_it(
        gallery: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelight.services.link import update_networks
    from tracelight.store.accounts import Accounts
    from tracelight.web.app import create_app
    from tracelight.web.auth import LoginLimiter, hash_password

    db = gallery["db"]  # the gallery's store, now with ads too
    monkeypatch.setenv("TRACELIGHT_ROOMS_INDEX_DIR", gallery["index"])
    store = open_store(db)
    blobs = ImageStore(gallery["images"])
    hotel = gen.hotels(SEED, 4, 2)[1]
    batch = []
    for i in range(3):  # three ads, three days, the same room, another person each time
        data, _ = gen.query_photo(SEED, hotel, 50 + i)
        info = hash_bytes(data, original=f"p{i}.jpg")
        key = blobs.put(data)
        info = type(info)(**{**{f: getattr(info, f) for f in info.__slots__},
                             "stored_path": key})
        batch.append(ProcessedAd(AdRecord(id=f"room-{i}", source="board",
                                          body=f"new in town {i} " * (i + 1)), images=[info]))
    store.write_batch(None, batch)
    r = CliRunner().invoke(cli, ["rooms", "ads", "--min-matches", "15", "--format", "jsonl",
                                 "--db", db, "--image-dir", gallery["images"], "--index-dir",
                                 gallery["index"]])
    assert r.exit_code == 0, r.output
    pairs = [json.loads(x) for x in r.stdout.splitlines()]
    assert pairs and all(p["verified_matches"] >= 15 for p in pairs)
    result, _ = update_networks(store, rebuild=True)  # reads the saved pairs itself
    room = [e for n in result.networks for e in n.evidence if e.kind == "room"]
    assert room and all(e.strength == MEDIUM for e in room)

    accounts = Accounts(store)
    accounts.add_user("bo", hash_password("correct horse battery"), "analyst")
    accounts.add_user("cy", hash_password("correct horse battery"), "viewer")
    app = create_app(store, image_dir=gallery["images"], secret_key="k", limiter=LoginLimiter())
    with TestClient(app) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"username": "bo", "password": "correct horse battery",
                                    "csrf_token": token, "next": "/rooms"})
        page = client.get("/ads/board/room-0")
        assert "Same room" in page.text and "board/room-" in page.text
        rooms_page = client.get("/rooms?city=" + hotel.city)
        assert rooms_page.status_code == 200 and hotel.name in rooms_page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', rooms_page.text).group(1)
        before = sorted(p for p in Path(gallery["images"]).rglob("*") if p.is_file())
        photo, _ = gen.query_photo(SEED, hotel, 77)
        r = client.post("/rooms/match", files={"photo": ("q.jpg", photo, "image/jpeg")},
                        data={"csrf_token": token, "reason": "tip 42"})
        assert r.status_code == 200 and hotel.name in r.text and "<svg" in r.text
        assert "data:image/png;base64," in r.text  # the side-by-side, inline, kept nowhere
        after = sorted(p for p in Path(gallery["images"]).rglob("*") if p.is_file())
        assert before == after
        buf = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buf, "PNG")
        bad = client.post("/rooms/match", files={"photo": ("x.png", b"<script>alert(1)"
                                                 b"</script>", "image/png")},
                          data={"csrf_token": token})
        assert bad.status_code == 400 and "<script>alert" not in bad.text
        assert client.post("/rooms/match", files={"photo": ("q.jpg", photo, "image/jpeg")}
                           ).status_code == 403  # CSRF
    _t, rows = accounts.audit_entries(action="rooms.match", username="bo")
    assert any(x["reason"] == "tip 42" and x["target"].startswith("image:") for x in rows)
    store.close()
