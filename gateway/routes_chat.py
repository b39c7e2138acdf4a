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
- client -> server ``{"type": "read", "id": <message id>}``: the customer has seen the agent's
  messages up to that id (no answer; consoles get a ``read`` frame, :mod:`gateway.presence`);
  the history frame carries ``"read_by_agent": {"message_id", "client_id"}`` when the agent has
  read a customer message, and the agent's typing and reads arrive as ``typing`` / ``read`` frames;
- any problem -> ``{"type": "error", "code": ..., "message": ..., "id"?: ...}``; the connection
  stays open (binary frames, bad or too deeply nested JSON, unknown types alike).

Frames are read as they arrive (so the protocol's pings keep flowing) into a per-socket queue of
at most ``MAX_PENDING_FRAMES`` / ``MAX_PENDING_BYTES``; messages are then handled in order, each
waiting for room in the conversation's and the address's rate limits (a burst is slowed, not
dropped). A frame beyond the queue's bound is refused at once with ``rate_limited`` and its id.
Messages still queued when the socket closes are stored and answered all the same (the widget
finds the replies in the history). Starting a new conversation (``/ws`` without a known token,
``POST /api/conversations``) is limited per address; see :mod:`gateway.ratelimit`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import JSONResponse

from common.identity import verify_identity
from gateway.chat import ChatError, ChatReply, ChatService, safe_client_id
from gateway.ratelimit import client_address, hand_off_gate, limiter_of, too_many
from gateway.state import chat_of, settings_of
from gateway.store import ConversationRef, StoreUnavailable
from gateway.validation import SafeJSONResponse, dumps

logger = logging.getLogger(__name__)
router = APIRouter()
MAX_FRAME_BYTES = 64 * 1024
MAX_PENDING_FRAMES = 256
MAX_PENDING_BYTES = 1024 * 1024


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


def _error(code: str, message: str, client_id: object = None, **extra: object) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message, **extra}
    if safe_client_id(client_id):
        frame["id"] = client_id
    return frame


def parse_frame(raw: str) -> dict[str, Any] | str:
    """The frame as a dict, or the error code for a frame that is not a JSON object."""
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        return "frame_too_large"
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return "invalid_json"
    return frame if isinstance(frame, dict) else "invalid_json"


FRAME_ERRORS = {
    "frame_too_large": "Frame exceeds 64 KiB.",
    "invalid_json": "Frames must be JSON objects.",
    "binary_frame": "Frames must be text (JSON), not binary.",
}


class Socket:
    """Sends to one widget; after the widget left, sends are skipped (work goes on)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.open = True

    async def send(self, frame: dict[str, Any]) -> None:
        if not self.open:
            return
        try:
            await self.websocket.send_text(dumps(frame))
        except Exception:  # closed under us
            self.open = False


async def _open(websocket: WebSocket, chat: ChatService, sock: Socket) -> ConversationRef | None:
    """The socket's conversation, or None when refused (rate limit, store down)."""
    settings = settings_of(websocket)
    customer_ref = verify_identity(settings.identity_secret, websocket.query_params.get("identity"))
    token = websocket.query_params.get("token")
    try:
        known = await chat.find(token) if token else None
        if known is None:
            wait = limiter_of(websocket).hit(("conversations_per_address", client_address(websocket)))
            if wait:
                await sock.send(
                    _error(
                        "rate_limited",
                        "Too many new chats; try again later.",
                        retry_after=max(1, round(wait)),
                    )
                )
                await websocket.close(code=1013)
                return None
        conversation = await chat.open(token if known else None, customer_ref)
        history = await chat.history(conversation)
        read_by_agent = await asyncio.to_thread(chat.presence.agent_read_mark, conversation.id)
    except StoreUnavailable:
        await sock.send(_error("unavailable", "The service is temporarily unavailable."))
        await websocket.close(code=1013)
        return None
    await sock.send(
        {
            "type": "session",
            "token": conversation.token,
            "language": conversation.language,
            "status": conversation.status,
        }
    )
    frame: dict[str, Any] = {"type": "history", "messages": history}
    if read_by_agent is not None:
        frame["read_by_agent"] = read_by_agent
    await sock.send(frame)
    return conversation


@router.websocket("/ws")
async def chat_socket(websocket: WebSocket) -> None:
    chat = chat_of(websocket)
    await websocket.accept()
    sock = Socket(websocket)
    conversation = await _open(websocket, chat, sock)
    if conversation is None:
        return
    chat.hub.join(conversation.id, websocket)
    pending: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
    queued_bytes = 0

    async def read() -> None:
        nonlocal queued_bytes
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                raw = message.get("text")
                if raw is None:
                    await sock.send(_error("binary_frame", FRAME_ERRORS["binary_frame"]))
                    continue
                size = len(raw)
                if pending.qsize() >= MAX_PENDING_FRAMES or queued_bytes + size > MAX_PENDING_BYTES:
                    frame = parse_frame(raw)
                    await sock.send(
                        _error(
                            "rate_limited",
                            "Too many messages at once; send this one again later.",
                            frame.get("id") if isinstance(frame, dict) else None,
                            retry_after=5,
                        )
                    )
                    continue
                queued_bytes += size
                pending.put_nowait(("text", raw))
        except Exception:  # the connection broke
            return
        finally:
            sock.open = sock.open and websocket.client_state.name == "CONNECTED"
            pending.put_nowait(None)

    reader = asyncio.create_task(read())
    try:
        while (item := await pending.get()) is not None:
            queued_bytes -= len(item[1])
            await _handle_frame(websocket, chat, conversation, sock, item[1])
    finally:
        reader.cancel()
        sock.open = False
        chat.hub.leave(conversation.id, websocket)


async def _handle_frame(
    websocket: WebSocket, chat: ChatService, conversation: ConversationRef, sock: Socket, raw: str
) -> None:
    frame = parse_frame(raw)
    if isinstance(frame, str):
        await sock.send(_error(frame, FRAME_ERRORS[frame]))
        return
    kind = frame.get("type")
    if kind == "ping":
        await sock.send({"type": "pong"})
        return
    if kind == "read":
        if not limiter_of(websocket).hit(("reads_per_address", client_address(websocket))):
            await chat.presence.customer_read(conversation.id, frame.get("id"))
        return
    if kind != "message":
        await sock.send(_error("unknown_type", f"Unknown frame type {str(kind)[:40]!r}."))
        return
    await limiter_of(websocket).wait(
        ("messages_per_conversation", str(conversation.id)),
        ("messages_per_address", client_address(websocket)),
    )

    async def acknowledge(client_id: str) -> None:
        await sock.send({"type": "ack", "id": client_id})
        await sock.send({"type": "typing", "on": True})

    try:
        reply = await chat.handle(
            conversation,
            frame.get("id"),
            frame.get("text"),
            acknowledge,
            title=frame.get("title"),
            may_hand_off=hand_off_gate(websocket),
        )
    except ChatError as exc:
        await sock.send(_error(exc.code, exc.message, frame.get("id")))
        return
    except Exception:
        logger.exception("chat: failed to handle a message")
        await sock.send(_error("internal_error", "Something went wrong; please try again.", frame.get("id")))
        return
    await sock.send(_reply_frame(reply))


def unavailable() -> JSONResponse:
    return SafeJSONResponse({"error": "unavailable"}, status_code=503)


@router.post("/api/conversations")
async def create_conversation(request: Request) -> JSONResponse:
    wait = limiter_of(request).hit(("conversations_per_address", client_address(request)))
    if wait:
        return too_many(wait)
    try:
        conversation = await chat_of(request).open(None)
    except StoreUnavailable:
        return unavailable()
    return SafeJSONResponse({"token": conversation.token}, status_code=201)


@router.get("/api/conversations/{token}/messages")
async def conversation_history(token: str, request: Request) -> JSONResponse:
    wait = limiter_of(request).hit(("reads_per_address", client_address(request)))
    if wait:
        return too_many(wait)
    chat = chat_of(request)
    try:
        conversation = await chat.find(token[:64])
        if conversation is None:
            return SafeJSONResponse({"error": "unknown_conversation"}, status_code=404)
        return SafeJSONResponse({"messages": await chat.history(conversation)})
    except StoreUnavailable:
        return unavailable()


@router.post("/api/conversations/{token}/messages")
async def post_message(token: str, request: Request) -> JSONResponse:
    chat = chat_of(request)
    try:
        conversation = await chat.find(token[:64])
    except StoreUnavailable:
        return unavailable()
    if conversation is None:
        return SafeJSONResponse({"error": "unknown_conversation"}, status_code=404)
    body = await request.body()
    frame = parse_frame(body.decode("utf-8", "replace"))
    if isinstance(frame, str):
        status = 413 if frame == "frame_too_large" else 400
        return SafeJSONResponse(
            {"error": frame, "message": "Body must be a JSON object."}, status_code=status
        )
    wait = limiter_of(request).hit(
        ("messages_per_conversation", str(conversation.id)), ("messages_per_address", client_address(request))
    )
    if wait:
        return too_many(wait)
    try:
        reply = await chat.handle(
            conversation,
            frame.get("id"),
            frame.get("text"),
            title=frame.get("title"),
            may_hand_off=hand_off_gate(request),
        )
    except ChatError as exc:
        return SafeJSONResponse({"error": exc.code, "message": exc.message}, status_code=422)
    except StoreUnavailable:
        return unavailable()
    return SafeJSONResponse(_reply_frame(reply))
