"""Routing in the agent console: the team and availability, assignment and transfer of a chat,
routing profiles (managers, admins). The router itself runs when the queue is read
(``routes_agent.agent_queue``), after these changes, and every ``ROUTING_INTERVAL_S`` seconds
(:func:`route_forever`, started by the gateway)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from gateway.console import routing_service as svc
from gateway.console.auth import ConsoleUser, require
from gateway.console.errors import ConsoleError
from gateway.hub import Broadcaster
from gateway.notices import status_notice
from gateway.state import chat_of, session_factory_of
from gateway.validation import OPEN_JSON, CleanModel, PathId

logger = logging.getLogger(__name__)
router = APIRouter()
agent_only = require("agent", "manager")
managers = require("manager")  # admins too (ConsoleUser.can)


class AssignBody(CleanModel):
    """``agent_id``: the new holder, or null for the queue (required: a typo must not unassign)."""

    model_config = ConfigDict(extra="forbid")
    agent_id: int | None = Field(ge=1, le=2**31 - 1)


class AvailabilityBody(CleanModel):
    available: bool


class ProfileBody(CleanModel):
    languages: list[str] = Field(max_length=3)
    skills: list[str] = Field(max_length=20)
    capacity: int = Field(ge=0, le=1000)


async def announce(hub: Broadcaster, changes: list[svc.Assigned]) -> None:
    """Tell the customer an agent joined (chats taken from the queue) and every console who
    holds what now (``assigned_agent_id``: the console alerts that agent)."""
    for change in changes:
        if change.taken:
            await hub.to_customer(
                change.conversation_id,
                {"type": "status", "status": "agent", "notice": status_notice("agent")},
            )
        await hub.to_consoles(
            {
                "type": "queue_changed",
                "conversation_id": change.conversation_id,
                "status": "agent" if change.agent_id else "waiting_agent",
                "assigned_agent_id": change.agent_id,
            }
        )


async def route_now(request: Request) -> None:
    """Run the router and announce what it assigned."""
    await announce(
        chat_of(request).hub, await asyncio.to_thread(svc.route_waiting, session_factory_of(request))
    )


async def route_forever(factory: svc.Factory, hub: Broadcaster, interval_s: float) -> None:
    """Run the router every ``interval_s`` seconds, so a waiting chat goes to an agent who
    became free even while no console reads the queue. A failed run (database down) is logged
    and the next one tries again."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await announce(hub, await asyncio.to_thread(svc.route_waiting, factory))
        except Exception:
            logger.exception("router: a periodic run failed; retrying in %s s", interval_s)


def _refused(exc: ConsoleError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)


@router.get("/api/agent/routing/team", response_model=OPEN_JSON)
async def team(request: Request, user: ConsoleUser = Depends(agent_only)) -> dict[str, Any]:
    return await asyncio.to_thread(svc.team, session_factory_of(request), user)


@router.post("/api/agent/routing/availability", response_model=OPEN_JSON)
async def availability(
    body: AvailabilityBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any]:
    result = await asyncio.to_thread(svc.set_available, session_factory_of(request), user, body.available)
    if body.available:
        await route_now(request)
    return result


@router.post("/api/agent/conversations/{conversation_id}/assign", response_model=OPEN_JSON)
async def assign(
    conversation_id: PathId, body: AssignBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        change = await asyncio.to_thread(
            svc.assign, session_factory_of(request), conversation_id, body.agent_id, user
        )
    except ConsoleError as exc:
        return _refused(exc)
    await announce(chat_of(request).hub, [change])
    if change.agent_id is None:
        await route_now(request)
    return {"ok": True, "conversation_id": conversation_id, "agent_id": change.agent_id}


@router.put("/api/agent/routing/agents/{user_id}", response_model=OPEN_JSON)
async def profile(
    user_id: PathId, body: ProfileBody, request: Request, user: ConsoleUser = Depends(managers)
) -> dict[str, Any] | JSONResponse:
    try:
        result = await asyncio.to_thread(
            svc.set_profile,
            session_factory_of(request),
            user_id,
            body.languages,
            body.skills,
            body.capacity,
            user,
        )
    except ConsoleError as exc:
        return _refused(exc)
    await route_now(request)
    return result
