"""The one error type of the console services."""

from __future__ import annotations


class ConsoleError(Exception):
    """A refused console action, reported as ``{"error": code, "message": ...}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
