"""Agent console: ``/agent`` page, its JSON API under ``/api/agent`` and the live ``/ws/console``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from starlette.websockets import WebSocketState

from gateway.chat import ChatError
from gateway.console import agent_service as svc
from gateway.console import auth as console_auth
from gateway.console import routes_routing, routing_service
from gateway.console.agent_text import for_agent
from gateway.console.auth import ConsoleUser, current_user, require, same_origin
from gateway.console.errors import ConsoleError
from gateway.console.kbsearch import get_kb
from gateway.console.pages import page
from gateway.state import chat_of, session_factory_of
from gateway.validation import OPEN_JSON, CleanModel, PathId

logger = logging.getLogger(__name__)
router = APIRouter()
AGENT_ROLES = ("agent", "manager")
agent_only = require(*AGENT_ROLES)
P = ParamSpec("P")
R = TypeVar("R")


class ReplyBody(CleanModel):
    text: str = Field(max_length=4000)
    client_id: str | None = Field(default=None, max_length=64)


class DecisionBody(CleanModel):
    decision: str


class ResolveBody(CleanModel):
    resolution: str = Field(max_length=2000)


class FollowUpBody(CleanModel):
    due_at: str = Field(max_length=40)
    note: str = Field(default="", max_length=2000)


class FollowUpDoneBody(CleanModel):
    outcome: str = Field(max_length=20)


def _refused(exc: ConsoleError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)


async def _run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def _changed(request: Request, conversation_id: int | None) -> None:
    await chat_of(request).hub.to_consoles({"type": "queue_changed", "conversation_id": conversation_id})


@router.get("/agent", include_in_schema=False)
async def agent_page(request: Request) -> Response:
    get_kb(request.app).warm()
    return await page(request, "agent.html", AGENT_ROLES, "agent")


@router.get("/api/agent/queue")
async def agent_queue(request: Request, user: ConsoleUser = Depends(agent_only)) -> dict[str, Any]:
    await routes_routing.route_now(request)  # routing: waiting chats to available agents first
    items = await _run(svc.ranked_queue, session_factory_of(request))
    await _run(routing_service.add_sla, session_factory_of(request), items)
    return {"items": items}


@router.get("/api/agent/conversations/{conversation_id}", response_model=OPEN_JSON)
async def conversation(
    conversation_id: PathId, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        return await _run(svc.chat_view, session_factory_of(request), conversation_id, user)
    except ConsoleError as exc:
        return _refused(exc)


@router.post("/api/agent/conversations/{conversation_id}/claim", response_model=OPEN_JSON)
async def claim(
    conversation_id: PathId, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    won = await chat_of(request).claim(conversation_id, user.id)
    if not won:
        return JSONResponse(
            {
                "error": "already_claimed",
                "message": "Another agent has this chat, or it is no longer waiting.",
            },
            status_code=409,
        )
    await _run(svc.log_action, session_factory_of(request), user, "chat.claimed", conversation_id)
    return {"ok": True, "conversation_id": conversation_id}


@router.post("/api/agent/conversations/{conversation_id}/reply", response_model=OPEN_JSON)
async def reply(
    conversation_id: PathId, body: ReplyBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        await _run(svc.require_holder, session_factory_of(request), conversation_id, user)
        message = await chat_of(request).agent_reply(
            conversation_id, user.id, body.text, body.client_id, agent_name=user.label
        )
    except ConsoleError as exc:
        return _refused(exc)
    except ChatError as exc:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=422)
    return {"message": message}


@router.post("/api/agent/conversations/{conversation_id}/hand-back", response_model=OPEN_JSON)
async def hand_back(
    conversation_id: PathId, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        await _run(svc.require_holder, session_factory_of(request), conversation_id, user)
    except ConsoleError as exc:
        return _refused(exc)
    done = await chat_of(request).hand_back(conversation_id)
    if done:
        await _run(svc.log_action, session_factory_of(request), user, "chat.handed_back", conversation_id)
    return {"ok": done}


@router.get("/api/agent/conversations/{conversation_id}/suggestions", response_model=OPEN_JSON)
async def suggestions(
    conversation_id: PathId, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    last = await _run(svc.last_customer_message, session_factory_of(request), conversation_id)
    if last is None:
        return {"query": None, "hits": []}
    result = await _run(get_kb(request.app).report, last["text"], last["language"], 3)
    for hit in result["hits"]:
        hit["answer"] = for_agent(hit["answer"])
    return {"query": last["text"], **result}


@router.post("/api/agent/offers/{offer_id}/decision", response_model=OPEN_JSON)
async def decide(
    offer_id: PathId, body: DecisionBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        result = await _run(svc.decide_offer, session_factory_of(request), offer_id, body.decision, user)
    except ConsoleError as exc:
        return _refused(exc)
    await _changed(request, result["conversation_id"])
    return result


@router.post("/api/agent/tickets/{ticket_id}/resolve", response_model=OPEN_JSON)
async def resolve(
    ticket_id: PathId, body: ResolveBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        result = await _run(svc.resolve_ticket, session_factory_of(request), ticket_id, body.resolution, user)
    except ConsoleError as exc:
        return _refused(exc)
    await _changed(request, result["conversation_id"])
    return result


@router.post("/api/agent/conversations/{conversation_id}/follow-ups", response_model=OPEN_JSON)
async def follow_up(
    conversation_id: PathId, body: FollowUpBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        return await _run(
            svc.schedule_follow_up,
            session_factory_of(request),
            conversation_id,
            body.due_at,
            body.note,
            user,
        )
    except ConsoleError as exc:
        return _refused(exc)


@router.get("/api/agent/follow-ups", response_model=OPEN_JSON)
async def follow_up_board(request: Request, user: ConsoleUser = Depends(agent_only)) -> dict[str, Any]:
    """Follow-ups due, overdue, sent (awaiting the answer), needing an agent; late tickets."""
    return await _run(svc.follow_up_board, session_factory_of(request))


@router.post("/api/agent/follow-ups/{follow_up_id}/done", response_model=OPEN_JSON)
async def follow_up_done(
    follow_up_id: PathId, body: FollowUpDoneBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        result = await _run(
            svc.complete_follow_up, session_factory_of(request), follow_up_id, body.outcome, user
        )
    except ConsoleError as exc:
        return _refused(exc)
    await chat_of(request).hub.to_consoles({"type": "follow_ups_changed"})
    return result


@router.websocket("/ws/console")
async def console_socket(websocket: WebSocket) -> None:
    """Live frames for agent consoles: new messages and queue changes (server -> console)."""
    user = await current_user(websocket)
    if user is None or not user.can(*AGENT_ROLES) or not same_origin(websocket):
        await websocket.close(code=4403)
        return
    await websocket.accept()
    hub = chat_of(websocket).hub
    hub.join_console(websocket)
    watcher = asyncio.create_task(_end_with_session(websocket))
    try:
        await websocket.send_json({"type": "hello", "user": user.public()})
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if (
                message.get("text") or ""
            ).strip() == '{"type":"ping"}':  # anything else (binary too) is ignored
                await websocket.send_json({"type": "pong"})
    except WebSocketDisconnect:
        pass
    except RuntimeError:  # receiving or sending after the watcher closed the socket
        if websocket.application_state == WebSocketState.CONNECTED:
            raise
    finally:
        watcher.cancel()
        hub.leave_console(websocket)


async def _end_with_session(websocket: WebSocket) -> None:
    """Close a live console socket (code 4401) once its session ends: logout, expiry,
    deactivation or a role without agent rights."""
    while True:
        await asyncio.sleep(console_auth.SOCKET_RECHECK_S)
        try:
            user = await current_user(websocket)
        except Exception:  # the CRM being briefly unreachable does not end a session
            logger.warning("console socket: session re-check failed", exc_info=True)
            continue
        if user is None or not user.can(*AGENT_ROLES):
            chat_of(websocket).hub.leave_console(websocket)
            try:
                await websocket.close(code=4401)
            except Exception:  # already closing
                pass
            return
