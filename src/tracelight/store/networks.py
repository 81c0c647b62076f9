"""Networks in the store: members, evidence, hubs, and the linker's state between runs.

The linker itself is pure (tracelight.link); this module feeds it ads from the store and keeps
what it produced. Each `tracelight link` run replaces the network tables in one transaction,
so readers never see half a run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    column,
    delete,
    func,
    insert,
    select,
    table,
    text,
)

from tracelight.errors import NotFoundError
from tracelight.kinds import STRONG
from tracelight.link import Hub, LinkAd, LinkResult, LinkState, Network
from tracelight.link.features import FeatureTable
from tracelight.records import Mention, utcnow
from tracelight.store import Store
from tracelight.store.ads import StoredAd
from tracelight.store.schema import ad_images, ads, entities, images, mentions, metadata

TS = DateTime(timezone=True)

networks = Table(
    "networks", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("network_id", String(64), nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("first_seen", TS),
    Column("last_seen", TS),
    Column("risk_max", Float),
    Column("record", JSON, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_networks_size", "size"),
)

network_members = Table(
    "network_members", metadata,
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), primary_key=True),
    Column("network_pk", Integer, ForeignKey("networks.pk", ondelete="CASCADE"),
           nullable=False),
    Index("ix_network_members_network", "network_pk"),
)

network_evidence = Table(
    "network_evidence", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("network_pk", Integer, ForeignKey("networks.pk", ondelete="CASCADE"),
           nullable=False),
    Column("kind", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("strength", String(16), nullable=False),
    Column("score", Float),
    Column("ad_ids", JSON, nullable=False),
    Index("ix_network_evidence_network", "network_pk"),
    Index("ix_network_evidence_kind_value", "kind", "value"),
)

link_hubs = Table(
    "link_hubs", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("ads", Integer, nullable=False),
    Column("groups", Integer),
    Column("reason", Text, nullable=False),
    Column("example_ad", Text),
)

link_state = Table(
    "link_state", metadata,
    Column("name", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

link_runs = Table(
    "link_runs", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS),
    Column("mode", String(16), nullable=False),
    Column("ads", Integer, nullable=False),
    Column("new_ads", Integer, nullable=False),
    Column("networks", Integer, nullable=False),
    Column("stats", JSON, nullable=False),
)

STATE_CHUNK = 8 * 1024 * 1024  # bytes per link_state row: well under every backend's limit
_WORD = re.compile(r"\w+", re.UNICODE)


def _parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class NetworkStore:
    """Networks and linker state on top of a Store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- feeding the linker ------------------------------------------------------------
    def ad_versions(self) -> dict[str, tuple[int, str]]:
        """Linker key -> (ad pk, content hash) for every stored ad.

        The key is the ad id; ids that repeat across sources become "source/id".
        """
        with self.store.connect() as conn:
            rows = conn.execute(select(ads.c.pk, ads.c.source, ads.c.ad_id,
                                       ads.c.content_hash)).all()
        seen: dict[str, int] = {}
        for r in rows:
            seen[r.ad_id] = seen.get(r.ad_id, 0) + 1
        return {(r.ad_id if seen[r.ad_id] == 1 else f"{r.source}/{r.ad_id}"):
                (r.pk, r.content_hash) for r in rows}

    def link_ads(self, pks: Sequence[int], keys: Mapping[int, str],
                 batch: int = 1000) -> Iterator[LinkAd]:
        """The ads with these pks as LinkAds (text, mentions, image hashes, risk)."""
        for i in range(0, len(pks), batch):
            yield from self.link_ads_of(self.store.get_ads_by_pks(list(pks[i:i + batch])), keys)

    def link_ads_of(self, stored: Sequence[StoredAd], keys: Mapping[int, str]) -> list[LinkAd]:
        """LinkAds for ads already read (their mentions and image hashes are fetched)."""
        part = [ad.pk for ad in stored]
        ments = self.store.mentions_for(part)
        imgs = self._images_for(part)
        return [_to_link_ad(ad, keys[ad.pk], ments.get(ad.pk, []), imgs.get(ad.pk, []))
                for ad in stored]

    def _images_for(self, pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {}
        stmt = (select(ad_images.c.ad_pk, images.c.sha256, images.c.pdq, images.c.quality)
                .join(images, images.c.pk == ad_images.c.image_pk)
                .where(ad_images.c.ad_pk.in_(list(pks))))
        with self.store.connect() as conn:
            for r in conn.execute(stmt):
                out.setdefault(r.ad_pk, []).append(
                    {"sha256": r.sha256, "pdq": r.pdq, "quality": r.quality})
        return out

    # ---- state -------------------------------------------------------------------------
    def _read_blob(self, conn: Any, name: str) -> bytes | None:
        parts = conn.execute(select(link_state.c.data).where(link_state.c.name == name)
                             .order_by(link_state.c.seq)).scalars().all()
        return b"".join(bytes(p) for p in parts) if parts else None

    def load_state(self) -> tuple[LinkState | None, dict[str, str]]:
        """The last run's state and the content hash each ad had then (None: never linked,
        or linked by a tracelight whose features differ: then a full rebuild follows)."""
        with self.store.connect() as conn:
            feats = self._read_blob(conn, "features")
            assign = self._read_blob(conn, "assignment")
            hashes = self._read_blob(conn, "hashes")
        if feats is None or assign is None or hashes is None:
            return None, {}
        table_ = FeatureTable.from_bytes(feats)
        if table_ is None:
            return None, {}
        return LinkState(table=table_, assignment=json.loads(assign)), json.loads(hashes)

    def previous_assignment(self) -> dict[str, str]:
        with self.store.connect() as conn:
            assign = self._read_blob(conn, "assignment")
        return json.loads(assign) if assign else {}

    # ---- writing a run -----------------------------------------------------------------
    def save(self, result: LinkResult, key_to_pk: Mapping[str, int], hashes: Mapping[str, str],
             *, mode: str, started: datetime, min_size: int = 2) -> None:
        """Replace the stored networks, evidence, hubs and state with this run's, atomically."""
        now = utcnow()
        net_rows: list[dict[str, Any]] = []
        member_rows: list[dict[str, Any]] = []
        ev_rows: list[dict[str, Any]] = []
        for pk, net in enumerate((n for n in result.networks if n.size >= min_size), 1):
            record = net.to_dict()
            record.pop("evidence")
            net_rows.append({"pk": pk, "network_id": net.network_id, "size": net.size,
                             "first_seen": _parse_ts(net.first_seen),
                             "last_seen": _parse_ts(net.last_seen),
                             "risk_max": (net.risk or {}).get("max"), "record": record,
                             "updated_at": now})
            member_rows.extend({"ad_pk": key_to_pk[k], "network_pk": pk} for k in net.ad_ids
                               if k in key_to_pk)
            ev_rows.extend({"network_pk": pk, "kind": e.kind, "value": e.value,
                            "strength": e.strength, "score": e.score,
                            "ad_ids": list(e.ad_ids)} for e in net.evidence)
        hub_rows = [{"kind": h.kind, "value": h.value, "ads": h.ads, "groups": h.groups,
                     "reason": h.reason, "example_ad": h.example} for h in result.hubs]
        blobs = {"features": result.state.table.to_bytes(),
                 "assignment": result.state.assignment_bytes(),
                 "hashes": json.dumps(dict(hashes), separators=(",", ":")).encode()}
        with self.store.transaction() as conn:
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
                started_at=started, finished_at=now, mode=mode, ads=len(result.state.table),
                new_ads=int(result.stats.get("new_ads", 0)), networks=len(net_rows),
                stats=result.stats))

    # ---- reading -----------------------------------------------------------------------
    def _networks(self, stmt: Any) -> list[Network]:
        with self.store.connect() as conn:
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
        return [Network.from_dict({**r.record, "evidence": evidence[r.pk]}) for r in rows]

    def iter_networks(self, *, min_size: int = 2, limit: int | None = None,
                      batch: int = 500) -> Iterator[Network]:
        """Networks, biggest first (then by id), streamed in batches."""
        offset = 0
        while True:
            size = batch if limit is None else min(batch, limit - offset)
            if size <= 0:
                return
            stmt = (select(networks.c.pk, networks.c.record).where(networks.c.size >= min_size)
                    .order_by(networks.c.size.desc(), networks.c.network_id)
                    .limit(size).offset(offset))
            got = self._networks(stmt)
            yield from got
            if len(got) < size:
                return
            offset += len(got)

    def top_by_member_risk(self, limit: int, min_size: int = 2) -> list[Network]:
        """Networks whose riskiest member ad scores highest: the candidates for the queue."""
        return self._networks(
            select(networks.c.pk, networks.c.record).where(networks.c.size >= min_size)
            .order_by(func.coalesce(networks.c.risk_max, -1.0).desc(), networks.c.network_id)
            .limit(limit))

    def count_networks(self, min_size: int = 2) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(networks)
                                    .where(networks.c.size >= min_size)).scalar_one())

    def get_network(self, network_id: str) -> Network:
        got = self._networks(select(networks.c.pk, networks.c.record)
                             .where(networks.c.network_id == network_id))
        if not got:
            raise NotFoundError(f"no network with id {network_id!r}")
        return got[0]

    def network_id_of(self, ad_pk: int) -> str | None:
        with self.store.connect() as conn:
            return conn.execute(select(networks.c.network_id)
                                .join(network_members,
                                      network_members.c.network_pk == networks.c.pk)
                                .where(network_members.c.ad_pk == ad_pk)).scalar_one_or_none()

    def network_ids_of(self, ad_pks: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        with self.store.connect() as conn:
            for i in range(0, len(ad_pks), 500):
                for r in conn.execute(
                        select(network_members.c.ad_pk, networks.c.network_id)
                        .join(networks, network_members.c.network_pk == networks.c.pk)
                        .where(network_members.c.ad_pk.in_(list(ad_pks[i:i + 500])))):
                    out[r.ad_pk] = r.network_id
        return out

    def member_pks(self, network_id: str, limit: int = 1000) -> list[int]:
        with self.store.connect() as conn:
            return list(conn.execute(
                select(network_members.c.ad_pk)
                .join(networks, network_members.c.network_pk == networks.c.pk)
                .where(networks.c.network_id == network_id).limit(limit)).scalars())

    def hubs(self) -> list[Hub]:
        with self.store.connect() as conn:
            rows = conn.execute(select(link_hubs).order_by(link_hubs.c.ads.desc(),
                                                           link_hubs.c.pk)).all()
        return [Hub(r.kind, r.value, r.ads, r.groups, r.reason, r.example_ad) for r in rows]

    def last_run(self) -> dict[str, Any] | None:
        with self.store.connect() as conn:
            row = conn.execute(select(link_runs).order_by(link_runs.c.pk.desc())
                               .limit(1)).first()
        return dict(row._mapping) if row else None

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
        with self.store.connect() as conn:
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
        with self.store.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def ads_with_words(self, words: Sequence[str], exclude: int, limit: int = 100) -> list[int]:
        """Ads whose text holds any of `words`, best full-text matches first."""
        clean = [w for w in dict.fromkeys(_WORD.findall(" ".join(words))) if w][:12]
        if not clean:
            return []
        with self.store.connect() as conn:
            if conn.dialect.name == "sqlite":
                fts = table("ads_fts", column("rowid"), column("rank"))
                q = " OR ".join(f'"{w}"' for w in clean)
                stmt = (select(fts.c.rowid).select_from(fts)
                        .where(text("ads_fts MATCH :q").bindparams(q=q))
                        .order_by(fts.c.rank).limit(limit + 1))
            else:
                tsq = func.to_tsquery("simple", " | ".join(clean))
                search: Any = column("search")
                stmt = (select(ads.c.pk).where(search.op("@@")(tsq))
                        .order_by(func.ts_rank(search, tsq).desc()).limit(limit + 1))
            return [pk for pk in conn.execute(stmt).scalars() if pk != exclude][:limit]


def _to_link_ad(ad: StoredAd, key: str, ments: Sequence[Mention],
                imgs: Sequence[dict[str, Any]]) -> LinkAd:
    return LinkAd.build(key, ad.title, ad.body, ad.posted_at, ad.location, ments, imgs,
                        ad.risk)


def update_networks(store: Store, *, rebuild: bool = False, config: Any = None,
                    progress: Any = None) -> tuple[LinkResult, str]:
    """Bring the stored networks up to date with the stored ads; return (result, mode).

    Incremental by default: only ads that are new or changed since the last run are read and
    featurised; removed ads are dropped. `rebuild` featurises every ad again. Both give the
    same networks, and both keep network ids stable against the previous run.
    progress: called with (phase, done, total) while ads are read.
    """
    from tracelight.link import link_batch

    ns = NetworkStore(store)
    started = utcnow()
    versions = ns.ad_versions()
    state, old_hashes = (None, {}) if rebuild else ns.load_state()
    previous = ns.previous_assignment() if state is None else state.assignment
    if state is None:
        todo = list(versions)
        removed: list[str] = []
        mode = "rebuild"
    else:
        todo = [k for k, (_pk, h) in versions.items() if old_hashes.get(k) != h]
        removed = [k for k in old_hashes if k not in versions]
        mode = "incremental"
    if state is not None and not todo and not removed:
        # nothing was ingested, changed or deleted since the last run: nothing to recompute
        last = ns.last_run() or {}
        stats = {**(last.get("stats") or {}), "new_ads": 0}
        return LinkResult(networks=[], hubs=ns.hubs(), state=state, stats=stats), "unchanged"
    key_to_pk = {k: pk for k, (pk, _h) in versions.items()}
    pk_to_key = {pk: k for k, pk in key_to_pk.items()}
    pks = sorted(key_to_pk[k] for k in todo)
    done = [0]

    def on_batch(n: int) -> None:
        done[0] += n
        if progress:
            progress("featurise", done[0], len(pks))

    result = link_batch(ns.link_ads(pks, pk_to_key), state=state, removed=removed,
                        previous=previous, config=config, progress=on_batch)
    if progress:
        progress("save", 0, 0)
    ns.save(result, key_to_pk, {k: h for k, (_pk, h) in versions.items()}, mode=mode,
            started=started)
    return result, mode


def _distinctive_words(ad: LinkAd, n: int = 10) -> list[str]:
    """Longer alphabetic words of the ad's own wording (contacts removed): rarer words make
    the full-text index return ads written from the same template."""
    from tracelight.link.text import cleaned_text

    words = {w for w in _WORD.findall(cleaned_text(ad.title, ad.body, ad.mentions))
             if len(w) >= 5 and w.isalpha()}
    return sorted(words, key=lambda w: (-len(w), w))[:n]


def similar_ads(store: Store, ad: StoredAd, *, k: int = 20,
                candidates_per_source: int = 100) -> list[dict[str, Any]]:
    """The ads closest to `ad` in contacts, images and wording, each with its reasons."""
    from tracelight.link.evidence import compare, shingle_set, shingle_sets, similarity_score

    ns = NetworkStore(store)
    (target,) = ns.link_ads_of([ad], {ad.pk: ad.ad_id})
    cands: dict[int, None] = {}
    for pk in ns.ads_sharing_entities(ad.pk, STRONG, candidates_per_source):
        cands[pk] = None
    for pk in ns.ads_sharing_images(ad.pk, candidates_per_source):
        cands[pk] = None
    net = ns.network_id_of(ad.pk)
    if net:
        for pk in ns.member_pks(net, candidates_per_source):
            cands[pk] = None
    for pk in ns.ads_with_words(_distinctive_words(target), ad.pk, 50):
        cands[pk] = None
    cands.pop(ad.pk, None)
    pks = list(cands)
    stored = {a.pk: a for a in store.get_ads_by_pks(pks)}
    keys = {pk: stored[pk].ad_id for pk in pks if pk in stored}
    hubs = {(h.kind, h.value) for h in ns.hubs() if h.kind != "sentence"}
    nets = ns.network_ids_of(pks)
    mine = shingle_set(target)
    by_key = {key: pk for pk, key in keys.items()}
    rows: list[dict[str, Any]] = []
    cand_ads = ns.link_ads_of(list(stored.values()), keys)
    for cand, theirs in zip(cand_ads, shingle_sets(cand_ads), strict=True):
        ev = compare(target, cand, a_shingles=mine, b_shingles=theirs, hubs=hubs, style=False)
        # writing style is the costliest reason: only weighed for ads already related
        if ev:
            ev += [e for e in compare(target, cand, a_shingles=mine, b_shingles=theirs,
                                      hubs=hubs) if e.kind == "style"]
        else:
            continue
        pk = by_key[cand.key]
        reasons = [{k: v for k, v in e.to_dict().items() if k != "ad_ids"} for e in ev]
        rows.append({"ad_id": cand.key, "source": stored[pk].source,
                     "score": similarity_score(ev), "network_id": nets.get(pk),
                     "reasons": reasons, "title": cand.title, "posted_at": cand.posted_at,
                     "location": cand.location})
    rows.sort(key=lambda r: (-r["score"], r["ad_id"]))
    return rows[:k]
