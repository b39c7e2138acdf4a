"""Web consoles for agents (``/agent``), trainers (``/trainer``) and managers (``/analytics``),
their JSON APIs, sign-in, and the widget's CSAT endpoint. ``install(app)`` mounts everything."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

CONSOLE_WEB = Path(__file__).resolve().parents[1] / "web" / "console"


def install(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles

    from gateway.console import (
        csat,
        routes_agent,
        routes_analytics,
        routes_auth,
        routes_desk,
        routes_routing,
        routes_trainer,
    )

    for module in (
        routes_auth,
        routes_agent,
        routes_desk,
        routes_routing,
        routes_trainer,
        routes_analytics,
        csat,
    ):
        app.include_router(module.router)
    from gateway.console import routes_live  # issue 22: typing, read state, display names

    app.include_router(routes_live.router)
    app.mount("/console/static", StaticFiles(directory=CONSOLE_WEB / "static"), name="console-static")
    app.mount("/console/vendor", StaticFiles(directory=CONSOLE_WEB / "vendor"), name="console-vendor")
