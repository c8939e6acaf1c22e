"""brand_models: each brand's correction to the shipped judgement, learned from its labels

Revision ID: 0006_brand_models
Revises: 0005_judgement
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_brand_models"
down_revision: str | Sequence[str] | None = "0005_judgement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_models",
        sa.Column("brand", sa.String(length=128), primary_key=True),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("brand_models")
