"""The demo corpus generator: plans networks and advertisers, writes ads, truth, labels, images.

Everything is drawn from one `random.Random` seeded from (seed, n_ads): the same arguments give
byte-identical files. The text never depends on `images`, so a corpus generated without
pictures has the same ads as one with them (minus the image paths).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tracelight.demo import contacts as C
from tracelight.demo import text as T
from tracelight.demo.images import EDITS, ImageJob, write_images
from tracelight.demo.personas import Persona, Registry, make_independent, make_network
from tracelight.demo.truth import identifier_linking, write_jsonl

END = datetime(2026, 10, 31, tzinfo=UTC)
SPAN_DAYS = 120
SOURCES = ["demo-board", "demo-classifieds"]
IMAGE_NAME = re.compile(r"[0-9a-f]{16}\.(?:jpg|png)")
SLUGS = ["sweet-and-new", "relax-tonight", "book-now", "real-pics", "vip-time", "new-photos"]
TRAP_KINDS = ["post_id", "ref", "date", "time", "zip", "long_number"]
LABEL_BIAS, LABEL_W = -5.2, {"trust": 3.8, "obscured_phone": 3.8, "youth": 4.0, "ethnicity": 3.3}


@dataclass
class DemoSummary:
    """What `generate` wrote, with the figures benchmarks quote."""

    out_dir: Path
    n_ads: int
    seed: int
    n_networks: int
    n_network_ads: int
    n_independent_ads: int
    n_labelled: int
    n_positive: int
    n_images: int
    n_obfuscated: int
    seconds: float
    ads_path: Path
    truth_path: Path
    labels_path: Path
    identifier_recall: float = 0.0  # pairwise recall of perfect identifier linking
    identifier_image_recall: float = 0.0  # ... plus perfect near-duplicate image linking
    files: dict[str, Path] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()
                if k != "files"}


def network_sizes(rng: random.Random, n_networks: int, total: int) -> list[int]:
    """Heavy-tailed sizes in 2..40 that add up to `total` exactly (when it is feasible)."""
    if n_networks == 0:
        return []
    u = [rng.paretovariate(1.5) for _ in range(n_networks)]

    def sizes(x: float) -> list[int]:
        return [min(40, 2 + int(x * (v - 1))) for v in u]

    lo, hi = 0.0, 80.0
    for _ in range(40):  # scale the tail so the sizes add up to about `total`
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(sizes(mid)) < total else (lo, mid)
    s = sizes(lo)
    order = list(range(n_networks))
    while sum(s) != total:
        i = rng.choice(order)
        if sum(s) < total and s[i] < 40:
            s[i] += 1
        elif sum(s) > total and s[i] > 2:
            s[i] -= 1
        if all(v == 40 for v in s) or all(v == 2 for v in s):
            break
    return s


@dataclass
class Slot:
    persona: Persona
    when: datetime
    city_index: int
    phase: float  # 0..1 position of this ad in its network's life (drives phone rotation)


def _plan(rng: random.Random, n_ads: int) -> tuple[list[Persona], list[Slot]]:
    reg = Registry()
    n_net = round(n_ads * 0.093) if n_ads >= 20 else n_ads // 10
    net_total = round(0.6 * n_ads)
    n_net = min(n_net, net_total // 2)
    sizes = network_sizes(rng, n_net, net_total)
    personas: list[Persona] = []
    slots: list[Slot] = []
    for i, size in enumerate(sizes):
        p = make_network(rng, reg, i + 1, size)
        personas.append(p)
        length = rng.uniform(7, 75)
        start = END - timedelta(days=rng.uniform(length, SPAN_DAYS))
        offs = sorted(rng.uniform(0, length) for _ in range(size))
        for k, off in enumerate(offs):
            phase = k / max(1, size - 1) if size > 1 else 0.0
            ci = min(len(p.cities) - 1, int(phase * len(p.cities) * 0.999))
            slots.append(Slot(p, start + timedelta(days=off), ci, phase))
    for j in range(n_ads - sum(sizes)):
        p = make_independent(rng, reg, j + 1)
        personas.append(p)
        slots.append(Slot(p, END - timedelta(days=rng.uniform(0, SPAN_DAYS)), 0, 0.0))
    slots.sort(key=lambda s: s.when)
    return personas, slots


def _phones_for(rng: random.Random, p: Persona, phase: float) -> list[C.Phone]:
    """Phone rotation: a network moves through its numbers over time, overlapping at times."""
    k = len(p.phones)
    cur = min(k - 1, int(phase * k))
    out = [p.phones[cur]]
    if k > 1 and rng.random() < 0.2:
        other = cur + 1 if cur + 1 < k and rng.random() < 0.5 else cur - 1
        if 0 <= other < k:
            out.append(p.phones[other])
    elif p.network_id is None and k > 1:
        out.append(p.phones[1])
    return out


class AdBuilder:
    """Turns (persona, slot) into one ad record, its truth and its image jobs."""

    def __init__(self, rng: random.Random, site_phones: dict[str, C.Phone],
                 used_phones: set[str], salt: str) -> None:
        self.rng = rng
        self.salt = salt
        self.site_phones = site_phones
        self.used = used_phones
        self.variants: dict[str, list[ImageJob]] = {}

    def build(self, index: int, slot: Slot) -> tuple[dict, dict, list[ImageJob]]:
        rng, p = self.rng, slot.persona
        city = p.cities[slot.city_index]
        ad_id = f"demo-{index:06d}"
        source = rng.choice(SOURCES)
        name = rng.choice(p.names)
        fill = {"name": name, "city": city.short}
        truth_names = [name]
        phone_text: list[dict[str, str]] = []
        phones_in_text: list[str] = []
        traps: list[str] = []
        obfuscated = False

        sentences = (T.edit_template(rng, p.template, p.edit_strength) if p.network_id
                     else list(p.template.sentences))
        body = [s.format(**fill) for _, s in sentences]
        indicators = [k for k in ("trust", "youth", "ethnicity") if getattr(p, k)]
        if rng.random() < 0.35:  # movement wording: same rate whatever the risk
            body.insert(rng.randrange(1, len(body) + 1), rng.choice(T.MOVEMENT).format(**fill))
            indicators.append("movement")
        if rng.random() < 0.12 and len(p.names) > 1:  # two people in one ad
            other = next(n for n in p.names if n != name)
            body.insert(1, f"Ask for {other} too.")
            truth_names.append(other)

        ages: list[int] = []
        extra: list[str] = []
        if rng.random() < 0.7:
            age = p.ages[name]
            ages.append(age)
            extra.append(T.render_age(rng, age))
        if rng.random() < 0.4:
            stats, kinds = T.make_stats(rng)
            extra.append(stats)
            traps += kinds
        if extra:
            body.append(", ".join(extra) + ".")
        prices: list[dict] = []
        if rng.random() < 0.75:
            line, prices = T.make_prices(rng, city.country, p.base_price)
            body.append(line)
            traps.append("price")

        # contacts
        text_phones = [] if rng.random() < p.no_phone_rate else _phones_for(rng, p, slot.phase)
        use_card = p.card is not None and (rng.random() < 0.6 or not text_phones)
        if p.card_phone is not None and use_card and rng.random() < 0.5:
            # this ad leaves its number to the picture alone
            text_phones = [ph for ph in text_phones if ph != p.card_phone]
        hide = rng.random() < p.obfuscates
        for ph in text_phones:
            r = rng.random()
            if r < 0.05:
                raw, style = C.render_phone_url(rng, ph, rng.choice(SLUGS)), "url"
                line = f"More pics: {raw}"
            elif hide:
                styles = C.OBFUSCATED_STYLES
                if ph.prefix == "+44":
                    styles = ["words_en", "unicode", "separators", "lookalike"]
                style = rng.choice(styles)
                if style == "lookalike" and not set("01") & set("".join(ph.groups)):
                    style = "unicode"
                raw = C.render_phone_obfuscated(rng, ph, style)
                obfuscated = True
                line = f"{rng.choice(T.CONTACT_PHRASES)} {raw}"
            else:
                raw, style = C.render_phone_plain(rng, ph), "plain"
                line = f"{rng.choice(T.CONTACT_PHRASES)} {raw}"
            if ph.prefix == "+44" and rng.random() < 0.3:
                line = f"WhatsApp {raw}"
            body.append(line + ("" if line.endswith(".") else "."))
            phone_text.append({"phone": ph.e164, "raw": raw, "style": style})
            phones_in_text.append(ph.e164)
        if not text_phones and not use_card:
            body.append(rng.choice(["DM me for details.", "Message me here on the site.",
                                    "Contact through the site only."]))

        emails, social, payments, crypto = [], [], [], []
        for e in p.emails:
            if rng.random() < 0.5:
                raw, _ = C.render_email(rng, e)
                body.append(f"{rng.choice(['Email:', 'Mail me', 'Write to'])} {raw}")
                emails.append(e.lower())
        for s in p.social:
            if rng.random() < 0.5:
                form = rng.choice(C.SOCIAL_FORMS[s["platform"]])
                body.append(form.format(h=s["handle"]) + rng.choice(["", "."]))
                social.append(dict(s))
        for pay in p.payments:
            if rng.random() < 0.6:
                form = rng.choice(C.PAYMENT_FORMS[pay["service"]])
                body.append(form.format(h=pay["handle"]) + ".")
                payments.append(dict(pay))
        for c in p.crypto:
            if rng.random() < 0.7:
                body.append(f"{c['currency']} accepted: {c['address']}")
                crypto.append(dict(c))
        if rng.random() < 0.02:
            bad = C.make_invalid_crypto(rng)
            body.append(f"Tips in {bad['currency']}: {bad['address']}")
            traps.append("crypto_invalid")

        for kind in TRAP_KINDS:
            if rng.random() < (0.2 if kind == "post_id" else 0.08):
                if kind == "zip" and not city.zip:
                    continue
                trap = self._trap(kind, city)
                body.append(trap if trap.endswith(".") else trap + ".")
                traps.append(kind)

        hub: list[str] = []
        if rng.random() < 0.35:
            body.append(rng.choice(T.BOILERPLATE[source]))
        if rng.random() < 0.05:
            sp = self.site_phones[source]
            body.append(f"Problems with this listing? Call {source} support at "
                        f"{C.render_phone_plain(rng, sp, 'paren')}.")
            phones_in_text.append(sp.e164)
            hub.append(sp.e164)

        title = T.edit_title(rng, p.template.title, p.edit_strength).format(**fill)
        if rng.random() < 0.08 and phone_text and not obfuscated:
            title += f" - {phone_text[0]['raw']}"

        jobs = self._images(p, use_card) if rng.random() < p.image_rate or use_card else []
        card_phones = [p.card_phone.e164] if p.card_phone and any(
            j.base.kind == "card" for j in jobs) else []
        dedup_phones = list(dict.fromkeys(phones_in_text))
        features = {"trust": p.trust, "obscured_phone": obfuscated, "youth": p.youth,
                    "ethnicity": p.ethnicity}
        if obfuscated:
            indicators.append("obscured_phone")
        record = {
            "id": ad_id, "source": source,
            "url": f"https://{source}.example/{city.short.lower().replace(' ', '-')}/{ad_id}",
            "title": title, "body": " ".join(body),
            "posted_at": slot.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "location": city.posted, "images": [j.path for j in jobs],
        }
        truth = {
            "id": ad_id, "network_id": p.network_id, "phones": dedup_phones,
            "image_phones": [x for x in card_phones if x not in dedup_phones],
            "emails": emails, "social": social, "payment_handles": payments, "crypto": crypto,
            "ages": ages, "names": truth_names, "prices": prices, "city": city.name,
            "region": city.region, "country": city.country, "obfuscated_phone": obfuscated,
            "label": None, "traps": sorted(set(traps)), "indicators": indicators,
            "hub_phones": hub, "phone_text": phone_text,
            "images": [{"path": j.path, "source": j.base.base_id, "edit": j.edit} for j in jobs],
            "_features": features,
        }
        return record, truth, jobs

    def _trap(self, kind: str, city: Any) -> str:
        while True:
            trap = T.make_trap(self.rng, kind, zip_code=city.zip,
                               area_codes=list(city.area_codes))
            digits = "".join(ch for ch in trap if ch.isdigit())
            if "+1" + digits[-10:] not in self.used:  # a trap never equals a real contact
                return trap

    def _path(self, key: str, ext: str) -> str:
        # Opaque names: a file name must not give away which network a picture belongs to.
        digest = hashlib.sha256(f"{self.salt}/{key}".encode()).hexdigest()[:16]
        return f"images/{digest}.{ext}"

    def _images(self, p: Persona, use_card: bool) -> list[ImageJob]:
        rng = self.rng
        picks = rng.sample(p.bases, min(len(p.bases), rng.choice([1, 1, 2, 3])))
        if use_card and p.card is not None:
            picks.append(p.card)
        jobs = []
        for base in picks:
            ext = "png" if base.fmt == "png" else "jpg"
            if p.network_id is None or rng.random() < 0.5:
                jobs.append(ImageJob(self._path(base.base_id, ext), base))
                continue
            variants = self.variants.setdefault(base.base_id, [])
            if len(variants) < 3 and (not variants or rng.random() < 0.4):
                edit = rng.choice(EDITS[1:])
                path = self._path(f"{base.base_id}-v{len(variants) + 1}", "jpg")
                variants.append(ImageJob(path, base, edit, rng.getrandbits(32)))
            jobs.append(rng.choice(variants))
        return jobs


def _label(rng: random.Random, truth: dict) -> int:
    f = truth.pop("_features")
    if any(a < 18 for a in truth["ages"]):
        return 1  # a stated age under 18 is always a positive
    z = LABEL_BIAS + sum(LABEL_W[k] for k, on in f.items() if on)
    return int(rng.random() < 1 / (1 + math.exp(-z)))


def generate(out_dir: Path, n_ads: int = 3000, seed: int = 7, images: bool = True,
             progress: Callable[[int], None] | None = None,
             max_images: int = 6000) -> DemoSummary:
    """Write a synthetic corpus (ads.jsonl, truth.jsonl, labels.csv, images/, README.txt)."""
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"tracelight-demo/{seed}/{n_ads}")
    personas, slots = _plan(rng, n_ads)
    used = set().union(*(set(ph.e164 for ph in p.phones) for p in personas)) if personas \
        else set()
    reg_used = set(used)
    site_phones = {s: C.make_tollfree(rng, reg_used) for s in SOURCES}
    builder = AdBuilder(rng, site_phones, reg_used, salt=f"{seed}/{n_ads}")
    records: list[dict] = []
    truths: list[dict] = []
    planned: list[tuple[list, list]] = []  # image truth as planned, before --no-images drops it
    all_jobs: dict[str, ImageJob] = {}
    n_labelled = n_pos = n_obf = reported = 0
    for i, slot in enumerate(slots):
        record, truth, jobs = builder.build(i + 1, slot)
        label = _label(rng, truth)
        if rng.random() < 0.5 or any(a < 18 for a in truth["ages"]):
            truth["label"] = label
            n_labelled += 1
            n_pos += label
        n_obf += truth["obfuscated_phone"]
        planned.append((truth["images"], truth["image_phones"]))
        new = [j for j in jobs if j.path not in all_jobs]
        if images and jobs and len(all_jobs) + len(new) <= max_images:
            for j in new:
                all_jobs[j.path] = j
        else:
            record["images"], truth["images"] = [], []
            truth["image_phones"] = []
        records.append(record)
        truths.append(truth)
        if progress and not images:
            progress(1)
            reported += 1
    ads_path, truth_path = out_dir / "ads.jsonl", out_dir / "truth.jsonl"
    labels_path = out_dir / "labels.csv"
    write_jsonl(ads_path, records)
    write_jsonl(truth_path, truths)
    with labels_path.open("w", encoding="utf-8") as fh:
        fh.write("ad_id,label\n")
        for t in truths:
            if t["label"] is not None:
                fh.write(f"{t['id']},{t['label']}\n")
    n_images = 0
    image_dir = out_dir / "images"
    if image_dir.is_dir():  # files of an earlier run would be pictures no ad references
        for old in image_dir.iterdir():
            if old.is_file() and IMAGE_NAME.fullmatch(old.name):
                old.unlink()
    if all_jobs:
        image_dir.mkdir(exist_ok=True)
        ordered = sorted(all_jobs.values(), key=lambda j: (j.base.base_id, j.path))
        n_images = write_images(out_dir, ordered, _ad_progress(progress, len(ordered),
                                                               len(records) - reported))
    elif progress:
        progress(len(records) - reported)
    n_net_ads = sum(1 for t in truths if t["network_id"])
    with_planned = [{**t, "images": im, "image_phones": ip}
                    for t, (im, ip) in zip(truths, planned, strict=True)]
    summary = DemoSummary(
        out_dir=out_dir, n_ads=len(records), seed=seed,
        n_networks=sum(1 for p in personas if p.network_id), n_network_ads=n_net_ads,
        n_independent_ads=len(records) - n_net_ads, n_labelled=n_labelled, n_positive=n_pos,
        n_images=n_images, n_obfuscated=n_obf, seconds=0.0, ads_path=ads_path,
        truth_path=truth_path, labels_path=labels_path,
        identifier_recall=identifier_linking(truths)["recall"],
        identifier_image_recall=identifier_linking(with_planned, with_images=True)["recall"],
    )
    summary.seconds = time.perf_counter() - t0
    _readme(out_dir, summary)
    return summary


def _ad_progress(progress: Callable[[int], None] | None, n_images: int, n_ads: int
                 ) -> Callable[[int], None] | None:
    """Report image writing (the slow part) as ads done, so a bar has one unit."""
    if progress is None:
        return None
    state = {"images": 0, "ads": 0}

    def tick(k: int) -> None:
        state["images"] += k
        ads = n_ads * state["images"] // max(1, n_images)
        if ads > state["ads"]:
            progress(ads - state["ads"])
            state["ads"] = ads

    return tick


def _readme(out_dir: Path, s: DemoSummary) -> None:
    (out_dir / "README.txt").write_text(
        f"tracelight demo corpus (synthetic, non-explicit; no real person or listing)\n\n"
        f"generated by: tracelight demo-generate --ads {s.n_ads} --seed {s.seed}"
        f"{'' if s.n_images else ' --no-images'}\n"
        f"ads: {s.n_ads} ({s.n_network_ads} in {s.n_networks} planted networks, "
        f"{s.n_independent_ads} independent)\n"
        f"images: {s.n_images} files\nlabelled risk subset: {s.n_labelled} "
        f"({s.n_positive} positive)\nads with an obscured phone: {s.n_obfuscated}\n"
        f"pairwise recall of perfect identifier linking: {s.identifier_recall:.3f} "
        f"(with images: {s.identifier_image_recall:.3f})\n\n"
        "files: ads.jsonl (ad records), truth.jsonl (ground truth, one line per ad, same "
        "order), labels.csv (ad_id,label), images/.\nSee docs/demo.md for the truth format.\n",
        encoding="utf-8")
