"""mentions carry the whole judgement: intent, complaint score, severity, risk flags

Revision ID: 0005_judgement
Revises: 0004_drop_brand_created
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_judgement"
down_revision: str | Sequence[str] | None = "0004_drop_brand_created"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch_op:
        batch_op.add_column(sa.Column("intent", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("complaint_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("severity", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("risks", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mentions") as batch_op:
        for column in ("risks", "severity", "complaint_score", "intent"):
            batch_op.drop_column(column)
