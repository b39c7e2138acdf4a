"""Image attachments in the widget (issue 22): upload with the conversation token, fetch by the
conversation's customer or by staff.

- ``POST /api/conversations/{token}/attachments[?id=<client id>]``, the raw image as the body:
  201 ``{"message": {...}}`` (the customer's message carrying ``upload: {id, content_type, width,
  height}``); 400 ``empty_file``, 413 ``too_large`` / ``too_many_pixels``, 415 ``unsupported_type``,
  422 ``malformed_image`` / ``invalid_id``, 404 ``unknown_conversation``, 429 over the limits.
- ``GET /api/attachments/{id}``: the image, for the customer of its conversation (header
  ``X-Conversation-Token``, never a URL parameter) or a signed-in agent or manager; anyone else
  gets 404, as for an unknown id. Served with its checked type, ``nosniff``, ``inline`` with a
  fixed file name, and a CSP that forbids everything (an image needs nothing).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from common.texts import text
from crm.outbox import DB_DOWN_ERRORS
from crm.repo.attachments import StoredFile, add_image_message, get_attachment
from gateway.attachments import FORMATS, AttachmentError, check_image, read, remove, store
from gateway.chat import safe_client_id
from gateway.console.auth import current_user
from gateway.ratelimit import client_address, limiter_of, too_many
from gateway.state import chat_of, settings_of
from gateway.store import ChatStore, ConversationRef, MessageView, StoreUnavailable, message_view
from gateway.validation import PathId, SafeJSONResponse

logger = logging.getLogger(__name__)
router = APIRouter()
TOKEN_HEADER = "x-conversation-token"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return SafeJSONResponse({"error": code, "message": message}, status_code=status)


@router.post("/api/conversations/{token}/attachments")
async def upload(token: str, request: Request) -> JSONResponse:
    client_id = request.query_params.get("id") or f"img-{uuid.uuid4().hex[:16]}"
    if not safe_client_id(client_id):
        return _error(422, "invalid_id", "'id' must be a string of 1 to 64 printable characters.")
    limiter = limiter_of(request)
    wait = limiter.hit(("uploads_per_address", client_address(request)))
    if wait:
        return too_many(wait)
    chat = chat_of(request)
    try:
        conversation = await chat.find(token[:64])
    except StoreUnavailable:
        return _error(503, "unavailable", "The service is temporarily unavailable.")
    if conversation is None:
        return _error(404, "unknown_conversation", "No such conversation.")
    wait = limiter.hit(("uploads_per_conversation", str(conversation.id)))
    if wait:
        return too_many(wait)
    try:
        image = await asyncio.to_thread(check_image, await request.body())
    except AttachmentError as exc:
        return _error(exc.status, exc.code, exc.message)
    var_dir = settings_of(request).var_dir
    stored = await asyncio.to_thread(store, var_dir, image)
    try:
        view = await asyncio.to_thread(_record, chat.store, conversation, client_id, stored)
    except DB_DOWN_ERRORS:
        await asyncio.to_thread(remove, var_dir, stored["storage_name"])
        return _error(503, "unavailable", "The service is temporarily unavailable.")
    await chat.hub.to_consoles({"type": "messages", "conversation_id": conversation.id, "messages": [view]})
    return SafeJSONResponse({"message": view}, status_code=201)


def _record(
    chat_store: ChatStore, conversation: ConversationRef, client_id: str, stored: StoredFile
) -> MessageView:
    """The customer's message showing the image (labelled in the chat's language) and its row."""

    def work(session: Session) -> MessageView:
        label = text("notice.image", conversation.language)
        message, _ = add_image_message(
            session, conversation.id, client_id, label, conversation.language, stored
        )
        return message_view(message)

    return chat_store.run(work)


@router.get("/api/attachments/{attachment_id}")
async def attachment(attachment_id: PathId, request: Request) -> Response:
    not_found = _error(404, "not_found", "No such attachment.")
    customer_token = request.headers.get(TOKEN_HEADER)
    if customer_token is not None:
        wait = limiter_of(request).hit(("reads_per_address", client_address(request)))
        if wait:
            return too_many(wait)
    else:
        user = await current_user(request)
        if user is None or not user.can("agent", "manager"):
            return not_found
    chat = chat_of(request)
    try:
        found = await asyncio.to_thread(chat.store.run, lambda s: _lookup(s, attachment_id))
    except DB_DOWN_ERRORS:
        return _error(503, "unavailable", "The service is temporarily unavailable.")
    if found is None:
        return not_found
    storage_name, content_type, conversation_token = found
    if customer_token is not None and not hmac.compare_digest(
        customer_token.encode("utf-8", "replace"), conversation_token.encode()
    ):
        return not_found
    try:
        data = await asyncio.to_thread(read, settings_of(request).var_dir, storage_name)
    except OSError:
        logger.warning("attachment %s: its file is missing", attachment_id)
        return not_found
    _, extension = FORMATS[content_type]
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f'inline; filename="image-{attachment_id}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


def _lookup(session: Session, attachment_id: int) -> tuple[str, str, str] | None:
    found = get_attachment(session, attachment_id)
    if found is None:
        return None
    row, conversation = found
    return row.storage_name, row.content_type, conversation.token
