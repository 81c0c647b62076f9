"""Initial schema: ads, revisions, entities, mentions, images, ingest runs, full-text search.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# PostgreSQL cannot build a tsvector over ~1 MB of text; search covers the first 200,000
# characters of title+body (the whole text is still stored and shown).
PG_SEARCH_EXPR = ("to_tsvector('simple', left(coalesce(title, '') || ' ' || coalesce(body, ''), "
                  "200000))")


def upgrade() -> None:
    op.create_table(
        "ads",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("ad_id", sa.String(512), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("posted_at", TS),
        sa.Column("location", sa.Text),
        sa.Column("images", sa.JSON, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("last_run", sa.Integer),
        sa.Column("risk", sa.Float),
        sa.Column("reasons", sa.JSON),
        sa.UniqueConstraint("source", "ad_id", name="uq_ads_source_ad_id"),
    )
    op.create_index("ix_ads_ad_id", "ads", ["ad_id"])
    op.create_index("ix_ads_posted_at", "ads", ["posted_at"])
    op.create_index("ix_ads_risk", "ads", ["risk"])
    op.create_table(
        "ad_revisions",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ad_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("posted_at", TS),
        sa.Column("location", sa.Text),
        sa.Column("images", sa.JSON, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.Column("run_pk", sa.Integer),
        sa.UniqueConstraint("ad_pk", "revision", name="uq_ad_revisions_ad_rev"),
    )
    op.create_table(
        "entities",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_entities_kind_value"),
    )
    op.create_table(
        "mentions",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ad_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("entity_pk", sa.Integer, sa.ForeignKey("entities.pk"), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("obfuscated", sa.Boolean, nullable=False),
    )
    op.create_index("ix_mentions_ad", "mentions", ["ad_pk"])
    op.create_index("ix_mentions_entity", "mentions", ["entity_pk"])
    op.create_table(
        "images",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.Column("pdq", sa.String(64)),
        sa.Column("quality", sa.Integer),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("stored_path", sa.Text),
    )
    op.create_index("ix_images_md5", "images", ["md5"])
    op.create_index("ix_images_pdq", "images", ["pdq"])
    op.create_table(
        "ad_images",
        sa.Column("ad_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("image_pk", sa.Integer, sa.ForeignKey("images.pk")),
        sa.Column("original", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_ad_images_image", "ad_images", ["image_pk"])
    op.create_table(
        "ingest_runs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("paths", sa.JSON, nullable=False),
        sa.Column("read", sa.Integer, nullable=False),
        sa.Column("new", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("rejects_path", sa.Text),
        sa.Column("message", sa.Text),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # External-content FTS5 index kept in step with `ads` by triggers.
        op.execute("CREATE VIRTUAL TABLE ads_fts USING fts5(title, body, content='ads', "
                   "content_rowid='pk', tokenize='unicode61 remove_diacritics 2')")
        op.execute("CREATE TRIGGER ads_fts_ai AFTER INSERT ON ads BEGIN "
                   "INSERT INTO ads_fts(rowid, title, body) VALUES (new.pk, new.title, new.body); "
                   "END")
        op.execute("CREATE TRIGGER ads_fts_ad AFTER DELETE ON ads BEGIN "
                   "INSERT INTO ads_fts(ads_fts, rowid, title, body) "
                   "VALUES ('delete', old.pk, old.title, old.body); END")
        op.execute("CREATE TRIGGER ads_fts_au AFTER UPDATE OF title, body ON ads BEGIN "
                   "INSERT INTO ads_fts(ads_fts, rowid, title, body) "
                   "VALUES ('delete', old.pk, old.title, old.body); "
                   "INSERT INTO ads_fts(rowid, title, body) VALUES (new.pk, new.title, new.body); "
                   "END")
    elif dialect == "postgresql":
        op.execute(f"ALTER TABLE ads ADD COLUMN search tsvector GENERATED ALWAYS AS "
                   f"({PG_SEARCH_EXPR}) STORED")
        op.execute("CREATE INDEX ix_ads_search ON ads USING gin (search)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trig in ("ads_fts_ai", "ads_fts_ad", "ads_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trig}")
        op.execute("DROP TABLE IF EXISTS ads_fts")
    for table in ("ingest_runs", "ad_images", "images", "mentions", "entities", "ad_revisions",
                  "ads"):
        op.drop_table(table)
