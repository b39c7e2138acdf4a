"""Localised fragments the actions put into responses: money, deadlines, option and button labels.

Whole sentences live in ``domain.yml`` (one variation set per language); here are only the
pieces an action fills in, each in the three languages.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from recovery.policy import label, load_policy

SYMBOLS = {"TWD": "NT$", "HKD": "HK$", "CNY": "¥"}
WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh-Hant": ("週一", "週二", "週三", "週四", "週五", "週六", "週日"),
    "zh-Hans": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UI = {
    "something_else": {"en": "Something else", "zh-Hant": "其他", "zh-Hans": "其他"},
    "no_compensation": {"en": "No need, thanks", "zh-Hant": "不用了，謝謝", "zh-Hans": "不用了，谢谢"},
    "talk_to_person": {"en": "Talk to a person", "zh-Hant": "轉接真人客服", "zh-Hans": "转人工客服"},
    "yes": {"en": "Yes", "zh-Hant": "是", "zh-Hans": "是"},
    "no": {"en": "No", "zh-Hant": "否", "zh-Hans": "否"},
    "no_order": {"en": "(no order number)", "zh-Hant": "（無訂單編號）", "zh-Hans": "（无订单编号）"},
    "order_ref": {"en": "order {order}", "zh-Hant": "訂單 {order}", "zh-Hans": "订单 {order}"},
    "not_about_order": {"en": "Not about an order", "zh-Hant": "與訂單無關", "zh-Hans": "与订单无关"},
    "order_line": {
        "en": "• {order} (placed {date}, {total}): {status}",
        "zh-Hant": "・{order}（{date} 下單，{total}）：{status}",
        "zh-Hans": "・{order}（{date} 下单，{total}）：{status}",
    },
    "order_carrier": {
        "en": " · {carrier} {tracking}",
        "zh-Hant": "・{carrier} {tracking}",
        "zh-Hans": "・{carrier} {tracking}",
    },
    "order_expected": {
        "en": " · expected {when}",
        "zh-Hant": "・預計 {when} 送達",
        "zh-Hans": "・预计 {when} 送达",
    },
    "order_choice": {
        "en": "{order} · {date} · {total}",
        "zh-Hant": "{order}・{date}・{total}",
        "zh-Hans": "{order}・{date}・{total}",
    },
}


def lang(language: str | None) -> str:
    return language if language in ("zh-Hant", "zh-Hans") else "en"


def ui(key: str, language: str | None, **values: Any) -> str:
    text = UI[key][lang(language)]
    return text.format(**values) if values else text


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
    language = lang(language)
    day = WEEKDAYS[language][local.weekday()]
    if language == "en":
        year = f" {local.year}" if other_year else ""
        return f"{day} {local.day} {MONTHS[local.month - 1]}{year}, {local:%H:%M}"
    year = f"{local.year}年" if other_year else ""
    return f"{year}{local.month}月{local.day}日（{day}）{local:%H:%M}"


def option_label(option: dict[str, Any], language: str | None) -> str:
    """Button title of a compensation option (``option`` as stored in the ``offers`` slot)."""
    amount = str(option.get("amount"))
    shown = (
        f"{Decimal(str(amount)):,.0f}"
        if option.get("currency") == "PTS"
        else money(amount, option.get("currency") or "TWD")
    )
    return label("option", option["type"], lang(language), amount=shown, percent=option.get("percent") or "")


def order_choice_label(order: dict[str, Any], language: str | None) -> str:
    """Button title of one of the customer's orders: number, date placed, total."""
    return ui(
        "order_choice",
        language,
        order=order["number"],
        date=order["placed_at"],
        total=money(order["total"], order["currency"]),
    )


ORDER_STATUS = {
    "pending": {"en": "awaiting payment", "zh-Hant": "待付款", "zh-Hans": "待付款"},
    "paid": {"en": "paid, being prepared", "zh-Hant": "已付款，備貨中", "zh-Hans": "已付款，备货中"},
    "shipped": {"en": "shipped, on its way", "zh-Hant": "已出貨，配送中", "zh-Hans": "已发货，配送中"},
    "delivered": {"en": "delivered", "zh-Hant": "已送達", "zh-Hans": "已送达"},
    "cancelled": {"en": "cancelled", "zh-Hant": "已取消", "zh-Hans": "已取消"},
    "returned": {"en": "returned", "zh-Hant": "已退貨", "zh-Hans": "已退货"},
    "refunded": {"en": "refunded", "zh-Hant": "已退款", "zh-Hans": "已退款"},
}


def order_status_line(order: dict[str, Any], language: str | None) -> str:
    """One order's status for "where is my order?", with its carrier, tracking number and
    expected delivery once it has shipped."""
    status = ORDER_STATUS.get(order["status"], {}).get(lang(language), order["status"])
    line = ui(
        "order_line",
        language,
        order=order["number"],
        date=order["placed_at"],
        total=money(order["total"], order["currency"]),
        status=status,
    )
    if order.get("carrier"):
        line += ui("order_carrier", language, carrier=order["carrier"], tracking=order.get("tracking") or "-")
    if order.get("expected_at") and order["status"] == "shipped":
        line += ui(
            "order_expected", language, when=deadline(datetime.fromisoformat(order["expected_at"]), language)
        )
    return line


def category_label(category: str | None, language: str | None) -> str:
    return label("category", category or "other", lang(language))


def resolution_label(resolution: str | None, language: str | None) -> str:
    return label("resolution", resolution or "review", lang(language))
