"""Risk that sees the network (score.network_context), calibration (score.calibration) and
the one network risk shared by `tracelight networks`, the queue, the web and the JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelight.cli.main import cli
from tracelight.errors import ConfigError
from tracelight.records import Evidence, Reason
from tracelight.score.calibration import (
    Calibration,
    brier,
    fit_calibration,
    load_calibration,
    reliability,
    save_calibration,
)
from tracelight.score.catalogue import load_catalogue, parse_catalogue
from tracelight.score.network_context import (
    CONTEXT_CODE,
    Link,
    Member,
    NetworkFacts,
    alone,
    score_members,
)

CAT = load_catalogue()


def _reason(code: str, text: str) -> Reason:
    ind = CAT[code]
    return Reason(code=code, weight=ind.weight, evidence=(Evidence("body", 0, len(text), text),),
                  description=ind.description, strength=ind.evidence, category=ind.category)


def _net(links: list[Link], names: tuple[str, ...] = ("Ana",),
         cities: tuple[tuple[str, datetime | None], ...] = ()) -> NetworkFacts:
    return NetworkFacts("n1", links, names, cities)


def test_a_mates_stated_minor_age_reads_as_a_network_reason_with_the_linking_ad() -> None:
    minor = _reason("stated_age_under_18", "16 years")
    members = [Member("k-a", "ad-a", 0.97, (minor,)), Member("k-b", "ad-b", 0.08),
               Member("k-c", "ad-c", 0.08)]
    links = [Link("phone", "+12065550143", "strong", ("k-a", "k-b")),
             Link("wording", "w1", "medium", ("k-b", "k-c"))]
    got = {r.key: r for r in score_members(members, _net(links), CAT)}
    b, c = got["k-b"], got["k-c"]
    reason = next(r for r in b.reasons if r.code == CONTEXT_CODE)
    assert reason.description == "in a network whose other ads state an age under 18"
    assert reason.ad_id == "ad-a" and reason.evidence[0].field == "network"
    assert reason.evidence[0].text.startswith("ad ad-a") and "16 years" in reason.evidence[0].text
    assert "phone +12065550143 (strong)" in reason.detail
    assert reason.weight is not None and reason.weight > 0
    # lifted, but not into the band kept for ads that state a minor age themselves
    assert 0.08 < b.risk <= 0.949 and got["k-a"].risk >= 0.95
    # farther and through weaker evidence: a smaller lift
    assert 0.08 < c.risk < b.risk
    assert b.parts["source_ad"] == "ad-a" and b.parts["steps"] == 1
    assert c.parts["steps"] == 2 and c.parts["link"] < b.parts["link"]
    # the ad that shows it gains nothing from itself
    assert not any(r.code == CONTEXT_CODE for r in got["k-a"].reasons)


def test_one_indicator_counts_once_however_many_mates_show_it() -> None:
    trust = _reason("trustworthy_provider", "100% real")
    few = [Member("a", "a", 0.3, (trust,)), Member("b", "b", 0.08)]
    many = [Member(f"m{i}", f"m{i}", 0.3, (trust,)) for i in range(8)] + [Member("b", "b", 0.08)]
    link_few = [Link("phone", "p", "strong", ("a", "b"))]
    link_many = [Link("phone", "p", "strong", tuple(m.key for m in many))]
    lift_few = next(r for r in score_members(few, _net(link_few), CAT) if r.key == "b")
    lift_many = next(r for r in score_members(many, _net(link_many), CAT) if r.key == "b")
    assert lift_many.raw == pytest.approx(lift_few.raw)
    # no more than the indicator's weight, or the mates' own level (their consensus)
    with_w = 1 / (1 + math.exp(-(math.log(0.08 / 0.92) + CAT["trustworthy_provider"].weight)))
    assert lift_few.raw <= max(with_w, 0.3) + 1e-9
    assert lift_many.parts["consensus"] == pytest.approx(lift_few.parts["consensus"])


def test_the_networks_consensus_lifts_an_ad_by_its_tie_and_never_lowers_one() -> None:
    # mates with evidence the ad lacks that no catalogue code carries over (a trained model's
    # words, a price): the consensus of the mates' log-odds lifts the ad, by its tie
    strong = [Member("a", "a", 0.7), Member("b", "b", 0.7), Member("c", "c", 0.1)]
    weak = list(strong)
    got_s = {r.key: r for r in score_members(
        strong, _net([Link("phone", "p", "strong", ("a", "b", "c"))]), CAT)}
    got_w = {r.key: r for r in score_members(
        weak, _net([Link("phone", "p", "strong", ("a", "b")),
                    Link("wording", "w", "weak", ("b", "c"))]), CAT)}
    assert got_s["c"].raw == pytest.approx(0.7, abs=1e-6)  # strong tie: up to its mates
    assert 0.1 < got_w["c"].raw < got_s["c"].raw  # weak tie: part of the way
    assert got_w["c"].parts["tie"] == 0.3 and got_s["c"].parts["tie"] == 1.0
    reason = next(r for r in got_w["c"].reasons if r.code == CONTEXT_CODE)
    assert reason.description == "in a network whose other ads score higher than it does"
    assert "consensus" in reason.detail
    # the riskier mates are never pulled down towards the plain one
    assert got_s["a"].raw == pytest.approx(0.7) and got_s["a"].parts["consensus_lift"] == 0


def test_network_indicators_fire_with_their_catalogue_weight() -> None:
    keys = tuple(f"k{i}" for i in range(4))
    members = [Member(k, k, 0.1) for k in keys]
    day = datetime(2026, 5, 1, tzinfo=UTC)
    facts = NetworkFacts(
        "n9", [Link("phone", "+1206", "strong", keys), Link("image", "h1", "strong", keys[:2])],
        names=("Ana", "Bea", "Cleo"),
        cities=(("Seattle", day), ("Portland", day.replace(day=9)),
                ("Boise", day.replace(day=20))))
    res = score_members(members, facts, CAT)[0]
    codes = {r.code: r for r in res.reasons}
    assert {"network_many_names", "network_movement", "network_shared_images"} <= set(codes)
    for code in ("network_many_names", "network_movement", "network_shared_images"):
        assert codes[code].weight == CAT[code].weight and codes[code].strength
        assert codes[code].evidence[0].field == "network"
    assert "3 names" in codes["network_many_names"].detail
    total = sum(CAT[c].weight for c in codes)
    assert res.raw == pytest.approx(1 / (1 + math.exp(-(math.log(0.1 / 0.9) + total))), abs=1e-4)


def test_an_ad_level_network_fact_counts_once_on_the_network() -> None:
    """phone_many_names on an ad in a network is the network's network_many_names: shown,
    weight 0, and not added to every member a second time."""
    many = _reason("phone_many_names", "+12065550143")
    keys = ("a", "b", "c")
    members = [Member(k, k, 1 / (1 + math.exp(-(-2.4 + CAT["phone_many_names"].weight))),
                      (many,)) for k in keys]
    facts = NetworkFacts("n2", [Link("phone", "+12065550143", "strong", keys)],
                         names=("Ana", "Bea", "Cleo"))
    res = score_members(members, facts, CAT)
    for r in res:
        codes = {x.code: x for x in r.reasons}
        assert codes["phone_many_names"].weight == 0.0
        assert "network_many_names" in (codes["phone_many_names"].detail or "")
        assert codes["network_many_names"].weight == CAT["network_many_names"].weight
        # -2.4 start + the network indicator once: the ad-level twin no longer adds
        expect = 1 / (1 + math.exp(-(-2.4 + CAT["network_many_names"].weight)))
        assert r.raw == pytest.approx(expect, abs=1e-4)
        assert r.parts["superseded"] == pytest.approx(CAT["phone_many_names"].weight)


def test_unconnected_member_and_empty_network() -> None:
    assert score_members([], _net([]), CAT) == []
    trust = _reason("trustworthy_provider", "100% real")
    got = score_members([Member("a", "a", 0.3, (trust,)), Member("b", "b", 0.08)], _net([]),
                        CAT)
    b = got[1]
    assert b.raw > 0.08 and b.parts.get("steps") == 0  # the linker joined them: discounted


def test_catalogue_lists_the_network_indicators_and_validates_network_phrase() -> None:
    for code in (CONTEXT_CODE, "network_many_names", "network_movement",
                 "network_shared_images"):
        assert CAT[code].detector == code and CAT[code].evidence == "practitioner"
    assert CAT["stated_age_under_18"].network_phrase == "state an age under 18"
    data = {"version": 1, "sources": {"s": {"citation": "c"}},
            "indicators": [{"code": "x_y", "category": "c", "evidence": "reported",
                            "source": "s", "weight": 0.3, "description": "d",
                            "patterns": ["abc"], "network_phrase": 3}]}
    with pytest.raises(ConfigError, match=r"network_phrase"):
        parse_catalogue(data, "t.yaml")


# -- calibration ------------------------------------------------------------------------------

def _skewed(n: int = 400) -> tuple[list[float], list[int]]:
    """Scores that overstate risk: the true rate is score ** 2."""
    scores = [(i + 0.5) / n for i in range(n)]
    labels = [int(((i * 7919) % n) / n < s * s) for i, s in enumerate(scores)]
    return scores, labels


def test_calibration_is_monotone_within_bounds_and_lowers_brier(tmp_path: Path) -> None:
    scores, labels = _skewed()
    cal, oof = fit_calibration(scores, labels, data="test")
    grid = [i / 200 for i in range(-20, 221)]
    out = cal.apply_many(grid)
    assert all(0.0 <= v <= 1.0 for v in out)
    assert all(b >= a for a, b in pairwise(out))
    assert all(0.0 <= v <= 1.0 for v in oof)
    assert cal.fitted["brier_out_of_fold"] < cal.fitted["brier_raw"] == brier(labels, scores)
    rows = cal.fitted["reliability_out_of_fold"]
    assert sum(r["ads"] for r in rows) == len(labels) and len(rows) == 10
    # inside the data the map is strictly increasing: no two scores tied by a step
    inside = cal.apply_many([i / 100 for i in range(2, 99)])
    assert all(b > a for a, b in pairwise(inside))
    path = save_calibration(cal, tmp_path)
    json.loads(path.read_text())  # strict JSON
    again = load_calibration(tmp_path)
    assert again is not None and again.apply_many(grid) == pytest.approx(out, abs=1e-5)
    assert load_calibration(tmp_path / "none") is None
    assert reliability([1], [1.0])[-1] == {"bin": "0.9-1.0", "ads": 1, "mean_score": 1.0,
                                          "observed": 1.0}


def test_calibrated_minor_keeps_its_band() -> None:
    cal = Calibration((0.0, 1.0), (0.0, 0.5))
    minor = (_reason("stated_age_under_18", "16"),)
    assert alone(0.97, minor, cal) >= 0.95 and alone(0.9, (), cal) <= 0.5


_JSONISH = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
                        lambda c: st.lists(c, max_size=4)
                        | st.dictionaries(st.text(max_size=5), c, max_size=4), max_leaves=12)
_NUMBERS = st.lists(st.floats() | st.integers(-3, 3) | st.booleans() | st.text(max_size=2),
                    max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_JSONISH, st.fixed_dictionaries(
    {"format": st.sampled_from([1, 2, "1"]), "x": _NUMBERS, "y": _NUMBERS})),
    st.floats(allow_nan=False))
def test_calibration_file_parser_is_strict(data: Any, p: float) -> None:
    """Any JSON-like value: a Calibration whose output is in [0, 1], or one ConfigError."""
    try:
        cal = Calibration.from_dict(data)
    except ConfigError:
        return
    assert 0.0 <= cal.apply(p) <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=20, unique=True).map(sorted),
       st.floats(-1, 2, allow_nan=False), st.floats(-1, 2, allow_nan=False))
def test_calibration_map_is_monotone(xs: list[float], a: float, b: float) -> None:
    cal = Calibration.from_dict({"format": 1, "x": xs, "y": xs})
    lo, hi = sorted((a, b))
    assert 0.0 <= cal.apply(lo) <= cal.apply(hi) <= 1.0


# -- one network risk everywhere ----------------------------------------------------------------

@pytest.fixture(scope="module")
def linked_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    from tracelight.demo import generate
    from tracelight.ingest.runner import ingest
    from tracelight.store import open_store

    tmp = tmp_path_factory.mktemp("netrisk")
    generate(tmp / "corpus", n_ads=150, seed=3, images=False, network_labels=True)
    url = f"sqlite:///{tmp / 'n.db'}"
    store = open_store(url)
    ingest(store, [str(tmp / "corpus" / "ads.jsonl")], workers=1)
    store.close()
    runner = CliRunner()
    res = runner.invoke(cli, ["link", "--db", url, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    assert "tracelight rescore" in res.stderr
    res = runner.invoke(cli, ["rescore", "--db", url, "--model-dir", str(tmp / "models")])
    assert res.exit_code == 0, res.output
    assert "with network context" in res.stdout
    yield url, tmp / "models", tmp / "corpus"


@pytest.mark.slow
def test_networks_sort_and_risk_column_match_the_queue_and_the_web(
        linked_db: tuple[str, Path, Path], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tracelight.services import networks as network_service
    from tracelight.store import open_store
    from tracelight.store.accounts import Accounts
    from tracelight.web.auth import hash_password

    url, _models, _corpus = linked_db
    runner = CliRunner()
    by_sort = {}
    for sort in ("risk", "size", "recent"):
        res = runner.invoke(cli, ["networks", "--db", url, "--sort", sort, "--format", "jsonl"])
        assert res.exit_code == 0, res.output
        by_sort[sort] = [json.loads(line) for line in res.stdout.splitlines()]
    rows = by_sort["risk"]
    assert len(rows) >= 3
    scores = [r["risk"]["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    sizes = [r["size"] for r in by_sort["size"]]
    assert sizes == sorted(sizes, reverse=True)
    last = [r["last_seen"] for r in by_sort["recent"]]
    assert last == sorted(last, reverse=True)
    assert {r["network_id"] for r in rows} == {r["network_id"] for r in by_sort["size"]}
    top = rows[0]["risk"]
    assert set(top) >= {"score", "reasons", "parts", "max", "mean", "scored_ads"}
    assert set(top["parts"]) >= {"definition", "top_members", "mean_top", "structure",
                                 "before_band", "minor_band"}
    assert all(0.0 <= r["risk"]["score"] <= 1.0 for r in rows)
    risk_of = {r["network_id"]: r["risk"]["score"] for r in rows}

    res = runner.invoke(cli, ["queue", "--db", url, "--limit", "5", "--format", "jsonl"])
    queue = [json.loads(line) for line in res.stdout.splitlines()]
    nets = [q for q in queue if q["kind"] == "network"]
    assert nets and all(risk_of[q["id"]] == q["risk"] for q in nets)
    assert [q["id"] for q in nets] == [r["network_id"] for r in rows[:len(nets)]]

    res = runner.invoke(cli, ["networks", "--db", url, "--sort", "risk", "--limit", "3"])
    assert res.exit_code == 0 and "risk" in res.stdout
    res = runner.invoke(cli, ["networks", "--db", url, "--format", "csv"])
    assert res.exit_code == 0 and "risk" in res.stdout.splitlines()[0].split(",")

    store = open_store(url)
    try:
        Accounts(store).add_user("ana", hash_password("correct horse battery"), "analyst")
        from tracelight.web.app import create_app
        from tracelight.web.auth import LoginLimiter

        app = create_app(store, image_dir=str(tmp_path), secret_key="k", limiter=LoginLimiter())
        with TestClient(app) as client:
            import re

            token = re.search(r'name="csrf_token" value="([^"]+)"',
                              client.get("/login").text).group(1)  # type: ignore[union-attr]
            client.post("/login", data={"username": "ana", "password": "correct horse battery",
                                        "csrf_token": token, "next": "/queue"})
            listed = client.get("/api/networks", params={"limit": 50}).json()["results"]
            assert listed and all(risk_of[n["id"]] == n["risk"] for n in listed)
            assert listed[0]["risk_parts"]["top_members"]
            # the network page shows the same score and the parts it came from
            first = rows[0]
            page = client.get(f"/networks/{first['network_id']}")
            assert page.status_code == 200
            html = page.text
            assert 'id="risk-parts"' in html and f"risk {first['risk']['score']:.3f}" in html
            for m in first["risk"]["parts"]["top_members"]:
                assert f"<td>{m['risk']:.3f}</td>" in html
            assert f"<td>{first['risk']['parts']['mean_top']:.3f}</td>" in html
            detail = client.get(f"/api/networks/{first['network_id']}").json()
            assert detail["risk"] == first["risk"]["score"]
            assert detail["risk_parts"]["top_members"] == first["risk"]["parts"]["top_members"]
        ranked = network_service.network_queue(store, 5)
        assert [r.risk for r in ranked] == [risk_of[r.id] for r in ranked]
    finally:
        store.close()


@pytest.mark.slow
def test_rescore_writes_network_reasons_and_calibrates(linked_db: tuple[str, Path, Path]
                                                       ) -> None:
    from tracelight.store import open_store

    url, models, corpus = linked_db
    store = open_store(url)
    try:
        with_context = [a for a in store.iter_ads(sort="ingested")
                        if any(r.code == CONTEXT_CODE for r in a.reasons or [])]
    finally:
        store.close()
    assert with_context
    reason = next(r for r in with_context[0].reasons or [] if r.code == CONTEXT_CODE)
    assert reason.description.startswith("in a network whose other ads ")
    assert reason.ad_id and reason.evidence[0].text.startswith(f"ad {reason.ad_id}")
    runner = CliRunner()
    res = runner.invoke(cli, ["rescore", "--db", url, "--model-dir", str(models),
                              "--calibrate", str(corpus / "labels.csv")])
    assert res.exit_code == 0, res.output
    assert "calibration fitted" in res.stdout and "Brier" in res.stdout
    assert (models / "risk-calibration.json").is_file()
    res = runner.invoke(cli, ["rescore", "--db", url, "--model-dir", str(models)])
    assert res.exit_code == 0 and "applied the calibration" in res.stdout
    store = open_store(url)
    try:
        risks = [a.risk for a in store.iter_ads(sort="ingested")]
    finally:
        store.close()
    assert risks and all(r is not None and 0.0 <= r <= 1.0 for r in risks)


def test_demo_network_labels_label_whole_networks(tmp_path: Path) -> None:
    from tracelight.demo import generate, load_truth
    from tracelight.extract import extract_record
    from tracelight.score.features import extract_features
    from tracelight.score.scorer import result_from_features

    generate(tmp_path / "plain", n_ads=400, seed=5, images=False)
    assert not any("no_own_indicator" in t for t in load_truth(tmp_path / "plain"))
    generate(tmp_path / "net", n_ads=400, seed=5, images=False, network_labels=True)
    truth = load_truth(tmp_path / "net")
    by_net: dict[str, set[int]] = {}
    for t in truth:
        if t["network_id"] and t["label"] is not None:
            by_net.setdefault(t["network_id"], set()).add(t["label"])
    assert by_net and all(len(v) == 1 for v in by_net.values())
    bare = [t for t in truth if t.get("no_own_indicator")]
    assert bare and all(t["label"] in (1, None) and t["network_id"] for t in bare)
    assert all(not ({"trust", "youth", "ethnicity"} & set(t["indicators"]))
               and not t["obfuscated_phone"] for t in bare)
    ads = {json.loads(line)["id"]: json.loads(line)
           for line in (tmp_path / "net" / "ads.jsonl").read_text().splitlines()}
    from tracelight.records import record_from_mapping

    for t in bare[:20]:
        rec = record_from_mapping(ads[t["id"]], default_source="demo")
        res = result_from_features(extract_features(rec, extract_record(rec).mentions,
                                                    catalogue=CAT), CAT)
        assert not {r.code for r in res.reasons} & {"trustworthy_provider", "youth_language",
                                                   "stated_ethnicity", "obscured_phone"}


def test_demo_evidence_label_rule_keeps_label_p_and_bare_positives(tmp_path: Path) -> None:
    from tracelight.demo import generate, load_truth

    generate(tmp_path / "ev", n_ads=400, seed=5, images=False, network_labels=True,
             label_rule="evidence")
    truth = load_truth(tmp_path / "ev")
    labelled = [t for t in truth if t["label"] is not None]
    assert labelled and all(0.0 <= t["label_p"] <= 1.0 for t in labelled)
    by_net: dict[str, set[int]] = {}
    for t in labelled:
        if t["network_id"]:
            by_net.setdefault(t["network_id"], set()).add(t["label"])
    assert by_net and all(len(v) == 1 for v in by_net.values())
    pos = [t for t in labelled if t["label"] == 1]
    bare = [t for t in pos if t.get("no_own_indicator")]
    assert pos and 0.1 <= len(bare) / len(pos) <= 0.4
    # the same personas and networks as the drawn rule
    generate(tmp_path / "dr", n_ads=400, seed=5, images=False, network_labels=True)
    drawn = {t["id"]: t for t in load_truth(tmp_path / "dr")}
    assert {t["id"]: t["network_id"] for t in truth} == \
        {k: t["network_id"] for k, t in drawn.items()}
    with pytest.raises(ValueError, match="label_rule"):
        generate(tmp_path / "x", n_ads=50, seed=5, images=False, label_rule="coin")


@pytest.mark.slow
def test_the_ad_page_links_a_network_reason_to_the_mate_that_shows_it(
        linked_db: tuple[str, Path, Path], tmp_path: Path) -> None:
    from tracelight.store import open_store
    from tracelight.web.views import ad_detail

    url, _models, _corpus = linked_db
    store = open_store(url)
    try:
        ad = next(a for a in store.iter_ads(sort="ingested")
                  if any(r.code == CONTEXT_CODE and r.ad_id for r in a.reasons or []))
        reason = ad_detail(store, ad)["reasons_by_code"][CONTEXT_CODE]
    finally:
        store.close()
    assert reason["ad_href"].startswith("/ads/") and reason["ad_ref"].endswith(reason["ad_id"])
