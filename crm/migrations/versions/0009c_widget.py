"""Widget (issue 22): read state of a conversation, and image attachments.

Columns ``conversations.customer_read_id`` and ``conversations.agent_read_id`` (nullable integers,
no foreign key: a message id only ever grows, and a deleted message needs no cascade here).
See ``crm/repo/read_state.py``.

Table ``attachments`` (``crm/orm/attachment.py``): one row per image a customer sent, with its
conversation (cascade), its message (set null), the random ``storage_name`` of the file under
``var/attachments`` (unique), the checked ``content_type`` (CHECK ``ck_attachments_content_type``:
PNG, JPEG, WebP), size and pixel dimensions.

Revision ID: 0009c
Revises: 0009b
Create Date: 2026-12-07 05:10:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

# Frozen copies of the model column types (migrations never import the models).
TS = sa.DateTime(timezone=True)
TYPES = ('image/png', 'image/jpeg', 'image/webp')

revision = '0009c'
down_revision = '0009b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('conversations', sa.Column('customer_read_id', sa.Integer(), nullable=True))
    op.add_column('conversations', sa.Column('agent_read_id', sa.Integer(), nullable=True))
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('storage_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.CheckConstraint(f"content_type IN ({', '.join(repr(t) for t in TYPES)})",
                       name=op.f('ck_attachments_content_type')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_attachments_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                            name=op.f('fk_attachments_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('storage_name', name=op.f('uq_attachments_storage_name'))
    )
    op.create_index('ix_attachments_conversation_id', 'attachments', ['conversation_id'])


def downgrade() -> None:
    op.drop_index('ix_attachments_conversation_id', table_name='attachments')
    op.drop_table('attachments')
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), as in 0003: a batch recreate of
    # `conversations` would drop the table, and with foreign keys on that cascades to its messages.
    op.drop_column('conversations', 'agent_read_id')
    op.drop_column('conversations', 'customer_read_id')
