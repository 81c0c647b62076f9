"""Building one persona's ads: wording with edits, contacts as written, traps, pictures.

Each persona (network or independent advertiser) builds its ads with its own random stream,
so personas can be built in any order or in parallel and the corpus stays identical.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracelight.demo import contacts as C
from tracelight.demo import decoys as D
from tracelight.demo import text as T
from tracelight.demo.images import EDITS, BaseImage, ImageJob
from tracelight.demo.personas import (
    Persona,
    Registry,
    add_phones,
    make_independent,
    make_network,
    relocate,
)
from tracelight.demo.rand import distinct, pick

SOURCES = ["demo-board", "demo-classifieds"]
# The board section an advertiser posts in: one per persona, derived from its key rather than
# drawn from its random stream, so every other field of the corpus is as it was without it.
CATEGORIES = ["companionship", "dating", "massage"]
SLUGS = ["sweet-and-new", "relax-tonight", "book-now", "real-pics", "vip-time", "new-photos"]
TRAP_KINDS = ["post_id", "ref", "date", "time", "zip", "long_number"]
# Labels follow the four validated predictors (FIELD_NOTES) through a steep logistic, so the
# best achievable ROC AUC is about 0.93 and equal default weights reach about 0.90.
LABEL_BIAS = -5.2
LABEL_W = {"trust": 3.8, "obscured_phone": 3.8, "youth": 4.0, "ethnicity": 3.3}
LABELLED_SHARE = 0.5
# `generate(network_labels=True)`: labels per network, as in real investigations. A network's
# label is drawn once from its traits; every ad of a risky network is positive, and this share
# of them is written without any indicator of its own (their network mates carry them).
BARE_SHARE = 0.25
# `generate(network_labels=True, label_rule="evidence")`: the same per-network labels with
# less noise in the rule itself, so that a scorer is judged on what the network shows rather
# than on the coin the generator tossed. A network is positive when a stated minor is among
# its names or, through a steeper logistic of the same four validated predictors, when two or
# more of them hold (one trait: 2-5% positive; two: 91-97%; three or more: above 99.7%),
# drawn on its own random stream; an independent advertiser's one ad by the same logistic of
# what that ad shows (its hidden phone counts). The personas and networks are those of the
# "drawn" rule; a larger share of a positive network's ads is written bare, so that about
# 20% of all positive ads carry no indicator of their own (measured with the real extractor
# and scorer by `tracelight bench score --network-labels`). Each label's probability is kept
# in the truth as `label_p`: the benchmark's ceiling.
LABEL_RULES = ("drawn", "evidence")
EVIDENCE_BIAS = -9.0
EVIDENCE_W = {k: 1.6 * w for k, w in LABEL_W.items()}
EVIDENCE_BARE_SHARE = 0.34
# --market realistic: personas moved to Britain, so that with the 9 % already there about a
# third of the ads are outside North America (decoys.FOREIGN_SHARE)
RELOCATE = 0.27


@dataclass
class Slot:
    persona: Persona
    when: datetime
    city_index: int
    phase: float  # 0..1 position of this ad in its network's life (drives phone rotation)
    bare: bool = False  # network labels: written without an indicator of its own
    position: tuple[int, int] | None = None  # (i, n): the i-th of the persona's n own ads


@dataclass
class PersonaSpec:
    """What the planner fixes for one persona: its kind, size, random seed and posting times."""

    kind: str  # "net" or "ind"
    idx: int
    seed: int
    times: list[datetime]
    indices: list[int]  # global ad numbers (ads are numbered in posting order)
    network_labels: bool = False  # see BARE_SHARE
    label_rule: str = "drawn"  # see LABEL_RULES
    market: str = "simple"  # "realistic": plant tracelight.demo.decoys
    style: str = ""  # realistic networks: "sole" (one phone, every ad rewritten) or "big"
    copies: tuple[int, ...] = ()  # positions in `times` that re-post the ad before them


@dataclass
class PersonaResult:
    key: str
    is_network: bool
    identifiers: set[str]
    phones: set[str]
    trap_numbers: set[str]
    ads: list[tuple[int, Any, Any, Any]] = field(default_factory=list)  # see build_persona


def _phones_for(rng: random.Random, p: Persona, phase: float) -> list[C.Phone]:
    """Phone rotation: a network moves through its numbers over time, overlapping at times."""
    k = len(p.phones)
    cur = min(k - 1, int(phase * k))
    out = [p.phones[cur]]
    if k > 1 and rng.random() < 0.15:
        other = cur + 1 if cur + 1 < k and rng.random() < 0.5 else cur - 1
        if 0 <= other < k:
            out.append(p.phones[other])
    elif p.network_id is None and k > 1:
        out.append(p.phones[1])
    return out


class AdBuilder:
    """Turns (persona, slot) into one ad record, its truth and its image jobs."""

    def __init__(self, rng: random.Random, site_phones: dict[str, C.Phone], salt: str,
                 own_phones: set[str], decoys: D.Decoys | None = None) -> None:
        self.rng = rng
        self.decoys = decoys
        self.salt = salt
        self.site_phones = site_phones
        self.own_phones = own_phones
        self.trap_numbers: set[str] = set()
        self.variants: dict[str, list[ImageJob]] = {}

    def build(self, index: int, slot: Slot) -> tuple[dict, dict, list[ImageJob]]:
        rng, p = self.rng, slot.persona
        city = p.cities[slot.city_index]
        ad_id = f"demo-{index:06d}"
        source = pick(rng, SOURCES)
        name = pick(rng, p.names)
        fill = {"name": name, "city": city.short}
        truth_names = [name]
        phone_text: list[dict[str, str]] = []
        phones_in_text: list[str] = []
        traps: list[str] = []
        obfuscated = False

        dec = self.decoys
        if p.sole:  # a single-contact network writes every ad afresh
            sentences = list(T.build_template(rng, trust=p.trust, youth=p.youth,
                                              ethnicity=p.ethnicity).sentences)
        else:
            sentences = (T.edit_template(rng, p.template, p.edit_strength) if p.network_id
                         else list(p.template.sentences))
        if p.builder is not None:  # an ad builder's text; the persona's own indicators stay
            sentences = ([(k, x) for k, x in sentences if k in T.FIXED]
                         + [("builder", x) for x in p.builder])
        if dec is not None:
            for _ in range(rng.randint(0, 2)):
                sentences.insert(rng.randrange(1, len(sentences) + 1),
                                 ("stock", dec.stock_phrase(rng)))
        if slot.bare:
            sentences = [(k, s) for k, s in sentences if k not in ("trust", "youth", "ethnicity")]
        body = [s.format(**fill) for _, s in sentences]
        indicators = [k for k in ("trust", "youth", "ethnicity")
                      if getattr(p, k) and not slot.bare]
        if rng.random() < 0.35:  # movement wording: same rate whatever the risk
            body.insert(rng.randrange(1, len(body) + 1), pick(rng, T.MOVEMENT).format(**fill))
            indicators.append("movement")
        if rng.random() < 0.12 and len(p.names) > 1:  # two people in one ad
            other = next(n for n in p.names if n != name)
            body.insert(1, f"Ask for {other} too.")
            truth_names.append(other)

        ages: list[int] = []
        extra: list[str] = []
        if rng.random() < 0.7 and not (slot.bare and p.ages[name] < 18):
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
        if rng.random() < p.no_phone_rate:
            text_phones: list[C.Phone] = []
        elif dec is not None and slot.position is not None:  # rotation, overlap at each switch
            text_phones = D.rotating(p.phones, *slot.position)
        else:
            text_phones = _phones_for(rng, p, slot.phase)
        use_card = p.card is not None and (rng.random() < 0.6 or not text_phones)
        if p.card_phone is not None and use_card and rng.random() < 0.5:
            # this ad leaves its number to the picture alone
            text_phones = [ph for ph in text_phones if ph != p.card_phone]
        hide = rng.random() < p.obfuscates and not slot.bare
        for ph in text_phones:
            r = rng.random()
            if r < 0.05:
                raw, style = C.render_phone_url(rng, ph, pick(rng, SLUGS)), "url"
                line = f"More pics: {raw}"
            elif hide:
                styles = C.OBFUSCATED_STYLES
                if ph.prefix == "+44":
                    styles = ["words_en", "unicode", "separators", "lookalike"]
                style = pick(rng, styles)
                if style == "lookalike" and not set("01") & set("".join(ph.groups)):
                    style = "unicode"
                raw = C.render_phone_obfuscated(rng, ph, style)
                obfuscated = True
                line = f"{pick(rng, T.CONTACT_PHRASES)} {raw}"
            else:
                raw, style = C.render_phone_plain(rng, ph), "plain"
                if dec is not None and ph.prefix == "+44" and rng.random() < 0.5:
                    g = ph.groups  # the national form a British ad writes most
                    raw, style = f"0{g[0]} {g[1]}", "national"
                line = f"{pick(rng, T.CONTACT_PHRASES)} {raw}"
            if ph.prefix == "+44" and rng.random() < 0.3:
                line = f"WhatsApp {raw}"
            body.append(line + ("" if line.endswith(".") else "."))
            phone_text.append({"phone": ph.e164, "raw": raw, "style": style})
            phones_in_text.append(ph.e164)
        if not text_phones and not use_card:
            body.append(pick(rng, ["DM me for details.", "Message me here on the site.",
                                    "Contact through the site only."]))

        emails, social, payments, crypto = [], [], [], []
        for e in p.emails:
            if rng.random() < 0.4:
                raw, _ = C.render_email(rng, e)
                body.append(f"{pick(rng, ['Email:', 'Mail me', 'Write to'])} {raw}")
                emails.append(e.lower())
        for s in p.social:
            if rng.random() < 0.4:
                form = pick(rng, C.SOCIAL_FORMS[s["platform"]])
                body.append(form.format(h=s["handle"]) + pick(rng, ["", "."]))
                social.append(dict(s))
        for pay in p.payments:
            if rng.random() < 0.6:
                form = pick(rng, C.PAYMENT_FORMS[pay["service"]])
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
            if rng.random() < (0.15 if kind == "post_id" else 0.08):
                if kind == "zip" and not city.zip:
                    continue
                trap = self._trap(kind, city)
                body.append(trap if trap.endswith(".") else trap + ".")
                traps.append(kind)

        hub: list[str] = []
        if rng.random() < 0.35:
            body.append(pick(rng, T.BOILERPLATE[source]))
        footer = dec.footer(rng, source) if dec is not None else None
        if footer is not None:  # the site's helpline beside the advertiser's own contact
            sp = self.site_phones[source]
            body.append(footer.around(C.render_phone_plain(rng, sp, "paren"))[0])
            phones_in_text.append(sp.e164)
            hub.append(sp.e164)
        elif dec is None and rng.random() < 0.05:
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
        features = {"trust": p.trust and not slot.bare, "obscured_phone": obfuscated,
                    "youth": p.youth and not slot.bare, "ethnicity": p.ethnicity and not slot.bare}
        if obfuscated:
            indicators.append("obscured_phone")
        record = {
            "id": ad_id, "source": source,
            "url": f"https://{source}.example/{city.short.lower().replace(' ', '-')}/{ad_id}",
            "title": title, "body": " ".join(body),
            "posted_at": slot.when.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "location": city.posted, "images": [j.path for j in jobs],
            "category": CATEGORIES[zlib.crc32(p.key.encode()) % len(CATEGORIES)],
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
        if slot.bare:
            truth["no_own_indicator"] = True
        return record, truth, jobs

    def _trap(self, kind: str, city: Any) -> str:
        while True:
            trap = T.make_trap(self.rng, kind, zip_code=city.zip,
                               area_codes=list(city.area_codes))
            number = "+1" + "".join(ch for ch in trap if ch.isdigit())[-10:]
            if number not in self.own_phones:  # a trap never equals a real contact
                self.trap_numbers.add(number)  # (checked against everyone's phones later)
                return trap

    def _path(self, key: str, ext: str) -> str:
        # Opaque names: a file name must not give away which network a picture belongs to.
        digest = hashlib.sha256(f"{self.salt}/{key}".encode()).hexdigest()[:16]
        return f"images/{digest}.{ext}"

    def _images(self, p: Persona, use_card: bool) -> list[ImageJob]:
        rng = self.rng
        picks = distinct(rng, p.bases, min(len(p.bases), pick(rng, [1, 1, 2, 3])))
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
                edit = pick(rng, EDITS[1:])
                path = self._path(f"{base.base_id}-v{len(variants) + 1}", "jpg")
                variants.append(ImageJob(path, base, edit, rng.getrandbits(32)))
            jobs.append(pick(rng, variants))
        if self.decoys is not None:  # a stock photo unrelated advertisers use too
            sid = self.decoys.stock_photo(rng, "network" if p.network_id else "independent")
            if sid is not None:
                base = BaseImage(f"stock-{sid:016x}", sid & 0xFFFFFFFF, "room", (640, 480))
                jobs.append(ImageJob(self._path(base.base_id, "jpg"), base))
        return jobs


def _label(rng: random.Random, truth: dict) -> int:
    """Draw the risk label from the ad's validated predictors (stated minors: always 1)."""
    f = truth.pop("_features")
    if any(a < 18 for a in truth["ages"]):
        return 1  # a stated age under 18 is always a positive
    z = LABEL_BIAS + sum(LABEL_W[k] for k, on in f.items() if on)
    return int(rng.random() < 1 / (1 + math.exp(-z)))


def network_label(seed: int, p: Persona) -> int:
    """One label for a whole network (network labels), from its traits, on its own stream."""
    if any(a < 18 for a in p.ages.values()):
        return 1
    z = LABEL_BIAS + sum(LABEL_W[k] for k, on in (
        ("trust", p.trust), ("youth", p.youth), ("ethnicity", p.ethnicity),
        ("obscured_phone", p.obfuscates > 0.5)) if on)
    return int(random.Random(f"{seed}/network-label").random() < 1 / (1 + math.exp(-z)))


def label_probability(p: Persona, bias: float, weights: dict[str, float]) -> float:
    """The probability a persona's label is drawn with, from its traits (stated minor: 1)."""
    if any(a < 18 for a in p.ages.values()):
        return 1.0
    z = bias + sum(weights[k] for k, on in (
        ("trust", p.trust), ("youth", p.youth), ("ethnicity", p.ethnicity),
        ("obscured_phone", p.obfuscates > 0.5)) if on)
    return 1 / (1 + math.exp(-z))


def evidence_label(seed: int, p: Persona) -> int:
    """One label for a persona under the "evidence" rule (network or independent advertiser),
    from its traits through the steeper logistic, on its own random stream."""
    prob = label_probability(p, EVIDENCE_BIAS, EVIDENCE_W)
    return int(random.Random(f"{seed}/evidence-label").random() < prob)


def evidence_ad_label(seed: int, features: dict[str, bool]) -> tuple[int, float]:
    """(label, probability) of an independent advertiser's one ad under the "evidence" rule:
    its own validated predictors as written (a hidden phone in it counts), steeper logistic."""
    z = EVIDENCE_BIAS + sum(EVIDENCE_W[k] for k, on in features.items() if on)
    prob = 1 / (1 + math.exp(-z))
    return int(random.Random(f"{seed}/evidence-label").random() < prob), prob


def persona_label(spec: PersonaSpec, p: Persona) -> tuple[int | None, float, float | None]:
    """(the label every ad of this persona carries, or None for per-ad labels; the share of
    a positive network's ads written without an indicator of their own; the probability the
    label was drawn with, kept in the truth as `label_p` for the benchmark's ceiling)."""
    if not spec.network_labels:
        return None, 0.0, None
    if spec.label_rule == "evidence" and p.network_id:
        return (evidence_label(spec.seed, p), EVIDENCE_BARE_SHARE,
                label_probability(p, EVIDENCE_BIAS, EVIDENCE_W))
    if spec.label_rule == "evidence":  # an independent: its one ad (evidence_ad_label)
        return None, 0.0, None
    if not p.network_id:
        return None, BARE_SHARE, None
    return (network_label(spec.seed, p), BARE_SHARE,
            label_probability(p, LABEL_BIAS, LABEL_W))


def persona_identifiers(p: Persona) -> set[str]:
    keys = {ph.e164 for ph in p.phones}
    keys |= {f"email:{e}" for e in p.emails}
    keys |= {f"social:{s['platform']}:{s['handle'].lower()}" for s in p.social}
    keys |= {f"pay:{s['service']}:{s['handle'].lower()}" for s in p.payments}
    keys |= {f"crypto:{c['address']}" for c in p.crypto}
    return keys


_DECOYS: dict[str, D.Decoys] = {}


def corpus_decoys(salt: str) -> D.Decoys:
    """The corpus's shared decoys (ad builders, stock phrases and photos, footers), the same
    in every worker process: drawn from the corpus salt alone."""
    dec = _DECOYS.get(salt)
    if dec is None:
        rng = random.Random(f"{salt}/decoys")

        def sentence(r: random.Random) -> str:
            t = T.build_template(r, trust=False, youth=False, ethnicity=False)
            free = [x for k, x in t.sentences if k not in T.FIXED]
            return pick(r, free).replace("{name}", "me").replace("{city}", "town")

        dec = _DECOYS[salt] = D.Decoys(rng, sentence, SOURCES)
    return dec


def build_persona(spec: PersonaSpec, site_phones: dict[str, C.Phone], salt: str,
                  attempt: int = 0, text_only: bool = False) -> PersonaResult:
    """Make one persona and all its ads from its own random stream.

    `text_only` (large corpora without pictures) returns each ad as ready JSON lines plus
    (id, label, obfuscated), which is cheaper to send back from a worker process.
    """
    rng = random.Random(f"{spec.seed}/{attempt}")
    reg = Registry()
    if spec.kind == "net":
        p = make_network(rng, reg, spec.idx, len(spec.times) - len(spec.copies))
    else:
        p = make_independent(rng, reg, spec.idx)
    decoys = None
    if spec.market == "realistic":
        decoys = corpus_decoys(salt)
        who = "network" if p.network_id else "independent"
        if rng.random() < RELOCATE:
            relocate(rng, reg, p, "GB")
        if spec.style == "sole":  # its one phone is on every ad, in the text
            p.phones, p.sole = p.phones[:1], True
            p.card, p.card_phone, p.no_phone_rate = None, None, 0.0
        elif spec.style == "big":
            add_phones(rng, reg, p, rng.randint(3, 8) - len(p.phones))
        builder = decoys.builder_text(rng, who)
        if builder is not None and not p.sole:
            p.builder = list(builder)
    own = {ph.e164 for ph in p.phones}
    builder_ = AdBuilder(rng, site_phones, salt, own, decoys)
    size = len(spec.times)
    net_label, bare_share, label_p = persona_label(spec, p)
    bare_rng = random.Random(f"{spec.seed}/bare")  # its own stream: the ads' stream is unchanged
    result = PersonaResult(p.key, p.network_id is not None or bool(spec.copies),
                           persona_identifiers(p), own, builder_.trap_numbers)
    copies = set(spec.copies)
    built: list[tuple[int, dict, dict, list[ImageJob]]] = []
    for k, (when, index) in enumerate(zip(spec.times, spec.indices, strict=True)):
        if k in copies and built:  # cross-posting: the same ad on another source
            _i, rec0, tr0, jobs0 = built[-1]
            rec, tr = dict(rec0), dict(tr0)
            ad_id = f"demo-{index:06d}"
            source = next(s for s in SOURCES if s != rec0["source"])
            rec.update(id=ad_id, source=source,
                       url=rec0["url"].replace(rec0["source"], source).replace(rec0["id"],
                                                                               ad_id),
                       posted_at=when.isoformat(timespec="seconds").replace("+00:00", "Z"))
            tr["id"] = ad_id
            built.append((index, rec, tr, list(jobs0)))
            continue
        phase = k / (size - 1) if size > 1 else 0.0
        ci = min(len(p.cities) - 1, int(phase * len(p.cities) * 0.999))
        bare = bool(net_label) and bare_rng.random() < bare_share
        own_n = size - len(copies)
        position = (k - sum(1 for c in copies if c < k), own_n)
        record, truth, jobs = builder_.build(index, Slot(p, when, ci, phase, bare, position))
        features = dict(truth["_features"])
        label = _label(rng, truth)
        if net_label is not None:
            label = net_label
            truth["label_p"] = round(label_p or 0.0, 6)
        elif spec.network_labels and spec.label_rule == "evidence":
            label, prob = evidence_ad_label(spec.seed, features)
            if any(a < 18 for a in truth["ages"]):
                label, prob = 1, 1.0
            truth["label_p"] = round(prob, 6)
        if rng.random() < LABELLED_SHARE or any(a < 18 for a in truth["ages"]):
            truth["label"] = label
        built.append((index, record, truth, jobs))
    for index, record, truth, jobs in built:
        if copies and p.network_id is None:  # an independent's copies are one advertiser's
            truth["network_id"] = p.key
        if text_only:
            record["images"], truth["images"], truth["image_phones"] = [], [], []
            result.ads.append((index, json.dumps(record, ensure_ascii=False),
                               json.dumps(truth, ensure_ascii=False),
                               (record["id"], truth["label"], truth["obfuscated_phone"])))
        else:
            result.ads.append((index, record, truth, jobs))
    return result


def build_chunk(specs: list[PersonaSpec], site_phones: dict[str, C.Phone], salt: str,
                text_only: bool = False) -> list[PersonaResult]:
    """Worker entry point (module level, so a process pool can pickle it)."""
    return [build_persona(s, site_phones, salt, text_only=text_only) for s in specs]
