"""drop ix_mentions_brand_created: ix_mentions_brand_own serves every range scan by brand

Every query that reads a brand's mentions by time also says whose they are (the digest and the
spike watch count posts by others; complaints are never the brand's own), so the
(brand, from_brand, created_at) index answers them all, and the older (brand, created_at) one
only cost a B-tree update on every stored mention.

Revision ID: 0004_drop_brand_created
Revises: 0002_slack, 0003_digest
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_drop_brand_created"
down_revision: str | Sequence[str] | None = ("0002_slack", "0003_digest")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch_op:
        batch_op.drop_index("ix_mentions_brand_created")


def downgrade() -> None:
    with op.batch_alter_table("mentions") as batch_op:
        batch_op.create_index("ix_mentions_brand_created", ["brand", "created_at"], unique=False)
