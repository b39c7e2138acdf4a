"""Messages: a frustration score per customer message, and button clicks stored by their title.

* ``messages.frustration`` (float, NULL): the gateway's score of each customer message
  (``recovery.frustration``), also while an agent holds the chat and the bot does not answer.
* Button clicks were stored as the payload the bot received ("/affirm",
  '/choose_option{"option": "coupon"}'). Each such customer message now shows the title of the
  button the bot offered with that payload (the latest bot message before it that offered it),
  or a neutral label in the message's language when none did; the payload is kept beside it in
  ``messages.payload`` as ``{"button": {"payload": ...}}``. Downgrade drops the column and
  leaves the titles (the payloads stay in ``payload``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 01:20:00.000000
"""
from __future__ import annotations

import re

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Frozen copies (migrations never import the application): gateway.chat.PAYLOAD and
# gateway.notices.CHOSEN_OPTION.
PAYLOAD = re.compile(r"^/[A-Za-z_][\w.-]*(\{.*\})?$", re.DOTALL)
CHOSEN_OPTION = {"en": "(option chosen)", "zh-Hant": "（已選擇選項）", "zh-Hans": "（已选择选项）"}

messages = sa.table(
    'messages', sa.column('id', sa.Integer), sa.column('conversation_id', sa.Integer),
    sa.column('direction', sa.String), sa.column('text', sa.Text), sa.column('language', sa.String),
    sa.column('payload', sa.JSON().with_variant(JSONB(), 'postgresql')), sa.column('created_at', sa.DateTime),
)


def _titles(conn) -> None:
    clicks = conn.execute(
        sa.select(messages.c.id, messages.c.conversation_id, messages.c.text, messages.c.language,
                  messages.c.payload)
        .where(messages.c.direction == 'customer', messages.c.text.like('/%'))
        .order_by(messages.c.conversation_id, messages.c.created_at, messages.c.id)
    ).all()
    offers: dict[int, list] = {}
    for click in clicks:
        if not PAYLOAD.match(click.text.strip()):
            continue
        if click.conversation_id not in offers:
            offers[click.conversation_id] = conn.execute(
                sa.select(messages.c.id, messages.c.payload, messages.c.created_at)
                .where(messages.c.conversation_id == click.conversation_id,
                       messages.c.direction == 'bot', messages.c.payload.is_not(None))
                .order_by(messages.c.created_at, messages.c.id)).all()
        created = conn.execute(sa.select(messages.c.created_at).where(messages.c.id == click.id)).scalar_one()
        title = None
        for offer in offers[click.conversation_id]:
            if (offer.created_at, offer.id) > (created, click.id):
                break
            for button in (offer.payload or {}).get('buttons') or []:
                if isinstance(button, dict) and button.get('payload') == click.text.strip():
                    title = button.get('title') or title
        language = click.language if click.language in CHOSEN_OPTION else 'en'
        payload = dict(click.payload or {})
        payload['button'] = {'payload': click.text.strip()}
        conn.execute(sa.update(messages).where(messages.c.id == click.id).values(
            text=str(title or CHOSEN_OPTION[language])[:500], payload=payload))


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch_op:
        batch_op.add_column(sa.Column('frustration', sa.Double(), nullable=True))
    _titles(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch_op:
        batch_op.drop_column('frustration')
