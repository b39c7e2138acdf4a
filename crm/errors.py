"""Exceptions raised by the CRM package; their ``str()`` is always a single line."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL


class CRMError(Exception):
    """Base class; ``str(exc)`` is a one-line, credential-free message fit for a CLI."""


class CRMConfigError(CRMError):
    """The database URL is malformed, the server is unreachable or the credentials are wrong."""


class CRMSchemaError(CRMError):
    """The database schema does not match this code (missing, older or newer revision)."""


class CRMNotFound(CRMError):
    """A referenced row (customer, conversation, ...) does not exist."""


_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def redact_url(url: object) -> str:
    """Render a database URL without its password (works for str and ``sqlalchemy.URL``)."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return _PASSWORD_IN_URL.sub(r"\1***@", str(url))


def one_line(text: object, limit: int = 300) -> str:
    """Collapse whitespace/newlines so a driver message fits on one line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
