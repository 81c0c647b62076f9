"""Networks in the store: members, evidence, hubs, and the linker's state between runs.

Only storage: the linker (tracelight.link) and the use case that feeds it
(tracelight.services.link) live elsewhere. A network crosses this boundary as its JSON record
(the linker's `Network.to_dict()`), hubs as StoredHub, the linker's state as named blobs. Each
`tracelight link` run replaces the network tables in one transaction, so readers never see
half a run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    table,
    text,
)

from tracelight.errors import NotFoundError
from tracelight.records import Reason, reasons_from_json, utcnow
from tracelight.store.base import StoreBase
from tracelight.store.schema import (
    ad_images,
    ads,
    entities,
    images,
    link_hubs,
    link_runs,
    link_state,
    mentions,
    network_evidence,
    network_members,
    networks,
)
from tracelight.store.search import RANK_CAP

STATE_CHUNK = 8 * 1024 * 1024  # bytes per link_state row: well under every backend's limit
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class NetworkRow:
    """One network as a link run hands it to the store."""

    network_id: str
    size: int
    first_seen: datetime | None
    last_seen: datetime | None
    risk_max: float | None
    record: dict[str, Any]  # the network's JSON record, without its evidence
    member_pks: list[int] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)  # kind, value, strength...


@dataclass(frozen=True)
class StoredHub:
    """An identifier or sentence shared by an implausible number of unrelated ads."""

    kind: str
    value: str
    ads: int
    groups: int | None
    reason: str
    example: str | None = None


@dataclass(frozen=True)
class LinkRunRow:
    started: datetime
    mode: str
    ads: int
    new_ads: int
    stats: dict[str, Any]


@dataclass(frozen=True)
class LinkRun:
    """One finished `tracelight link` run."""

    pk: int
    started_at: datetime
    finished_at: datetime | None
    mode: str  # rebuild, incremental
    ads: int
    new_ads: int
    networks: int
    stats: dict[str, Any]


# Built once (the check API runs them on every call): SQLAlchemy caches their compiled form.
_ENTITY_PKS = (select(entities.c.pk, entities.c.value)
               .where(entities.c.kind == bindparam("kind"),
                      entities.c.value.in_(bindparam("values", expanding=True))))
_NETWORKS_OF_ENTITIES = (
    select(networks.c.network_id, mentions.c.entity_pk)
    .select_from(mentions.join(network_members, network_members.c.ad_pk == mentions.c.ad_pk)
                 .join(networks, networks.c.pk == network_members.c.network_pk))
    .where(mentions.c.entity_pk.in_(bindparam("pks", expanding=True))).distinct())
_ENTITY_NETWORKS = (
    select(entities.c.kind, entities.c.value, networks.c.network_id)
    .select_from(entities.join(mentions, mentions.c.entity_pk == entities.c.pk)
                 .join(network_members, network_members.c.ad_pk == mentions.c.ad_pk)
                 .join(networks, networks.c.pk == network_members.c.network_pk))
    .where(entities.c.kind.in_(bindparam("kinds", expanding=True))).distinct())
_NETWORKS_OF_IMAGES = (
    select(networks.c.network_id, images.c.sha256, images.c.pdq)
    .select_from(images.join(ad_images, ad_images.c.image_pk == images.c.pk)
                 .join(network_members, network_members.c.ad_pk == ad_images.c.ad_pk)
                 .join(networks, networks.c.pk == network_members.c.network_pk))
    .where(or_(images.c.sha256.in_(bindparam("digests", expanding=True)),
               images.c.pdq.in_(bindparam("digests", expanding=True)))).distinct())


class NetworkTables(StoreBase):
    """The NetworkRepo of tracelight.store.interfaces, on SQLite or PostgreSQL."""

    # ---- what the linker reads ---------------------------------------------------------
    def ad_versions(self) -> dict[str, tuple[int, str]]:
        """Linker key -> (ad pk, content hash) for every stored ad.

        The key is the ad id; ids that repeat across sources become "source/id".
        """
        with self.connect() as conn:
            rows = conn.execute(select(ads.c.pk, ads.c.source, ads.c.ad_id,
                                       ads.c.content_hash)).all()
        seen: dict[str, int] = {}
        for r in rows:
            seen[r.ad_id] = seen.get(r.ad_id, 0) + 1
        return {(r.ad_id if seen[r.ad_id] == 1 else f"{r.source}/{r.ad_id}"):
                (r.pk, r.content_hash) for r in rows}

    def image_hashes_for(self, pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """Ad pk -> [{sha256, pdq, quality}] of its stored images."""
        out: dict[int, list[dict[str, Any]]] = {}
        stmt = (select(ad_images.c.ad_pk, images.c.sha256, images.c.pdq, images.c.quality)
                .join(images, images.c.pk == ad_images.c.image_pk)
                .where(ad_images.c.ad_pk.in_(list(pks))))
        with self.connect() as conn:
            for r in conn.execute(stmt):
                out.setdefault(r.ad_pk, []).append(
                    {"sha256": r.sha256, "pdq": r.pdq, "quality": r.quality})
        return out

    # ---- the linker's state ------------------------------------------------------------
    @staticmethod
    def _read_blob(conn: Connection, name: str) -> bytes | None:
        parts = conn.execute(select(link_state.c.data).where(link_state.c.name == name)
                             .order_by(link_state.c.seq)).scalars().all()
        return b"".join(bytes(p) for p in parts) if parts else None

    def link_blobs(self, names: Sequence[str]) -> dict[str, bytes | None]:
        """The named blobs the last link run saved (None for a name never saved)."""
        with self.connect() as conn:
            return {name: self._read_blob(conn, name) for name in names}

    def save_link_blob(self, name: str, data: bytes) -> None:
        """Replace one named blob of the last link run (what a step after the run keeps)."""
        with self.transaction() as conn:
            conn.execute(delete(link_state).where(link_state.c.name == name))
            conn.execute(insert(link_state), [
                {"name": name, "seq": s, "data": data[o:o + STATE_CHUNK]}
                for s, o in enumerate(range(0, max(len(data), 1), STATE_CHUNK))])

    def save_link_run(self, nets: Sequence[NetworkRow], hubs: Sequence[StoredHub],
                      blobs: Mapping[str, bytes], run: LinkRunRow) -> None:
        """Replace the stored networks, evidence, hubs and state with this run's, atomically."""
        now = utcnow()
        net_rows: list[dict[str, Any]] = []
        member_rows: list[dict[str, Any]] = []
        ev_rows: list[dict[str, Any]] = []
        for pk, net in enumerate(nets, 1):
            net_rows.append({"pk": pk, "network_id": net.network_id, "size": net.size,
                             "first_seen": net.first_seen, "last_seen": net.last_seen,
                             "risk_max": net.risk_max, "record": net.record,
                             "updated_at": now})
            member_rows.extend({"ad_pk": ad_pk, "network_pk": pk} for ad_pk in net.member_pks)
            ev_rows.extend({"network_pk": pk, "kind": e["kind"], "value": e["value"],
                            "strength": e["strength"], "score": e.get("score"),
                            "ad_ids": list(e["ad_ids"])} for e in net.evidence)
        hub_rows = [{"kind": h.kind, "value": h.value, "ads": h.ads, "groups": h.groups,
                     "reason": h.reason, "example_ad": h.example} for h in hubs]
        with self.transaction() as conn:
            for t in (network_evidence, network_members, networks, link_hubs, link_state):
                conn.execute(delete(t))
            for rows, t in ((net_rows, networks), (member_rows, network_members),
                            (ev_rows, network_evidence), (hub_rows, link_hubs)):
                for i in range(0, len(rows), 5000):
                    conn.execute(insert(t), rows[i:i + 5000])
            for name, data in blobs.items():
                conn.execute(insert(link_state), [
                    {"name": name, "seq": s, "data": data[o:o + STATE_CHUNK]}
                    for s, o in enumerate(range(0, max(len(data), 1), STATE_CHUNK))])
            conn.execute(insert(link_runs).values(
                started_at=run.started, finished_at=now, mode=run.mode, ads=run.ads,
                new_ads=run.new_ads, networks=len(net_rows), stats=run.stats))

    # ---- reading networks --------------------------------------------------------------
    def _records(self, stmt: Any) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute(stmt).all()
            pks = [r.pk for r in rows]
            evidence: dict[int, list[dict[str, Any]]] = {pk: [] for pk in pks}
            for i in range(0, len(pks), 500):
                for e in conn.execute(select(network_evidence)
                                      .where(network_evidence.c.network_pk.in_(pks[i:i + 500]))
                                      .order_by(network_evidence.c.pk)):
                    d = {"kind": e.kind, "value": e.value, "strength": e.strength,
                         "ad_ids": e.ad_ids}
                    if e.score is not None:
                        d["score"] = e.score
                    evidence[e.network_pk].append(d)
        return [{**r.record, "evidence": evidence[r.pk]} for r in rows]

    def iter_network_records(self, *, min_size: int = 2, limit: int | None = None,
                             batch: int = 500) -> Iterator[dict[str, Any]]:
        """Network records (with evidence), biggest first (then by id), streamed in batches."""
        offset = 0
        while True:
            size = batch if limit is None else min(batch, limit - offset)
            if size <= 0:
                return
            stmt = (select(networks.c.pk, networks.c.record).where(networks.c.size >= min_size)
                    .order_by(networks.c.size.desc(), networks.c.network_id)
                    .limit(size).offset(offset))
            got = self._records(stmt)
            yield from got
            if len(got) < size:
                return
            offset += len(got)

    def network_records_by_member_risk(self, limit: int,
                                       min_size: int = 2) -> list[dict[str, Any]]:
        """Networks whose riskiest member ad scores highest: the candidates for the queue."""
        return self._records(
            select(networks.c.pk, networks.c.record).where(networks.c.size >= min_size)
            .order_by(func.coalesce(networks.c.risk_max, -1.0).desc(), networks.c.network_id)
            .limit(limit))

    def network_version(self) -> tuple[int, str]:
        """A cheap fingerprint of the networks (how many, newest change): it changes when a
        link run writes them, so a cache of network summaries knows when to forget them."""
        with self.connect() as conn:
            n, changed = conn.execute(select(func.count(), func.max(networks.c.updated_at))
                                      ).one()
        return int(n or 0), str(changed)

    def count_networks(self, min_size: int = 2) -> int:
        with self.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(networks)
                                    .where(networks.c.size >= min_size)).scalar_one())

    def network_record(self, network_id: str) -> dict[str, Any]:
        got = self._records(select(networks.c.pk, networks.c.record)
                            .where(networks.c.network_id == network_id))
        if not got:
            raise NotFoundError(f"no network with id {network_id!r}")
        return got[0]

    def network_id_of(self, ad_pk: int) -> str | None:
        with self.connect() as conn:
            return conn.execute(select(networks.c.network_id)
                                .join(network_members,
                                      network_members.c.network_pk == networks.c.pk)
                                .where(network_members.c.ad_pk == ad_pk)).scalar_one_or_none()

    def network_ids_of(self, ad_pks: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        with self.connect() as conn:
            for i in range(0, len(ad_pks), 500):
                for r in conn.execute(
                        select(network_members.c.ad_pk, networks.c.network_id)
                        .join(networks, network_members.c.network_pk == networks.c.pk)
                        .where(network_members.c.ad_pk.in_(list(ad_pks[i:i + 500])))):
                    out[r.ad_pk] = r.network_id
        return out

    def networks_for_entities(self, pairs: Sequence[tuple[str, str]],
                              ) -> dict[str, list[tuple[str, str]]]:
        """Network id -> the (kind, value) pairs among `pairs` that one of its member ads
        mentions, for checking an ad at posting time. Two index look-ups: the entities by
        (kind, value) through their unique index (one `kind = ? AND value IN (...)` per kind:
        a row-value IN list is not matched to the index by SQLite and scanned every
        mention), then their mentions by entity through ix_mentions_entity."""
        out: dict[str, list[tuple[str, str]]] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, value in sorted(set(pairs)):
            by_kind.setdefault(kind, []).append(value)
        found: dict[int, tuple[str, str]] = {}
        with self.connect() as conn:
            for kind, values in by_kind.items():
                for i in range(0, len(values), 400):
                    for r in conn.execute(_ENTITY_PKS, {"kind": kind,
                                                        "values": values[i:i + 400]}):
                        found[r.pk] = (kind, r.value)
            pks = sorted(found)
            for i in range(0, len(pks), 400):
                for r in conn.execute(_NETWORKS_OF_ENTITIES, {"pks": pks[i:i + 400]}):
                    out.setdefault(r.network_id, []).append(found[r.entity_pk])
        return out

    def network_entities(self, kinds: Sequence[str]) -> dict[tuple[str, str], list[str]]:
        """(kind, value) -> the ids of the networks one of whose member ads mentions it, for
        every identifier of these kinds: what `networks_for_entities` answers, for all of
        them at once (the check API keeps it in memory between link runs)."""
        out: dict[tuple[str, str], list[str]] = {}
        ids: dict[str, str] = {}  # one string per network id, however many entities
        with self.connect() as conn:
            for kind, value, nid in conn.execution_options(yield_per=5000).execute(
                    _ENTITY_NETWORKS, {"kinds": list(kinds)}):
                out.setdefault((kind, value), []).append(ids.setdefault(nid, nid))
        return out

    def networks_for_image_hashes(self, digests: Sequence[str],
                                  ) -> dict[str, list[str]]:
        """Network id -> the digests among `digests` (SHA-256 or PDQ, lower-case hex) that
        an image of one of its member ads has exactly, by the image indexes."""
        wanted = sorted({d for d in digests if d})
        out: dict[str, list[str]] = {}
        if not wanted:
            return out
        with self.connect() as conn:
            for r in conn.execute(_NETWORKS_OF_IMAGES, {"digests": wanted}):
                for d in (r.sha256, r.pdq):
                    if d in wanted and d not in out.setdefault(r.network_id, []):
                        out[r.network_id].append(d)
        return out

    def member_pks(self, network_id: str, limit: int = 1000) -> list[int]:
        with self.connect() as conn:
            return list(conn.execute(
                select(network_members.c.ad_pk)
                .join(networks, network_members.c.network_pk == networks.c.pk)
                .where(networks.c.network_id == network_id).limit(limit)).scalars())

    def member_risks(self, network_ids: Sequence[str],
                     ) -> dict[str, list[tuple[str, float | None, list[Reason] | None]]]:
        """Network id -> (ad id, risk, reasons) of each member ad, in ad order."""
        out: dict[str, list[tuple[str, float | None, list[Reason] | None]]] = {
            n: [] for n in network_ids}
        ids = list(dict.fromkeys(network_ids))
        with self.connect() as conn:
            for i in range(0, len(ids), 500):
                for r in conn.execute(
                        select(networks.c.network_id, ads.c.ad_id, ads.c.risk, ads.c.reasons)
                        .select_from(network_members
                                     .join(networks,
                                           network_members.c.network_pk == networks.c.pk)
                                     .join(ads, ads.c.pk == network_members.c.ad_pk))
                        .where(networks.c.network_id.in_(ids[i:i + 500]))
                        .order_by(ads.c.pk)):
                    out[r.network_id].append(
                        (r.ad_id, r.risk, reasons_from_json(r.reasons)))
        return out

    def hubs(self) -> list[StoredHub]:
        with self.connect() as conn:
            rows = conn.execute(select(link_hubs).order_by(link_hubs.c.ads.desc(),
                                                           link_hubs.c.pk)).all()
        return [StoredHub(r.kind, r.value, r.ads, r.groups, r.reason, r.example_ad)
                for r in rows]

    def last_link_run(self) -> LinkRun | None:
        with self.connect() as conn:
            row = conn.execute(select(link_runs).order_by(link_runs.c.pk.desc())
                               .limit(1)).first()
        if row is None:
            return None
        return LinkRun(pk=row.pk, started_at=row.started_at, finished_at=row.finished_at,
                       mode=row.mode, ads=row.ads, new_ads=row.new_ads, networks=row.networks,
                       stats=dict(row.stats or {}))

    # ---- candidates for `similar` ------------------------------------------------------
    def ads_sharing_entities(self, ad_pk: int, kinds: Sequence[str],
                             limit: int = 500) -> list[int]:
        target = (select(mentions.c.entity_pk).join(entities,
                                                    entities.c.pk == mentions.c.entity_pk)
                  .where(mentions.c.ad_pk == ad_pk, entities.c.kind.in_(list(kinds)))
                  .scalar_subquery())
        stmt = (select(mentions.c.ad_pk).where(mentions.c.entity_pk.in_(target),
                                               mentions.c.ad_pk != ad_pk)
                .distinct().limit(limit))
        with self.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def ads_sharing_images(self, ad_pk: int, limit: int = 500) -> list[int]:
        mine = (select(ad_images.c.image_pk).where(ad_images.c.ad_pk == ad_pk,
                                                   ad_images.c.image_pk.is_not(None))
                .scalar_subquery())
        same_pdq = (select(images.c.pk).where(images.c.pdq.in_(
            select(images.c.pdq).where(images.c.pk.in_(mine), images.c.pdq.is_not(None))))
            .scalar_subquery())
        stmt = (select(ad_images.c.ad_pk).where(ad_images.c.image_pk.in_(same_pdq),
                                                ad_images.c.ad_pk != ad_pk)
                .distinct().limit(limit))
        with self.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def ads_with_words(self, words: Sequence[str], exclude: int, limit: int = 100) -> list[int]:
        """Ads whose text holds any of `words`, best full-text matches first."""
        clean = [w for w in dict.fromkeys(_WORD.findall(" ".join(words))) if w][:12]
        if not clean:
            return []
        with self.connect() as conn:
            # rank only the first RANK_CAP matches (store/search.py): ranking every ad that
            # holds any of ten words read most of the table on a large store
            if conn.dialect.name == "sqlite":
                fts = table("ads_fts", column("rowid"), column("rank"))
                q = " OR ".join(f'"{w}"' for w in clean)
                first = (select(fts.c.rowid.label("pk"), fts.c.rank.label("score"))
                         .select_from(fts).where(text("ads_fts MATCH :q").bindparams(q=q))
                         .limit(RANK_CAP).subquery())
                stmt = select(first.c.pk).order_by(first.c.score, first.c.pk).limit(limit + 1)
            else:
                tsq = func.to_tsquery("simple", " | ".join(clean))
                search: Any = column("search")
                first = (select(ads.c.pk, func.ts_rank(search, tsq).label("score"))
                         .where(search.op("@@")(tsq)).limit(RANK_CAP).subquery())
                stmt = (select(first.c.pk).order_by(first.c.score.desc(), first.c.pk)
                        .limit(limit + 1))
            return [pk for pk in conn.execute(stmt).scalars() if pk != exclude][:limit]
