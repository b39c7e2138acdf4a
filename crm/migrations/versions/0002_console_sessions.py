"""Server-side console sessions: logout and deactivation end a sign-in at once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:30:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

# Frozen copies of the model column types (migrations never import the models).
TS = sa.DateTime(timezone=True)

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('console_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('last_seen_at', TS, nullable=False),
    sa.Column('expires_at', TS, nullable=False),
    sa.Column('revoked_at', TS, nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_console_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions'))
    )
    op.create_index(op.f('ix_console_sessions_user_id'), 'console_sessions', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_console_sessions_user_id'), table_name='console_sessions')
    op.drop_table('console_sessions')
