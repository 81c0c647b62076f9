"""Read queries the investigator workspace and the queue need beyond the ads repository.

The queue (ads by risk with filters), identifier look-ups (handles written several ways),
ads that share an identifier or an image with a given ad, and filter choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select, true

from tracelight.kinds import STRONG
from tracelight.store.ads import AD_COLUMNS, AdFilter, StoredAd, row_to_ad
from tracelight.store.base import StoreBase
from tracelight.store.schema import ad_images, ads, entities, images, mentions, reviews

LINK_KINDS = STRONG  # identifiers that link ads (kinds.yaml: strong)


@dataclass(frozen=True)
class SharedAd:
    """Another ad sharing identifiers or an identical image with the ad asked about."""

    ad: StoredAd
    shared: list[str]  # "phone +1206...", "identical image"


COUNT_CAP = 1000  # beyond this, pages say "1,000+": an exact count costs a full scan

# review states that close an ad in the default queue (services.review keeps the same rules)
HIDING_STATES = ("no concern", "escalated", "needs follow-up")

# each ad with its review row, if any (reviews.ref holds the ad's key as text)
_WITH_REVIEW = ads.outerjoin(reviews, and_(reviews.c.kind == "ad",
                                           reviews.c.ref == cast(ads.c.pk, String)))


def _shown(now: datetime) -> Any:
    """The default queue shows an ad (at `now`) unless it was closed and has not changed
    since: no review row, an open state, a revision newer than the one marked, or a follow-up
    date that has come."""
    return or_(reviews.c.pk.is_(None), reviews.c.state.not_in(HIDING_STATES),
               and_(reviews.c.seen.is_not(None), ads.c.revision > reviews.c.seen),
               and_(reviews.c.state == "needs follow-up", reviews.c.follow_up <= now))


def _unreviewed() -> Any:
    return or_(reviews.c.pk.is_(None), reviews.c.state == "new")


class WorkspaceTables(StoreBase):
    """The WorkspaceRepo of tracelight.store.interfaces."""

    def queue_page(self, flt: AdFilter, *, limit: int = 50, offset: int = 0,
                   open_at: datetime | None = None, unreviewed: bool = False,
                   assignee: str | None = None) -> tuple[int, list[StoredAd], bool]:
        """(total, ads, scored): scored ads by risk, highest first; newest first if none scored.

        Filtering on `risk IS NOT NULL` lets both backends walk the risk index in order instead
        of sorting every ad; the total is capped at COUNT_CAP + 1 for the same reason.

        open_at: only the ads the default queue shows at that time (one outer join with the
        review rows, see `_shown`); unreviewed: only ads nobody has reviewed yet; assignee:
        only ads assigned to that analyst and not closed (the "mine" view).
        """
        clauses = flt.clauses()
        source: Any = ads
        if open_at is not None or unreviewed or assignee is not None:
            source = _WITH_REVIEW
            if open_at is not None:
                clauses.append(_shown(open_at))
            if unreviewed:
                clauses.append(_unreviewed())
            if assignee is not None:
                clauses += [reviews.c.assignee == assignee,
                            reviews.c.state.not_in(("no concern", "escalated"))]
        with self.connect() as conn:
            has_scores = conn.execute(select(ads.c.pk).where(ads.c.risk.is_not(None))
                                      .limit(1)).first() is not None
            where = (and_(*clauses, ads.c.risk.is_not(None)) if has_scores
                     else and_(true(), *clauses))
            key = ads.c.risk if has_scores else ads.c.posted_at
            # One pass collects up to COUNT_CAP + 1 matches. Few matches: sort just those here
            # (walking the risk index would visit every ad to find them). Many: walk the risk
            # index and stop at the page; ties go newest-ingested first, the index's own order.
            hits = list(conn.execute(select(ads.c.pk, key).select_from(source).where(where)
                                     .limit(COUNT_CAP + 1)).all())
            total = len(hits)
            if total <= COUNT_CAP:
                hits.sort(key=lambda h: (h[1] is not None, h[1] or 0, h[0]), reverse=True)
                page = [h[0] for h in hits[offset:offset + limit]]
                by_pk = {r.pk: r for r in conn.execute(select(*AD_COLUMNS)
                                                       .where(ads.c.pk.in_(page)))} if page else {}
                return total, [row_to_ad(by_pk[pk]) for pk in page if pk in by_pk], has_scores
            if has_scores and flt.source:
                where = and_(*flt.clauses(risk_walk=True), *clauses[len(flt.clauses()):],
                             ads.c.risk.is_not(None))
            rows = conn.execute(select(*AD_COLUMNS).select_from(source).where(where)
                                .order_by(key.desc(), ads.c.pk.desc()).limit(limit).offset(offset))
            return int(total), [row_to_ad(r) for r in rows], has_scores

    def closed_count(self, flt: AdFilter, now: datetime) -> int:
        """Ads matching the filter that the default queue hides at `now` (capped at
        COUNT_CAP + 1, like the queue's total)."""
        hidden = and_(reviews.c.state.in_(HIDING_STATES), ~_shown(now))
        q = (select(ads.c.pk).select_from(ads.join(reviews, and_(
            reviews.c.kind == "ad", reviews.c.ref == cast(ads.c.pk, String))))
             .where(*flt.clauses(), hidden).limit(COUNT_CAP + 1))
        with self.connect() as conn:
            return len(conn.execute(q).all())

    def filter_choices(self, limit: int = 200) -> dict[str, list[str]]:
        """Sources and categories present, for the queue's drop-downs."""
        with self.connect() as conn:
            sources = [r[0] for r in conn.execute(select(ads.c.source).distinct()
                                                  .order_by(ads.c.source).limit(limit))]
            cat = ads.c.extra["category"].as_string()
            categories = [r[0] for r in conn.execute(
                select(cat).where(cat.is_not(None)).distinct().order_by(cat).limit(limit))
                if r[0]]
        return {"sources": sources, "categories": categories}

    def entity_values(self, kind: str, written: str, limit: int = 50) -> list[str]:
        """Stored values of one kind matching what a user typed.

        Handles are stored as "platform:handle"; a user types "@handle" or "handle". Other
        kinds compare exactly (after the caller normalised them) or case-insensitively.
        """
        text = written.strip()
        with self.connect() as conn:
            if kind == "social":
                handle = text.rsplit(":", 1)[-1].lstrip("@").lower()
                if not handle:
                    return []
                cond = or_(func.lower(entities.c.value) == handle,
                           func.lower(entities.c.value).endswith(":" + handle, autoescape=True),
                           func.lower(entities.c.value) == text.lower())
            else:
                cond = or_(entities.c.value == text, func.lower(entities.c.value) == text.lower())
            return [r[0] for r in conn.execute(select(entities.c.value)
                                               .where(entities.c.kind == kind, cond).limit(limit))]

    def ads_with_image_hash(self, digest: str, *, limit: int = 20,
                            offset: int = 0) -> tuple[int, list[StoredAd]]:
        """Ads holding an image with this exact SHA-256, MD5 or PDQ hash."""
        d = digest.strip().lower()
        with self.connect() as conn:
            img_pks = select(images.c.pk).where(or_(images.c.sha256 == d, images.c.md5 == d,
                                                    images.c.pdq == d))
            ad_pks = select(ad_images.c.ad_pk).where(ad_images.c.image_pk.in_(img_pks)).distinct()
            total = conn.execute(select(func.count()).select_from(ad_pks.subquery())).scalar_one()
            rows = conn.execute(select(*AD_COLUMNS).where(ads.c.pk.in_(ad_pks))
                                .order_by(ads.c.posted_at.desc(), ads.c.pk.desc())
                                .limit(limit).offset(offset))
            return int(total), [row_to_ad(r) for r in rows]

    def ads_sharing(self, ad_pk: int, *, limit: int = 10,
                    max_fanout: int = 5000) -> list[SharedAd]:
        """Other ads that share an identifier or an identical image with this ad.

        Identifiers used by more than `max_fanout` ads (a shared agency line, a stock photo) are
        skipped: they link everything and explain nothing.
        """
        with self.connect() as conn:
            ents = [(r.entity_pk, r.kind, r.value) for r in conn.execute(
                select(mentions.c.entity_pk, entities.c.kind, entities.c.value)
                .join(entities, entities.c.pk == mentions.c.entity_pk)
                .where(mentions.c.ad_pk == ad_pk, entities.c.kind.in_(LINK_KINDS)).distinct())]
            shared: dict[int, list[str]] = {}
            for entity_pk, kind, value in ents:
                n = conn.execute(select(func.count()).select_from(mentions)
                                 .where(mentions.c.entity_pk == entity_pk)).scalar_one()
                if n > max_fanout:
                    continue
                for r in conn.execute(select(mentions.c.ad_pk).where(
                        mentions.c.entity_pk == entity_pk, mentions.c.ad_pk != ad_pk)
                        .distinct().limit(200)):
                    shared.setdefault(r.ad_pk, []).append(f"{kind} {value}")
            img_pks = [r[0] for r in conn.execute(select(ad_images.c.image_pk).where(
                ad_images.c.ad_pk == ad_pk, ad_images.c.image_pk.is_not(None)))]
            for img_pk in img_pks:
                for r in conn.execute(select(ad_images.c.ad_pk).where(
                        ad_images.c.image_pk == img_pk, ad_images.c.ad_pk != ad_pk)
                        .distinct().limit(200)):
                    shared.setdefault(r.ad_pk, []).append("identical image")
            ranked = sorted(shared.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
            pks = [pk for pk, _ in ranked]
            by_pk = {}
            if pks:
                by_pk = {r.pk: row_to_ad(r) for r in conn.execute(
                    select(*AD_COLUMNS).where(ads.c.pk.in_(pks)))}
        return [SharedAd(by_pk[pk], sorted(set(what))) for pk, what in ranked if pk in by_pk]

    def ads_for_entities(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """How many ads mention each (kind, value)."""
        out: dict[tuple[str, str], int] = {}
        with self.connect() as conn:
            for kind, value in pairs:
                out[(kind, value)] = int(conn.execute(
                    select(func.count(mentions.c.ad_pk.distinct()))
                    .select_from(mentions.join(entities, entities.c.pk == mentions.c.entity_pk))
                    .where(entities.c.kind == kind, entities.c.value == value)).scalar_one())
        return out
