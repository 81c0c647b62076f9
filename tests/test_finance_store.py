"""Finance tables on SQLite and PostgreSQL (the `store` fixture runs both): idempotent
transactions, time order with offsets kept, alerts replaced as a whole, account <-> ad links
both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tracelight.finance.records import Account, Alert, Evidence, Transaction
from tracelight.records import AdRecord, Mention, ProcessedAd
from tracelight.store import Store


def _tx(i: int, hours: float, tz: int = 0) -> Transaction:
    when = datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(hours=hours)
    return Transaction(f"T{i}", when.astimezone(timezone(timedelta(hours=tz))), 10.0 + i, "USD",
                       "A1", f"A{i + 2}", "p2p", city="Reno", region="NV", country="US")


def test_transactions_idempotent_and_in_time_order(store: Store) -> None:
    assert store.write_fin_transactions([_tx(1, 5), _tx(2, 1, tz=-5), _tx(2, 1)]) == 2
    assert store.write_fin_transactions([_tx(1, 5), _tx(3, 3)]) == 1
    assert store.count_fin_transactions() == 3
    got = list(store.iter_fin_transactions(batch=2))
    assert [t.tx_id for t in got] == ["T2", "T3", "T1"]
    assert got[0].timestamp.utcoffset() == timedelta(hours=-5)
    assert got[0].timestamp == _tx(2, 1).timestamp
    assert [t.tx_id for t in store.fin_transactions_by_ids(["T1", "T3", "nope"])] == ["T3", "T1"]
    assert {t.tx_id for t in store.fin_transactions_of("A4")} == {"T2"}


def test_accounts_new_updated_unchanged(store: Store) -> None:
    a = Account("A1", kind="business", opening_hours="09:00-17:00", phone="+12065550143")
    assert store.write_fin_accounts([a, Account("A2")]) == (2, 0)
    assert store.write_fin_accounts([a, Account("A2", city="Reno")]) == (0, 1)
    assert store.count_fin_accounts() == 2
    got = store.fin_account("A1")
    assert got is not None and got.opening_hours == "09:00-17:00" and got.kind == "business"
    assert store.fin_account("zz") is None
    assert [x.account_id for x in store.iter_fin_accounts(batch=1)] == ["A1", "A2"]


def _alert(account: str, score: float) -> dict[str, object]:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    a = Alert(f"TXA-{account}", account, ["funnel_account"],
              [Evidence("funnel_cash_in", "FIN-2014-A008: x", now, now, ["T1", "T2"])],
              score, now, now, linked_ads=["ad1"])
    return a.to_dict() | {"first_seen": a.first_seen, "last_seen": a.last_seen}


def test_alerts_replace_the_last_run(store: Store) -> None:
    store.replace_fin_alerts([_alert("A1", 0.5), _alert("A2", 0.9)])
    assert [a.account_id for a in store.fin_alerts()] == ["A2", "A1"]
    store.replace_fin_alerts([_alert("A3", 0.4)])
    assert store.count_fin_alerts() == 1
    got = store.fin_alert("TXA-A3")
    assert got is not None and got.indicators[0]["tx_ids"] == ["T1", "T2"]
    assert got.linked_ads == ["ad1"] and got.first_seen.tzinfo is not None
    assert store.fin_alerts(typology="front_company") == []
    assert [a.alert_id for a in store.fin_alerts_of(["A3"])] == ["TXA-A3"]


def test_account_ad_links_both_ways(store: Store) -> None:
    m = Mention("phone", "+12065550143", "body", 0, 12)
    rec = AdRecord(id="ad1", source="s", title="t", body="call +12065550143",
                   posted_at=datetime(2026, 1, 5, tzinfo=UTC))
    store.write_batch(None, [ProcessedAd(record=rec, mentions=[m])])
    ad = store.get_ad("ad1")
    assert store.replace_account_ad_links([("A1", ad.pk, "phone", "+12065550143")]) == 1
    links = store.ad_links_of_accounts(["A1"])
    assert [(k.account_id, k.ad_id, k.kind) for k in links] == [("A1", "ad1", "phone")]
    store.replace_account_ad_links([])
    assert store.ad_links_of_accounts(["A1"]) == []
    assert store.accounts_linked_to_network("no-such-network") == []


@pytest.mark.slow
def test_services_end_to_end_on_both_backends(store: Store, tmp_path: Path) -> None:
    from tracelight.finance.generator import generate
    from tracelight.services import finance
    from tracelight.services.ingest import ingest
    from tracelight.services.link import update_networks

    generate(tmp_path / "bank", accounts=200, seed=4)
    ingest(store, [str(tmp_path / "bank" / "ads.jsonl")], workers=1)
    update_networks(store)
    with (tmp_path / "bank" / "accounts.csv").open("rb") as fh:
        finance.ingest_accounts(store, "accounts.csv", fh)
    with (tmp_path / "bank" / "transactions.csv").open("rb") as fh:
        first = finance.ingest_transactions(store, [("transactions.csv", fh)], batch_size=700)
    with (tmp_path / "bank" / "transactions.csv").open("rb") as fh:
        again = finance.ingest_transactions(store, [("transactions.csv", fh)])
    assert first.new == first.read > 0 and again.new == 0
    result = finance.score(store)
    assert result.alerts and result.transactions == first.read
    for s in finance.evaluate_store(store, tmp_path / "bank" / "truth.json"):
        assert s.precision >= 0.9 and s.recall >= 0.9, s
    linked = [a for a in finance.alerts(store, limit=500) if a.linked_networks]
    assert linked
    back = finance.network_accounts(store, linked[0].linked_networks[0])
    assert linked[0].account in {k.account_id for k in back}
    view = finance.alert_view(store, linked[0].alert_id)
    assert view.transactions and "HUMAN TRAFFICKING FIN-2020-A008" in view.sar
