"""Routing of escalated chats (issue 22): agents' languages, skills, capacity and availability;
the response-target breaches of a chat's latest escalation.

``users`` gains ``languages`` and ``skills`` (JSON lists, NULL: not set), ``capacity`` (NULL:
the policy's default) and ``available`` (false). ``conversations`` gains
``first_response_breached_at`` and ``resolution_breached_at``. Downgrade drops them.

Revision ID: 0009b
Revises: 0008
Create Date: 2026-12-07 05:10:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0009b'
down_revision = '0008'
branch_labels = None
depends_on = None

# Frozen copies of the model column types (migrations never import the models).
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('languages', JSON, nullable=True))
        batch_op.add_column(sa.Column('skills', JSON, nullable=True))
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('available', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.add_column(sa.Column('first_response_breached_at', TS, nullable=True))
        batch_op.add_column(sa.Column('resolution_breached_at', TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.drop_column('resolution_breached_at')
        batch_op.drop_column('first_response_breached_at')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('available')
        batch_op.drop_column('capacity')
        batch_op.drop_column('skills')
        batch_op.drop_column('languages')
