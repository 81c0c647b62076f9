"""Crawl state: what `tracelight crawl` last saw at each URL of a site profile.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_pages",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("warc_file", sa.Text),
        sa.Column("warc_offset", sa.Integer),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("profile", "url", name="uq_crawl_pages_profile_url"),
    )


def downgrade() -> None:
    op.drop_table("crawl_pages")
