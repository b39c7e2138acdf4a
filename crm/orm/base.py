"""Declarative base, shared column types and the allowed values of every enum-like column.

Enum-like columns are plain strings guarded by named CHECK constraints (portable across SQLite
and PostgreSQL, and cheap to extend in a migration).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, CheckConstraint, DateTime, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LANGUAGES = ("zh-Hant", "zh-Hans", "en")
TIERS = ("standard", "silver", "gold", "platinum")
ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "returned", "refunded")
CONVERSATION_STATUSES = ("bot", "waiting_agent", "agent", "closed")
DIRECTIONS = ("customer", "bot", "agent", "system")
TICKET_CATEGORIES = ("delivery", "refund", "product", "payment", "account", "complaint", "other")
TICKET_SEVERITIES = ("low", "medium", "high", "critical")
TICKET_STATUSES = ("open", "in_progress", "waiting_customer", "resolved", "closed")
OFFER_TYPES = (
    "coupon",
    "voucher",
    "refund",
    "free_shipping",
    "gift",
    "points",
    # the service-recovery policy's own options (compensation_policy.yml), since 0003
    "shipping_refund",
    "expedited_replacement",
    "partial_refund",
)
OFFER_STATUSES = ("offered", "chosen", "approved", "rejected", "granted")
KB_STATUSES = ("draft", "published", "archived")
UNANSWERED_STATUSES = ("new", "paraphrase", "new_entry", "dismissed")
ROLES = ("agent", "trainer", "manager", "admin")
# FollowUp.status (since 0004): pending -> sending (claimed by a gateway's follow-up worker) ->
# sent; or needs_agent (not sent automatically: an agent follows up) / skipped (nothing to ask);
# done once the customer's answer (or an agent's) is recorded.
FOLLOW_UP_STATUSES = ("pending", "sending", "sent", "needs_agent", "skipped", "done")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """Named CHECK constraint ``column IN (values)``."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or column)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    Naive values are taken to be UTC. SQLite stores text without an offset, so values are
    normalised to UTC before storing and get ``tzinfo=UTC`` back when loaded.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}
