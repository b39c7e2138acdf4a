"""Post-chat rating from the widget: ``POST /api/conversations/{token}/csat``.

The unguessable conversation token is the customer's credential, as for the rest of the
widget's API. ``{"score": 1-5, "comment": "..."}`` is stored as CRM ``Feedback``; rating the
same conversation again replaces the earlier score. ``score`` must be a JSON integer (``true``
or ``4.0`` are refused); ratings are rate-limited per conversation and per address.
"""

from __future__ import annotations

import asyncio
import unicodedata
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.repo.conversations import get_conversation_by_token
from crm.repo.tickets import record_csat
from gateway.ratelimit import client_address, limiter_of, too_many
from gateway.validation import OPEN_JSON, CleanModel

router = APIRouter()
MAX_COMMENT = 1000


class Rating(CleanModel):
    score: int = Field(ge=1, le=5, strict=True)
    comment: str = Field(default="", max_length=4000)


def clean_comment(text: str) -> str | None:
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch == "\n").strip()
    return text[:MAX_COMMENT] or None


def record_rating(factory: sessionmaker[Session], token: str, score: int, comment: str | None) -> int | None:
    """Store the rating; return the conversation id, or None for an unknown token."""
    with session_scope(factory) as session:
        conversation = get_conversation_by_token(session, token)
        if conversation is None:
            return None
        record_csat(session, conversation, score, comment)
        return conversation.id


@router.post("/api/conversations/{token}/csat", response_model=OPEN_JSON)
async def rate(token: str, request: Request) -> dict[str, Any] | JSONResponse:
    try:
        rating = Rating.model_validate_json(await request.body())
    except (ValidationError, ValueError, RecursionError):
        return JSONResponse({"error": "invalid_rating", "message": "score must be 1 to 5"}, status_code=422)
    wait = limiter_of(request).hit(
        ("ratings_per_conversation", token[:64]), ("ratings_per_address", client_address(request))
    )
    if wait:
        return too_many(wait)
    conversation_id = await asyncio.to_thread(
        record_rating,
        request.app.state.session_factory,
        token[:64],
        rating.score,
        clean_comment(rating.comment),
    )
    if conversation_id is None:
        return JSONResponse({"error": "unknown_conversation"}, status_code=404)
    await request.app.state.chat.hub.to_consoles(
        {"type": "csat", "conversation_id": conversation_id, "score": rating.score}
    )
    return {"ok": True, "score": rating.score}
