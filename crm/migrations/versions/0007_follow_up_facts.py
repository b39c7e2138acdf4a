"""Follow-ups: what a follow-up checks, in columns instead of a string in ``note``.

``follow_ups`` gains ``promised_resolution`` and ``complaint_category`` (the keys of
``compensation_policy.yml`` the bot promised and the customer complained about). Until now the
bot wrote them into ``note`` as ``"promise: <resolution> | complaint: <category>"`` and parsed
them back. Existing notes of exactly that form move into the columns and the note becomes NULL;
any other note (an agent's free text) stays as it is.

Downgrade writes the facts back into ``note`` (where it is empty) and drops the columns.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:30:00.000000
"""
from __future__ import annotations

import re

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The one form the bot ever wrote (crm.repo.tickets.promise_note before 0007).
PROMISE_NOTE = re.compile(r"promise:\s*([^|:]+?)\s*\|\s*complaint:\s*([^|:]+?)\s*")
KEY_LENGTH = 32


def upgrade() -> None:
    with op.batch_alter_table('follow_ups') as batch_op:
        batch_op.add_column(sa.Column('promised_resolution', sa.String(length=KEY_LENGTH), nullable=True))
        batch_op.add_column(sa.Column('complaint_category', sa.String(length=KEY_LENGTH), nullable=True))
    conn = op.get_bind()
    follow_ups = sa.table(
        'follow_ups',
        sa.column('id', sa.Integer()),
        sa.column('note', sa.Text()),
        sa.column('promised_resolution', sa.String(length=KEY_LENGTH)),
        sa.column('complaint_category', sa.String(length=KEY_LENGTH)),
    )
    rows = conn.execute(
        sa.select(follow_ups.c.id, follow_ups.c.note).where(follow_ups.c.note.like('promise:%'))
    ).all()
    for row_id, note in rows:
        found = PROMISE_NOTE.fullmatch(note or '')
        if found is None or max(len(found.group(1)), len(found.group(2))) > KEY_LENGTH:
            continue
        conn.execute(
            follow_ups.update()
            .where(follow_ups.c.id == row_id)
            .values(promised_resolution=found.group(1), complaint_category=found.group(2), note=None)
        )


def downgrade() -> None:
    op.execute(
        "UPDATE follow_ups SET note = 'promise: ' || COALESCE(promised_resolution, 'review')"
        " || ' | complaint: ' || COALESCE(complaint_category, 'other')"
        " WHERE note IS NULL AND (promised_resolution IS NOT NULL OR complaint_category IS NOT NULL)"
    )
    with op.batch_alter_table('follow_ups') as batch_op:
        batch_op.drop_column('complaint_category')
        batch_op.drop_column('promised_resolution')
