"""Synthetic, non-explicit ads for the workspace's tests and `tracelight bench web`.

Plain made-up text with the shapes the pages must handle: shared phones across cities
(a possible network), obscured numbers, indicator wording with spans, several sources and
categories. Risks and reasons come from the real scorer (tracelight.score), so the pages see
the Reasons the pipeline stores. No real ad, no real number (555-01xx numbers are reserved
for fiction).
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from tracelight.records import AdRecord, ImageInfo, Mention, ProcessedAd
from tracelight.score import score_ad
from tracelight.store.blobs import key_for

CITIES = ["Seattle, WA", "Portland, OR", "Boise, ID", "Spokane, WA", "Tacoma, WA",
          "Salem, OR", "Eugene, OR", "Reno, NV"]
SOURCES = ["board-a", "board-b", "classifieds-c"]
CATEGORIES = ["companionship", "massage", "dating"]
NAMES = ["Ana", "Bella", "Cleo", "Dina", "Eva", "Fay", "Gia", "Hana"]
# wording the indicator catalogue (score/indicators.yaml) knows
PHRASES = ["100% real", "no games", "new in town", "young and fresh"]


@lru_cache(maxsize=256)
def sample_image(group: int) -> bytes:
    """The PNG of a group's sample image: a plain colour square, nothing depicted. Put it in the
    image store (tracelight.store.blobs.ImageStore.put) for the pages to show it."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), ((group * 40) % 256, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def phone_for(group: int) -> tuple[str, str]:
    """(E.164, as written) for a group; 555-01xx numbers are fictional."""
    area = [206, 503, 208, 509][group % 4]
    line = 100 + group % 100
    return f"+1{area}5550{line:03d}"[:12], f"({area}) 555-0{line:03d}"[:14]


def make_ads(n: int, *, seed: int = 7, group_size: int = 8, start: datetime | None = None,
             with_images: bool = False) -> Iterator[ProcessedAd]:
    rnd = random.Random(seed)
    start = start or datetime(2026, 10, 1, tzinfo=UTC)
    for i in range(n):
        group = i // group_size
        e164, written = phone_for(group)
        name = NAMES[group % len(NAMES)]
        city = CITIES[(group + (i % group_size) // 3) % len(CITIES)]
        picked = [p for p in PHRASES if rnd.random() < 0.4]
        title = f"{name} – friendly company in {city.split(',')[0]}"
        body = f"Hi, I am {name}. "
        mentions = [Mention("name", name.lower(), "body", 9, 9 + len(name), raw=name)]
        for phrase in picked:
            body += phrase + ". "
        body += "Call or text "
        s = len(body)
        body += written
        mentions.append(Mention("phone", e164, "body", s, s + len(written), raw=written))
        if group % 5 == 0:
            body += " or write "
            s = len(body)
            email = f"{name.lower()}{group}@example.org"
            body += email
            mentions.append(Mention("email", email, "body", s, s + len(email), raw=email))
        if group % 7 == 0:
            body += ". Insta "
            s = len(body)
            body += f"@{name.lower()}_{group}"
            mentions.append(Mention("social", f"instagram:{name.lower()}_{group}", "body", s,
                                    len(body), raw=body[s:]))
        body += ". Available today."
        rec = AdRecord(id=f"ad-{i:07d}", source=SOURCES[i % len(SOURCES)], title=title,
                       body=body, url=f"https://example.org/{SOURCES[i % 3]}/{i}",
                       posted_at=start + timedelta(hours=i * 3 % (24 * 60), minutes=i % 60),
                       location=city, extra={"category": CATEGORIES[group % 3]})
        images = []
        if with_images:
            data = sample_image(group)
            sha = hashlib.sha256(data).hexdigest()
            images = [ImageInfo(position=0, original=f"img/{group}.png", sha256=sha,
                                md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                                stored_path=key_for(sha), width=64, height=64)]
        scored = score_ad(rec, mentions)
        yield ProcessedAd(record=rec, mentions=mentions, images=images, risk=scored.risk,
                          reasons=scored.reasons)
