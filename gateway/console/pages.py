"""HTML pages of the consoles: Jinja2 templates (autoescaped) served with strict headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from gateway.console import i18n
from gateway.console.auth import ConsoleUser, current_user
from gateway.http_guard import safe_host

WEB_DIR = Path(__file__).resolve().parents[1] / "web" / "console"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws://{host} wss://{host}; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
NAV = [
    ("agent", "/agent", ("agent", "manager")),
    ("trainer", "/trainer", ("trainer",)),
    ("analytics", "/analytics", ("manager",)),
]


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render with the user's console language: ``lang``, ``t`` and the page's ``catalogue``."""
    user = context.get("user")
    lang = i18n.language_for(request, user.id if user is not None else None)
    context = {
        "lang": lang,
        "t": i18n.translator(lang),
        "catalogue": i18n.catalogue(lang),
        "ui_languages": LANGUAGE_NAMES,
        **context,
    }
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = CSP.format(host=safe_host(request))
    return response


LANGUAGE_NAMES = [("zh-Hant", "繁體"), ("zh-Hans", "简体"), ("en", "EN")]  # short: the rail is narrow


def nav_for(user: ConsoleUser) -> list[dict[str, str]]:
    return [{"key": key, "href": href} for key, href, roles in NAV if user.can(*roles)]


async def page(
    request: Request, template: str, roles: tuple[str, ...], active: str, extra: dict[str, Any] | None = None
) -> Response:
    """Render a console page for a signed-in user with one of ``roles``; else redirect or 403."""
    user = await current_user(request)
    if user is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if not user.can(*roles):
        return render(
            request,
            "forbidden.html",
            {"user": user, "nav": nav_for(user), "active": "", "csrf": user.csrf},
            403,
        )
    context = {"user": user, "nav": nav_for(user), "active": active, "csrf": user.csrf, **(extra or {})}
    return render(request, template, context)
