"""Typed access to what the gateway keeps on FastAPI's untyped ``app.state``.

The lifespan of :func:`gateway.app.create_app` stores the services there; routes read them
through these functions (``conn`` is a :class:`~fastapi.Request` or a
:class:`~fastapi.WebSocket`), so the rest of the gateway sees real types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from common.settings import Settings
    from gateway.chat import ChatService
    from gateway.ratelimit import RateLimiter


def settings_of(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


def chat_of(conn: HTTPConnection) -> ChatService:
    chat: ChatService = conn.app.state.chat
    return chat


def session_factory_of(conn: HTTPConnection) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = conn.app.state.session_factory
    return factory


def rate_limiter_of(conn: HTTPConnection) -> RateLimiter:
    limiter: RateLimiter = conn.app.state.rate_limiter
    return limiter
