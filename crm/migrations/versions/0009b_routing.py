"""Routing of escalated chats (issue 22): agents' languages, skills, capacity and availability;
the response-target breaches of a chat's latest escalation.

``users`` gains ``languages`` and ``skills`` (JSON lists, NULL: not set), ``capacity`` (NULL:
the policy's default) and ``available`` (false). ``conversations`` gains
``first_response_breached_at`` and ``resolution_breached_at``. Downgrade drops them.

Revision ID: 0009b
Revises: 0009a
Create Date: 2026-12-07 05:10:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0009b'
down_revision = '0009a'
branch_labels = None
depends_on = None

# Frozen copies of the model column types (migrations never import the models).
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.add_column('users', sa.Column('languages', JSON, nullable=True))
    op.add_column('users', sa.Column('skills', JSON, nullable=True))
    op.add_column('users', sa.Column('capacity', sa.Integer(), nullable=True))
    op.add_column('users', sa.Column('available', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('conversations', sa.Column('first_response_breached_at', TS, nullable=True))
    op.add_column('conversations', sa.Column('resolution_breached_at', TS, nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite >= 3.35): a batch copy of these tables would cascade to messages.
    op.drop_column('conversations', 'resolution_breached_at')
    op.drop_column('conversations', 'first_response_breached_at')
    for column in ('available', 'capacity', 'skills', 'languages'):
        op.drop_column('users', column)
