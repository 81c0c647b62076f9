"""The demo corpus: deterministic, and its truth agrees with what the ads actually say."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import base58
import phonenumbers
import pytest
from PIL import Image

from tracelight.demo import DemoSummary, generate, load_truth
from tracelight.demo.contacts import (
    EN_VARIANTS,
    EN_WORDS,
    ES_WORDS,
    bech32_verify,
    eth_verify,
    p2pkh_verify,
)
from tracelight.demo.text import age_words


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoSummary, list, list]:
    out = tmp_path_factory.mktemp("demo")
    summary = generate(out, n_ads=1000, seed=11, images=False)
    return summary, _read(out / "ads.jsonl"), load_truth(out)


@pytest.fixture(scope="module")
def small_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_img")
    generate(out, n_ads=120, seed=3, images=True)
    return out


def _digest_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", n_ads=80, seed=5)
    generate(tmp_path / "b", n_ads=80, seed=5)
    a, b = _digest_tree(tmp_path / "a"), _digest_tree(tmp_path / "b")
    assert a == b
    assert any(k.startswith("images/") for k in a)
    generate(tmp_path / "c", n_ads=80, seed=6, images=False)
    other = (tmp_path / "c" / "ads.jsonl").read_bytes()
    assert other != (tmp_path / "a" / "ads.jsonl").read_bytes()


def test_text_does_not_depend_on_images(tmp_path: Path, small_images: Path) -> None:
    generate(tmp_path, n_ads=120, seed=3, images=False)
    with_img = _read(small_images / "ads.jsonl")
    without = _read(tmp_path / "ads.jsonl")
    assert [{**r, "images": []} for r in with_img] == without


def test_summary_and_counts(corpus: tuple) -> None:
    summary, ads, truth = corpus
    assert summary.n_ads == len(ads) == len(truth) == 1000
    assert [a["id"] for a in ads] == [t["id"] for t in truth]
    assert len({a["id"] for a in ads}) == 1000
    sizes = Counter(t["network_id"] for t in truth if t["network_id"])
    assert 80 <= len(sizes) <= 120  # about one network per ten ads
    assert summary.n_networks == len(sizes)
    assert all(2 <= s <= 40 for s in sizes.values())
    independent = sum(1 for t in truth if t["network_id"] is None)
    assert 0.3 <= independent / 1000 <= 0.5
    assert 0.7 < summary.identifier_recall < 1.0


def test_records_follow_the_spine_format(corpus: tuple) -> None:
    from tracelight.records import record_from_mapping

    _, ads, _ = corpus
    for a in ads:
        rec = record_from_mapping(a, default_source=None)
        assert rec.posted_at is not None and rec.location


_EN = {w: str(i) for i, w in enumerate(EN_WORDS)}
_EN.update({w: str(d) for d, ws in EN_VARIANTS.items() for w in ws})
_ES = {w: str(i) for i, w in enumerate(ES_WORDS)}


def _decode(raw: str, style: str) -> str:
    """The digits a reader gets back from a phone as written, per hiding style."""
    if style == "url":
        raw = raw.split("/p/", 1)[1].split("-", 1)[0]
    text = raw.lower()
    if style in ("words_en", "words_es"):
        table = _EN if style == "words_en" else _ES
        for word in sorted(table, key=len, reverse=True):
            text = text.replace(word, table[word])
    if style == "lookalike":
        text = text.replace("o", "0").replace("l", "1").replace("i", "1")
    digits = ""
    for ch in text:
        d = unicodedata.digit(ch, None)
        if d is not None:
            digits += str(d)
    return digits


def test_every_truth_phone_is_derivable_from_the_text(corpus: tuple) -> None:
    _, ads, truth = corpus
    styles = Counter()
    for a, t in zip(ads, truth, strict=True):
        text = f"{a['title']}\n{a['body']}"
        for pt in t["phone_text"]:
            assert pt["raw"] in text, (a["id"], pt)
            digits = _decode(pt["raw"], pt["style"])
            want = pt["phone"].lstrip("+")
            assert digits in (want, want[1:]), (a["id"], pt, digits)
            styles[pt["style"]] += 1
        expected = list(dict.fromkeys([p["phone"] for p in t["phone_text"]] + t["hub_phones"]))
        assert sorted(t["phones"]) == sorted(expected)
        for p in t["phones"] + t["image_phones"]:
            assert re.fullmatch(r"\+[1-9]\d{9,14}", p)
            assert phonenumbers.is_valid_number(phonenumbers.parse(p, None))
        assert t["obfuscated_phone"] == any(
            pt["style"] not in ("plain", "url") for pt in t["phone_text"])
    for style in ("plain", "url", "words_en", "words_es", "lookalike", "unicode",
                  "separators", "split"):
        assert styles[style] > 0, style
    countries = Counter(phonenumbers.region_code_for_number(phonenumbers.parse(p, None))
                        for t in truth for p in t["phones"])
    assert countries["US"] and countries["CA"] and countries["GB"]


def test_strangers_never_share_a_contact(corpus: tuple) -> None:
    _, _, truth = corpus
    owners: dict[str, set] = defaultdict(set)
    for t in truth:
        owner = t["network_id"] or t["id"]
        hubs = set(t["hub_phones"])
        keys = [p for p in t["phones"] + t["image_phones"] if p not in hubs]
        keys += t["emails"] + [s["platform"] + ":" + s["handle"] for s in t["social"]]
        keys += [p["service"] + ":" + p["handle"] for p in t["payment_handles"]]
        keys += [c["address"] for c in t["crypto"]]
        for k in keys:
            owners[k].add(owner)
    shared = {k: v for k, v in owners.items() if len(v) > 1}
    assert not shared
    hub_ads = [t for t in truth if t["hub_phones"]]
    assert len(hub_ads) > 10  # the site phone is a hub across unrelated ads
    assert len({t["network_id"] or t["id"] for t in hub_ads}) > 10


def test_other_identifiers_are_in_the_text_and_valid(corpus: tuple) -> None:
    _, ads, truth = corpus
    seen = Counter()
    for a, t in zip(ads, truth, strict=True):
        text = f"{a['title']}\n{a['body']}"
        low = text.lower()
        for e in t["emails"]:
            assert e == e.lower() and e.split("@")[0] in low
            seen["email"] += 1
        for s in t["social"]:
            assert s["handle"] in text
            seen["social"] += 1
        for p in t["payment_handles"]:
            assert p["handle"] in text
            seen["payment"] += 1
        for c in t["crypto"]:
            addr = c["address"]
            assert addr in text
            ok = (eth_verify(addr) if addr.startswith("0x") else
                  bech32_verify(addr) if addr.startswith("bc1") else p2pkh_verify(addr))
            assert ok, addr
            seen["crypto"] += 1
        if "crypto_invalid" in t["traps"]:
            m = re.search(r"Tips in (BTC|ETH): (\S+)", a["body"])
            assert m
            bad = m.group(2)
            assert bad not in {c["address"] for c in t["crypto"]}
            if bad.startswith("0x"):
                assert not eth_verify(bad)
            elif bad.startswith("bc1"):
                assert not bech32_verify(bad)
            else:
                with pytest.raises(ValueError):
                    base58.b58decode_check(bad)
            seen["crypto_invalid"] += 1
        for n in t["names"]:
            assert n in text
        for age in t["ages"]:
            assert str(age) in text or f"{age_words(age)} years young" in text
        for p in t["prices"]:
            assert str(p["amount"]) in text
            assert p["minutes"] in (15, 30, 60, 120)
        assert a["location"].split(",")[0] in (t["city"], "New York", "Montreal")
    assert all(seen[k] > 0 for k in ("email", "social", "payment", "crypto", "crypto_invalid"))


def test_labels_file_matches_truth(corpus: tuple) -> None:
    summary, _, truth = corpus
    with summary.labels_path.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["ad_id", "label"]
    labels = {r[0]: int(r[1]) for r in rows[1:]}
    assert labels == {t["id"]: t["label"] for t in truth if t["label"] is not None}
    assert 0.3 * len(truth) < len(labels) < 0.7 * len(truth)
    assert 0.15 < sum(labels.values()) / len(labels) < 0.6
    for t in truth:
        if any(a < 18 for a in t["ages"]):
            assert t["label"] == 1
    # movement wording is equally common in both classes
    lab = [t for t in truth if t["label"] is not None]
    rate = {y: sum("movement" in t["indicators"] for t in lab if t["label"] == y)
            / max(1, sum(1 for t in lab if t["label"] == y)) for y in (0, 1)}
    assert abs(rate[0] - rate[1]) < 0.1


def test_images_exist_open_and_are_shared(small_images: Path) -> None:
    ads = _read(small_images / "ads.jsonl")
    truth = load_truth(small_images)
    referenced = {p for a in ads for p in a["images"]}
    on_disk = {f"images/{p.name}" for p in (small_images / "images").iterdir()}
    assert referenced == on_disk and referenced
    for rel in sorted(referenced):
        with Image.open(small_images / rel) as im:
            im.load()
            assert 64 <= im.width <= 800 and 64 <= im.height <= 800
    edits = Counter(i["edit"] for t in truth for i in t["images"])
    assert edits["exact"] and sum(v for k, v in edits.items() if k != "exact")
    by_source = defaultdict(set)
    for t in truth:
        for i in t["images"]:
            by_source[i["source"]].add(t["network_id"] or t["id"])
    assert all(len(v) == 1 for v in by_source.values())  # strangers never share a picture
    assert any(t["image_phones"] for t in truth) or any(
        "card" in i["source"] for t in truth for i in t["images"])


def test_workers_and_fast_path_give_the_same_corpus(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelight.demo import generator

    generate(tmp_path / "one", n_ads=400, seed=9, images=False, workers=1)
    generate(tmp_path / "two", n_ads=400, seed=9, images=False, workers=2)
    monkeypatch.setattr(generator, "FAST_PATH_ADS", 10)
    fast = generate(tmp_path / "fast", n_ads=400, seed=9, images=False, workers=2)
    assert fast.identifier_recall is None
    for name in ("ads.jsonl", "truth.jsonl", "labels.csv"):
        one = (tmp_path / "one" / name).read_bytes()
        assert one == (tmp_path / "two" / name).read_bytes()
        assert one == (tmp_path / "fast" / name).read_bytes()


def test_edited_copies_stay_near_duplicates(small_images: Path) -> None:
    """Copies of one picture stay within PDQ distance 31 (mostly); strangers' pictures never."""
    import numpy as np
    pdqhash = pytest.importorskip("pdqhash")

    truth = load_truth(small_images)
    source = {i["path"]: i["source"] for t in truth for i in t["images"]}
    paths = sorted(source)
    bits = []
    for p in paths:
        with Image.open(small_images / p) as im:
            h, _ = pdqhash.compute(np.asarray(im.convert("RGB")))
        bits.append(h.astype(np.int32))
    same, near, strangers_min = 0, 0, 256
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            d = int(np.count_nonzero(bits[i] != bits[j]))
            if source[paths[i]] == source[paths[j]]:
                same += 1
                near += d <= 31
            else:
                strangers_min = min(strangers_min, d)
    assert same and near / same >= 0.85
    assert strangers_min > 31


def test_parallel_image_writing_gives_the_same_bytes(tmp_path: Path) -> None:
    import random

    from tracelight.demo.images import BaseImage, ImageJob, write_images

    r = random.Random(4)
    jobs = []
    for i in range(40):
        base = BaseImage(f"b{i}", r.getrandbits(32), ["abstract", "room", "card"][i % 3],
                         (160, 120), "Amy\nText 206 555 0143")
        jobs.append(ImageJob(f"b{i}.jpg", base))
        for k, edit in enumerate(("reencode", "resize", "crop", "brightness")[: 1 + i % 4]):
            jobs.append(ImageJob(f"b{i}-{k}.jpg", base, edit, r.getrandbits(32)))
    assert len(jobs) > 100
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert write_images(tmp_path / "a", jobs, workers=1) == len(jobs)
    assert write_images(tmp_path / "b", jobs, workers=2) == len(jobs)
    assert _digest_tree(tmp_path / "a") == _digest_tree(tmp_path / "b")


@pytest.mark.parametrize("n", [1, 2, 9, 25])
def test_tiny_corpora(tmp_path: Path, n: int) -> None:
    ticks: list[int] = []
    summary = generate(tmp_path, n_ads=n, seed=1, images=True, progress=ticks.append)
    assert summary.n_ads == n == len(_read(tmp_path / "ads.jsonl"))
    assert sum(ticks) == n
    assert summary.n_network_ads + summary.n_independent_ads == n
