"""``python -m gateway``: serve the gateway with uvicorn on GATEWAY_HOST:GATEWAY_PORT."""

from __future__ import annotations

import sys

import uvicorn

from common.settings import get_settings


def main() -> int:
    settings = get_settings()
    from crm.errors import CRMError
    from crm.privacy_mask import install_log_masking

    install_log_masking()
    from gateway import logredact

    logredact.install()

    try:
        from gateway.app import create_app

        app = create_app(settings)
        uvicorn.run(
            app,
            host=settings.gateway_host,
            port=settings.gateway_port,
            log_level="info",
            ws_max_size=256 * 1024,
        )
    except CRMError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
