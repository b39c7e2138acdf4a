"""``/login`` (form with its own CSRF token), ``/logout`` and ``/api/console/me``."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from gateway.console import i18n, users
from gateway.console.auth import (
    COOKIE,
    HOME,
    LOGIN_COOKIE,
    SESSION_MAX_AGE_S,
    ConsoleUser,
    CookieOptions,
    check_login_token,
    cookie_options,
    current_user,
    login_token,
    read_session,
    require,
    safe_next,
    same_origin,
    session_cookie,
)
from gateway.console.pages import render
from gateway.state import session_factory_of, settings_of

router = APIRouter()
MESSAGES = {
    "invalid": "Wrong user name or password.",
    "missing": "Enter your user name and password.",
    "throttled": "Too many failed attempts. Try again in a little while.",
    "dev_account": "Development accounts are disabled in production.",
    "csrf": "Your sign-in form expired. Please try again.",
}


def _login_page(request: Request, next_url: str, error: str = "", status: int = 200) -> Response:
    settings = settings_of(request)
    cookie, form_value = login_token(settings)
    response = render(
        request,
        "login.html",
        {
            "next": next_url,
            "error": MESSAGES.get(error, ""),
            "login_csrf": form_value,
            "production": settings.is_production,
        },
        status,
    )
    options: CookieOptions = {**cookie_options(settings), "samesite": "strict"}
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, **options)
    return response


@router.get("/login", include_in_schema=False)
async def login_form(request: Request, next: str = "") -> Response:
    user = await current_user(request)
    if user is not None:
        return RedirectResponse(safe_next(next, HOME[user.role]), status_code=303)
    return _login_page(request, safe_next(next, ""))


@router.post("/login", include_in_schema=False)
async def login_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form(""),
) -> Response:
    settings = settings_of(request)
    if not check_login_token(settings, request.cookies.get(LOGIN_COOKIE), csrf):
        return _login_page(request, next, "csrf", 403)
    client = request.client.host if request.client else ""
    row, reason = await asyncio.to_thread(
        users.sign_in,
        session_factory_of(request),
        settings,
        username,
        password[:256],
        client,
        request.headers.get("user-agent", ""),
    )
    if row is None:
        if reason.startswith("throttled:"):
            response = _login_page(request, next, "throttled", 429)
            response.headers["Retry-After"] = reason.split(":", 1)[1]
            return response
        return _login_page(request, next, reason, 401)
    response = RedirectResponse(safe_next(next, HOME[row["role"]]), status_code=303)
    response.set_cookie(
        COOKIE, session_cookie(settings, row["token"]), max_age=SESSION_MAX_AGE_S, **cookie_options(settings)
    )
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, csrf: str = Form("")) -> Response:
    """A plain form post: the CSRF token comes as a form field. Revokes the session on the
    server, so a copy of the cookie stops working too."""
    user = await current_user(request)
    if user is not None:
        if not same_origin(request) or not csrf or not hmac.compare_digest(csrf, user.csrf):
            return Response(status_code=403)
        token = read_session(settings_of(request), request.cookies.get(COOKIE))
        client = request.client.host if request.client else ""
        await asyncio.to_thread(
            users.end_session, session_factory_of(request), token or "", user.username, client
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/api/console/me")
async def me(user: ConsoleUser = Depends(require("agent", "trainer", "manager"))) -> dict[str, Any]:
    return {**user.public(), "csrf": user.csrf}


class LanguageBody(BaseModel):
    language: str


@router.post("/api/console/language")
async def set_language(
    body: LanguageBody, request: Request, user: ConsoleUser = Depends(require("agent", "trainer", "manager"))
) -> Response:
    """Remember this user's console language (in this browser, for a year)."""
    if body.language not in i18n.LANGUAGES:
        return JSONResponse(
            {"error": "invalid_language", "message": f"Choose one of {', '.join(i18n.LANGUAGES)}."},
            status_code=422,
        )
    response = JSONResponse({"language": body.language})
    response.set_cookie(
        i18n.cookie_name(user.id),
        body.language,
        max_age=i18n.COOKIE_MAX_AGE,
        **cookie_options(settings_of(request)),
    )
    return response
