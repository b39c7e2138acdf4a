"""CSV of the analytics console's tables and charts: UTF-8 with a byte-order mark (Excel opens
Chinese text correctly), headers in the user's console language, and text cells that a
spreadsheet would run as a formula (starting with ``= + - @``, a tab or a carriage return)
prefixed with ``'``. Numbers stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from crm.repo.analytics_types import DrillRow

Cell = str | int | float | None
Table = tuple[list[str], list[list[Cell]]]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def encode(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe(h) for h in headers])
    for row in rows:
        writer.writerow(["" if c is None else safe(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _money(amounts: Mapping[str, str]) -> str:
    return " · ".join(f"{currency} {value}" for currency, value in amounts.items())


def _rates(d: dict[str, Any]) -> list[list[Cell]]:
    return [
        [
            "containment",
            d["containment"]["contained"],
            d["containment"]["conversations"],
            d["containment"]["rate"],
        ],
        ["handoff", d["handoffs"]["handed_off"], d["handoffs"]["conversations"], d["handoffs"]["rate"]],
        [
            "repeat_contact",
            d["repeat_contact"]["repeated"],
            d["repeat_contact"]["conversations"],
            d["repeat_contact"]["rate"],
        ],
        [
            "first_contact_resolution",
            d["first_contact_resolution"]["resolved"],
            d["first_contact_resolution"]["conversations"],
            d["first_contact_resolution"]["rate"],
        ],
    ]


def _loyalty(d: dict[str, Any]) -> list[list[Cell]]:
    ly = d["loyalty"]
    rows: list[list[Cell]] = [
        ["retention", "", ly["retention"]],
        ["churn", "", ly["churn"]],
        ["purchase_frequency", "", ly["purchase_frequency"]],
    ]
    rows += [["average_order_value", c, v] for c, v in ly["average_order_value"].items()]
    rows += [["lifetime_value", c, v] for c, v in ly["lifetime_value"].items()]
    return rows


def _times(d: dict[str, Any]) -> list[list[Cell]]:
    rt = d["response_times"]
    return [[name, rt[f"{name}_s"], rt["samples"][name]] for name in rt["samples"]]


AGENT_COLUMNS = (
    "agent",
    "conversations",
    "first_response_s",
    "first_responses",
    "resolution_s",
    "resolutions",
    "csat",
    "ratings",
    "fcr_rate",
    "fcr_resolved",
    "fcr_conversations",
)
ATTAINMENT_COLUMNS = (
    "tier",
    "first_response_minutes",
    "first_response_met",
    "first_response_missed",
    "first_response_rate",
    "resolution_hours",
    "resolution_met",
    "resolution_missed",
    "resolution_rate",
)
DRILL_COLUMNS = ("id", "started_at", "language", "status", "customer", "tier", "agent", "handoff_reason")

# table name -> (column keys, rows from the dashboard payload)
TABLES: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], list[list[Cell]]]]] = {
    "volume": (("day", "count"), lambda d: [[r["day"], r["count"]] for r in d["conversations_per_day"]]),
    "rates": (("metric", "count", "of", "rate"), _rates),
    "handoffs": (
        ("reason", "count"),
        lambda d: [[r["reason"], r["count"]] for r in d["handoffs"]["reasons"]],
    ),
    "csat": (
        ("day", "average", "count"),
        lambda d: [[r["day"], r["average"], r["count"]] for r in d["csat"]["days"]],
    ),
    "complaints": (
        ("category", "count"),
        lambda d: [[r["category"], r["count"]] for r in d["complaint_categories"]],
    ),
    "times": (("metric", "median_s", "count"), _times),
    "compensation": (
        ("type", "count", "cost"),
        lambda d: [[r["type"], r["count"], _money(r["amounts"])] for r in d["compensation"]],
    ),
    "unanswered": (
        ("question", "count", "open"),
        lambda d: [[r["text"], r["count"], r["open"]] for r in d["top_unanswered"]],
    ),
    "loyalty": (("metric", "currency", "value"), _loyalty),
    "tiers": (
        ("tier", "customers", "lifetime_value"),
        lambda d: [[r["tier"], r["customers"], _money(r["lifetime_value"])] for r in d["loyalty"]["tiers"]],
    ),
    "agents": (AGENT_COLUMNS, lambda d: [[r[k] for k in AGENT_COLUMNS] for r in d["agents"]]),
    "attainment": (
        ATTAINMENT_COLUMNS,
        lambda d: [[r[k] for k in ATTAINMENT_COLUMNS] for r in d["attainment"]],
    ),
}


def table(name: str, dashboard: dict[str, Any], t: Callable[..., str]) -> Table:
    """Headers (``analytics.csv.<column>`` in the user's language) and rows of table ``name``."""
    columns, rows = TABLES[name]
    return [t(f"analytics.csv.{c}") for c in columns], rows(dashboard)


def drill_table(rows: Sequence[DrillRow], t: Callable[..., str]) -> Table:
    cells: list[list[Cell]] = [
        [
            r["id"],
            r["started_at"],
            r["language"],
            r["status"],
            r["customer"],
            r["tier"],
            r["agent"],
            r["handoff_reason"],
        ]
        for r in rows
    ]
    return [t(f"analytics.csv.{c}") for c in DRILL_COLUMNS], cells
