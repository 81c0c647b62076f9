"""PostgreSQL at scale: COPY, partitioning, identifier look-ups and full-text search options,
measured on N synthetic ads in a scratch database (dropped afterwards). docs/scale.md.

    python tools/pg_scale.py --ads 1000000 --url postgresql://postgres@127.0.0.1:5432/postgres

Synthetic, non-explicit text (a fixed Zipf vocabulary); prints one JSON object of figures and
writes the EXPLAIN plans next to it (--plans FILE). A measurement script, not product code.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

WORDS = [f"w{i}" for i in range(20000)]
LONG = ["availability", "companionship", "conversation", "appointments", "relaxation",
        "professional", "neighborhood", "entertainment", "reflexology", "sophisticated"]


def gen_csv(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(WORDS))]
    cum = list(__import__("itertools").accumulate(weights))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with open(path, "w", newline="") as fh, open(str(path) + ".m", "w", newline="") as mh:
        w, m = csv.writer(fh), csv.writer(mh)
        for i in range(1, n + 1):
            words = rng.choices(WORDS, cum_weights=cum, k=60) + rng.sample(LONG, 3)
            rng.shuffle(words)
            phone = f"+1312555{rng.randrange(200000):06d}"
            body = " ".join(words) + f" call {phone}"
            posted = start + timedelta(seconds=rng.randrange(365 * 86400))
            w.writerow([i, f"src{i % 8}", f"ad{i}", f"title {words[0]} {words[1]}", body,
                        posted.isoformat(), f"city{rng.randrange(300)}"])
            m.writerow([i, "phone", phone])
            m.writerow([i, "email", f"u{rng.randrange(400000)}@mail.example"])
            m.writerow([i, "location", f"city{rng.randrange(300)}"])


LOG: list[str] = []


def note(fig: dict[str, object], key: str, value: object) -> None:
    """Keep a figure and print it at once (a run cut short keeps what it measured)."""
    fig[key] = value
    print(json.dumps({key: value}), flush=True)


def timed(conn: psycopg.Connection, sql: str, params: object = None) -> float:
    t = time.perf_counter()
    conn.execute(sql, params)  # type: ignore[arg-type]
    return round(time.perf_counter() - t, 2)


def copy_file(conn: psycopg.Connection, table: str, cols: str, path: str) -> float:
    t = time.perf_counter()
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)"
                                        ) as cp, open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            cp.write(chunk)
    return round(time.perf_counter() - t, 2)


def lat(conn: psycopg.Connection, sql: str, args: list[object], reps: int = 1) -> dict[str, float]:
    out = []
    for a in args:
        for _ in range(reps):
            t = time.perf_counter()
            conn.execute(sql, a).fetchall()  # type: ignore[arg-type]
            out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return {"n": len(out), "p50_ms": round(statistics.median(out), 1),
            "p95_ms": round(out[min(len(out) - 1, int(0.95 * len(out)))], 1),
            "max_ms": round(out[-1], 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ads", type=int, default=100_000)
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="tracelight_scale")
    ap.add_argument("--work", default="/tmp/tracelight_scale")
    ap.add_argument("--plans", default=None)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"ads-{a.ads}.csv"
    fig: dict[str, object] = {"ads": a.ads, "load_start": os.getloadavg()[0]}
    t = time.perf_counter()
    if not data.exists():
        gen_csv(data, a.ads)
    fig["gen_s"] = round(time.perf_counter() - t, 1)
    fig["csv_mb"] = round(data.stat().st_size / 2**20)
    admin = psycopg.connect(a.url, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {a.db}")
    admin.execute(f"CREATE DATABASE {a.db}")
    url = a.url.rsplit("/", 1)[0] + "/" + a.db
    plans: dict[str, str] = {}
    try:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cols = "pk, source, ad_id, title, body, posted_at, location"
            ddl = ("pk bigint NOT NULL, source text NOT NULL, ad_id text NOT NULL, title text, "
                   "body text, posted_at timestamptz NOT NULL, location text")
            # 1. COPY into a plain table vs a table partitioned by month of posting
            # the store's generated tsvector column is computed during COPY, as in production
            tsv = ("search tsvector GENERATED ALWAYS AS (to_tsvector('simple', "
                   "left(coalesce(title,'') || ' ' || coalesce(body,''), 200000))) STORED")
            c.execute(f"CREATE TABLE ads ({ddl}, {tsv}) PARTITION BY RANGE (posted_at)")
            for mth in range(12):
                lo = datetime(2025, 1 + mth, 1, tzinfo=UTC)
                hi = datetime(2025 + (mth == 11), (mth + 1) % 12 + 1, 1, tzinfo=UTC)
                c.execute(f"CREATE TABLE ads_{mth:02d} PARTITION OF ads FOR VALUES FROM "
                          f"('{lo.isoformat()}') TO ('{hi.isoformat()}')")
            note(fig, "copy_partitioned_with_tsvector_s", copy_file(c, "ads", cols, str(data)))
            note(fig, "copy_ads_per_s",
                 round(a.ads / fig["copy_partitioned_with_tsvector_s"]))  # type: ignore
            c.execute("CREATE TABLE mentions (ad_pk bigint NOT NULL, kind text NOT NULL, "
                      "value text NOT NULL) PARTITION BY HASH (value)")
            for i in range(8):
                c.execute(f"CREATE TABLE mentions_{i} PARTITION OF mentions FOR VALUES WITH "
                          f"(MODULUS 8, REMAINDER {i})")
            fig["copy_mentions_s"] = copy_file(c, "mentions", "ad_pk, kind, value",
                                               str(data) + ".m")
            # 2. indexes, each timed
            fig["ix_ads_key_s"] = timed(c, "CREATE UNIQUE INDEX ads_key ON ads "
                                        "(source, ad_id, posted_at)")
            fig["ix_ads_pk_s"] = timed(c, "CREATE INDEX ads_pk ON ads (pk)")
            fig["ix_mentions_s"] = timed(c, "CREATE INDEX mentions_kv ON mentions (kind, value)"
                                         " INCLUDE (ad_pk)")
            fig["ix_gin_tsv_s"] = timed(c, "CREATE INDEX ads_search ON ads USING gin (search)")
            # trigram GIN on one month's partition only (1/12 of the ads): it is the slowest
            # index to build by far, and what it costs is projected from this part
            note(fig, "ix_trgm_one_month_s", timed(c, "CREATE INDEX ads_trgm ON ads_02 USING "
                                                   "gin (body gin_trgm_ops)"))
            note(fig, "one_month_ads", c.execute("SELECT count(*) FROM ads_02")
                 .fetchone()[0])  # type: ignore[index]
            print(json.dumps({k: fig.get(k) for k in ("copy_mentions_s", "ix_ads_key_s",
                              "ix_ads_pk_s", "ix_mentions_s", "ix_gin_tsv_s")}), flush=True)
            c.execute("ANALYZE")
            def tree_mb(rel: str, fn: str) -> int:
                v = c.execute(f"SELECT sum({fn}(relid)) FROM pg_partition_tree('{rel}')"
                              ).fetchone()[0]  # type: ignore[index]
                return round(int(v or 0) / 2**20)

            fig["size_mb"] = {"ads_table": tree_mb("ads", "pg_table_size"),
                              "mentions_table": tree_mb("mentions", "pg_table_size"),
                              "ads_total": tree_mb("ads", "pg_total_relation_size"),
                              "mentions_total": tree_mb("mentions", "pg_total_relation_size")}
            fig["index_mb"] = {i: tree_mb(i, "pg_relation_size") for i in
                               ("ads_key", "ads_pk", "ads_search", "mentions_kv", "ads_trgm")}
            print(json.dumps({"size_mb": fig["size_mb"], "index_mb": fig["index_mb"]}),
                  flush=True)
            fig["db_mb"] = round(c.execute("SELECT pg_database_size(current_database())")
                                 .fetchone()[0] / 2**20)  # type: ignore[index]
            # 3. identifier look-ups
            rng = random.Random(3)
            phones = [(f"+1312555{rng.randrange(200000):06d}",) for _ in range(50)]
            q_id = ("SELECT ad_pk FROM mentions WHERE kind = 'phone' AND value = %s LIMIT 200")
            fig["lookup_phone"] = lat(c, q_id, phones)
            plans["lookup_phone"] = "\n".join(r[0] for r in c.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + q_id, phones[0]).fetchall())
            # 4. full-text: frequent, medium, rare and long words; ranked vs newest-first
            words = {"common": ["w1", "w2", "w5"], "medium": ["w300", "w900", "w1500"],
                     "rare": ["w15000", "w17000", "w19999"], "long": LONG[:3]}
            q_rank = ("SELECT pk FROM ads WHERE search @@ plainto_tsquery('simple', %s) "
                      "ORDER BY ts_rank(search, plainto_tsquery('simple', %s)) DESC, pk "
                      "LIMIT 50")
            q_new = ("SELECT pk FROM ads WHERE search @@ plainto_tsquery('simple', %s) "
                     "ORDER BY posted_at DESC LIMIT 50")
            q_cap = ("SELECT pk FROM (SELECT pk, search FROM ads WHERE search @@ "
                     "plainto_tsquery('simple', %s) LIMIT 5000) s ORDER BY "
                     "ts_rank(search, plainto_tsquery('simple', %s)) DESC, pk LIMIT 50")
            q_trgm = ("SELECT pk FROM ads_02 WHERE body ILIKE %s ORDER BY posted_at DESC "
                      "LIMIT 50")
            q_month_gin = ("SELECT pk FROM ads_02 WHERE search @@ plainto_tsquery('simple', %s)"
                           " ORDER BY posted_at DESC LIMIT 50")
            fts: dict[str, object] = {}
            for cls, ws in words.items():
                fts[cls] = {
                    "gin_rank_all": lat(c, q_rank, [(w, w) for w in ws], 2),
                    "gin_newest": lat(c, q_new, [(w,) for w in ws], 2),
                    "gin_rank_capped_5000": lat(c, q_cap, [(w, w) for w in ws], 2),
                    "one_month_trgm_ilike_newest": lat(c, q_trgm, [(f"%{w} %",) for w in ws], 1),
                    "one_month_gin_newest": lat(c, q_month_gin, [(w,) for w in ws], 1),
                    "matches": c.execute("SELECT count(*) FROM ads WHERE search @@ "
                                         "plainto_tsquery('simple', %s)", (ws[0],))
                    .fetchone()[0]}  # type: ignore[index]
                print(json.dumps({cls: fts[cls]}), flush=True)
            fig["fts"] = fts
            for name, q, arg in (("fts_rank_all_common", q_rank, ("w1", "w1")),
                                 ("fts_newest_common", q_new, ("w1",)),
                                 ("fts_rank_capped_common", q_cap, ("w1", "w1")),
                                 ("fts_rank_all_long", q_rank, (LONG[0], LONG[0])),
                                 ("trgm_rare", q_trgm, ("%w19999 %",))):
                plans[name] = "\n".join(r[0] for r in c.execute(
                    "EXPLAIN (ANALYZE, BUFFERS) " + q, arg).fetchall())
            # 5. partition pruning: a month's ads by identifier
            q_month = ("SELECT count(*) FROM ads WHERE posted_at >= '2025-03-01' AND "
                       "posted_at < '2025-04-01' AND search @@ plainto_tsquery('simple', 'w900')")
            fig["month_fts"] = lat(c, q_month, [()] * 5)
            plans["month_fts"] = "\n".join(r[0] for r in c.execute(
                "EXPLAIN (ANALYZE) " + q_month).fetchall())
    finally:
        if not a.keep:
            admin.execute(f"DROP DATABASE IF EXISTS {a.db}")
        admin.close()
    fig["load_end"] = os.getloadavg()[0]
    print(json.dumps(fig, indent=1))
    if a.plans:
        Path(a.plans).write_text("\n\n".join(f"-- {k}\n{v}" for k, v in plans.items()))


if __name__ == "__main__":
    main()
