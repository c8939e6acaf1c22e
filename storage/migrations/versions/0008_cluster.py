"""cluster: leases (one daemon per source and per cluster job), skipped posts per source,
alerts looked up by post (a post's alerts go out in order)

Revision ID: 0008_cluster
Revises: 0006_brand_models
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_cluster"
down_revision: str | Sequence[str] | None = "0006_brand_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=128), primary_key=True),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("source_state") as batch:
        batch.add_column(
            sa.Column("skipped_total", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_index("ix_alerts_mention", "alerts", ["mention_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_mention", table_name="alerts")
    with op.batch_alter_table("source_state") as batch:
        batch.drop_column("skipped_total")
    op.drop_table("leases")
