"""KB rebuild requests: the trainer console asks, the KB worker (``python -m worker``) builds.

Table ``kb_rebuild_jobs`` (see ``crm/orm/kb_jobs.py``): one row per "rebuild" click, with its
status (``queued`` / ``running`` / ``done`` / ``failed``, CHECK ``ck_kb_rebuild_jobs_status``),
stage, heartbeat and result. ``ix_kb_rebuild_jobs_status (status, id)`` serves the worker's
"oldest queued" query; the partial unique index ``uq_kb_rebuild_jobs_running`` (``WHERE status
= 'running'``, on SQLite and PostgreSQL alike) lets at most one job run at a time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:30:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

# Frozen copies of the model column types (migrations never import the models).
TS = sa.DateTime(timezone=True)

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

STATUSES = ('queued', 'running', 'done', 'failed')
RUNNING_ONLY = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_table('kb_rebuild_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', TS, nullable=False),
    sa.Column('started_at', TS, nullable=True),
    sa.Column('stage_at', TS, nullable=True),
    sa.Column('heartbeat_at', TS, nullable=True),
    sa.Column('finished_at', TS, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=True),
    sa.Column('mode', sa.String(length=12), nullable=True),
    sa.Column('build', sa.String(length=200), nullable=True),
    sa.Column('entries', sa.Integer(), nullable=True),
    sa.Column('how', sa.Text(), nullable=True),
    sa.Column('build_s', sa.Double(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})",
                       name=op.f('ck_kb_rebuild_jobs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_rebuild_jobs'))
    )
    op.create_index('ix_kb_rebuild_jobs_status', 'kb_rebuild_jobs', ['status', 'id'])
    op.create_index('uq_kb_rebuild_jobs_running', 'kb_rebuild_jobs', ['status'], unique=True,
                    sqlite_where=RUNNING_ONLY, postgresql_where=RUNNING_ONLY)


def downgrade() -> None:
    op.drop_index('uq_kb_rebuild_jobs_running', table_name='kb_rebuild_jobs')
    op.drop_index('ix_kb_rebuild_jobs_status', table_name='kb_rebuild_jobs')
    op.drop_table('kb_rebuild_jobs')
