"""Keep credentials out of the gateway's logs (issue 18).

Conversation tokens travel in URLs (``/ws?token=…``, ``/api/conversations/<token>/…``) and so
do signed identity tokens (``/ws?identity=…``) and Rasa's API token (``?token=…``); uvicorn's
access and WebSocket lines would write them to ``var/log/gateway.log``. :func:`install` wraps
the log-record factory, like :func:`crm.privacy_mask.install_log_masking`, so every record of
the process, whichever handler writes it, has them replaced by ``***``. String arguments are
redacted one by one, so formatters that read ``record.args`` by position (uvicorn's access
log) keep working.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS = (
    (re.compile(r"([?&;](?:token|identity|access_token)=)[^&\s\"'#]+", re.I), r"\1***"),
    (re.compile(r"(/api/conversations/)[^/\s\"'?#]+"), r"\1***"),
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\1***"),
)
_installed = False


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_value(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redact_value(v) for k, v in record.args.items()}
    return record


def install() -> None:
    """Redact every log record this process creates from now on. Idempotent."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
