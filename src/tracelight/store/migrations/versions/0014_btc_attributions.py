"""Bitcoin attributions and owner addresses; author links that may join networks.

`btc_attributions`: one row per ad attributed to a Bitcoin owner (by a matching payment, or
by an address written in the ad), with the time delta, amount difference, confidence and
strength. `btc_addresses`: the addresses of the owners that have an attribution.
`author_links.linkable`: the link is at or over the model's threshold for <= 1% FPR.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("author_links") as batch:
        batch.add_column(sa.Column("linkable", sa.Boolean, nullable=False,
                                   server_default=sa.true()))
    op.create_table(
        "btc_attributions",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ad_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("owner", sa.String(130), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("txid", sa.String(100)),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.Column("delay_s", sa.Float),
        sa.Column("amount_btc", sa.Float),
        sa.Column("amount_usd", sa.Float),
        sa.Column("price_usd", sa.Float),
        sa.Column("diff_usd", sa.Float),
        sa.Column("candidates", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("strength", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_btc_attributions_owner", "btc_attributions", ["owner"])
    op.create_table(
        "btc_addresses",
        sa.Column("address", sa.String(120), primary_key=True),
        sa.Column("owner", sa.String(130), nullable=False),
    )
    op.create_index("ix_btc_addresses_owner", "btc_addresses", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_btc_addresses_owner", "btc_addresses")
    op.drop_table("btc_addresses")
    op.drop_index("ix_btc_attributions_owner", "btc_attributions")
    op.drop_table("btc_attributions")
    with op.batch_alter_table("author_links") as batch:
        batch.drop_column("linkable")
