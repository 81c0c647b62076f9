"""Triage that remembers: review state per ad and network, and analysts' verdicts as labels.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(600), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("assignee", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("case_pk", sa.Integer),
        sa.Column("follow_up", sa.DateTime(timezone=True)),
        sa.Column("seen", sa.Integer),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "ref", name="uq_reviews_kind_ref"),
    )
    op.create_index("ix_reviews_state", "reviews", ["state"])
    op.create_index("ix_reviews_assignee", "reviews", ["assignee"])
    op.create_table(
        "review_labels",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ad_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("label", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("via", sa.String(600)),
        sa.Column("labelled_by", sa.String(64), nullable=False),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_labels_ad", "review_labels", ["ad_pk"])


def downgrade() -> None:
    op.drop_index("ix_review_labels_ad", "review_labels")
    op.drop_table("review_labels")
    op.drop_index("ix_reviews_assignee", "reviews")
    op.drop_index("ix_reviews_state", "reviews")
    op.drop_table("reviews")
