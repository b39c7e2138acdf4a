"""Read state of a conversation: the latest message id the customer and the agent have seen.

Columns ``conversations.customer_read_id`` and ``conversations.agent_read_id`` (nullable integers,
no foreign key: a message id only ever grows, and a deleted message needs no cascade here).
See ``crm/repo/read_state.py``.

Revision ID: 0009c
Revises: 0008
Create Date: 2026-12-07 05:10:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '0009c'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('conversations', sa.Column('customer_read_id', sa.Integer(), nullable=True))
    op.add_column('conversations', sa.Column('agent_read_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), as in 0003: a batch recreate of
    # `conversations` would drop the table, and with foreign keys on that cascades to its messages.
    op.drop_column('conversations', 'agent_read_id')
    op.drop_column('conversations', 'customer_read_id')
