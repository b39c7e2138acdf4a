"""Agent desk APIs under ``/api/agent``: search, private notes, labels, canned replies and the
customer's earlier conversations. Agents and managers (and admins) use them; only managers and
admins manage the canned replies. Every write needs the session's CSRF token (``require``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from crm.repo import canned
from gateway.console import desk_service as svc
from gateway.console.auth import ConsoleUser, require
from gateway.console.errors import ConsoleError
from gateway.state import chat_of, session_factory_of
from gateway.validation import OPEN_JSON, CleanModel, PathId

router = APIRouter()
agent_only = require("agent", "manager")
managers_only = require("manager")
P = ParamSpec("P")
R = TypeVar("R")
LABEL_PATTERN = r"^[^\x00-\x1f]{1,32}$"


class NoteBody(CleanModel):
    body: str = Field(min_length=1, max_length=2000)


class LabelBody(CleanModel):
    label: str = Field(min_length=1, max_length=32, pattern=LABEL_PATTERN)


class CannedBody(CleanModel):
    shortcut: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=100)
    zh_hant: str = Field(alias="zh-Hant", min_length=1, max_length=2000)
    zh_hans: str = Field(alias="zh-Hans", min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)

    def fields(self) -> canned.CannedFields:
        return {
            "shortcut": self.shortcut,
            "title": self.title,
            "bodies": {"zh-Hant": self.zh_hant, "zh-Hans": self.zh_hans, "en": self.en},
        }


def _refused(exc: ConsoleError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)


async def _run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def _desk_changed(request: Request, conversation_id: int) -> None:
    """Tells the other agent consoles (staff-only sockets) to reload this chat's desk."""
    await chat_of(request).hub.to_consoles({"type": "desk_changed", "conversation_id": conversation_id})


@router.get("/api/agent/search", response_model=OPEN_JSON)
async def search(
    request: Request,
    q: str = Query(default="", max_length=100),
    label: str = Query(default="", max_length=32, pattern=r"^[^\x00-\x1f]{0,32}$"),
    user: ConsoleUser = Depends(agent_only),
) -> dict[str, Any] | JSONResponse:
    try:
        return {"items": await _run(svc.search, session_factory_of(request), q, label or None)}
    except ConsoleError as exc:
        return _refused(exc)


@router.get("/api/agent/labels", response_model=OPEN_JSON)
async def labels(request: Request, user: ConsoleUser = Depends(agent_only)) -> dict[str, Any]:
    return {"labels": await _run(svc.label_counts, session_factory_of(request))}


@router.get("/api/agent/conversations/{conversation_id}/desk", response_model=OPEN_JSON)
async def desk(
    conversation_id: PathId, request: Request, user: ConsoleUser = Depends(agent_only)
) -> svc.DeskView | JSONResponse:
    try:
        return await _run(svc.desk_view, session_factory_of(request), conversation_id)
    except ConsoleError as exc:
        return _refused(exc)


@router.post("/api/agent/conversations/{conversation_id}/notes", response_model=OPEN_JSON)
async def add_note(
    conversation_id: PathId, body: NoteBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        note = await _run(svc.add_note, session_factory_of(request), conversation_id, body.body, user)
    except ConsoleError as exc:
        return _refused(exc)
    await _desk_changed(request, conversation_id)
    return {"note": note}


@router.post("/api/agent/conversations/{conversation_id}/labels", response_model=OPEN_JSON)
async def add_label(
    conversation_id: PathId, body: LabelBody, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    try:
        found = await _run(
            svc.change_label, session_factory_of(request), conversation_id, body.label, user, add=True
        )
    except ConsoleError as exc:
        return _refused(exc)
    await _desk_changed(request, conversation_id)
    return {"labels": found}


@router.delete("/api/agent/conversations/{conversation_id}/labels/{label}", response_model=OPEN_JSON)
async def remove_label(
    conversation_id: PathId, label: str, request: Request, user: ConsoleUser = Depends(agent_only)
) -> dict[str, Any] | JSONResponse:
    if not 1 <= len(label) <= 32:
        return JSONResponse({"error": "invalid_label", "message": "A label has 1 to 32 characters."}, 422)
    try:
        found = await _run(
            svc.change_label, session_factory_of(request), conversation_id, label, user, add=False
        )
    except ConsoleError as exc:
        return _refused(exc)
    await _desk_changed(request, conversation_id)
    return {"labels": found}


@router.get("/api/agent/canned", response_model=OPEN_JSON)
async def canned_list(request: Request, user: ConsoleUser = Depends(agent_only)) -> dict[str, Any]:
    return {
        "items": await _run(svc.canned_replies, session_factory_of(request)),
        "variables": list(canned.VARIABLES),
        "can_manage": user.can("manager"),
    }


@router.post("/api/agent/canned", response_model=OPEN_JSON)
async def canned_create(
    body: CannedBody, request: Request, user: ConsoleUser = Depends(managers_only)
) -> dict[str, Any] | JSONResponse:
    try:
        return {"item": await _run(svc.save_canned, session_factory_of(request), body.fields(), user)}
    except ConsoleError as exc:
        return _refused(exc)


@router.put("/api/agent/canned/{reply_id}", response_model=OPEN_JSON)
async def canned_update(
    reply_id: PathId, body: CannedBody, request: Request, user: ConsoleUser = Depends(managers_only)
) -> dict[str, Any] | JSONResponse:
    try:
        return {
            "item": await _run(svc.save_canned, session_factory_of(request), body.fields(), user, reply_id)
        }
    except ConsoleError as exc:
        return _refused(exc)


@router.delete("/api/agent/canned/{reply_id}", response_model=OPEN_JSON)
async def canned_delete(
    reply_id: PathId, request: Request, user: ConsoleUser = Depends(managers_only)
) -> dict[str, Any] | JSONResponse:
    try:
        await _run(svc.delete_canned, session_factory_of(request), reply_id, user)
    except ConsoleError as exc:
        return _refused(exc)
    return {"ok": True}


@router.get("/api/agent/conversations/{conversation_id}/canned/{reply_id}", response_model=OPEN_JSON)
async def canned_filled(
    conversation_id: PathId, reply_id: PathId, request: Request, user: ConsoleUser = Depends(agent_only)
) -> svc.FilledReply | JSONResponse:
    try:
        return await _run(svc.fill_canned, session_factory_of(request), conversation_id, reply_id, user)
    except ConsoleError as exc:
        return _refused(exc)
