"""Input and output guards shared by every gateway route (issue 18).

* :class:`CleanModel`: request bodies whose strings may not hold lone UTF-16 surrogates
  (``"\\ud800"`` is valid JSON for Python's parser but cannot be encoded as UTF-8, so it would
  break every later response that shows it).
* :data:`DbId` / :data:`PathId` / :data:`QueryId`: ids that fit a 64-bit signed integer column.
* :class:`SafeJSONResponse` and :func:`dumps`: JSON that never fails to encode, even for text
  stored before these checks existed (lone surrogates are written as ``\\uXXXX`` escapes).
* :func:`install_error_handlers`: too deep JSON and numbers too large for the database are
  clear 4xx answers, validation errors never echo the input.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

logger = logging.getLogger(__name__)
MAX_ID = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
# The response model of routes that answer JSON data or a refusal (a Response): FastAPI serialises
# the data through pydantic as for a route annotated ``-> Any``, whatever the precise annotation.
OPEN_JSON: Any = Any
DbId = Annotated[int, Field(ge=0, le=MAX_ID, strict=True)]
PathId = Annotated[int, Path(ge=0, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=0, le=MAX_ID)]


def has_lone_surrogate(value: object, depth: int = 0) -> bool:
    """True when a string anywhere in ``value`` (dicts, lists) holds a surrogate code point."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if depth > 32:
        return False
    if isinstance(value, dict):
        return any(
            has_lone_surrogate(k, depth + 1) or has_lone_surrogate(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return any(has_lone_surrogate(v, depth + 1) for v in value)
    return False


class CleanModel(BaseModel):
    """A request body that refuses text with lone surrogates (422)."""

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogates(cls, data: object) -> object:
        if has_lone_surrogate(data):
            raise ValueError("text must be valid Unicode (no lone surrogates)")
        return data


def dumps(content: object) -> str:
    """Compact JSON; falls back to ASCII escapes when some text cannot be encoded as UTF-8."""
    text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text


class SafeJSONResponse(JSONResponse):
    def render(self, content: object) -> bytes:
        return dumps(content).encode("utf-8")


def _problem(status: int, error: str, message: str, **extra: object) -> SafeJSONResponse:
    return SafeJSONResponse({"error": error, "message": message, **extra}, status_code=status)


async def _invalid(request: Request, exc: RequestValidationError) -> SafeJSONResponse:
    details = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", ""))[:200],
            "type": e.get("type", ""),
        }
        for e in exc.errors()[:20]
    ]
    return _problem(422, "invalid_request", "The request is not valid.", fields=details)


async def _too_deep(request: Request, exc: RecursionError) -> SafeJSONResponse:
    return _problem(400, "invalid_json", "JSON nested too deeply.")


async def _overflow(request: Request, exc: OverflowError) -> SafeJSONResponse:
    logger.info("refused a number out of range on %s", request.url.path)
    return _problem(422, "out_of_range", "A number or date is out of range.")


def install_error_handlers(app: FastAPI) -> None:
    # FastAPI's decorator form: Starlette types add_exception_handler for handlers of any Exception.
    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(RecursionError)(_too_deep)
    app.exception_handler(OverflowError)(_overflow)
