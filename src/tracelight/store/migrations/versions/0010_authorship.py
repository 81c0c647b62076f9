"""Authorship links between ads (same-author evidence) and stored Bitcoin transactions.

`author_links`: one row per pair of ads the authorship model says one person wrote (score and
the habits that agree). `btc_txs`: transactions read by `tracelight btc ingest-payments`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "author_links",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ad_a_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("ad_b_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("matched", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("ad_a_pk", "ad_b_pk", name="uq_author_links_pair"),
    )
    op.create_index("ix_author_links_b", "author_links", ["ad_b_pk"])
    op.create_table(
        "btc_txs",
        sa.Column("txid", sa.String(100), primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
    )
    op.create_index("ix_btc_txs_time", "btc_txs", ["time"])


def downgrade() -> None:
    op.drop_index("ix_btc_txs_time", "btc_txs")
    op.drop_table("btc_txs")
    op.drop_index("ix_author_links_b", "author_links")
    op.drop_table("author_links")
