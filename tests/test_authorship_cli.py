"""`tracelight btc ...` and `tracelight authorship ...` end to end through the real CLI, and
the store's author links and transactions on both backends."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracelight.cli.main import cli
from tracelight.errors import InputError, UsageError
from tracelight.records import AdRecord, ProcessedAd
from tracelight.store import Store
from tracelight.store.authorship import AuthorLink, StoredTx


def _jsonl(out: str) -> list[dict[str, object]]:
    return [json.loads(ln) for ln in out.splitlines() if ln.strip()]


@pytest.mark.slow
def test_btc_and_authorship_end_to_end(tmp_path: Path) -> None:
    runner = CliRunner()
    site = tmp_path / "site"
    url = f"sqlite:///{tmp_path / 'a.db'}"
    res = runner.invoke(cli, ["btc", "generate", str(site), "--authors", "15", "--days", "1",
                              "--noise", "2", "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    assert {p.name for p in site.iterdir()} >= {"ads.jsonl", "payments.jsonl", "rates.json",
                                                "prices.json", "wallets.txt", "truth.json"}
    res = runner.invoke(cli, ["ingest", str(site / "ads.jsonl"), "--db", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["btc", "ingest-payments", str(site / "payments.jsonl"),
                              "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    first = _jsonl(res.stdout)[0]
    assert first["new"] == first["read"] > 0
    again = runner.invoke(cli, ["btc", "ingest-payments", str(site / "payments.jsonl"),
                                "--db", url, "--format", "jsonl"])
    assert _jsonl(again.stdout)[0]["new"] == 0
    base = ["btc", "attribute", "--wallets", str(site / "wallets.txt"), "--prices",
            str(site / "prices.json"), "--rates", str(site / "rates.json"), "--db", url,
            "--format", "jsonl"]
    res = runner.invoke(cli, [*base, "--truth", str(site / "truth.json"), "--show", "score"])
    assert res.exit_code == 0, res.output
    score = {r["metric"]: r["value"] for r in _jsonl(res.stdout)}
    assert float(score["precision"]) > 0.8 and float(score["recall"]) > 0.8  # type: ignore[arg-type]
    res = runner.invoke(cli, [*base, "--show", "matches", "--limit", "3"])
    rows = _jsonl(res.stdout)
    assert len(rows) == 3 and {"delay_s", "diff_usd", "txid", "owner"} <= set(rows[0])
    res = runner.invoke(cli, base)
    assert _jsonl(res.stdout)[0]["usd"] > 0

    model = tmp_path / "m.json"
    res = runner.invoke(cli, ["authorship", "train", "--out", str(model), "--authors", "30",
                              "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    metrics = {r["metric"]: r["value"] for r in _jsonl(res.stdout)}
    assert "tpr_at_1pct" in metrics and "tpr_at_01pct" in metrics
    res = runner.invoke(cli, ["authorship", "evaluate", "--model", str(model), "--authors",
                              "15", "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["authorship", "link", "--model", str(model), "--db", url,
                              "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    linked = _jsonl(res.stdout)[0]
    assert linked["links"] > 0 and linked["candidate_pairs"] < 60 * 59 // 2 * 4
    truth = json.loads((site / "truth.json").read_text())["ad_author"]
    ad = next(a for a, au in truth.items() if au.startswith("author"))
    res = runner.invoke(cli, ["authorship", "show", ad, "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    for row in _jsonl(res.stdout):
        assert row["strength"] == "medium" and row["matched"]

    # both kinds of evidence end to end: stored attributions, networks, similar
    res = runner.invoke(cli, ["btc", "match", *base[2:]])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["link", "--db", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["networks", "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    kinds = {e["kind"] for n in _jsonl(res.stdout) for e in n["evidence"]}  # type: ignore[attr-defined,index]
    assert {"author", "wallet_owner"} <= kinds
    from tracelight.store import open_store

    st = open_store(url)
    try:
        attrs = st.btc_attributions()
        assert attrs and all(a.confidence > 0 and a.owner for a in attrs)
        per_owner = Counter(a.owner for a in attrs)
        paid = next(a for a in attrs if per_owner[a.owner] >= 2)
        ref = st.ad_refs([paid.ad_pk])[paid.ad_pk]
    finally:
        st.close()
    res = runner.invoke(cli, ["similar", f"{ref[0]}/{ref[1]}", "--db", url, "--format",
                              "jsonl"])
    assert res.exit_code == 0, res.output
    reasons = [x for r in _jsonl(res.stdout) for x in r["reasons"]]  # type: ignore[attr-defined]
    assert any(x["kind"] == "wallet_owner" and x["score"] > 0 for x in reasons)
    assert all(x["value"] for x in reasons)
    res = runner.invoke(cli, ["similar", ad, "--db", url])
    assert res.exit_code == 0 and "author" in res.output


def test_author_is_the_issues_name_for_authorship() -> None:
    """`tracelight author train|evaluate|link|show` (issue 16's names) are the authorship
    commands themselves; docs/cli.md lists them once, under `authorship`."""
    from tracelight.cli.app import COMMANDS

    runner = CliRunner()
    every = cli.load_all()
    assert every["author"].commands is every["authorship"].commands  # type: ignore[attr-defined]
    assert "author" in COMMANDS
    for sub in ("train", "evaluate", "link", "show"):
        res = runner.invoke(cli, ["author", sub, "--help"])
        assert res.exit_code == 0, res.output
        assert f"author {sub} [OPTIONS]" in res.output
    doc = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    assert "## `tracelight author`" in doc and "## `tracelight author train`" not in doc
    assert "## `tracelight authorship train`" in doc


def test_bad_inputs_are_one_clear_line(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'b.db'}"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"txid": "t", "time": "2026-01-01T00:00:00Z", "inputs": [], "outputs": []}'
                   '\n{"txid": 5}\n')
    res = runner.invoke(cli, ["btc", "ingest-payments", str(bad), "--db", url])
    assert isinstance(res.exception, InputError) and "line 2" in str(res.exception)
    assert res.exception.exit_code == 3
    assert store_count(url) == 0  # nothing written
    res = runner.invoke(cli, ["btc", "ingest-payments", str(tmp_path / "missing"), "--db", url])
    assert isinstance(res.exception, InputError)
    junk = tmp_path / "m.json"
    junk.write_text("{not json")
    res = runner.invoke(cli, ["authorship", "link", "--model", str(junk), "--db", url])
    assert isinstance(res.exception, InputError) and "not JSON" in str(res.exception)
    res = runner.invoke(cli, ["btc", "attribute", "--prices", str(junk), "--rates", str(junk),
                              "--db", url])
    assert isinstance(res.exception, UsageError) and "wallet" in str(res.exception)


def store_count(url: str) -> int:
    from tracelight.store import open_store

    s = open_store(url)
    try:
        return s.count_btc_txs()
    finally:
        s.close()


def test_store_author_links_and_transactions(store: Store) -> None:
    recs = [ProcessedAd(AdRecord(id=str(i), source="s", body=f"ad number {i}",
                                 posted_at=datetime(2026, 1, 1, tzinfo=UTC)))
            for i in range(3)]
    store.write_batch(None, recs)
    pks = [store.get_ad(str(i), "s").pk for i in range(3)]
    n = store.replace_author_links([AuthorLink(pks[1], pks[0], 0.9, ("same emoji: x",)),
                                    AuthorLink(pks[0], pks[1], 0.8, ()),
                                    AuthorLink(pks[1], pks[2], 0.7, ())])
    assert n == 2
    got = store.author_links_of(pks[1])
    assert [(x.score, x.matched) for x in got] == [(0.9, ("same emoji: x",)), (0.7, ())]
    assert store.replace_author_links([]) == 0 and list(store.iter_author_links()) == []
    t = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    txs = [StoredTx("b", t, ("x", "y"), (("w", 0.5),)), StoredTx("a", t, (), ())]
    assert store.add_btc_txs(txs) == 2 and store.add_btc_txs(txs[:1]) == 0
    back = list(store.iter_btc_txs())
    assert [x.txid for x in back] == ["a", "b"] and back[1].outputs == (("w", 0.5),)
    assert back[1].time == t and store.count_btc_txs() == 2


def test_store_attributions_and_owner_addresses(store: Store) -> None:
    from tracelight.store.authorship import StoredAttribution

    recs = [ProcessedAd(AdRecord(id=str(i), source="s", body=f"ad {i}")) for i in range(3)]
    store.write_batch(None, recs)
    pks = [store.get_ad(str(i), "s").pk for i in range(3)]
    t = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rows = [StoredAttribution(pks[0], "owner:a", "payment", 1, 1.0, "medium", "tx1", t, 60.0,
                              0.0003, 12.01, 12.0, 0.01),
            StoredAttribution(pks[1], "owner:a", "written", 1, 1.0, "medium"),
            StoredAttribution(pks[0], "owner:b", "payment", 3, 0.33, "weak")]
    assert store.replace_btc_attributions(rows, {"a1": "owner:a", "a2": "owner:a"}) == 2
    got = store.btc_attributions(owner="owner:a")
    assert [(a.ad_pk, a.via) for a in got] == [(pks[0], "payment"), (pks[1], "written")]
    assert got[0].paid_at == t and got[0].diff_usd == 0.01
    assert store.btc_attributions(ad_pks=[pks[2]]) == []
    assert store.owner_addresses("owner:a") == ["a1", "a2"]
    assert store.count_owner_addresses("owner:a") == 2
    store.replace_author_links([AuthorLink(pks[0], pks[1], 0.9, (), True),
                                AuthorLink(pks[1], pks[2], 0.3, (), False)])
    assert [x.score for x in store.iter_author_links(linkable_only=True)] == [0.9]


def test_btc_ingest_reads_bitcoin_core_json(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'c.db'}"
    blk = {"hash": "h", "time": 1767225600, "tx": [
        {"txid": "t1", "vin": [{"coinbase": "00"}],
         "vout": [{"value": 1.0, "n": 0, "scriptPubKey": {"address": "a1"}}]},
        {"txid": "t2", "vin": [{"txid": "t1", "vout": 0}],
         "vout": [{"value": 0.5, "n": 0, "scriptPubKey": {"address": "site"}}]}]}
    (tmp_path / "b.json").write_text(json.dumps(blk))
    (tmp_path / "m.jsonl").write_text('{"txid": "t2", "first_seen": 1767225000}\n')
    res = runner.invoke(cli, ["btc", "ingest", str(tmp_path / "b.json"), "--mempool",
                              str(tmp_path / "m.jsonl"), "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    assert _jsonl(res.stdout)[0]["new"] == 2
    res = runner.invoke(cli, ["btc", "ingest", "-", "--db", url], input='{"txid": 5}\n')
    assert isinstance(res.exception, InputError) and "txid" in str(res.exception)


@pytest.mark.slow
def test_demo_shows_author_and_wallet_owner_evidence_in_networks_and_similar(
        tmp_path: Path) -> None:
    """`tracelight demo` (issue 16, done when): next to the main corpus, authors who rotate
    their phones and the ad site's blockchain (OUT/btc); after it, `networks` lists networks
    joined by `author` and by `wallet_owner` evidence, and `similar` lists both for an ad of
    theirs; the authors' networks are right (pairwise against OUT/btc/truth.json)."""
    runner = CliRunner()
    out, url = tmp_path / "demo", f"sqlite:///{tmp_path / 'd.db'}"
    res = runner.invoke(cli, ["demo", "--ads", "120", "--out", str(out), "--db", url,
                              "--no-serve"])
    assert res.exit_code == 0, res.output
    assert {p.name for p in (out / "btc").iterdir()} >= {"ads.jsonl", "payments.jsonl",
                                                         "wallets.txt", "truth.json"}
    assert (out / "authorship-model.json").is_file()
    res = runner.invoke(cli, ["networks", "--db", url, "--format", "jsonl", "--limit", "1000"])
    assert res.exit_code == 0, res.output
    nets = _jsonl(res.stdout)
    by_kind: dict[str, list[dict[str, object]]] = {}
    for n in nets:
        for e in n["evidence"]:  # type: ignore[attr-defined]
            by_kind.setdefault(e["kind"], []).append(e)
    assert by_kind.get("author") and by_kind.get("wallet_owner")
    assert all(e["strength"] == "medium" and e["value"] for k in ("author", "wallet_owner")
               for e in by_kind[k])
    author = json.loads((out / "btc" / "truth.json").read_text())["ad_author"]
    tp = pred = 0
    for n in nets:
        ids = [k for k in n["ad_ids"] if k in author]  # type: ignore[attr-defined]
        assert not ids or len(ids) == len(n["ad_ids"])  # type: ignore[arg-type]
        c = Counter(author[k] for k in ids)
        pred += len(ids) * (len(ids) - 1) // 2
        tp += sum(v * (v - 1) // 2 for v in c.values())
    assert pred and tp / pred >= 0.95
    (paid,) = [e for e in by_kind["wallet_owner"][:1]]
    res = runner.invoke(cli, ["similar", str(paid["ad_ids"][0]),  # type: ignore[index]
                              "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    kinds = {x["kind"] for r in _jsonl(res.stdout) for x in r["reasons"]}  # type: ignore[attr-defined]
    assert {"author", "wallet_owner"} <= kinds


def test_the_shipped_demo_model_loads_and_is_calibrated(tmp_path: Path) -> None:
    """src/tracelight/demo/data/authorship-model.json is what `tracelight authorship train
    --authors 300 --seed 7 --out ...` writes; it must fit this tracelight's features (regenerate
    it when they change), and `tracelight demo` copies it next to the corpus."""
    from tracelight.services import authors_demo
    from tracelight.services.authorship import load_model

    m = load_model(authors_demo.SHIPPED_MODEL)
    assert 0.5 < m.threshold < 1.0 and m.stats["tpr_at_1pct"] >= 0.9
    assert authors_demo.model_path(tmp_path).read_bytes() == \
        authors_demo.SHIPPED_MODEL.read_bytes()
