"""threads: a Slack message brandmon posted inside another's thread (an incident's complaints,
a customer's follow-up) keeps the thread it belongs to

Revision ID: 0010_threads
Revises: 0009_post_reads
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_threads"
down_revision: str | Sequence[str] | None = "0009_post_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slack_messages") as batch:
        batch.add_column(sa.Column("thread_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_messages") as batch:
        batch.drop_column("thread_ts")
