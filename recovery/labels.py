"""Localised fragments the actions put into responses: money, deadlines, order lines, labels.

The words come from the text catalogue (``common/texts.yml``, :func:`common.texts.text`); here
is how the pieces are put together: amounts, deadlines in the policy's time zone, order lines.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from common.texts import has, text, text_list
from recovery.policy import load_policy

SYMBOLS = {"TWD": "NT$", "HKD": "HK$", "CNY": "¥"}


def money(amount: Decimal | int | str, currency: str) -> str:
    value = Decimal(str(amount))
    shown = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{shown}" if symbol else f"{shown} {currency}"


def deadline(when: datetime, language: str | None, *, now: datetime | None = None) -> str:
    """``Fri 17 Jan, 18:00`` / ``1月17日（週五）18:00`` in the policy's display time zone; with
    the year (``Wed 1 Jan 2025, 20:00`` / ``2025年1月1日（週三）20:00``) when it is not the
    year of ``now`` (default: the current time), e.g. a promise made last year."""
    offset = timezone(timedelta(hours=float(load_policy().get("display_utc_offset_hours", 8))))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    local = when.astimezone(offset)
    other_year = local.year != (now or datetime.now(timezone.utc)).astimezone(offset).year
    year = text("date.year", language, year=local.year) if other_year else ""
    return text(
        "date.deadline",
        language,
        weekday=text_list("date.weekdays", language)[local.weekday()],
        day=local.day,
        month=text_list("date.months", language)[local.month - 1],
        year=year,
        time=f"{local:%H:%M}",
    )


def option_label(option: dict[str, Any], language: str | None) -> str:
    """Button title of a compensation option (``option`` as stored in the ``offers`` slot)."""
    amount = str(option.get("amount"))  # a Decimal, int or str in the slot
    shown = (
        f"{Decimal(amount):,.0f}"
        if option.get("currency") == "PTS"
        else money(amount, option.get("currency") or "TWD")
    )
    key = f"option.{option['type']}"
    if not has(key):
        return str(option["type"])
    return text(key, language, amount=shown, percent=option.get("percent") or "")


def order_choice_label(order: dict[str, Any], language: str | None) -> str:
    """Button title of one of the customer's orders: number, date placed, total."""
    return text(
        "order.choice",
        language,
        order=order["number"],
        date=order["placed_at"],
        total=money(order["total"], order["currency"]),
    )


def order_status_line(order: dict[str, Any], language: str | None) -> str:
    """One order's status for "where is my order?", with its carrier, tracking number and
    expected delivery once it has shipped."""
    key = f"order_status.{order['status']}"
    status = text(key, language) if has(key) else order["status"]
    line = text(
        "order.line",
        language,
        order=order["number"],
        date=order["placed_at"],
        total=money(order["total"], order["currency"]),
        status=status,
    )
    if order.get("carrier"):
        line += text(
            "order.carrier", language, carrier=order["carrier"], tracking=order.get("tracking") or "-"
        )
    if order.get("expected_at") and order["status"] == "shipped":
        line += text(
            "order.expected", language, when=deadline(datetime.fromisoformat(order["expected_at"]), language)
        )
    return line


def category_label(category: str | None, language: str | None) -> str:
    """The complaint category in the customer's words; an unknown one reads as ``other``."""
    key = f"category.{category or 'other'}"
    return text(key if has(key) else "category.other", language)


def resolution_label(resolution: str | None, language: str | None) -> str:
    """A resolution in the customer's words (none: ``review``; an unknown one: its code)."""
    key = f"resolution.{resolution or 'review'}"
    return text(key, language) if has(key) else str(resolution)
