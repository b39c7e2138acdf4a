"""The agent console's side of a live chat (issue 22): typing, read state, the agent's own
display name. The frames the customer gets are described in :mod:`gateway.presence`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.models import User
from gateway.console import agent_service as svc
from gateway.console.auth import ConsoleUser, require
from gateway.console.errors import ConsoleError
from gateway.state import chat_of, session_factory_of
from gateway.validation import OPEN_JSON, CleanModel, PathId

router = APIRouter()
agent_only = require("agent", "manager")
MAX_NAME = 60


class TypingBody(CleanModel):
    on: bool


class ReadBody(CleanModel):
    message_id: int = Field(gt=0, le=2**31 - 1)


class DisplayNameBody(CleanModel):
    display_name: str = Field(max_length=MAX_NAME)


def _refused(exc: ConsoleError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)


@router.post("/api/agent/conversations/{conversation_id}/typing", response_model=OPEN_JSON)
async def typing(
    conversation_id: PathId, body: TypingBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    """Whether the agent holding the chat is typing (never what): shown in the widget."""
    try:
        await asyncio.to_thread(svc.require_holder, session_factory_of(request), conversation_id, user)
    except ConsoleError as exc:
        return _refused(exc)
    sent = await chat_of(request).presence.agent_typing(conversation_id, body.on)
    return {"ok": True, "sent": sent}


@router.post("/api/agent/conversations/{conversation_id}/read", response_model=OPEN_JSON)
async def read(
    conversation_id: PathId, body: ReadBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    """The agent holding the chat has seen the customer's messages up to ``message_id``."""
    try:
        await asyncio.to_thread(svc.require_holder, session_factory_of(request), conversation_id, user)
    except ConsoleError as exc:
        return _refused(exc)
    marker = await chat_of(request).presence.agent_read(conversation_id, body.message_id)
    return {"agent_read_id": marker}


@router.get("/api/agent/conversations/{conversation_id}/read", response_model=OPEN_JSON)
async def read_state(
    conversation_id: PathId, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any]:
    state = await asyncio.to_thread(chat_of(request).presence.state, conversation_id)
    return {"conversation_id": conversation_id, **state}


def _rename(factory: sessionmaker[Session], user_id: int, name: str) -> str:
    with session_scope(factory) as session:
        row = session.get(User, user_id)
        if row is None:
            raise ConsoleError(404, "not_found", "No such user.")
        row.display_name = name
        return name


@router.post("/api/console/display-name", response_model=OPEN_JSON)
async def display_name(
    body: DisplayNameBody,
    request: Request,
    user: ConsoleUser = Depends(require("agent", "trainer", "manager")),
) -> dict[str, Any] | JSONResponse:
    """The signed-in user's own display name: what customers see on their messages."""
    name = " ".join(body.display_name.split())
    if not name or any(ch in name for ch in "<>"):
        return JSONResponse(
            {"error": "invalid_name", "message": f"A name of 1 to {MAX_NAME} characters, without < or >."},
            status_code=422,
        )
    try:
        saved = await asyncio.to_thread(_rename, session_factory_of(request), user.id, name)
    except ConsoleError as exc:
        return _refused(exc)
    return {"display_name": saved}
