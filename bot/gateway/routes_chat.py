"""Customer chat endpoints: the widget's WebSocket and its HTTP fallback.

WebSocket protocol (JSON text frames), ``/ws?token=<conversation token>``:

- server -> client on connect: ``{"type": "session", "token": ..., "language": ...}`` then
  ``{"type": "history", "messages": [...]}``;
- client -> server: ``{"type": "message", "id": "<client id>", "text": "..."}`` (a button click:
  ``"text"`` is the button's payload and ``"title"`` its title, checked against the buttons the
  bot offered); the server
  answers ``{"type": "ack", "id": ...}``, ``{"type": "typing", "on": true}`` and
  ``{"type": "reply", "in_reply_to": ..., "messages": [...], "notice"?: ...}``;
- pushed by the server at any time: ``{"type": "push", "messages": [...]}`` (an agent's reply) and
  ``{"type": "status", "status": "agent"|"bot", "notice": {...}}`` when the chat changes hands;
- ``{"type": "ping"}`` -> ``{"type": "pong"}``;
- any problem -> ``{"type": "error", "code": ..., "message": ..., "id"?: ...}``; the connection
  stays open.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from bot.gateway.chat import ChatError, ChatReply, ChatService
from bot.gateway.store import StoreUnavailable
from bot.identity import verify_identity

logger = logging.getLogger(__name__)
router = APIRouter()
MAX_FRAME_BYTES = 64 * 1024


def _reply_frame(reply: ChatReply) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "reply",
        "in_reply_to": reply.client_id,
        "messages": reply.messages,
        "status": reply.status,
        "language": reply.language,
    }
    if reply.notice:
        frame["notice"] = reply.notice
    return frame


def _error(code: str, message: str, client_id: Any = None) -> dict[str, Any]:
    frame = {"type": "error", "code": code, "message": message}
    if isinstance(client_id, str):
        frame["id"] = client_id
    return frame


def _service(scope: Any) -> ChatService:
    return scope.app.state.chat


@router.websocket("/ws")
async def chat_socket(websocket: WebSocket) -> None:
    chat = _service(websocket)
    await websocket.accept()
    settings = websocket.app.state.settings
    customer_ref = verify_identity(settings.identity_secret, websocket.query_params.get("identity"))
    try:
        conversation = await chat.open(websocket.query_params.get("token"), customer_ref)
        history = await chat.history(conversation)
    except StoreUnavailable:
        await websocket.send_json(_error("unavailable", "The service is temporarily unavailable."))
        await websocket.close(code=1013)
        return
    await websocket.send_json(
        {
            "type": "session",
            "token": conversation.token,
            "language": conversation.language,
            "status": conversation.status,
        }
    )
    await websocket.send_json({"type": "history", "messages": history})
    chat.hub.join(conversation.id, websocket)
    try:
        while True:
            raw = await websocket.receive_text()
            if len(raw.encode()) > MAX_FRAME_BYTES:
                await websocket.send_json(_error("frame_too_large", "Frame exceeds 64 KiB."))
                continue
            try:
                frame = json.loads(raw)
            except ValueError:
                await websocket.send_json(_error("invalid_json", "Frames must be JSON objects."))
                continue
            if not isinstance(frame, dict):
                await websocket.send_json(_error("invalid_json", "Frames must be JSON objects."))
                continue
            kind = frame.get("type")
            if kind == "ping":
                await websocket.send_json({"type": "pong"})
            elif kind == "message":

                async def acknowledge(client_id: str) -> None:
                    await websocket.send_json({"type": "ack", "id": client_id})
                    await websocket.send_json({"type": "typing", "on": True})

                try:
                    reply = await chat.handle(
                        conversation, frame.get("id"), frame.get("text"), acknowledge,
                        title=frame.get("title"),
                    )
                except ChatError as exc:
                    await websocket.send_json(_error(exc.code, exc.message, frame.get("id")))
                    continue
                except Exception:
                    logger.exception("chat: failed to handle a message")
                    await websocket.send_json(
                        _error("internal_error", "Something went wrong; please try again.", frame.get("id"))
                    )
                    continue
                await websocket.send_json(_reply_frame(reply))
            else:
                await websocket.send_json(
                    _error("unknown_type", f"Unknown frame type {str(kind)[:40]!r}.")
                )
    except WebSocketDisconnect:
        return
    finally:
        chat.hub.leave(conversation.id, websocket)


UNAVAILABLE = JSONResponse({"error": "unavailable"}, status_code=503)


@router.post("/api/conversations")
async def create_conversation(request: Request) -> JSONResponse:
    try:
        conversation = await _service(request).open(None)
    except StoreUnavailable:
        return UNAVAILABLE
    return JSONResponse({"token": conversation.token}, status_code=201)


@router.get("/api/conversations/{token}/messages")
async def conversation_history(token: str, request: Request) -> JSONResponse:
    chat = _service(request)
    try:
        conversation = await chat.find(token)
        if conversation is None:
            return JSONResponse({"error": "unknown_conversation"}, status_code=404)
        return JSONResponse({"messages": await chat.history(conversation)})
    except StoreUnavailable:
        return UNAVAILABLE


@router.post("/api/conversations/{token}/messages")
async def post_message(token: str, request: Request) -> JSONResponse:
    chat = _service(request)
    try:
        conversation = await chat.find(token)
    except StoreUnavailable:
        return UNAVAILABLE
    if conversation is None:
        return JSONResponse({"error": "unknown_conversation"}, status_code=404)
    body = await request.body()
    if len(body) > MAX_FRAME_BYTES:
        return JSONResponse({"error": "body_too_large"}, status_code=413)
    try:
        frame = json.loads(body)
    except ValueError:
        return JSONResponse(
            {"error": "invalid_json", "message": "Body must be a JSON object."}, status_code=400
        )
    if not isinstance(frame, dict):
        return JSONResponse(
            {"error": "invalid_json", "message": "Body must be a JSON object."}, status_code=400
        )
    try:
        reply = await chat.handle(conversation, frame.get("id"), frame.get("text"),
                                  title=frame.get("title"))
    except ChatError as exc:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=422)
    return JSONResponse(_reply_frame(reply))
