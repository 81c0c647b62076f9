"""The finance core: readers (native, AMLworld, hostile input), the red-flag catalogue, the
scorer's combination rule, the generator's truth, SAR drafts."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.errors import ConfigError
from tracelight.finance.catalogue import DEFAULT_PATH, load_redflags, parse_redflags
from tracelight.finance.engine import Scorer, score_all
from tracelight.finance.evaluate import evaluate, load_truth
from tracelight.finance.generator import generate
from tracelight.finance.readers import read_accounts, read_transactions
from tracelight.finance.records import Account, Reject, Transaction
from tracelight.finance.sar import KEY_TERM, draft_sar

HEADER = "tx_id,timestamp,amount,currency,from_account,to_account,channel,merchant,mcc,city," \
         "region,country\n"


def _read(text: str | bytes, name: str = "t.csv") -> list[Transaction | Reject]:
    data = text.encode() if isinstance(text, str) else text
    return list(read_transactions(io.BytesIO(data), name))


def test_native_csv_and_jsonl() -> None:
    rows = _read(HEADER + "T1,2026-01-05T10:00:00,125.50,USD,A1,,card,Motel,7011,Reno,NV,US\n"
                 "T2,2026-01-05T11:00:00-05:00,9000,usd,,A1,cash_deposit,,,Miami,FL,US\n")
    assert all(isinstance(r, Transaction) for r in rows)
    t1, t2 = rows
    assert isinstance(t1, Transaction) and isinstance(t2, Transaction)
    assert t1.amount == 125.5 and t1.mcc == "7011" and t1.to_account == ""
    assert t2.currency == "USD" and t2.timestamp.utcoffset() == timedelta(hours=-5)
    line = json.dumps({"tx_id": "T3", "timestamp": "2026-01-06T00:00:00Z", "amount": 5,
                       "from_account": "A1", "to_account": "A2", "channel": "p2p"})
    (t3,) = _read(line + "\n", "x.jsonl")
    assert isinstance(t3, Transaction) and t3.channel == "p2p"


def test_bad_rows_are_rejects_with_file_and_line() -> None:
    rows = _read(HEADER
                 + "T1,2026-01-05T10:00:00,-3,USD,A1,,card,,,,,\n"
                 + "T2,yesterday,3,USD,A1,,card,,,,,\n"
                 + "T3,2026-01-05T10:00:00,3,USD,A1,,teleport,,,,,\n"
                 + "T4,2026-01-05T10:00:00,nan,USD,A1,,card,,,,,\n"
                 + "T5,2026-01-05T10:00:00,3,USD,,,card,,,,,\n"
                 + "too,few\n"
                 + "T6,2026-01-05T10:00:00,3,USD,A1,,card,,,,,\n")
    rejects = [r for r in rows if isinstance(r, Reject)]
    assert [r.origin for r in rejects] == [f"t.csv:{n}" for n in range(2, 8)]
    assert "amount" in rejects[0].reason and "ISO 8601" in rejects[1].reason
    assert "channel" in rejects[2].reason and "fields" in rejects[5].reason
    assert [r.tx_id for r in rows if isinstance(r, Transaction)] == ["T6"]


def test_amlworld_layout() -> None:
    text = ("Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,"
            "Amount Paid,Payment Currency,Payment Format,Is Laundering\n"
            "2022/09/01 00:20,10,8000EBD30,10,8000EBD30,3697.34,US Dollar,3697.34,US Dollar,"
            "Reinvestment,0\n"
            "2022/09/01 00:21,3208,8000F4580,1,8000F5340,0.01,US Dollar,0.01,US Dollar,"
            "Cheque,0\n"
            "2022/09/01 00:22,1,X,2,Y,5,Martian Credit,5,Martian Credit,Cash,0\n")
    rows = _read(text, "HI-Small_Trans.csv")
    a, b, c = rows
    assert isinstance(a, Transaction) and a.channel == "ach" and a.from_account == "10:8000EBD30"
    assert isinstance(b, Transaction) and b.channel == "check" and b.amount == 0.01
    assert isinstance(c, Reject) and "currency" in c.reason
    again = _read(text, "HI-Small_Trans.csv")
    assert [r.tx_id for r in again if isinstance(r, Transaction)] == [a.tx_id, b.tx_id]


def test_non_utf8_and_huge_rows_do_not_stop_reading() -> None:
    data = (HEADER.encode() + b"T1,2026-01-05T10:00:00,1,USD,A\xff1,,card,,,,,\n"
            + b"T2,2026-01-05T10:00:00,1,USD,A1,,card," + b"x" * 300 + b",,,,\n"
            + b"T3,2026-01-05T10:00:00,1,USD,A1,,card,,,,,\n")
    rows = _read(data)
    assert isinstance(rows[0], Reject) and "UTF-8" in rows[0].reason
    assert isinstance(rows[1], Reject) and "longer" in rows[1].reason
    assert isinstance(rows[2], Transaction)
    jl = _read(b'{"tx_id": "T1", "amount": NaN}\n[1]\n{bad\n', "x.jsonl")
    assert all(isinstance(r, Reject) for r in jl) and len(jl) == 3


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["t.csv", "t.jsonl"]))
def test_any_bytes_give_transactions_or_rejects(data: bytes, name: str) -> None:
    for item in read_transactions(io.BytesIO(HEADER.encode() + data), name):
        assert isinstance(item, (Transaction, Reject))
    for acct in read_accounts(io.BytesIO(data), name):
        assert isinstance(acct, (Account, Reject))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["tx_id", "timestamp", "amount", "currency",
                                        "from_account", "to_account", "channel", "mcc"]),
                       st.one_of(st.text(max_size=30), st.integers(), st.floats(),
                                 st.none(), st.booleans(), st.lists(st.integers()))))
def test_any_json_object_gives_a_transaction_or_a_reject(obj: dict[str, object]) -> None:
    line = json.dumps(obj) + "\n"
    (item,) = _read(line, "x.jsonl") or [Reject("x", "empty")]
    assert isinstance(item, (Transaction, Reject))


def test_catalogue_ships_valid_with_citations() -> None:
    rf = load_redflags()
    assert len(rf.flags) >= 12 and len(rf.typologies) >= 5
    assert all(f.citation.source in rf.sources for f in rf.flags)
    assert {"FIN-2014-A008", "FIN-2020-A008", "FINTRAC-PP"} <= set(rf.sources)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["indicators"][0].update(detector="psychic"), "indicators[0] (code "
     "'escort_ad_payments').detector: must be one of"),
    (lambda d: d["indicators"][1].update(citation={"source": "X", "item": "y"}),
     "indicators[1] (code 'foreign_ad_sites').citation.source: 'X' is not defined"),
    (lambda d: d["typologies"][0].update(all_of=["escort_ad_payments"]),
     "typologies[0] (code 'commercial_sex_advertising'): a typology must need at least two"),
    (lambda d: d["typologies"][1].update(all_of=["nope", "structuring"]),
     "typologies[1] (code 'funnel_account').all_of[0]: unknown red flag 'nope'"),
    (lambda d: d["indicators"][2].pop("min_places"), "min_places: is required"),
    (lambda d: d["indicators"][2].update(weight=3), "weight: must be between"),
])
def test_catalogue_errors_name_file_and_key(change: object, message: str) -> None:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    with pytest.raises(ConfigError) as exc:
        parse_redflags(data, "redflags.yaml")
    assert str(exc.value).startswith("redflags.yaml: ") and message in str(exc.value)


def test_bad_yaml_file(tmp_path: Path) -> None:
    p = tmp_path / "rf.yaml"
    p.write_text("indicators: [", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rf\.yaml: not valid YAML"):
        load_redflags(p)


def _t(i: int, day: float, channel: str, amount: float, frm: str = "", to: str = "",
       **kw: str) -> Transaction:
    return Transaction(tx_id=f"T{i}", timestamp=datetime(2026, 1, 5, 12, tzinfo=UTC)
                       + timedelta(days=day), amount=amount, currency="USD",
                       from_account=frm, to_account=to, channel=channel, **kw)


def test_one_red_flag_alone_never_alerts() -> None:
    nurse = [_t(i, i * 2, "card", 200, "N1", mcc="7011", city=c)
             for i, c in enumerate(["Reno", "Omaha", "Tulsa", "Boise"])]
    scorer = Scorer({"N1": Account("N1")})
    fired = [a for t in nurse for a in scorer.observe(t)]
    assert fired == [] and scorer.fired_flags() == {"N1": {"lodging_multi_city"}}


def test_a_combination_alerts_with_every_transaction_behind_it() -> None:
    txs = [_t(i, i * 2, "card", 200, "P1", mcc="7011", city=c)
           for i, c in enumerate(["Reno", "Omaha", "Tulsa"])]
    txs += [_t(10 + i, i * 3, "card", 40, "P1", merchant="VelvetBoard", mcc="7311")
            for i in range(3)]
    txs.sort(key=lambda t: t.timestamp)
    scorer = Scorer({"P1": Account("P1")})
    fired = [a for t in txs for a in scorer.observe(t)]
    assert len(fired) == 1
    alert = fired[0]
    assert alert.typologies == ["commercial_sex_advertising"]
    by = {e.code: e for e in alert.indicators}
    assert set(by["lodging_multi_city"].tx_ids) == {"T0", "T1", "T2"}
    assert set(by["escort_ad_payments"].tx_ids) == {"T10", "T11", "T12"}
    assert "FIN-2014-A008" in by["escort_ad_payments"].citation
    assert 0 < alert.score < 1


def test_after_hours_uses_the_local_clock() -> None:
    biz = Account("B1", kind="business", opening_hours="10:00-20:00")
    base = datetime(2026, 1, 5, 22, 30, tzinfo=UTC)
    scorer = Scorer({"B1": biz})
    for i in range(4):
        scorer.observe(Transaction(f"T{i}", base + timedelta(days=i), 2500, "USD", "", "B1",
                                   "cash_deposit"))
    assert "after_hours_cash" in scorer.fired_flags()["B1"]


def test_generator_is_deterministic_and_rules_find_the_planted(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, accounts=600, seed=3)
    generate(b, accounts=600, seed=3)
    for name in ("accounts.csv", "transactions.csv", "truth.json", "ads.jsonl"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    with (a / "accounts.csv").open("rb") as fa, (a / "transactions.csv").open("rb") as ft:
        accounts = {x.account_id: x for x in read_accounts(fa, "a") if isinstance(x, Account)}
        alerts = score_all((t for t in read_transactions(ft, "t")
                            if isinstance(t, Transaction)), accounts)
    truth = load_truth(a / "truth.json")
    for s in evaluate(alerts, truth):
        assert s.planted >= 2 and s.precision >= 0.9 and s.recall >= 0.9, s
    lookalikes = {x for v in truth["lookalikes"].values() for x in v}
    assert not lookalikes & {al.account for al in alerts}


def test_sar_draft_names_the_subject_not_possible_victims() -> None:
    txs = [_t(i, i * 0.5, "p2p", 150, f"V{i}", "C1") for i in range(9)]
    txs += [_t(20 + i, 1 + i, "card", 120, "C1", mcc="7011", city=c)
            for i, c in enumerate(["Reno", "Omaha", "Tulsa"])]
    txs.sort(key=lambda t: t.timestamp)
    scorer = Scorer({"C1": Account("C1", city="Boise", region="ID", country="US")})
    for t in txs:
        scorer.observe(t)
    (alert,) = list(scorer.alerts())
    text = draft_sar(alert, Account("C1", city="Boise"), txs)
    assert KEY_TERM in text and "INTRODUCTION" in text and "CONCLUSION" in text
    assert "possible victims" in text and "not named as subjects" in text
    assert "V1" not in text  # counterparties are masked
    lines = [ln[:16] for ln in text.splitlines() if ln.startswith("2026-")]
    assert lines == sorted(lines) and len(lines) == len(txs)
