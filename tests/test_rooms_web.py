"""The workspace side of hotel-room matching: attaching an uploaded photo to a case (signed
ticket, same SHA-256, stored only then, audited, roles), the network page's movement through
rooms (page and JSON), the ad page's same-room panel, all hostile-input safe."""

from __future__ import annotations

import contextlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.blobs import ImageStore
from tracelight.cli.main import cli
from tracelight.demo import rooms as gen
from tracelight.errors import UsageError
from tracelight.images import hash_bytes
from tracelight.records import AdRecord, ProcessedAd
from tracelight.services import room_uploads as ru
from tracelight.services.room_pairs import (
    AdHotel,
    RoomPair,
    load_ad_hotels,
    network_rooms,
    save_ad_hotels,
    save_pairs,
)
from tracelight.store import open_store
from tracelight.store.rooms import Hotel
from web_helpers import PASSWORD

SEED = 5
EVIL = '<script>alert("x")</script>'
DAY0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _token(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def _login(client: TestClient, user: str) -> str:
    token = _token(client.get("/login").text)
    r = client.post("/login", data={"username": user, "password": PASSWORD,
                                    "csrf_token": token, "next": "/rooms"})
    assert r.status_code == 200, r.text[:300]
    return _token(client.get("/rooms").text)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small gallery (4 hotels, 2 chains, 3 photos each; hotel 1's name hostile), three ads
    photographed in hotel 1's room on three days in three cities (one phone), the
    background search run, networks built, users of three roles."""
    from tracelight.store.accounts import Accounts
    from tracelight.web.app import create_app
    from tracelight.web.auth import LoginLimiter, hash_password

    tmp = tmp_path_factory.mktemp("roomsweb")
    gen.write_gallery(tmp / "g", hotels=4, chains=2, photos=3, queries=0, seed=SEED)
    env: dict[str, Any] = {"db": f"sqlite:///{tmp / 'r.db'}", "images": str(tmp / "img"),
                           "index": str(tmp / "idx"), "tmp": tmp}
    args = ["--db", env["db"], "--image-dir", env["images"], "--index-dir", env["index"]]
    r = CliRunner().invoke(cli, ["rooms", "ingest", str(tmp / "g" / "gallery"), "--hotels",
                                 str(tmp / "g" / "hotels.csv"), "--words", "256", *args])
    assert r.exit_code == 0, r.output
    store = open_store(env["db"])
    hotel = gen.hotels(SEED, 4, 2)[1]
    store.upsert_hotels([Hotel(hotel.hotel_id, f"Inn {EVIL}", hotel.chain, None,
                               f"Town {EVIL}", hotel.country, hotel.lat, hotel.lon)])
    blobs = ImageStore(env["images"])
    batch = []
    for i in range(3):
        data, _ = gen.query_photo(SEED, hotel, 50 + i)
        info = hash_bytes(data, original=f"p{i}.jpg")
        info = type(info)(**{**{f: getattr(info, f) for f in info.__slots__},
                             "stored_path": blobs.put(data)})
        batch.append(ProcessedAd(AdRecord(
            id=f"room-{i}", source="board", title=f"Ad {i} {EVIL}",
            body=f"new in town, call 206-555-01{40 + i} " + "x " * i,
            posted_at=DAY0 + timedelta(days=2 - i), location=["Denver", "Reno", "Boise"][i]),
            images=[info]))
    store.write_batch(None, batch)
    r = CliRunner().invoke(cli, ["rooms", "ads", "--min-matches", "15", "--format", "jsonl",
                                 *args])
    assert r.exit_code == 0, r.output
    env["pairs"] = [json.loads(x) for x in r.stdout.splitlines()]
    assert env["pairs"], "the three ads show one room"
    accounts = Accounts(store)
    for name, role in (("ana", "admin"), ("bo", "analyst"), ("cy", "viewer"),
                       ("di", "analyst")):
        accounts.add_user(name, hash_password(PASSWORD), role)
    env.update(store=store, accounts=accounts, hotel=hotel,
               app=create_app(store, image_dir=env["images"], secret_key="k",
                              limiter=LoginLimiter()))
    yield env
    store.close()


@pytest.fixture()
def client(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TRACELIGHT_ROOMS_INDEX_DIR", world["index"])
    with TestClient(world["app"]) as c:
        yield c


def _files(root: str) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def _match(client: TestClient, token: str, photo: bytes, reason: str = "tip 7") -> Any:
    return client.post("/rooms/match", files={"photo": ("q.jpg", photo, "image/jpeg")},
                       data={"csrf_token": token, "reason": reason})


def _attach_form(page: str) -> dict[str, str]:
    form = page[page.index('action="/rooms/attach"'):]
    form = form[:form.index("</form>")]
    return {m.group(1): m.group(2) for m in
            re.finditer(r'<input type="hidden" name="([a-z_0-9]+)" value="([^"]*)"', form)}


# ---- attach an uploaded photo to a case --------------------------------------------------------

@pytest.mark.slow
def test_upload_is_kept_only_when_attached_to_a_case_with_its_candidates(
        world: dict[str, Any], client: TestClient) -> None:
    token = _login(client, "bo")
    photo, _ = gen.query_photo(SEED, world["hotel"], 90)
    before = _files(world["images"])
    page = _match(client, token, photo, reason=f"tip {EVIL}")
    assert page.status_code == 200 and "Attach to a case" in page.text
    assert EVIL not in page.text and "&lt;script&gt;" in page.text  # hotel name escaped
    assert _files(world["images"]) == before  # matched in memory: nothing kept yet
    form = _attach_form(page.text)
    assert form["ticket"] and form["photo_b64"]
    r = client.post("/rooms/attach", data={**form, "case": "new",
                                           "new_title": f"Case {EVIL}"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:400]
    case_url = r.headers["location"].split("#")[0]
    pk = int(case_url.rsplit("/", 1)[1])
    import hashlib
    sha = hashlib.sha256(photo).hexdigest()
    assert ImageStore(world["images"]).has(sha)  # content-addressed, as ad images are
    ups = world["store"].room_uploads_for_case(pk)
    assert [u.sha256 for u in ups] == [sha] and ups[0].uploaded_by == "bo"
    assert ups[0].candidates and ups[0].candidates[0]["hotel_id"] == world["hotel"].hotel_id
    assert ups[0].reason == f"tip {EVIL}"
    case = client.get(case_url)
    assert case.status_code == 200 and "Room photo" in case.text
    assert world["hotel"].hotel_id in case.text and EVIL not in case.text
    # the same photo again: one item, one row
    again = client.post("/rooms/attach", data={**form, "case": str(pk)},
                        follow_redirects=False)
    assert again.status_code == 303 and len(world["store"].room_uploads_for_case(pk)) == 1
    from tracelight.store.cases import Cases
    assert [i["kind"] for i in Cases(world["store"]).get(pk).items] == ["room_photo"]
    _n, rows = world["accounts"].audit_entries(action="rooms.attach", username="bo")
    assert rows and rows[0]["target"] == f"case {pk}"
    assert rows[0]["detail"]["sha256"] == sha and rows[0]["detail"]["stored"] is True
    _n, matched = world["accounts"].audit_entries(action="rooms.match", username="bo")
    assert matched and matched[0]["detail"]["stored"] is False
    # the export names the photo by hash, with its candidates; no bytes
    z = zipfile.ZipFile(io.BytesIO(client.get(f"/cases/{pk}/export").content))
    ev = json.loads(z.read("evidence.json"))
    assert [p["sha256"] for p in ev["room_photos"]] == [sha]
    assert ev["room_photos"][0]["candidates"][0]["hotel_id"] == world["hotel"].hotel_id
    assert all(len(z.read(n)) < len(photo) or n == "evidence.json" for n in z.namelist())
    # and so does the evidence bundle (case.json), with the attach in its chain of custody
    r = client.post(f"/cases/{pk}/evidence", data={"csrf_token": token})
    assert r.status_code == 200, r.text[:300]
    z = zipfile.ZipFile(io.BytesIO(r.content))
    case_json = json.loads(z.read(next(n for n in z.namelist() if n.endswith("/case.json"))))
    assert [p["sha256"] for p in case_json["room_photos"]] == [sha]
    custody = z.read(next(n for n in z.namelist() if n.endswith("custody.jsonl"))).decode()
    assert "rooms.attach" in custody
    assert all(photo not in z.read(n) for n in z.namelist())


@pytest.mark.slow
def test_attach_refuses_another_photo_a_forged_ticket_and_other_users(
        world: dict[str, Any], client: TestClient) -> None:
    token = _login(client, "bo")
    photo, _ = gen.query_photo(SEED, world["hotel"], 91)
    other, _ = gen.query_photo(SEED, world["hotel"], 92)
    form = _attach_form(_match(client, token, photo).text)
    before = _files(world["images"])
    n_cases = len(world["store"].room_uploads_for_case(1))
    import base64
    swapped = {**form, "photo_b64": base64.b64encode(other).decode()}
    r = client.post("/rooms/attach", data={**swapped, "case": "new", "new_title": "x"})
    assert r.status_code == 400 and "SHA-256" in r.text
    body, _, mac = form["ticket"].partition(".")
    forged = {**form, "ticket": body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac}
    r = client.post("/rooms/attach", data={**forged, "case": "new", "new_title": "x"})
    assert r.status_code == 400 and "not valid" in r.text
    r = client.post("/rooms/attach", data={**form, "case": "new", "new_title": ""})
    assert r.status_code == 400  # no case chosen
    r = client.post("/rooms/attach", data={**form, "case": "999999"})
    assert r.status_code in (400, 404)
    assert _files(world["images"]) == before
    assert len(world["store"].room_uploads_for_case(1)) == n_cases
    _n, refused = world["accounts"].audit_entries(action="rooms.attach_refused")
    assert len(refused) >= 3 and all(x["detail"]["stored"] is False for x in refused)
    # another analyst cannot attach bo's result
    client.post("/logout", data={"csrf_token": token})
    token2 = _login(client, "di")
    r = client.post("/rooms/attach", data={**form, "csrf_token": token2, "case": "new",
                                           "new_title": "x"})
    assert r.status_code == 400 and "another user" in r.text
    # no CSRF token: refused before anything
    r = client.post("/rooms/attach", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert r.status_code == 403


@pytest.mark.slow
def test_a_viewer_matches_but_cannot_attach(world: dict[str, Any], client: TestClient) -> None:
    token = _login(client, "cy")
    photo, _ = gen.query_photo(SEED, world["hotel"], 93)
    page = _match(client, token, photo)
    assert page.status_code == 200 and 'action="/rooms/attach"' not in page.text
    r = client.post("/rooms/attach", data={"csrf_token": token, "ticket": "x.y",
                                           "case": "new", "new_title": "t"})
    assert r.status_code == 403


@pytest.mark.slow
def test_the_photo_can_be_chosen_again_when_too_large_to_ride_back(
        world: dict[str, Any], client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ru, "INLINE_MAX", 10)
    token = _login(client, "ana")
    photo, _ = gen.query_photo(SEED, world["hotel"], 94)
    page = _match(client, token, photo)
    form = _attach_form(page.text)
    assert "photo_b64" not in form and 'name="photo"' in page.text.split("/rooms/attach")[1]
    r = client.post("/rooms/attach", data={**form, "case": "new", "new_title": "big"},
                    files={"photo": ("q.jpg", photo, "image/jpeg")}, follow_redirects=False)
    assert r.status_code == 303


@pytest.mark.slow
def test_room_photos_are_not_added_through_the_generic_case_forms(
        world: dict[str, Any], client: TestClient) -> None:
    token = _login(client, "bo")
    r = client.post("/cases", data={"csrf_token": token, "title": "t"}, follow_redirects=False)
    pk = int(r.headers["location"].rsplit("/", 1)[1])
    r = client.post(f"/cases/{pk}/items", data={"csrf_token": token, "kind": "room_photo",
                                                "ref": "a" * 64})
    assert r.status_code == 400
    r = client.post("/cases/add", data={"csrf_token": token, "case": str(pk),
                                        "kind": "room_photo", "ref": "a" * 64})
    assert r.status_code == 400


# ---- movement of a network through rooms ------------------------------------------------------

@pytest.mark.slow
def test_network_page_and_json_show_its_movement_through_rooms(
        world: dict[str, Any], client: TestClient) -> None:
    hotels = load_ad_hotels(world["index"])
    assert hotels and {h.hotel_id for h in hotels.values()} == {world["hotel"].hotel_id}
    _login(client, "cy")
    net = world["store"].network_id_of(world["store"].get_ad("room-0", "board").pk)
    assert net
    page = client.get(f"/networks/{net}")
    assert page.status_code == 200 and "Movement through rooms" in page.text
    assert "room A" in page.text and EVIL not in page.text and "Inn &lt;script&gt;" in page.text
    j = client.get(f"/api/networks/{net}").json()
    rows = j["rooms"]["ads"]
    assert [r["ad"] for r in rows] == ["board/room-2", "board/room-1", "board/room-0"]
    assert [r["city"] for r in rows] == ["Boise", "Reno", "Denver"]
    assert {r["room"] for r in rows} == {"room A"}
    assert rows[0]["hotel"]["hotel_id"] == world["hotel"].hotel_id
    assert len(j["rooms"]["stays"]) == 1 and j["rooms"]["stays"][0]["n"] == 3
    ad = client.get("/ads/board/room-1")
    assert "Same room" in ad.text and "board/room-0" in ad.text and EVIL not in ad.text
    assert "Photos match the gallery" in ad.text and world["hotel"].hotel_id in ad.text


class _Ad:
    def __init__(self, pk: int, day: int | None, city: str | None) -> None:
        self.pk, self.source, self.ad_id, self.title = pk, "s", f"a{pk}", f"t{pk}"
        self.posted_at = None if day is None else DAY0 + timedelta(days=day)
        self.location = city


def _pair(a: int, b: int, n: int) -> RoomPair:
    return RoomPair(a, b, f"s/a{a}", f"s/a{b}", "0" * 64, "1" * 64, n, 0.5)


def test_network_rooms_groups_rooms_and_orders_stays(tmp_path: Path) -> None:
    class _S:
        def hotels_by_id(self, ids: list[str]) -> dict[str, Hotel]:
            return {i: Hotel(i, f"Hotel {i}", city="Reno") for i in ids}

    ads = [_Ad(1, 0, "Reno"), _Ad(2, 1, "Reno"), _Ad(3, 2, "Boise"), _Ad(4, 3, "Boise"),
           _Ad(5, None, None), _Ad(6, 4, "Elko")]
    # rooms: {1,2} (hotel H1), {3,4}; 1 again after 4; 6 only a hotel; 99 not a member
    save_pairs(tmp_path, [_pair(1, 2, 40), _pair(3, 4, 30), _pair(4, 5, 20), _pair(1, 99, 50)])
    save_ad_hotels(tmp_path, [AdHotel(2, "s/a2", "2" * 64, "H1", 33, 0.4),
                              AdHotel(6, "s/a6", "6" * 64, "H6", 28, 0.3),
                              AdHotel(99, "x/y", "9" * 64, "H9", 99, 0.9)])
    out = network_rooms(_S(), tmp_path, ads)  # type: ignore[arg-type]
    assert [r["ad"] for r in out["ads"]] == ["s/a1", "s/a2", "s/a3", "s/a4", "s/a6", "s/a5"]
    assert [r["room"] for r in out["ads"]] == ["room A", "room A", "room B", "room B",
                                               "room C", "room B"]
    assert out["ads"][0]["hotel"]["name"] == "Hotel H1"  # the room's hotel, from ad 2
    assert out["ads"][0]["same_room_as"] == ["s/a2"]  # ad 99 is not a member
    assert [(s["room"], s["n"]) for s in out["stays"]] == [("room A", 2), ("room B", 2),
                                                           ("room C", 1), ("room B", 1)]
    assert network_rooms(_S(), tmp_path / "none", ads) == {"ads": [], "stays": [],  # type: ignore[arg-type]
                                                           "rooms": []}


def test_kept_files_survive_hostile_lines(tmp_path: Path) -> None:
    save_ad_hotels(tmp_path, [AdHotel(2, "s/a2", "2" * 64, "H1", 33, 0.4)])
    path = tmp_path / "ads" / "hotels.jsonl"
    path.write_text(path.read_text() + "{not json\n[]\n{\"ad_pk\": \"x\"}\n\x00\n")
    assert list(load_ad_hotels(tmp_path)) == [2]


# ---- the ticket ---------------------------------------------------------------------------------

def _ticket(**kw: Any) -> str:
    return ru.sign_ticket("s3cret", username="bo", sha256="a" * 64, size=10,
                          candidates=[{"rank": 1, "hotel_id": "H1", "name": EVIL,
                                       "verified_matches": 30, "secret_extra": 1}], **kw)


def test_ticket_round_trip_and_refusals() -> None:
    t = ru.read_ticket("s3cret", _ticket(reason="r"), username="bo")
    assert t.sha256 == "a" * 64 and t.size == 10 and t.reason == "r"
    assert t.candidates[0]["name"] == EVIL and "secret_extra" not in t.candidates[0]
    with pytest.raises(UsageError, match="not valid"):
        ru.read_ticket("other", _ticket(), username="bo")
    with pytest.raises(UsageError, match="another user"):
        ru.read_ticket("s3cret", _ticket(), username="cy")
    with pytest.raises(UsageError, match="too old"):
        ru.read_ticket("s3cret", _ticket(now=0), username="bo")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["", "eyJ1IjoiYm8ifQ.", "a.", "."]))
def test_any_ticket_text_is_refused_in_plain_words(text: str, head: str) -> None:
    with pytest.raises(UsageError):
        ru.read_ticket("s3cret", head + text, username="bo")
    with pytest.raises(UsageError):  # a real body with any MAC
        ru.read_ticket("s3cret", _ticket().partition(".")[0] + "." + text, username="bo")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_inline_photo_text_decodes_or_is_refused(text: str) -> None:
    with contextlib.suppress(UsageError):
        ru.decode_inline(text)


def test_candidate_label_is_one_bounded_line() -> None:
    assert ru.candidate_label([]) == "uploaded room photo (no hotel candidate)"
    label = ru.candidate_label([{"name": "X" * 900, "verified_matches": 3}, {}])
    assert len(label) <= 500 and "\n" not in label


def test_the_candidates_map_is_framed_labelled_and_drops_bad_coordinates() -> None:
    from tracelight.web.routes.rooms import MAP_H, MAP_W, map_grid, map_points

    rows = [{"rank": 1, "name": EVIL, "city": "Denver", "lat": 39.7, "lon": -104.9,
             "verified_matches": 30},
            {"rank": 2, "name": "b", "city": None, "lat": 40.7, "lon": -74.0,
             "verified_matches": 0},
            {"rank": 3, "name": "c", "lat": float("nan"), "lon": 1.0, "verified_matches": 0},
            {"rank": 4, "name": "d", "lat": None, "lon": float("inf"), "verified_matches": 0}]
    pts = map_points(rows)
    assert [p["rank"] for p in pts] == [1, 2] and pts[0]["verified"] and not pts[1]["verified"]
    assert all(0 <= p["x"] <= MAP_W and 0 <= p["y"] <= MAP_H for p in pts)
    grid = map_grid(rows)
    labels = [g["label"] for g in grid]
    assert "100°W" in labels and "40°N" in labels
    assert all(0 <= g["x1"] <= MAP_W and 0 <= g["y1"] <= MAP_H for g in grid)
    assert map_grid([]) == [] and map_points(rows[2:]) == []
    polar = map_grid([{"rank": 1, "name": "p", "lat": 89.9, "lon": 179.9,
                       "verified_matches": 1}])
    lats = [int(g["label"].split("°")[0]) for g in polar if g["x1"] != g["x2"]]
    assert lats and max(lats) <= 90


def test_store_keeps_attached_uploads_once_per_case(db_url: str, tmp_path: Path) -> None:
    from tracelight.errors import NotFoundError
    from tracelight.store.cases import Cases

    store = open_store(db_url)
    try:
        case = Cases(store).create(f"case {EVIL}", "bo")
        data = b"\x89PNG not really a photo, bytes are bytes"
        import hashlib
        sha = hashlib.sha256(data).hexdigest()
        t = ru.read_ticket("k", ru.sign_ticket(
            "k", username="bo", sha256=sha, size=len(data), reason=EVIL, exclude="0,0,.5,.5",
            candidates=[{"rank": 1, "hotel_id": "H1", "name": EVIL, "lat": 1.5,
                         "verified_matches": 30, "confidence": 0.5}]), username="bo")
        row, added = ru.attach_upload(store, case.pk, data, t, "bo", image_dir=tmp_path)
        assert added and row.sha256 == sha and row.candidates[0]["name"] == EVIL
        again, added2 = ru.attach_upload(store, case.pk, data, t, "bo", image_dir=tmp_path)
        assert not added2 and again.pk == row.pk
        assert [u.to_dict()["reason"] for u in store.room_uploads_for_case(case.pk)] == [EVIL]
        assert [(i["kind"], i["ref"]) for i in Cases(store).get(case.pk).items] == [
            ("room_photo", sha)]
        assert ImageStore(tmp_path).get(sha, 1000) == data
        with pytest.raises(UsageError, match="SHA-256"):
            ru.attach_upload(store, case.pk, data + b"!", t, "bo", image_dir=tmp_path)
        with pytest.raises(NotFoundError):
            ru.attach_upload(store, 987654, data, t, "bo", image_dir=tmp_path)
        assert store.room_uploads_for_case(987654) == []
    finally:
        store.close()
