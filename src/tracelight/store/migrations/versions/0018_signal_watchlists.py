"""Shared signals: a watch can belong to a named watchlist and keep its source and TLP.

Signals imported from partners (STIX 2.1, followthemoney, HMA hash lists) become watches of
the importing user in watchlist NAME, each with where it came from and its TLP 2.0 marking.
Watches made by hand keep these empty.

Revision ID: 0018
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watches") as batch:
        batch.add_column(sa.Column("watchlist", sa.String(120)))
        batch.add_column(sa.Column("source", sa.Text))
        batch.add_column(sa.Column("tlp", sa.String(16)))
    op.create_index("ix_watches_watchlist", "watches", ["watchlist"])


def downgrade() -> None:
    op.drop_index("ix_watches_watchlist", "watches")
    with op.batch_alter_table("watches") as batch:
        batch.drop_column("tlp")
        batch.drop_column("source")
        batch.drop_column("watchlist")
