"""``python -m bot.action_server``: the rasa-sdk action server, for Rasa only.

rasa-sdk's own ``python -m rasa_sdk`` answers any local caller (and any web page in a browser
on the same host, through a ``text/plain`` post). This entry builds the same Sanic app with
:func:`rasa_sdk.endpoint.create_app` and puts a request middleware in front of it:

* every route but ``/health`` needs the header ``X-Lumen-Action-Token`` equal to
  ``settings.action_token`` (``ACTION_SERVER_TOKEN`` or ``var/secrets/action_token``; Rasa sends it
  from endpoints.yml), compared in constant time; otherwise 401;
* a POST must be ``Content-Type: application/json`` (else 415) and at most ``MAX_BODY_BYTES``;
* CORS is off (no ``Access-Control-Allow-Origin``).

The actions are loaded by rasa-sdk's loader (``ActionExecutor.register_package("actions")``);
this module never imports ``actions/`` itself. The token comes from the environment or the
secrets file, never from the command line. Listens on 127.0.0.1 (``SANIC_HOST`` overrides).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from typing import Any

TOKEN_HEADER = "X-Lumen-Action-Token"
OPEN_PATHS = ("/health",)
MAX_BODY_BYTES = 16 * 1024 * 1024
logger = logging.getLogger(__name__)


def check_request(method: str, path: str, headers: Any, token: str) -> tuple[int, str] | None:
    """``(status, error)`` for a request to refuse, else None."""
    if path in OPEN_PATHS and method in ("GET", "HEAD"):
        return None
    supplied = headers.get(TOKEN_HEADER) or ""
    if not token or not hmac.compare_digest(supplied.encode(), token.encode()):
        return 401, "missing or wrong action-server token"
    if method == "POST":
        media = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media != "application/json":
            return 415, "only application/json is accepted"
        try:
            if int(headers.get("Content-Length") or 0) > MAX_BODY_BYTES:
                return 413, "body too large"
        except ValueError:
            return 400, "bad Content-Length"
    return None


def guard(app: Any, token: str) -> Any:
    """Install the token / content-type check on a rasa-sdk Sanic app."""
    from sanic import response

    async def refuse_unauthorised(request: Any) -> Any:
        refused = check_request(request.method, request.path, request.headers, token)
        if refused is not None:
            status, error = refused
            logger.warning("action server: refused %s %s (%s)", request.method, request.path, error)
            return response.json({"error": error}, status=status)
        return None

    app.register_middleware(refuse_unauthorised, "request")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    return app


def make_executor() -> Any:
    """rasa-sdk's executor, accepting a call without a domain as Rasa 3.6 sends it.

    With ``enable_selective_domain`` (endpoints.yml) Rasa 3.6 leaves the domain out of the call for
    every action not marked ``send_domain: true`` and sends no ``domain_digest``. rasa-sdk 3.11+
    refuses such a call (``ActionMissingDomainException``, part of Rasa Pro's digest protocol), so
    here it runs with an empty domain instead; calls that carry a domain or a digest are unchanged."""
    from rasa_sdk.executor import ActionExecutor

    class SelectiveDomainExecutor(ActionExecutor):
        def update_and_return_domain(self, payload: dict, action_name: str) -> Any:
            if payload.get("domain") is None and payload.get("domain_digest") is None:
                return {}
            return super().update_and_return_domain(payload, action_name)

    return SelectiveDomainExecutor()


def build_app(actions_package: str, token: str) -> Any:
    """The guarded Sanic app serving ``actions_package`` (loaded by rasa-sdk)."""
    from rasa_sdk.endpoint import create_app

    executor = make_executor()
    executor.register_package(actions_package)
    return guard(create_app(executor, cors_origins=None), token)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="actions", help="package of the actions")
    parser.add_argument("-p", "--port", type=int, default=None, help="default: ACTION_SERVER_PORT")
    args = parser.parse_args(argv)

    from rasa_sdk import utils
    from sanic import Sanic

    from common.settings import get_settings

    settings = get_settings()
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = build_app(args.actions, settings.action_token)
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    port = args.port or settings.action_server_port
    logger.info("action server on http://%s:%s (token required)", host, port)
    app.prepare(host=host, port=port, single_process=True, access_log=False)
    Sanic.serve_single(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
