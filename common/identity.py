"""Signed customer identity passed by the website to the widget.

Token format: ``base64url(JSON {"ref": <customer external ref>, "exp": <unix time>}) + "." +
base64url(HMAC-SHA256(secret, payload))``. The shop's backend signs it with the shared secret
(``IDENTITY_SECRET``); a forged, malformed or expired token is ignored and logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time

logger = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_identity(secret: str, customer_ref: str, ttl_s: int = 3600, now: float | None = None) -> str:
    payload = json.dumps(
        {"ref": customer_ref, "exp": int((now or time.time()) + ttl_s)}, separators=(",", ":")
    ).encode()
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def verify_identity(secret: str, token: str | None, now: float | None = None) -> str | None:
    """Return the customer reference of a valid token, else ``None`` (and log why)."""
    if not token:
        return None
    try:
        payload_part, mac_part = token.split(".", 1)
        payload = _unb64(payload_part)
        expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac_part)):
            logger.warning("identity: forged token ignored")
            return None
        claims = json.loads(payload)
        if not isinstance(claims, dict) or not isinstance(claims.get("ref"), str):
            raise ValueError("claims")
        if float(claims.get("exp", 0)) < (now or time.time()):
            logger.warning("identity: expired token ignored")
            return None
        ref: str = claims["ref"]
        return ref
    except (ValueError, TypeError, UnicodeDecodeError):
        logger.warning("identity: malformed token ignored")
        return None
