"""Analytics (manager): ``/analytics``, ``GET /api/analytics?from=&to=&language=`` (every chart),
``/api/analytics/export.csv?table=`` (one table or chart as CSV), ``/api/analytics/drill?kind=&key=``
(the conversations behind a number, also ``&format=csv``) and ``/api/analytics/conversations/{id}``
(a read-only transcript)."""

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
from crm.repo import drilldown, team_metrics
from crm.repo.analytics_types import DrillRow, TierTarget, Transcript
from gateway.console import analytics_csv
from gateway.console.auth import ConsoleUser, require
from gateway.console.i18n import language_for, translator
from gateway.console.pages import page
from gateway.validation import OPEN_JSON
from recovery.policy import service_targets

router = APIRouter()
MANAGER_ROLES = ("manager",)
MAX_DAYS = 366
DEFAULT_DAYS = 30
YEARS = (2000, 2200)  # dates near year 1 or 9999 would overflow the window arithmetic


def targets() -> dict[str, TierTarget]:
    return {
        tier: {
            "first_response_minutes": t["first_response_minutes"],
            "resolution_hours": t["resolution_hours"],
        }
        for tier, t in service_targets().items()
    }


def dashboard(factory: sessionmaker[Session], f: metrics.Filters) -> dict[str, Any]:
    """Every chart's data in one read-only unit of work."""
    now = datetime.now(timezone.utc)
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
            "loyalty": team_metrics.loyalty(session, f),
            "agents": team_metrics.agent_performance(session, f),
            "attainment": team_metrics.target_attainment(session, f, targets(), now),
        }


def drill(factory: sessionmaker[Session], f: metrics.Filters, kind: str, key: str) -> list[DrillRow]:
    with session_scope(factory) as session:
        return drilldown.conversations(session, f, kind, key, targets(), datetime.now(timezone.utc))


def read_transcript(factory: sessionmaker[Session], conversation_id: int) -> Transcript | None:
    with session_scope(factory) as session:
        return drilldown.transcript(session, conversation_id)


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


def _filters(request: Request) -> metrics.Filters | JSONResponse:
    q = request.query_params
    try:
        return parse_filters(q.get("from", ""), q.get("to", ""), q.get("language", ""))
    except ValueError:
        return JSONResponse({"error": "invalid_date", "message": "Dates are YYYY-MM-DD."}, status_code=422)


def _csv(request: Request, name: str, table: analytics_csv.Table) -> Response:
    f = request.query_params
    filename = f"lumen-{name}-{f.get('from', '')}-{f.get('to', '')}.csv".replace("--", "-")
    return Response(
        analytics_csv.encode(*table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/api/analytics", response_model=OPEN_JSON)
async def analytics(
    request: Request, user: ConsoleUser = Depends(require(*MANAGER_ROLES))
) -> dict[str, Any] | JSONResponse:
    f = _filters(request)
    if isinstance(f, JSONResponse):
        return f
    return await asyncio.to_thread(dashboard, _read_factory(request.app), f)


@router.get("/api/analytics/export.csv", include_in_schema=False)
async def export_csv(request: Request, user: ConsoleUser = Depends(require(*MANAGER_ROLES))) -> Response:
    name = request.query_params.get("table", "")
    f = _filters(request)
    if isinstance(f, JSONResponse):
        return f
    if name not in analytics_csv.TABLES:
        return JSONResponse(
            {"error": "unknown_table", "tables": sorted(analytics_csv.TABLES)}, status_code=404
        )
    data = await asyncio.to_thread(dashboard, _read_factory(request.app), f)
    t = translator(language_for(request, user.id))
    return _csv(request, name, analytics_csv.table(name, data, t))


@router.get("/api/analytics/drill", response_model=OPEN_JSON)
async def drill_down(
    request: Request, user: ConsoleUser = Depends(require(*MANAGER_ROLES))
) -> dict[str, Any] | Response:
    q = request.query_params
    f = _filters(request)
    if isinstance(f, JSONResponse):
        return f
    kind, key = q.get("kind", ""), q.get("key", "")
    try:
        rows = await asyncio.to_thread(drill, _read_factory(request.app), f, kind, key)
    except drilldown.UnknownDrill:
        return JSONResponse({"error": "unknown_drill", "kinds": list(drilldown.KINDS)}, status_code=404)
    if q.get("format") == "csv":
        t = translator(language_for(request, user.id))
        return _csv(request, f"{kind}{'-' + key if key else ''}", analytics_csv.drill_table(rows, t))
    return {"kind": kind, "key": key, "limit": drilldown.DRILL_LIMIT, "conversations": rows}


@router.get("/api/analytics/conversations/{conversation_id}", response_model=OPEN_JSON)
async def transcript(
    request: Request, conversation_id: int, user: ConsoleUser = Depends(require(*MANAGER_ROLES))
) -> Transcript | JSONResponse:
    found = await asyncio.to_thread(read_transcript, _read_factory(request.app), conversation_id)
    if found is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return found
