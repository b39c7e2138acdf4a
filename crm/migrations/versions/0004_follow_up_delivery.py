"""Follow-up delivery: the gateway's follow-up worker sends due follow-ups on its own.

``follow_ups`` gains its delivery state (see ``crm/repo/follow_ups.py``):

* ``status`` (``pending`` / ``sending`` / ``sent`` / ``needs_agent`` / ``skipped`` / ``done``,
  CHECK constraint ``ck_follow_ups_status``): workers claim a row with a conditional
  ``UPDATE ... WHERE status = 'pending'``, so two gateway processes never send one twice;
* ``attempts``, ``next_attempt_at``, ``last_error``: failed sends, retried with backoff;
* ``claimed_at`` (a claim older than the lease is taken back), ``sent_at``, ``channel``
  (``local`` / ``webhook``), ``reason`` (why a row needs an agent or was skipped);
* index ``ix_follow_ups_status_due (status, due_at)``: the worker's due query
  (``status = 'pending' AND due_at <= now``) and the agent console's lists. The existing
  ``ix_follow_ups_due_at`` alone would walk every follow-up ever due (sent and done ones
  included); the new index reads only the pending ones.

Existing rows: those with ``done_at`` become ``done``, the others ``pending`` (the worker sends
the due ones; those due more than its stale limit go to an agent instead).

Batch mode: SQLite recreates ``follow_ups`` (nothing references it). Downgrade drops it all.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

# Frozen copies of the model column types (migrations never import the models).
TS = sa.DateTime(timezone=True)

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'sending', 'sent', 'needs_agent', 'skipped', 'done')


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table('follow_ups') as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=12), nullable=False,
                                      server_default='pending'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', TS, nullable=True))
        batch_op.add_column(sa.Column('claimed_at', TS, nullable=True))
        batch_op.add_column(sa.Column('sent_at', TS, nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_follow_ups_status'), _one_of('status', STATUSES))
        batch_op.create_index('ix_follow_ups_status_due', ['status', 'due_at'], unique=False)
    op.execute("UPDATE follow_ups SET status = 'done' WHERE done_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('follow_ups') as batch_op:
        batch_op.drop_index('ix_follow_ups_status_due')
        batch_op.drop_constraint(op.f('ck_follow_ups_status'), type_='check')
        for column in ('last_error', 'reason', 'channel', 'sent_at', 'claimed_at',
                       'next_attempt_at', 'attempts', 'status'):
            batch_op.drop_column(column)
