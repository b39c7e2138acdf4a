"""Analytics: ``/analytics`` (manager) and ``GET /api/analytics?from=&to=&language=``."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from common.lang import LANGUAGES
from crm.db import make_session_factory, session_scope
from crm.repo import analytics as metrics
from gateway.console.auth import ConsoleUser, require
from gateway.console.pages import page
from gateway.validation import OPEN_JSON

router = APIRouter()
MANAGER_ROLES = ("manager",)
MAX_DAYS = 366
DEFAULT_DAYS = 30
YEARS = (2000, 2200)  # dates near year 1 or 9999 would overflow the window arithmetic


def dashboard(factory: sessionmaker[Session], f: metrics.Filters) -> dict[str, Any]:
    """Every chart's data in one read-only unit of work."""
    with session_scope(factory) as session:
        return {
            "filters": {
                "from": f.start.date().isoformat(),
                "to": (f.end - timedelta(days=1)).date().isoformat(),
                "language": f.language,
            },
            "generated_at": datetime.now(timezone.utc).isoformat(),
            "conversations_per_day": metrics.conversations_per_day(session, f),
            "containment": metrics.containment(session, f),
            "handoffs": metrics.handoffs(session, f),
            "csat": metrics.csat_trend(session, f),
            "complaint_categories": metrics.complaint_categories(session, f),
            "top_unanswered": metrics.top_unanswered(session, f),
            "repeat_contact": metrics.repeat_contact(session, f),
            "first_contact_resolution": metrics.first_contact_resolution(session, f),
            "response_times": metrics.response_times(session, f),
            "compensation": metrics.compensation_granted(session, f),
        }


def parse_filters(start: str, end: str, language: str, today: date | None = None) -> metrics.Filters:
    today = today or datetime.now(timezone.utc).date()
    last = _in_range(date.fromisoformat(end) if end else today)
    first = _in_range(date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return metrics.Filters.for_days(first, last, language if language in LANGUAGES else None)


def _in_range(day: date) -> date:
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise ValueError("date out of range")
    return day


def _read_factory(app: FastAPI) -> sessionmaker[Session]:
    factory = getattr(app.state, "console_read_factory", None)
    if factory is None:
        engine = app.state.session_factory.kw["bind"]
        factory = app.state.console_read_factory = make_session_factory(engine, read_only=True)
    return factory


@router.get("/analytics", include_in_schema=False)
async def analytics_page(request: Request) -> Response:
    return await page(request, "analytics.html", MANAGER_ROLES, "analytics", {"languages": LANGUAGES})


@router.get("/api/analytics", response_model=OPEN_JSON)
async def analytics(
    request: Request, user: ConsoleUser = Depends(require(*MANAGER_ROLES))
) -> dict[str, Any] | JSONResponse:
    q = request.query_params
    try:
        f = parse_filters(q.get("from", ""), q.get("to", ""), q.get("language", ""))
    except ValueError:
        return JSONResponse({"error": "invalid_date", "message": "Dates are YYYY-MM-DD."}, status_code=422)
    return await asyncio.to_thread(dashboard, _read_factory(request.app), f)
