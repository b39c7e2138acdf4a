"""Helpers turning rows into JSON-safe dicts (money as strings to stay exact)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: The chosen columns of one row, JSON-safe. Open on purpose: callers add related rows to it.
Row = dict[str, Any]


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def columns(obj: object, names: list[str]) -> Row:
    """The attributes ``names`` of a row, JSON-safe (dates as ISO strings, money as strings)."""
    out: Row = {}
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, (date, datetime)):
            value = iso(value)
        elif isinstance(value, Decimal):
            value = money(value)
        out[name] = value
    return out
