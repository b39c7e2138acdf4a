"""Trainer console: ``/trainer`` page and its JSON API under ``/api/trainer``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from common.lang import to_simplified, to_traditional
from gateway.console import inbox as inbox_svc
from gateway.console import trainer_service as svc
from gateway.console.auth import ConsoleUser, require
from gateway.console.errors import ConsoleError
from gateway.console.kbsearch import get_kb
from gateway.console.pages import page
from gateway.console.rebuild import RebuildStatus, get_rebuilder
from gateway.state import session_factory_of
from gateway.validation import OPEN_JSON, CleanModel, DbId, QueryId
from kbaccess import SearchReport

router = APIRouter()
TRAINER_ROLES = ("trainer",)
trainer_only = require(*TRAINER_ROLES)
P = ParamSpec("P")
R = TypeVar("R")


class EntryBody(CleanModel):
    key: str = Field(default="", max_length=64)
    category: str = Field(default="", max_length=60)
    questions: dict[str, list[str]]
    answers: dict[str, str]
    note: str = Field(default="", max_length=500)
    base_version: DbId | None = None
    from_questions: list[DbId] = Field(default_factory=list, max_length=500)


class StatusBody(CleanModel):
    status: str


class ParaphraseBody(CleanModel):
    ids: list[DbId] = Field(max_length=500)
    key: str = Field(max_length=64)
    text: str = Field(max_length=300)
    language: str


class IdsBody(CleanModel):
    ids: list[DbId] = Field(max_length=500)


class TextBody(CleanModel):
    text: str = Field(max_length=2000)
    language: str | None = None


async def _call(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R | JSONResponse:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except ConsoleError as exc:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)


@router.get("/trainer", include_in_schema=False)
async def trainer_page(request: Request) -> Response:
    get_kb(request.app).warm()
    return await page(request, "trainer.html", TRAINER_ROLES, "trainer")


@router.get("/api/trainer/entries", response_model=OPEN_JSON)
async def entries(
    request: Request, q: str = "", status: str = "", user: ConsoleUser = Depends(trainer_only)
) -> dict[str, Any]:
    return {"items": await _call(svc.list_entries, session_factory_of(request), q[:200], status)}


@router.get("/api/trainer/entries/{key}", response_model=OPEN_JSON)
async def entry(
    key: str, request: Request, user: ConsoleUser = Depends(trainer_only)
) -> dict[str, Any] | JSONResponse:
    return await _call(svc.entry_detail, session_factory_of(request), key)


@router.post("/api/trainer/entries", response_model=OPEN_JSON)
async def create(
    body: EntryBody, request: Request, user: ConsoleUser = Depends(trainer_only)
) -> dict[str, Any] | JSONResponse:
    return await _call(
        svc.save_entry, session_factory_of(request), user, body.key, body.model_dump(), create=True
    )


@router.put("/api/trainer/entries/{key}", response_model=OPEN_JSON)
async def update(
    key: str, body: EntryBody, request: Request, user: ConsoleUser = Depends(trainer_only)
) -> dict[str, Any] | JSONResponse:
    return await _call(
        svc.save_entry, session_factory_of(request), user, key, body.model_dump(), create=False
    )


@router.post("/api/trainer/entries/{key}/status", response_model=OPEN_JSON)
async def status(
    key: str, body: StatusBody, request: Request, user: ConsoleUser = Depends(trainer_only)
) -> dict[str, Any] | JSONResponse:
    return await _call(svc.set_status, session_factory_of(request), user, key, body.status)


@router.get("/api/trainer/entries/{key}/diff", response_model=OPEN_JSON)
async def diff(
    key: str, a: QueryId, b: QueryId, request: Request, user: ConsoleUser = Depends(trainer_only)
) -> dict[str, Any] | JSONResponse:
    return await _call(svc.diff, session_factory_of(request), key, a, b)


@router.get("/api/trainer/inbox", response_model=OPEN_JSON)
async def inbox(request: Request, user: ConsoleUser = Depends(trainer_only)) -> dict[str, Any] | JSONResponse:
    kb = get_kb(request.app)
    embed = await asyncio.to_thread(kb.embedder)
    return await _call(inbox_svc.inbox, session_factory_of(request), embed, kb.closest_entry)


@router.post("/api/trainer/inbox/paraphrase", response_model=OPEN_JSON)
async def paraphrase(
    body: ParaphraseBody, request: Request, user: ConsoleUser = Depends(trainer_only)
) -> dict[str, Any] | JSONResponse:
    return await _call(
        inbox_svc.add_paraphrase,
        session_factory_of(request),
        user,
        body.ids,
        body.key,
        body.text,
        body.language,
    )


@router.post("/api/trainer/inbox/dismiss", response_model=OPEN_JSON)
async def dismiss(
    body: IdsBody, request: Request, user: ConsoleUser = Depends(trainer_only)
) -> dict[str, Any] | JSONResponse:
    return await _call(inbox_svc.dismiss, session_factory_of(request), user, body.ids)


@router.get("/api/trainer/rebuild", response_model=OPEN_JSON)
async def rebuild_status(request: Request, user: ConsoleUser = Depends(trainer_only)) -> RebuildStatus:
    return await asyncio.to_thread(get_rebuilder(request.app).status)


@router.post("/api/trainer/rebuild", response_model=OPEN_JSON)
async def rebuild(
    request: Request, user: ConsoleUser = Depends(trainer_only)
) -> RebuildStatus | JSONResponse:
    """Queue a rebuild for the KB worker (``python -m worker``); the page polls its progress."""
    try:
        return await asyncio.to_thread(get_rebuilder(request.app).start, user.username)
    except ConsoleError as exc:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)


@router.post("/api/trainer/try", response_model=OPEN_JSON)
async def try_it(
    body: TextBody, request: Request, user: ConsoleUser = Depends(trainer_only)
) -> SearchReport | JSONResponse:
    if not body.text.strip():
        return JSONResponse({"error": "empty", "message": "Type a question."}, status_code=422)
    return await asyncio.to_thread(get_kb(request.app).report, body.text, body.language, 5)


@router.post("/api/trainer/convert", response_model=OPEN_JSON)
async def convert(body: TextBody, user: ConsoleUser = Depends(trainer_only)) -> dict[str, str]:
    """Convert between Chinese scripts (``language`` is the target) to help fill both."""
    fn = to_simplified if body.language == "zh-Hans" else to_traditional
    return {"text": await asyncio.to_thread(fn, body.text)}
