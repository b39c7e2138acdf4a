"""Handoff times on conversations; the service-recovery policy's own compensation types.

* ``conversations.handoff_at`` (the chat last entered the human queue) and
  ``conversations.agent_joined_at`` (an agent took that escalation), backfilled from what an
  existing database already holds:

  - ``handoff_at``: the gateway's hand-over record (the ``system`` message ``<id>:rhandoff``
    stored with the bot's handoff turn), the latest one; for handed-off chats without one, the
    last bot/system message before the first agent message (the transcript derivation the
    metrics used so far), else the first customer message, else the start of the chat;
  - ``agent_joined_at``: the first ``chat.claimed`` audit record of the chat at or after
    ``handoff_at``, else its first agent message at or after ``handoff_at`` (agents claim before
    they write, so this is the latest the claim can have been); NULL when neither exists.

* ``compensation_offers.type`` accepts ``shipping_refund``, ``expedited_replacement`` and
  ``partial_refund`` (so far recorded as ``free_shipping`` / ``gift`` / ``refund``) and widens
  to 32 characters. Existing offers keep their type. The CHECK constraint is replaced in batch
  mode (SQLite recreates the table; nothing references ``compensation_offers``).

Downgrade maps the new offer types back to the ones recorded before and drops the columns.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

# Frozen copies of the model column types (migrations never import the models).
TS = sa.DateTime(timezone=True)

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD_OFFER_TYPES = ('coupon', 'voucher', 'refund', 'free_shipping', 'gift', 'points')
NEW_OFFER_TYPES = OLD_OFFER_TYPES + ('shipping_refund', 'expedited_replacement', 'partial_refund')
RECORDED_AS_BEFORE = {'shipping_refund': 'free_shipping', 'expedited_replacement': 'gift',
                      'partial_refund': 'refund'}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# The gateway stores the hand-over record of a handoff turn as `<customer client id>:rhandoff`.
HANDOFF_MARKER = '%:rhandoff'

# A chat counts as handed off as the analytics define it (crm/repo/analytics.py).
HANDED_OFF = """(
    conversations.handoff_reason IS NOT NULL
    OR conversations.status IN ('waiting_agent', 'agent')
    OR conversations.assigned_agent_id IS NOT NULL
    OR EXISTS (SELECT 1 FROM messages a WHERE a.conversation_id = conversations.id
               AND a.direction = 'agent')
    OR EXISTS (SELECT 1 FROM messages h WHERE h.conversation_id = conversations.id
               AND h.direction = 'system' AND h.client_id LIKE :handoff_marker)
)"""

BACKFILL_HANDOFF_AT = f"""
UPDATE conversations SET handoff_at = COALESCE(
    (SELECT max(h.created_at) FROM messages h
      WHERE h.conversation_id = conversations.id AND h.direction = 'system'
        AND h.client_id LIKE :handoff_marker),
    (SELECT max(b.created_at) FROM messages b
      WHERE b.conversation_id = conversations.id AND b.direction IN ('bot', 'system')
        AND b.created_at <= COALESCE(
            (SELECT min(a.created_at) FROM messages a
              WHERE a.conversation_id = conversations.id AND a.direction = 'agent'),
            b.created_at)),
    (SELECT min(c.created_at) FROM messages c
      WHERE c.conversation_id = conversations.id AND c.direction = 'customer'),
    conversations.started_at)
WHERE conversations.handoff_at IS NULL AND {HANDED_OFF}
"""

BACKFILL_AGENT_JOINED_AT = """
UPDATE conversations SET agent_joined_at = COALESCE(
    (SELECT min(l.at) FROM audit_log l
      WHERE l.action = 'chat.claimed'
        AND l.target = :target_prefix || CAST(conversations.id AS VARCHAR(20))
        AND l.at >= conversations.handoff_at),
    (SELECT min(a.created_at) FROM messages a
      WHERE a.conversation_id = conversations.id AND a.direction = 'agent'
        AND a.created_at >= conversations.handoff_at))
WHERE conversations.handoff_at IS NOT NULL AND conversations.agent_joined_at IS NULL
"""


def upgrade() -> None:
    op.add_column('conversations', sa.Column('handoff_at', TS, nullable=True))
    op.add_column('conversations', sa.Column('agent_joined_at', TS, nullable=True))
    op.execute(sa.text(BACKFILL_HANDOFF_AT).bindparams(handoff_marker=HANDOFF_MARKER))
    op.execute(sa.text(BACKFILL_AGENT_JOINED_AT).bindparams(target_prefix='conversation:'))

    with op.batch_alter_table('compensation_offers') as batch_op:
        batch_op.drop_constraint(op.f('ck_compensation_offers_type'), type_='check')
        batch_op.alter_column('type', existing_type=sa.String(length=20),
                              type_=sa.String(length=32), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_compensation_offers_type'),
                                         _one_of('type', NEW_OFFER_TYPES))


def downgrade() -> None:
    offers = sa.table('compensation_offers', sa.column('type', sa.String()))
    for new, old in RECORDED_AS_BEFORE.items():
        op.execute(offers.update().where(offers.c.type == new).values(type=old))
    with op.batch_alter_table('compensation_offers') as batch_op:
        batch_op.drop_constraint(op.f('ck_compensation_offers_type'), type_='check')
        batch_op.alter_column('type', existing_type=sa.String(length=32),
                              type_=sa.String(length=20), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_compensation_offers_type'),
                                         _one_of('type', OLD_OFFER_TYPES))

    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch recreate of `conversations`
    # would drop the table, and with foreign keys on that cascades to its messages.
    op.drop_column('conversations', 'agent_joined_at')
    op.drop_column('conversations', 'handoff_at')
