"""Customer, Order (table ``orders``) and OrderItem."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.orm.base import LANGUAGES, ORDER_STATUSES, TIERS, Base, JSONType, one_of, utcnow

if TYPE_CHECKING:
    from crm.orm.conversation import Conversation

Money = Numeric(12, 2)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        one_of("preferred_language", LANGUAGES),
        one_of("tier", TIERS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    tier: Mapped[str] = mapped_column(String(16), default="standard")
    lifetime_value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    birthday: Mapped[date | None]
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    consent_personalisation: Mapped[bool] = mapped_column(default=False)
    consent_personalisation_at: Mapped[datetime | None]
    consent_personalisation_source: Mapped[str | None] = mapped_column(String(40))
    consent_marketing: Mapped[bool] = mapped_column(default=False)
    consent_marketing_at: Mapped[datetime | None]
    consent_marketing_source: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    anonymised_at: Mapped[datetime | None]

    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.placed_at.desc()")
    conversations: Mapped[list[Conversation]] = relationship(back_populates="customer")

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.tier}>"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        one_of("status", ORDER_STATUSES),
        CheckConstraint("order_number LIKE 'LM%'", name="order_number_prefix"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217: TWD, HKD, CNY
    # Shipment, once the order ships (migration 0006): who carries it, its tracking number and
    # the expected delivery time the carrier gave.
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    expected_at: Mapped[datetime | None] = mapped_column()

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int] = mapped_column(default=1)
    unit_price: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="items")
