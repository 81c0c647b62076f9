"""Outreach to possible victims and buyer deterrence: every safety rule, end to end through
the CLI, the services and a fake SMS gateway on 127.0.0.1."""

from __future__ import annotations

import ast
import json
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import tracelight
from local_servers import Gateway, sms_gateway
from tracelight.cli.main import cli
from tracelight.errors import (
    ConfigError,
    ForbiddenError,
    NotFoundError,
    TracelightError,
    UsageError,
)
from tracelight.outreach import catalogue
from tracelight.records import utcnow
from tracelight.services import outreach as svc
from tracelight.services.outreach_providers import DryRunProvider, HttpProvider
from tracelight.store import open_store
from tracelight.store.accounts import PERMISSIONS, Accounts

SEA = "+12065550143"  # in two ads
NYC = "+12125550199"
LONE = "+13125550177"  # only ever given with --phone: outreach-only
NOON_UTC = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)  # noon in Seattle, 15:00 in New York
MARKER = "zebracanary"


def run(*args: str) -> tuple[int, str, str]:
    """The command as `tracelight` runs it: a TracelightError is one line and its exit code."""
    result = CliRunner().invoke(cli, list(args))
    exc = result.exception
    if isinstance(exc, TracelightError):
        return exc.exit_code, result.stdout, result.stderr + f"error: {exc}\n"
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(db_url: str, tmp_path: Path) -> str:
    """A small ingested corpus and four users, on SQLite and on PostgreSQL."""
    url = db_url
    rows = [
        {"id": "a0", "source": "feed", "title": "Ad 0", "body": "call 206-555-0143 today",
         "location": "Seattle, WA", "posted_at": "2026-03-01T10:00:00Z"},
        {"id": "a1", "source": "feed", "title": "Ad 1", "body": "text 206.555.0143 now",
         "location": "Seattle, WA", "posted_at": "2026-03-02T10:00:00Z"},
        {"id": "a2", "source": "feed", "title": "Ad 2", "body": "call 212 555 0199",
         "location": "New York, NY", "posted_at": "2026-03-03T10:00:00Z"},
        {"id": "a3", "source": "feed", "title": "Ad 3",
         "body": "helpline 206-555-0101 {hotline} \u202e<script>x</script>",
         "location": "Seattle, WA", "posted_at": "2026-03-04T10:00:00Z"},
    ]
    corpus = tmp_path / "ads.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert run("ingest", str(corpus), "--db", url, "--workers", "1")[0] == 0
    store = open_store(url)
    acc = Accounts(store)
    acc.add_user("ada", "x", "advocate")
    acc.add_user("bea", "x", "advocate")
    acc.add_user("ana", "x", "analyst")
    acc.add_user("adm", "x", "admin")
    store.close()
    return url


# ---- templates and directories as validated data ----------------------------------------

def test_shipped_catalogue_is_valid_and_victim_centred() -> None:
    cat = catalogue.load()
    for tpl in cat.templates.values():
        if tpl.kind == "outreach":
            low = tpl.text.casefold()
            assert "police" not in low and "{optout}" in tpl.text and "http" not in low
    assert "1-888-373-7888" in cat.hotline and "233733" in cat.hotline
    assert all("fictional" in s.name for r in cat.regions.values() for s in r.services)
    assert cat.region_for(SEA).key == "seattle"
    assert cat.region_for("+4420000000").key == "default"


@pytest.mark.parametrize(("text", "problem"), [
    ("Hi {org}. The police can help. {hotline} {optout}", "templates.t.text: an outreach "
     "message must not mention 'police'"),
    ("Hi {org} {name}. {hotline} {optout}", "templates.t.text: unknown placeholder(s) {name}"),
    ("Hi, see https://x.example/a {hotline} {optout}", "templates.t.text: contains a link"),
    ("Hi {org}. {hotline}", "templates.t.text: an outreach message must carry {optout}"),
])
def test_bad_templates_name_file_and_key(tmp_path: Path, text: str, problem: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps({"version": 1, "hotline": catalogue.load().hotline,
                               "optout": "Reply STOP to end.", "opt_out_words": ["STOP"],
                               "templates": {"t": {"kind": "outreach", "text": text}}}))
    with pytest.raises(ConfigError) as err:
        catalogue.load_templates(bad)
    assert str(err.value).startswith("bad.yaml: ") and problem in str(err.value)


def test_bad_directory_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "dir.yaml"
    bad.write_text("version: 1\nregions:\n  default:\n    name: X\n    timezone: Mars/Base\n"
                   "    phone_prefixes: []\n    services: [{name: A, contact: '1'}]\n")
    with pytest.raises(ConfigError, match=r"^dir.yaml: regions.default.timezone: "):
        catalogue.load_regions(bad)
    bad.write_text("version: [")
    with pytest.raises(ConfigError, match=r"^dir.yaml: cannot be read"):
        catalogue.load_regions(bad)


KEYS = [*sorted(catalogue.PLACEHOLDERS), "x"]


@given(st.text(max_size=600), st.dictionaries(st.sampled_from(KEYS), st.text(max_size=300)))
def test_render_never_raises_and_never_expands_its_inputs(template: str,
                                                          values: dict[str, str]) -> None:
    out = catalogue.render(template, values)
    assert len(out) <= catalogue.MAX_MESSAGE
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in out)
    only_values = catalogue.render("{org}", values)
    assert "{" not in only_values and "}" not in only_values


@given(st.one_of(st.text(max_size=50), st.none(), st.integers()))
def test_opt_out_detection_never_raises(text: Any) -> None:
    catalogue.is_opt_out(text, catalogue.load().opt_out_words)


def test_opt_out_words_in_several_languages() -> None:
    words = catalogue.load().opt_out_words
    for reply in ("STOP", "stop.", "Stop please", "alto", "Arrêt", "BASTA!", "停止"):
        assert catalogue.is_opt_out(reply, words), reply
    for reply in ("hi", "don't stop", "", "   "):
        assert not catalogue.is_opt_out(reply, words), reply


# ---- plan: one message per phone, suppression, preview ------------------------------------

def test_one_message_per_distinct_phone_and_directory_numbers_skipped(db: str) -> None:
    code, out, err = run("outreach", "plan", "--ad", "feed/a0", "--ad", "feed/a1", "--ad",
                         "feed/a2", "--ad", "feed/a3", "--as", "ada", "--format", "jsonl",
                         "--db", db)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    phones = [r["phone"] for r in rows]
    assert sorted(phones) == sorted({SEA, NYC, "+12065550101"})  # a0 and a1 share SEA
    by = {r["phone"]: r for r in rows}
    assert by[SEA]["ads"] == 2 and by[SEA]["status"] == "planned"
    assert "Harbor Light" in by[SEA]["services"] and "233733" in by[SEA]["text"]
    assert by["+12065550101"]["status"] == "skipped"
    assert "service directory" in by["+12065550101"]["reason"]
    assert "police" not in by[SEA]["text"].casefold()
    # hostile ad text never reaches a message: messages are templates only
    assert all("script" not in r["text"] and "\u202e" not in r["text"] for r in rows)
    assert "approve with" in err


def test_hostile_phones_are_skipped_never_messaged(db: str) -> None:
    store = open_store(db)
    hostile = ["+1" + "9" * 40, "+1" + "9" * 41, "'; DROP TABLE ads; --",
               "+1２０６５５５０１４３", "", "{hotline}", "+1\x00206"]
    made = svc.plan(store, "ada", phones=hostile, now=NOON_UTC)
    assert made.planned == 0 and all(m.status == "skipped" for m in made.messages)
    assert all(len(m.phone) <= 32 for m in made.messages)
    cleaned = svc.plan(store, "ada", phones=["\u202e+12065550143\u200b"], now=NOON_UTC)
    assert [m.phone for m in cleaned.messages] == [SEA]  # invisible characters dropped
    store.close()


def test_analysts_and_admins_are_refused_everywhere(db: str) -> None:
    for who in ("ana", "adm", "nobody"):
        for args in (["plan", "--phone", SEA], ["inbox"], ["report"], ["thread", SEA],
                     ["approve", "1"], ["deter", "--decoy", "d", "--from", SEA, "--text", "hi"]):
            code, _, err = run("outreach", *args, "--as", who, "--db", db)
            assert code == ForbiddenError.exit_code, (who, args, err)
            assert "Traceback" not in err
    assert "outreach" not in PERMISSIONS["analyst"] | PERMISSIONS["admin"]
    assert PERMISSIONS["advocate"] == frozenset({"outreach"})  # and no enforcement reads


def test_sending_requires_approval_and_dry_run_changes_nothing(db: str) -> None:
    store = open_store(db)
    made = svc.plan(store, "ada", phones=[SEA, NYC], now=NOON_UTC)
    with pytest.raises(UsageError, match="not approved"):
        svc.send(store, "ada", made.batch.pk, DryRunProvider(), now=NOON_UTC)
    svc.approve(store, "bea", made.batch.pk)
    with pytest.raises(UsageError, match="already approved"):
        svc.approve(store, "bea", made.batch.pk)
    res = svc.send(store, "ada", made.batch.pk, DryRunProvider(), now=NOON_UTC)
    assert res.dry_run and len(res.would_send) == 2 and res.sent == 0
    assert svc.report(store, "ada")["sent"] == 0
    store.close()


def test_cli_send_without_approval_is_one_line_error(db: str) -> None:
    code, _, _ = run("outreach", "plan", "--phone", SEA, "--as", "ada", "--db", db)
    assert code == 0
    code, _, err = run("outreach", "send", "1", "--as", "ada", "--db", db)
    assert code == 2 and "not approved" in err and "Traceback" not in err
    code, _, err = run("outreach", "send", "1", "--provider", "http", "--as", "ada", "--db", db)
    assert code == 2 and "--provider-url" in err


# ---- the fake gateway on 127.0.0.1 -------------------------------------------------------

@pytest.fixture
def gateway() -> Iterator[tuple[str, Gateway]]:
    with sms_gateway() as found:
        yield found


def test_end_to_end_against_the_fake_gateway(db: str, gateway: tuple[str, Gateway],
                                             tmp_path: Path) -> None:
    url, gw = gateway
    store = open_store(db)
    gw.fail.add(NYC)
    made = svc.plan(store, "ada", ads=["feed/a0", "feed/a1", "feed/a2"], now=NOON_UTC)
    svc.approve(store, "bea", made.batch.pk)
    res = svc.send(store, "ada", made.batch.pk, HttpProvider(url), now=NOON_UTC)
    assert (res.sent, res.failed) == (1, 1)
    assert [m["to"] for m in gw.sent] == [SEA, NYC]  # one per phone, not one per ad
    # a reply routed to the approving advocate, then a STOP
    gw.replies += [{"from": SEA, "body": f"who is this? {MARKER}"}, {"from": SEA, "body": "STOP"},
                   {"from": "not a phone", "body": "x"}, "junk"]
    got = svc.ingest_replies(store, "ada", HttpProvider(url).fetch_replies())
    assert (got.stored, got.opted_out, got.rejected) == (2, 1, 1)  # "junk" dropped by the adapter
    box = svc.inbox(store, "bea", mine=True)
    assert [(r["phone"], r["replies"]) for r in box] == [(SEA, 2)]
    assert svc.inbox(store, "ada", mine=True) == []
    texts = [t["text"] for t in svc.thread(store, "bea", SEA)]
    assert texts[0].startswith("Hi") and MARKER in texts[1]
    # the STOP is honoured on the next batch, even long after the cool-off
    later = NOON_UTC + timedelta(days=90)
    nxt = svc.plan(store, "ada", phones=[SEA, NYC], now=later)
    status = {m.phone: (m.status, m.reason) for m in nxt.messages}
    assert status[SEA] == ("skipped", "opted out") and status[NYC][0] == "planned"
    svc.refer(store, "bea", SEA, "Harbor Light Drop-in (fictional)")
    counts = svc.report(store, "ada")
    assert counts["sent"] == 1 and counts["failed"] == 1 and counts["replies"] == 2
    assert counts["opt_outs"] == 1 and counts["referrals"] == 1
    store.close()


def test_opt_out_between_plan_and_send_is_honoured(db: str,
                                                   gateway: tuple[str, Gateway]) -> None:
    url, gw = gateway
    store = open_store(db)
    made = svc.plan(store, "ada", phones=[SEA], now=NOON_UTC)
    svc.approve(store, "ada", made.batch.pk)
    svc.ingest_replies(store, "ada", [{"from": SEA, "body": "alto"}])
    res = svc.send(store, "ada", made.batch.pk, HttpProvider(url), now=NOON_UTC)
    assert res.sent == 0 and res.skipped == 1 and gw.sent == []
    store.close()


def test_cooloff_quiet_hours_rate_limits_and_do_not_contact(
        db: str, gateway: tuple[str, Gateway]) -> None:
    url, gw = gateway
    store = open_store(db)
    first = svc.plan(store, "ada", phones=[SEA], now=NOON_UTC)
    svc.approve(store, "ada", first.batch.pk)
    assert svc.send(store, "ada", first.batch.pk, HttpProvider(url), now=NOON_UTC).sent == 1
    # contacted 10 days ago: skipped under the 30-day cool-off, planned after it
    again = svc.plan(store, "ada", phones=[SEA], now=NOON_UTC + timedelta(days=10))
    assert again.messages[0].reason == "contacted within the last 30 days"
    assert svc.plan(store, "ada", phones=[SEA], now=NOON_UTC + timedelta(days=31)).planned == 1
    # quiet hours in the recipient's zone: 06:00 UTC is 23:00 in Seattle, 02:00 in New York
    batch = svc.plan(store, "ada", phones=[NYC, LONE], now=NOON_UTC)
    svc.approve(store, "ada", batch.batch.pk)
    night = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    res = svc.send(store, "ada", batch.batch.pk, HttpProvider(url), now=night)
    assert (res.sent, res.deferred) == (0, 2) and "quiet hours" in res.notes[0]
    # per-hour limit: one already sent this hour, limit 2 -> one sent, one deferred
    res = svc.send(store, "ada", batch.batch.pk, HttpProvider(url), now=NOON_UTC,
                   per_hour=2)
    assert (res.sent, res.deferred) == (1, 1) and "limit" in res.notes[0]
    res = svc.send(store, "ada", batch.batch.pk, HttpProvider(url),
                   now=NOON_UTC + timedelta(hours=2), per_hour=2)
    assert res.sent == 1 and store and len(gw.sent) == 3
    # do-not-contact (e.g. an open case, flagged by a supervisor)
    svc.do_not_contact(store, "bea", "+17025550111", "in an open case")
    dnc = svc.plan(store, "ada", phones=["+17025550111"], now=NOON_UTC)
    assert dnc.messages[0].reason == "on the do-not-contact list"
    store.close()


def test_file_provider_and_reply_file_through_the_cli(db: str, tmp_path: Path) -> None:
    assert run("outreach", "plan", "--phone", SEA, "--as", "ada", "--db", db)[0] == 0
    assert run("outreach", "approve", "1", "--as", "bea", "--db", db)[0] == 0
    outbox = tmp_path / "outbox.jsonl"
    code, _, err = run("outreach", "send", "1", "--provider", "file", "--outbox", str(outbox),
                       "--quiet-hours", "0-0", "--as", "ada", "--db", db)
    assert code == 0, err
    sent = [json.loads(x) for x in outbox.read_text().splitlines()]
    assert [s["to"] for s in sent] == [SEA]
    replies = tmp_path / "in.jsonl"
    replies.write_text(json.dumps({"from": SEA, "body": "Stop"}) + "\nnot json\n")
    code, _, err = run("outreach", "replies", str(replies), "--as", "ada", "--db", db)
    assert code == 0 and "1 stored, 1 opted out, 1 rejected" in err
    code, out, _ = run("outreach", "report", "--as", "ada", "--format", "jsonl", "--db", db)
    counts = {json.loads(x)["measure"]: json.loads(x)["count"] for x in out.splitlines()}
    assert counts["sent"] == 1 and counts["opt_outs"] == 1
    assert SEA not in out  # counts only
    code, _, err = run("outreach", "replies", str(tmp_path / "missing"), "--as", "ada",
                       "--db", db)
    assert code != 0 and "Traceback" not in err


def test_buyer_deterrence_is_templated_dry_run_and_counted(db: str) -> None:
    store = open_store(db)
    answer = svc.deter(store, "ada", "decoy-1", "+17025550123", "how much? {hotline} \x1b[2J")
    assert "illegal" in answer and "{" not in answer
    svc.deter(store, "ada", "decoy-1", "+17025550123", "again")
    svc.deter(store, "ada", "decoy-2", "+17025550124", "hi")
    counts = svc.report(store, "ada")
    assert (counts["buyers_reached"], counts["repeat_buyers"],
            counts["deterrence_messages"]) == (2, 1, 3)
    with pytest.raises(UsageError):
        svc.deter(store, "ada", "d", "nope", "x")
    store.close()


def test_purge_applies_retention_and_keeps_opt_outs(db: str) -> None:
    store = open_store(db)
    made = svc.plan(store, "ada", phones=[SEA, NYC], now=NOON_UTC)
    svc.ingest_replies(store, "ada", [{"from": SEA, "body": "stop"}, {"from": NYC, "body": "hi"}])
    svc.deter(store, "ada", "d", "+17025550123", "x")
    with pytest.raises(UsageError):
        svc.purge(store, "ada", 0)
    assert svc.purge(store, "ada", 30)["conversation_turns"] == 0  # nothing that old yet
    counts = svc.purge(store, "ada", 1, now=utcnow() + timedelta(days=400))
    assert counts["conversation_turns"] == 2 and counts["deterrence_entries"] == 2
    assert counts["batches"] == 1 and counts["messages"] == 2
    assert svc.thread(store, "ada", NYC) == []
    with pytest.raises(NotFoundError):
        svc.preview(store, "ada", made.batch.pk)
    again = svc.plan(store, "ada", phones=[SEA], now=NOON_UTC)
    assert again.messages[0].reason == "opted out"  # an opt-out outlives every purge
    with pytest.raises(ForbiddenError):
        svc.purge(store, "ana", 1)
    store.close()


# ---- outreach data never reaches enforcement ---------------------------------------------

def test_outreach_data_is_absent_from_queue_search_cases_and_exports(
        db: str, tmp_path: Path) -> None:
    store = open_store(db)
    made = svc.plan(store, "ada", phones=[LONE, SEA], now=NOON_UTC)
    svc.approve(store, "ada", made.batch.pk)
    svc.ingest_replies(store, "ada", [{"from": LONE, "body": f"help {MARKER}"}])
    svc.deter(store, "ada", "decoy", "+17025550123", MARKER)
    store.close()
    outputs = []
    for args in (["queue", "--format", "jsonl"], ["ads", "--format", "jsonl"],
                 ["search", MARKER, "--format", "jsonl"],
                 ["search", "--phone", LONE, "--format", "jsonl"],
                 ["case", "create", "c", "--ad", "feed/a0", "--as", "ana"]):
        code, out, err = run(*args, "--db", db)
        # data goes to stdout; stderr's "No results" only repeats the analyst's own query
        outputs.append(out)
    case_id = outputs[-1].split()[0]
    assert run("case", "add", case_id, "--identifier", f"phone:{SEA}", "--as", "ana",
               "--db", db)[0] == 0
    code, out, err = run("case", "show", case_id, "--format", "jsonl", "--as", "ana",
                         "--db", db)
    assert code == 0, err
    outputs.append(out)
    bundle = tmp_path / "b.zip"
    assert run("evidence", "bundle", case_id, "--out", str(bundle), "--as", "ana",
               "--db", db)[0] == 0
    signals = tmp_path / "s.json"
    assert run("signals", "export", case_id, "--out", str(signals), "--as", "ana",
               "--db", db)[0] == 0
    import zipfile
    with zipfile.ZipFile(bundle) as zf:
        outputs.extend(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    outputs.append(signals.read_text())
    _, out, _ = run("audit", "--db", db)
    outputs.append(out)
    blob = "\n".join(outputs)
    assert MARKER not in blob and LONE not in blob
    assert "Hi, this is" not in blob  # no outreach message text anywhere


ALLOWED = {"tracelight/store/outreach.py", "tracelight/services/outreach.py",
           "tracelight/services/outreach_providers.py", "tracelight/cli/outreach_cmd.py",
           "tracelight/web/routes/outreach.py"}


def test_no_other_module_reads_outreach_data() -> None:
    """The proof by construction: only the outreach modules import the outreach store or
    service, and no other module names an outreach table (so nothing can join them)."""
    root = Path(tracelight.__file__).parent
    names = ("outreach_batches", "outreach_messages", "outreach_contacts",
             "outreach_conversations", "outreach_referrals", "deterrence_log")
    for path in root.rglob("*.py"):
        rel = str(path.relative_to(root.parent))
        if rel in ALLOWED or "/migrations/" in rel:
            continue
        text = path.read_text(encoding="utf-8")
        assert not any(n in text for n in names), rel
        for node in ast.walk(ast.parse(text)):
            mods: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            for mod in mods:
                assert not mod.startswith(("tracelight.store.outreach",
                                           "tracelight.services.outreach")), rel


def test_outreach_tables_come_and_go_with_migration_0011(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    tables = set(inspect(store.engine).get_table_names())
    assert {"outreach_batches", "outreach_conversations", "deterrence_log"} <= tables
    store.close()


# ---- the advocate-only web pages ----------------------------------------------------------

def test_web_outreach_pages_are_advocate_only_escaped_and_audited(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tracelight.store.audit import AuditLog
    from tracelight.web.auth import hash_password
    from web_helpers import PASSWORD, csrf, login, make_app

    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    acc = Accounts(store)
    acc.add_user("ada", hash_password(PASSWORD), "advocate")
    acc.add_user("bo", hash_password(PASSWORD), "analyst")
    acc.add_user("root", hash_password(PASSWORD), "admin")
    hostile = "<script>alert(1)</script>"
    made = svc.plan(store, "ada", phones=[SEA, "+1" + hostile], org=hostile, now=NOON_UTC)
    app = make_app(store, tmp_path)
    for who in ("bo", "root"):
        c = TestClient(app)
        assert login(c, who).status_code == 303
        assert "/outreach" not in c.get("/queue").text  # no link for them
        for path in ("/outreach", f"/outreach/batches/{made.batch.pk}"):
            assert c.get(path).status_code == 403, (who, path)
        token = csrf(c, "/queue")
        r = c.post(f"/outreach/batches/{made.batch.pk}/approve", data={"csrf_token": token},
                   follow_redirects=False)
        assert r.status_code == 403
    c = TestClient(app)
    assert login(c, "ada").status_code == 303
    assert 'href="/outreach"' in c.get("/queue").text
    page = c.get("/outreach")
    assert page.status_code == 200 and f"/outreach/batches/{made.batch.pk}" in page.text
    page = c.get(f"/outreach/batches/{made.batch.pk}")
    assert page.status_code == 200 and "Approve this batch" in page.text
    assert hostile not in page.text and "&lt;script&gt;" in page.text
    r = c.post(f"/outreach/batches/{made.batch.pk}/approve", data={"csrf_token": csrf(
        c, "/outreach")}, follow_redirects=False)
    assert r.status_code == 303
    assert batch_status(store, made.batch.pk) == "approved"
    entries = AuditLog(store).entries(limit=50, action="outreach.")[1]
    assert {"outreach.batches", "outreach.preview", "outreach.approve"} <= {
        e["action"] for e in entries}
    assert all(e["username"] == "ada" for e in entries if e["action"] != "outreach.plan")
    assert any((e["detail"] or {}).get("via") == "web" for e in entries)
    denied = AuditLog(store).entries(limit=50, action="access.denied")[1]
    assert {(e["username"], e["target"]) for e in denied} >= {("bo", "/outreach"),
                                                                ("root", "/outreach")}
    store.close()


def batch_status(store: Any, pk: int) -> str:
    from tracelight.store.outreach import Outreach

    return Outreach(store).batch(pk).status
