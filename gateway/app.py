"""ASGI application factory for the gateway."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from common.settings import Settings, get_settings

if TYPE_CHECKING:
    from gateway.rasa_client import RasaClient
    from gateway.store import ChatStore

WEB_DIR = Path(__file__).resolve().parent / "web"
OUTBOX_REPLAY_INTERVAL_S = 2.0
logger = logging.getLogger(__name__)


async def replay_outbox_forever(store: ChatStore) -> None:
    """Write messages queued during a database outage back as soon as it answers again."""
    while True:
        await asyncio.sleep(OUTBOX_REPLAY_INTERVAL_S)
        if store.outbox.has_pending():
            try:
                await asyncio.to_thread(store.replay_outbox)
            except Exception:
                logger.exception("outbox replay failed; will retry")


SCRIPT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def page_headers(request: Request, html: str) -> dict[str, str]:
    """Strict headers for the demo page: its own inline ``<style>`` by hash, scripts and styles
    from this origin only, the chat's WebSocket to this host only, never framed."""
    import base64
    import hashlib
    import re

    styles = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    )
    from gateway.http_guard import safe_host

    host = safe_host(request)
    policy = (
        f"default-src 'none'; script-src 'self'; style-src 'self' {styles}; img-src 'self' data: blob:; "
        f"connect-src 'self' ws://{host} wss://{host}; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from crm.db import make_engine, make_session_factory
        from crm.migrate import check
        from crm.outbox import Outbox, default_outbox_path
        from gateway.chat import ChatService
        from gateway.rasa_client import RasaClient
        from gateway.redis_hub import make_hub
        from gateway.store import ChatStore

        check(settings.database_url)
        engine = make_engine(settings.database_url)
        rasa = RasaClient(settings.rasa_url, settings.rasa_token)
        factory = make_session_factory(engine)
        hub = make_hub(settings.redis_url)  # shared through Redis when REDIS_URL is set
        chat = ChatService(
            ChatStore(factory, Outbox(default_outbox_path())), rasa, hub, settings.max_message_chars
        )
        # Read back through gateway.state (typed accessors).
        app.state.rasa = rasa
        app.state.settings = settings
        app.state.session_factory = factory
        app.state.chat = chat
        replayer = asyncio.create_task(replay_outbox_forever(chat.store))
        from gateway.waiting import answer_waiting_forever

        answerer = asyncio.create_task(answer_waiting_forever(chat, rasa))
        from gateway.followups import make_worker

        follow_ups = app.state.follow_ups = make_worker(settings, factory, chat.hub)
        follow_ups.start()  # not when FOLLOWUP_INTERVAL_S is 0
        from gateway.console.routes_routing import route_forever

        router_loop = (
            asyncio.create_task(route_forever(factory, chat.hub, settings.routing_interval_s))
            if settings.routing_interval_s > 0
            else None
        )
        try:
            yield
        finally:
            await follow_ups.stop()
            replayer.cancel()
            answerer.cancel()
            if router_loop is not None:
                router_loop.cancel()
            await rasa.close()
            await hub.close()
            engine.dispose()

    from gateway.http_guard import GuardMiddleware
    from gateway.ratelimit import RateLimiter
    from gateway.validation import SafeJSONResponse, install_error_handlers

    app = FastAPI(
        title="Lumen support gateway",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None if settings.is_production else "/openapi.json",
        default_response_class=SafeJSONResponse,
    )
    app.add_middleware(GuardMiddleware)
    install_error_handlers(app)
    app.state.rate_limiter = RateLimiter(enabled=settings.rate_limits)

    from gateway.routes_chat import router as chat_router

    app.include_router(chat_router)

    from gateway.routes_attachments import router as attachments_router

    app.include_router(attachments_router)

    from gateway.console import install as install_consoles

    install_consoles(app)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.get("/", include_in_schema=False)
    async def demo_page(request: Request) -> HTMLResponse:
        """The demo shop. In development, ``/?customer=<external ref>`` plays a signed-in
        customer: the page embeds an identity token signed as the shop's backend would."""
        from html import escape

        from common.identity import sign_identity

        html = (WEB_DIR / "demo.html").read_text(encoding="utf-8")
        customer = request.query_params.get("customer", "")[:64]
        if customer and not settings.is_production:
            token = sign_identity(settings.identity_secret, customer)
            html = html.replace(
                '<script src="/widget.js" defer></script>',
                f'<script src="/widget.js" data-identity="{escape(token)}" defer></script>',
            )
        return HTMLResponse(html, headers=page_headers(request, html))

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(WEB_DIR / "static" / "favicon.ico", media_type="image/x-icon")

    @app.get("/widget.js", include_in_schema=False)
    async def widget_script() -> FileResponse:
        return FileResponse(
            WEB_DIR / "static" / "widget.js", media_type="text/javascript", headers=SCRIPT_HEADERS
        )

    @app.get("/healthz")
    async def health() -> JSONResponse:
        rasa: RasaClient = app.state.rasa
        rasa_ok = await rasa.ready()
        hub_state = app.state.chat.hub.state()
        return JSONResponse({"gateway": "ok", "rasa": "ok" if rasa_ok else "down", "hub": hub_state})

    return app
