"""Acting on what was found, end to end on the demo corpus (the real pipeline, linked):
cases from the CLI, a schema-valid CyberTipline report, an evidence bundle that verifies and
fails after any byte changes, STIX signals that round-trip into a watchlist hitting the same
ads, the Reporting API adapter against a local fake, and the workspace's actions."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import xmlschema
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tracelight.cli.app import cli
from tracelight.report.ncmec_schema import SCHEMA_PATH
from tracelight.services import signals as signal_service
from tracelight.store.accounts import Accounts
from tracelight.store.cases import Cases
from web_helpers import build_store, csrf, login, make_app

SHARED_XSD = Path("/work/shared/testdata/ncmec/cybertipline-report.xsd")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory,
        demo_corpus_dir: Path) -> Iterator[tuple[Any, str, Path]]:
    tmp = tmp_path_factory.mktemp("reporting")
    store = build_store(tmp, demo_corpus_dir, link=True)
    yield store, f"sqlite:///{tmp / 'web.db'}", tmp
    store.close()


def fail(args: list[str], env_vars: dict[str, str] | None = None) -> tuple[int, str]:
    """(exit code, the one line `tracelight` prints) of a command that must fail cleanly."""
    from tracelight.errors import TracelightError

    r = CliRunner().invoke(cli, args, env=env_vars or {})
    assert isinstance(r.exception, TracelightError), r.output
    return r.exception.exit_code, f"{r.output}error: {r.exception}"


def run(args: list[str], env_vars: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli, args, env=env_vars or {}, catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def case_id(env: tuple[Any, str, Path]) -> int:
    """A case made from the CLI: the biggest network and one more ad."""
    store, db, _tmp = env
    net = max(store.iter_network_records(), key=lambda n: n["size"])
    outside = next(a for a in store.iter_ads(limit=200)
                   if store.network_id_of(a.pk) != net["network_id"])
    r = run(["case", "create", "Network review", "--network", net["network_id"],
             "--ad", f"{outside.source}/{outside.ad_id}", "--as", "bo", "--db", db])
    assert r.exit_code == 0, r.output
    return int(r.stdout.strip())


def test_case_commands_are_audited_like_the_web(env: tuple[Any, str, Path],
                                                case_id: int) -> None:
    store, db, _ = env
    case = Cases(store).get(case_id)
    assert {i["kind"] for i in case.items} == {"ad", "network"}
    listed = run(["case", "list", "--format", "jsonl", "--as", "bo", "--db", db])
    assert any(json.loads(line)["id"] == case_id for line in listed.stdout.splitlines())
    added = run(["case", "add", str(case_id), "--identifier", "phone:+12065550143",
                 "--as", "bo", "--db", db])
    assert added.exit_code == 0 and "added: identifier phone:+12065550143" in added.stdout
    again = run(["case", "add", str(case_id), "--identifier", "phone:+12065550143",
                 "--as", "bo", "--db", db])
    assert "already in the case" in again.stdout
    shown = run(["case", "show", str(case_id), "--as", "bo", "--db", db])
    assert "Network review" in shown.stdout
    _, entries = Accounts(store).audit_entries(limit=None, username="bo")
    actions = {(e["action"], e["target"]) for e in entries}
    assert {("case.create", f"case {case_id}"), ("case.add_item", f"case {case_id}"),
            ("case.view", f"case {case_id}"), ("case.list", "")} <= actions


def test_case_errors_are_one_line(env: tuple[Any, str, Path]) -> None:
    _, db, _ = env
    code, out = fail(["case", "create", "x", "--ad", "nope/none", "--db", db])
    assert code == 4 and "no ad 'nope/none'" in out and "Traceback" not in out
    code, out = fail(["case", "show", "99999", "--db", db])
    assert code == 4 and "no case 99999" in out


def test_unwritable_out_is_one_line(env: tuple[Any, str, Path], case_id: int) -> None:
    _, db, tmp = env
    for args in (["evidence", "bundle", str(case_id)], ["signals", "export", str(case_id)]):
        code, out = fail([*args, "--out", str(tmp), "--db", db])
        assert code == 3 and "cannot write" in out and "Is a directory" in out


def test_cybertip_report_is_schema_valid(env: tuple[Any, str, Path], case_id: int) -> None:
    store, db, tmp = env
    out = tmp / "ct" / "report.xml"
    r = run(["report", "cybertip", str(case_id), "--out", str(out), "--as", "bo",
             "--reporter-email", "analyst@example.org", "--reporter-name", "Ana Lyst",
             "--db", db])
    assert r.exit_code == 0, r.output
    assert "valid against NCMEC's schema" in r.stderr and "dry run: nothing was sent" in r.stderr
    schema = xmlschema.XMLSchema(str(SHARED_XSD if SHARED_XSD.is_file() else SCHEMA_PATH))
    schema.validate(str(out))
    files = sorted((tmp / "ct" / "report.files").iterdir())
    assert files
    for f in files:
        schema.validate(str(f))
    text = out.read_text()
    assert "<victim>" not in text and "<incidentType>Child Sex Trafficking</incidentType>" in text
    case_ads = signal_service.load_case(store, case_id, "bo").ads
    assert text.count("<webPageIncident>") == len({a.url for a in case_ads if a.url})
    assert "<cellPhoneIncident>" in text and "<personOrUserReported>" in text
    summary = (tmp / "ct" / "report.summary.md").read_text()
    assert "report.cybertip.org" in summary and "no image is attached" in summary
    digests = {line.split()[0] for line in r.stdout.splitlines()}
    _, entries = Accounts(store).audit_entries(limit=5, action="export.cybertip")
    audited = {f["sha256"] for f in entries[0]["detail"]["files"]}
    assert hashlib.sha256(out.read_bytes()).hexdigest() in audited and digests == audited


def test_vendored_schema_is_the_shared_one() -> None:
    if not SHARED_XSD.is_file():
        pytest.skip("no shared testdata on this machine")
    assert SCHEMA_PATH.read_bytes() == SHARED_XSD.read_bytes()


def test_cybertip_refuses_without_reporter(env: tuple[Any, str, Path], case_id: int) -> None:
    _, db, tmp = env
    code, out = fail(["report", "cybertip", str(case_id), "--out",
                                 str(tmp / "x.xml"), "--db", db],
                           {"TRACELIGHT_REPORTER_EMAIL": ""})
    assert code == 2 and "reporter needs an email" in out
    assert not (tmp / "x.xml").exists()


# ---- the Reporting API adapter, against a fake on 127.0.0.1 ------------------------------------

class FakeNcmec(BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[str, str, bytes]]] = []
    fail_finish: ClassVar[bool] = False

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        FakeNcmec.calls.append((self.path, self.headers.get("authorization", ""), body))
        ok = b"<responseCode>0</responseCode><responseDescription>Success</responseDescription>"
        if self.headers.get("authorization") != "Basic dXNlcjpzZWNyZXQ=":  # user:secret
            self._send(401, b"<reportResponse><responseCode>4100</responseCode>"
                            b"<responseDescription>Bad credentials</responseDescription>"
                            b"</reportResponse>")
        elif self.path == "/submit":
            errors = list(xmlschema.XMLSchema(str(SCHEMA_PATH)).iter_errors(body.decode()))
            self._send(200, b"<reportResponse>" + ok + b"<reportId>4242</reportId>"
                       b"</reportResponse>" if not errors else
                       b"<reportResponse><responseCode>1000</responseCode><responseDescription>"
                       b"invalid</responseDescription></reportResponse>")
        elif self.path == "/upload":
            self._send(200, b"<reportResponse>" + ok + b"<reportId>4242</reportId><fileId>f1"
                       b"</fileId><hash>abc</hash></reportResponse>")
        elif self.path in ("/fileinfo", "/retract"):
            self._send(200, b"<reportResponse>" + ok + b"<reportId>4242</reportId>"
                            b"</reportResponse>")
        elif self.path == "/finish":
            if FakeNcmec.fail_finish:
                self._send(500, b"oops")
            else:
                self._send(200, b"<reportDoneResponse><responseCode>0</responseCode><reportId>"
                                b"4242</reportId><files/></reportDoneResponse>")
        else:
            self._send(404, b"")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/xml")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fake_ncmec() -> Iterator[str]:
    FakeNcmec.calls = []
    FakeNcmec.fail_finish = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeNcmec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_nothing_is_sent_without_submit(env: tuple[Any, str, Path], case_id: int,
                                        fake_ncmec: str) -> None:
    _, db, tmp = env
    vars_ = {"TRACELIGHT_NCMEC_URL": fake_ncmec, "TRACELIGHT_NCMEC_USER": "user",
             "TRACELIGHT_NCMEC_PASSWORD": "secret", "TRACELIGHT_REPORTER_EMAIL": "a@b.org"}
    r = run(["report", "cybertip", str(case_id), "--out", str(tmp / "dry.xml"), "--db", db],
            vars_)
    assert r.exit_code == 0 and FakeNcmec.calls == []


def test_submit_goes_to_submit_then_finish(env: tuple[Any, str, Path], case_id: int,
                                           fake_ncmec: str) -> None:
    store, db, tmp = env
    vars_ = {"TRACELIGHT_NCMEC_URL": fake_ncmec, "TRACELIGHT_NCMEC_USER": "user",
             "TRACELIGHT_NCMEC_PASSWORD": "secret", "TRACELIGHT_REPORTER_EMAIL": "a@b.org"}
    r = run(["report", "cybertip", str(case_id), "--out", str(tmp / "sub.xml"), "--submit",
             "--as", "bo", "--db", db], vars_)
    assert r.exit_code == 0, r.output
    assert "submitted: NCMEC report id 4242" in r.stdout
    assert [c[0] for c in FakeNcmec.calls] == ["/submit", "/finish"]
    assert FakeNcmec.calls[0][2] == (tmp / "sub.xml").read_bytes()
    assert FakeNcmec.calls[1][2] == b"id=4242"
    _, entries = Accounts(store).audit_entries(limit=1, action="report.submit")
    assert entries[0]["detail"]["report_id"] == 4242


def test_failed_finish_retracts_and_bad_credentials_refused(
        env: tuple[Any, str, Path], case_id: int, fake_ncmec: str) -> None:
    _, db, tmp = env
    FakeNcmec.fail_finish = True
    base = {"TRACELIGHT_NCMEC_URL": fake_ncmec, "TRACELIGHT_NCMEC_USER": "user",
            "TRACELIGHT_REPORTER_EMAIL": "a@b.org"}
    code, out = fail(["report", "cybertip", str(case_id), "--out",
                                 str(tmp / "f.xml"), "--submit", "--db", db],
                           {**base, "TRACELIGHT_NCMEC_PASSWORD": "secret"})
    assert code == 3 and "was retracted" in out
    assert [c[0] for c in FakeNcmec.calls] == ["/submit", "/finish", "/retract"]
    code, out = fail(["report", "cybertip", str(case_id), "--out",
                                 str(tmp / "g.xml"), "--submit", "--db", db],
                           {**base, "TRACELIGHT_NCMEC_PASSWORD": "wrong"})
    assert code == 3 and "Bad credentials" in out
    code, out = fail(["report", "cybertip", str(case_id), "--out",
                                 str(tmp / "h.xml"), "--submit", "--db", db],
                           {**base, "TRACELIGHT_NCMEC_URL": "http://ncmec.example",
                            "TRACELIGHT_NCMEC_PASSWORD": "secret"})
    assert code == 2 and "https" in out and not (tmp / "h.xml").exists()


def test_upload_and_fileinfo_adapter_calls(fake_ncmec: str) -> None:
    from tracelight.report.base import CaseImage
    from tracelight.report.cybertip import file_details
    from tracelight.services.ncmec_api import ReportingApi

    api = ReportingApi(fake_ncmec, "user", "secret")
    up = api.upload(4242, 'pic"\r\n.jpg', b"not an image, a test payload")
    assert up.file_id == "f1"
    info = api.fileinfo(file_details(CaseImage(0, "pic.jpg", "a" * 64, "b" * 32, None),
                                     4242, "f1"))
    assert info.code == 0 and api.retract(4242).code == 0
    assert [c[0] for c in FakeNcmec.calls] == ["/upload", "/fileinfo", "/retract"]
    assert b'filename="pic___.jpg"' in FakeNcmec.calls[0][2]


# ---- evidence bundles ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundle(env: tuple[Any, str, Path], case_id: int) -> Path:
    _, db, tmp = env
    out = tmp / "case.zip"
    r = run(["evidence", "bundle", str(case_id), "--out", str(out), "--as", "bo", "--db", db])
    assert r.exit_code == 0, r.output
    assert r.stdout.split()[0] == hashlib.sha256(out.read_bytes()).hexdigest()
    return out


def test_bundle_holds_what_a_prosecutor_needs(bundle: Path, case_id: int) -> None:
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        root = f"case-{case_id}"
        for must in ("manifest.json", "manifest.sha256", "custody.jsonl", "certification.txt",
                     "tool.json", "networks.json", "case.json", "README.txt"):
            assert f"{root}/{must}" in names
        ads = [n for n in names if n.endswith("/entities.json")]
        assert ads and all(n.replace("entities.json", "capture-note.txt") in names for n in ads)
        note = zf.read(ads[0].replace("entities.json", "capture-note.txt")).decode()
        assert "stored text" in note
        mentions = json.loads(zf.read(ads[0]))
        assert mentions and {"field", "start", "end", "raw"} <= set(mentions[0])
        custody = [json.loads(x) for x in zf.read(f"{root}/custody.jsonl").splitlines()]
        assert {"case.create", "case.add_item"} <= {e["action"] for e in custody}
        assert all(len(e["row_hash"]) == 64 for e in custody)
        cert = zf.read(f"{root}/certification.txt").decode()
        assert "penalty of perjury" in cert and "Signature: ____" in cert
        assert not any(n.endswith((".jpg", ".png", ".webp")) for n in names)


def test_bundle_verifies(bundle: Path) -> None:
    r = run(["evidence", "verify", str(bundle)])
    assert r.exit_code == 0 and r.stdout.startswith("ok: ")


def _flips_caught(bundle: Path, tmp_path: Path, positions: list[int]) -> None:
    from tracelight.services.evidence import verify

    data = bundle.read_bytes()
    p = tmp_path / "x.zip"
    for i in positions:
        changed = bytearray(data)
        changed[i] ^= 0x20
        p.write_bytes(bytes(changed))
        assert not verify(p).ok, f"a change at byte {i} went unnoticed"
    code, out = fail(["evidence", "verify", str(p)])
    assert code == 8 and "CHANGED:" in out


def test_any_changed_byte_fails_verification(bundle: Path, tmp_path: Path) -> None:
    """The first local header, bytes spread over the files, the central directory's end."""
    size = bundle.stat().st_size
    _flips_caught(bundle, tmp_path, sorted({*range(0, 40), *range(0, size, size // 60),
                                            *range(size - 100, size)}))


@pytest.mark.slow
def test_every_97th_byte_changed_fails_verification(bundle: Path, tmp_path: Path) -> None:
    _flips_caught(bundle, tmp_path, list(range(0, bundle.stat().st_size, 97)))


def test_changed_file_is_named(bundle: Path, tmp_path: Path) -> None:
    """Rewrite one file inside (the zip stays well-formed): verify names it."""
    out = tmp_path / "edited.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/case.json"):
                data = data.replace(b"Network review", b"Network reviev")
            dst.writestr(info, data)
    code, out = fail(["evidence", "verify", str(out)])
    assert code == 8 and "case.json: changed" in out


def test_forged_custody_breaks_the_chain(bundle: Path, tmp_path: Path) -> None:
    """Edit an audit entry and fix up the manifest: the entry's own hash still gives it away."""
    from tracelight.report.evidence import write_zip
    from tracelight.services.evidence import verify

    with zipfile.ZipFile(bundle) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
        when = zf.infolist()[0].date_time
    root = next(iter(files)).split("/")[0]
    lines = files[f"{root}/custody.jsonl"].decode().splitlines()
    first = json.loads(lines[0])
    first["username"] = "someone-else"
    lines[0] = json.dumps(first, sort_keys=True)
    files[f"{root}/custody.jsonl"] = ("\n".join(lines) + "\n").encode()
    manifest = json.loads(files[f"{root}/manifest.json"])
    manifest["files"]["custody.jsonl"]["sha256"] = hashlib.sha256(
        files[f"{root}/custody.jsonl"]).hexdigest()
    files[f"{root}/manifest.json"] = json.dumps(manifest).encode()
    files[f"{root}/manifest.sha256"] = "".join(
        f"{v['sha256']}  {k}\n" for k, v in manifest["files"].items()).encode()
    out = tmp_path / "forged.zip"
    with open(out, "wb") as fh:
        write_zip(files, fh, when)
    problems = verify(out).problems
    assert any("content changed after it was written (hash chain)" in p for p in problems)


def _zip(entries: list[tuple[str, bytes]], path: Path, method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def test_hostile_zips_are_refused(tmp_path: Path) -> None:
    from tracelight.services.evidence import verify

    cases = {
        "traversal": _zip([("../evil.txt", b"x")], tmp_path / "a.zip"),
        "absolute": _zip([("/etc/x", b"x")], tmp_path / "b.zip"),
        "bomb": _zip([("case-1/big.bin", b"\0" * 20_000_000)], tmp_path / "c.zip",
                     zipfile.ZIP_DEFLATED),
        "not a zip": tmp_path / "d.zip",
        "no manifest": _zip([("case-1/x.txt", b"x")], tmp_path / "e.zip"),
    }
    (tmp_path / "d.zip").write_bytes(b"PK\x03\x04 not really")
    expected = {"traversal": "leaves", "absolute": "absolute", "bomb": "bomb",
                "not a zip": "not a readable zip", "no manifest": "manifest.json is missing"}
    for name, path in cases.items():
        res = verify(path)
        assert not res.ok and any(expected[name] in p for p in res.problems), (name, res)
    assert not verify(tmp_path / "missing.zip").ok


def test_warc_capture_is_copied_only_from_the_warc_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from tracelight.services.cases import _capture

    warc_dir = tmp_path / "warc"
    warc_dir.mkdir()
    with open(warc_dir / "crawl.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for n in range(2):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                       protocol="HTTP/1.1")
            record = writer.create_warc_record(
                f"https://demo.example/ad/{n}", "response",
                payload=io.BytesIO(f"<html>ad {n}</html>".encode()), http_headers=headers)
            if n == 1:
                offset = fh.tell()
            writer.write_record(record)
        end = fh.tell()
    monkeypatch.setenv("TRACELIGHT_WARC_DIR", str(warc_dir))
    got = _capture({"warc": {"file": "crawl.warc.gz", "offset": offset}}, None)
    assert got.warc == (warc_dir / "crawl.warc.gz").read_bytes()[offset:end]
    outside = _capture({"warc": {"file": "../crawl.warc.gz", "offset": 0}}, None)
    assert outside.warc is None and "outside" in outside.note
    for bad in (1, 5, offset + 3, end + 100):  # not where a record starts
        assert _capture({"warc": {"file": "crawl.warc.gz", "offset": bad}}, None).warc is None
    assert _capture({"warc": "x"}, None).warc is None
    assert "no WARC" in _capture({}, None).note


# ---- shared signals ------------------------------------------------------------------------------

def test_stix_round_trip_into_a_watchlist_hits_the_same_ads(
        env: tuple[Any, str, Path], case_id: int) -> None:
    store, db, tmp = env
    out = tmp / "signals.stix.json"
    r = run(["signals", "export", str(case_id), "--format", "stix", "--tlp", "green",
             "--out", str(out), "--as", "bo", "--db", db])
    assert r.exit_code == 0, r.output
    import stix2

    bundle = stix2.parse(out.read_text(), allow_custom=True)
    assert any(o.type == "marking-definition" and o.name == "TLP:GREEN" for o in bundle.objects)
    r = run(["signals", "import", str(out), "--watchlist", "partner-x", "--as", "dee",
             "--db", db])
    assert r.exit_code == 0 and "0 skipped" in r.stdout, r.output
    hits = signal_service.watchlist_hits(store, "partner-x")
    assert hits and all(h.tlp == "green" for h in hits)
    hit_ads = {pk for h in hits for pk in h.ad_pks}
    case_ads = {a.pk for a in signal_service.load_case(store, case_id, "bo").ads}
    assert case_ads <= hit_ads
    r = run(["signals", "hits", "partner-x", "--format", "jsonl", "--db", db])
    assert r.exit_code == 0 and sum(json.loads(x)["ads"] > 0 for x in r.stdout.splitlines())


def test_tlp_red_never_leaves(env: tuple[Any, str, Path], case_id: int) -> None:
    from tracelight.report.signals import Signal, to_stix

    _, db, tmp = env
    code, out = fail(["signals", "export", str(case_id), "--tlp", "red", "--out",
                                 str(tmp / "red.json"), "--db", db])
    assert code == 2 and "never leaves" in out and not (tmp / "red.json").exists()
    text, red = to_stix([Signal("phone", "+12065550100", "red"),
                         Signal("phone", "+12065550101", "amber")])
    (tmp / "mixed.json").write_text(text)
    assert red == 1 and "+12065550100" not in text
    # a partner's RED signal is kept on import, and held back when the watchlist is exported
    bundle = json.loads(text)
    ind = next(o for o in bundle["objects"] if o["type"] == "indicator")
    red_ind = dict(ind, id="indicator--00000000-0000-4000-8000-000000000001",
                   pattern="[x-tracelight-phone:value = '+12065550100']",
                   object_marking_refs=["marking-definition--e828b379-4e03-4974-9ac4-"
                                        "e53a884c97c1"])
    bundle["objects"].append(red_ind)
    (tmp / "partner.json").write_text(json.dumps(bundle))
    r = run(["signals", "import", str(tmp / "partner.json"), "--watchlist", "partner-red",
             "--as", "dee", "--db", db])
    assert "red: 1" in r.stdout, r.output
    out = tmp / "wl.json"
    r = run(["signals", "export", "--watchlist", "partner-red", "--out", str(out), "--db", db])
    assert r.exit_code == 0 and "1 TLP:RED held back" in r.stderr
    assert "+12065550100" not in out.read_text() and "+12065550101" in out.read_text()


@pytest.mark.parametrize("fmt", ["ftm", "hma"])
def test_ftm_and_hma_round_trip(env: tuple[Any, str, Path], case_id: int, fmt: str) -> None:
    store, db, tmp = env
    out = tmp / f"signals.{fmt}"
    r = run(["signals", "export", str(case_id), "--format", fmt, "--out", str(out),
             "--db", db])
    assert r.exit_code == 0, r.output
    r = run(["signals", "import", str(out), "--watchlist", f"wl-{fmt}", "--as", "cy",
             "--db", db])
    assert r.exit_code == 0 and f"({fmt})" in r.stdout and "0 skipped" in r.stdout, r.output
    hits = signal_service.watchlist_hits(store, f"wl-{fmt}")
    assert sum(1 for h in hits if h.ad_pks) >= 1
    if fmt == "ftm":
        for line in out.read_text().splitlines():
            ent = json.loads(line)
            assert ent["schema"] in ("UserAccount", "Document", "Image", "Note")
            assert all(isinstance(v, list) for v in ent["properties"].values())
            assert ent["schema"] not in ("Person", "LegalEntity")  # never facts about people


def test_import_errors_are_one_line(env: tuple[Any, str, Path], tmp_path: Path) -> None:
    _, db, _ = env
    (tmp_path / "bad.json").write_text('{"type": "bundle", "objects": 3}')
    code, out = fail(["signals", "import", str(tmp_path / "bad.json"),
                                 "--watchlist", "w", "--db", db])
    assert code == 3 and "not a STIX bundle" in out
    code, out = fail(["signals", "import", str(tmp_path / "none.json"),
                                 "--watchlist", "w", "--db", db])
    assert code == 3 and "Traceback" not in out


# ---- the workspace -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(env: tuple[Any, str, Path]) -> Any:
    return make_app(env[0], env[2])


def _client(app: Any, user: str) -> TestClient:
    c = TestClient(app)
    assert login(c, user).status_code == 303
    return c


def test_workspace_cybertip_preview_and_download(app: Any, env: tuple[Any, str, Path],
                                                 case_id: int) -> None:
    c = _client(app, "bo")
    page = c.get(f"/cases/{case_id}")
    assert "Prepare CyberTipline report" in page.text and "Evidence bundle" in page.text
    assert c.get(f"/cases/{case_id}/cybertip").status_code == 200
    token = csrf(c, f"/cases/{case_id}/cybertip")
    form = {"csrf_token": token, "incident_type": "Child Sex Trafficking",
            "reporter_email": "analyst@example.org", "reporter_name": "Ana Lyst"}
    r = c.post(f"/cases/{case_id}/cybertip", data=form)
    assert r.status_code == 200 and "Valid against NCMEC" in r.text
    assert "&lt;report&gt;" in r.text  # the XML preview, escaped
    d = c.post(f"/cases/{case_id}/cybertip/download", data=form)
    assert d.status_code == 200 and d.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(d.content)) as zf:
        xml = zf.read("report.xml")
    assert list(xmlschema.XMLSchema(str(SCHEMA_PATH)).iter_errors(xml.decode())) == []
    _, entries = Accounts(env[0]).audit_entries(limit=1, action="export.cybertip")
    assert entries[0]["detail"]["sha256"] == hashlib.sha256(d.content).hexdigest()
    assert entries[0]["username"] == "bo"


def test_workspace_evidence_and_signals(app: Any, env: tuple[Any, str, Path], case_id: int,
                                        tmp_path: Path) -> None:
    from tracelight.services.evidence import verify

    c = _client(app, "bo")
    token = csrf(c, f"/cases/{case_id}")
    r = c.post(f"/cases/{case_id}/evidence", data={"csrf_token": token})
    assert r.status_code == 200
    (tmp_path / "b.zip").write_bytes(r.content)
    assert verify(tmp_path / "b.zip").ok
    _, entries = Accounts(env[0]).audit_entries(limit=1, action="export.evidence")
    assert entries[0]["detail"]["sha256"] == hashlib.sha256(r.content).hexdigest()
    assert c.get(f"/cases/{case_id}/signals").status_code == 200
    s = c.post(f"/cases/{case_id}/signals", data={"csrf_token": token, "fmt": "stix",
                                                  "tlp": "clear"})
    assert s.status_code == 200 and "TLP:CLEAR" in s.text
    _, entries = Accounts(env[0]).audit_entries(limit=1, action="export.signals")
    assert entries[0]["detail"]["sha256"] == hashlib.sha256(s.content).hexdigest()


def test_workspace_reporting_needs_analyst_and_csrf(app: Any, case_id: int) -> None:
    viewer = _client(app, "cy")
    assert viewer.get(f"/cases/{case_id}/cybertip").status_code == 403
    assert viewer.get(f"/cases/{case_id}/signals").status_code == 403
    token = csrf(viewer, f"/cases/{case_id}")
    assert viewer.post(f"/cases/{case_id}/evidence",
                       data={"csrf_token": token}).status_code == 403
    analyst = _client(app, "bo")
    assert analyst.post(f"/cases/{case_id}/evidence", data={}).status_code == 403
    assert TestClient(app).get(f"/cases/{case_id}/cybertip",
                               follow_redirects=False).status_code in (303, 401)
