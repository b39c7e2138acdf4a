"""Orders: shipment facts for "where is my order?" (carrier, tracking number, expected delivery).

All three are NULL until an order ships; existing rows stay NULL (the bot then shows the status
alone).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 02:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('carrier', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('tracking_number', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('expected_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('expected_at')
        batch.drop_column('tracking_number')
        batch.drop_column('carrier')
