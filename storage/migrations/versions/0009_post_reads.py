"""post_reads: the posts a paid source (X) read on each UTC day, for its daily budget

Revision ID: 0009_post_reads
Revises: 0008_cluster
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_post_reads"
down_revision: str | Sequence[str] | None = "0008_cluster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_reads",
        sa.Column("source", sa.String(length=64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("native_id", sa.String(length=64), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("post_reads")
