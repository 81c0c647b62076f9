"""A small labelled synthetic corpus for risk tests (non-explicit, no real person).

Labels are drawn from the validated predictors with noise, like the demo generator does, so
train/evaluate have something real to find.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from tracelight.records import AdRecord, Mention, ProcessedAd

TRUST = ["100% real pics, no games.", "Verified and legit.", "Real photos, no fakes."]
YOUTH = ["Young and sweet.", "Petite and youthful.", "Sweet college girl."]
ETHNIC = ["Sweet Latina lady.", "Asian beauty.", "Gorgeous Ebony girl."]
MOVE = ["New in town!", "Leaving soon."]
FILLER = ["Relaxing massage in a clean place.", "Available evenings.", "Please be on time.",
          "Hygiene is a must.", "Come see me soon."]
CITIES = ["Seattle", "Portland", "Denver", "Austin"]


def labelled_corpus(n: int = 240, seed: int = 3) -> tuple[list[ProcessedAd], dict[str, int]]:
    rng = random.Random(seed)
    items: list[ProcessedAd] = []
    labels: dict[str, int] = {}
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(n):
        f = {k: rng.random() < 0.4 for k in ("trust", "youth", "ethnic", "obf")}
        parts = rng.sample(FILLER, 2)
        for key, bank in (("trust", TRUST), ("youth", YOUTH), ("ethnic", ETHNIC)):
            if f[key]:
                parts.append(rng.choice(bank))
        if rng.random() < 0.35:
            parts.append(rng.choice(MOVE))
        rng.shuffle(parts)
        line = f"{rng.randrange(200, 999)}{rng.randrange(1000000, 9999999)}"
        phone_raw = " ".join(line) if f["obf"] else line
        body = " ".join(parts) + f" Call {phone_raw}"
        start = body.index(phone_raw)
        ms = [Mention("phone", "+1" + line, "body", start, start + len(phone_raw), f["obf"],
                      phone_raw)]
        rec = AdRecord(id=f"ad{i:04d}", source="fixture", title=f"Ad {i}", body=body,
                       location=rng.choice(CITIES), posted_at=t0 + timedelta(hours=i))
        z = -3.0 + 2.2 * f["trust"] + 2.2 * f["obf"] + 2.4 * f["youth"] + 1.8 * f["ethnic"]
        label = int(rng.random() < 1 / (1 + math.exp(-z)))
        items.append(ProcessedAd(record=rec, mentions=ms))
        if i % 4 != 3:  # an unlabelled quarter, as in real use
            labels[rec.id] = label
    return items, labels


def write_labels(path, labels: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    path.write_text("ad_id,label\n" + "".join(f"{k},{v}\n" for k, v in labels.items()),
                    encoding="utf-8")
