"""Since my last visit: per user and page, the time up to which the user has seen what's new.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("page", sa.String(32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True)),
        sa.Column("shown_until", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("username", "page", name="uq_visits_user_page"),
    )


def downgrade() -> None:
    op.drop_table("visits")
