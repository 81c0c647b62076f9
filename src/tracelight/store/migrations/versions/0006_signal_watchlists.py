"""Shared signals: a watch belongs to a named watchlist and keeps its source and TLP.

Signals imported from partners (STIX 2.1, followthemoney, HMA hash lists) become watches of
the importing user in watchlist NAME, each with where it came from and its TLP 2.0 marking.
Watches made by hand are in the unnamed list "" and keep source and TLP empty. A user watches a
value once per list (the unique key gains `watchlist`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watches") as batch:
        batch.add_column(sa.Column("watchlist", sa.String(120), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("source", sa.Text))
        batch.add_column(sa.Column("tlp", sa.String(16)))
        batch.drop_constraint("uq_watches", type_="unique")
        batch.create_unique_constraint("uq_watches", ["username", "kind", "value", "watchlist"])
    op.create_index("ix_watches_watchlist", "watches", ["watchlist"])


def downgrade() -> None:
    op.drop_index("ix_watches_watchlist", "watches")
    # a value on several of one user's lists keeps its oldest watch
    op.execute("DELETE FROM notifications WHERE watch_pk IN (SELECT w.pk FROM watches w "
               "WHERE EXISTS (SELECT 1 FROM watches o WHERE o.username = w.username AND "
               "o.kind = w.kind AND o.value = w.value AND o.pk < w.pk))")
    op.execute("DELETE FROM watches WHERE EXISTS (SELECT 1 FROM watches o WHERE "
               "o.username = watches.username AND o.kind = watches.kind AND "
               "o.value = watches.value AND o.pk < watches.pk)")
    with op.batch_alter_table("watches") as batch:
        batch.drop_constraint("uq_watches", type_="unique")
        batch.create_unique_constraint("uq_watches", ["username", "kind", "value"])
        batch.drop_column("tlp")
        batch.drop_column("source")
        batch.drop_column("watchlist")
