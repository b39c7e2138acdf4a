"""The agent desk: private notes and labels on conversations, canned replies.

``conversation_notes`` (staff-only notes, never in ``messages``), ``conversation_labels`` (one
row per label on a conversation, unique per pair, indexed by label for the queue and search
filters) and ``canned_replies`` (one template per shortcut, in zh-Hant, zh-Hans and English).

Revision ID: 0009a
Revises: 0008
Create Date: 2026-12-07 05:10:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

# Frozen copies of the model column types (migrations never import the models).
TS = sa.DateTime(timezone=True)

revision = '0009a'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE',
                            name=op.f('fk_conversation_notes_conversation_id_conversations')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='SET NULL',
                            name=op.f('fk_conversation_notes_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_notes'))
    )
    op.create_index('ix_conversation_notes_conversation_created', 'conversation_notes',
                    ['conversation_id', 'created_at'])
    op.create_table('conversation_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=32), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE',
                            name=op.f('fk_conversation_labels_conversation_id_conversations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_labels')),
    sa.UniqueConstraint('conversation_id', 'label', name='uq_conversation_labels_conversation_label')
    )
    op.create_index('ix_conversation_labels_label', 'conversation_labels', ['label'])
    op.create_table('canned_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shortcut', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body_zh_hant', sa.Text(), nullable=False),
    sa.Column('body_zh_hans', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies')),
    sa.UniqueConstraint('shortcut', name=op.f('uq_canned_replies_shortcut'))
    )


def downgrade() -> None:
    op.drop_table('canned_replies')
    op.drop_index('ix_conversation_labels_label', table_name='conversation_labels')
    op.drop_table('conversation_labels')
    op.drop_index('ix_conversation_notes_conversation_created', table_name='conversation_notes')
    op.drop_table('conversation_notes')
