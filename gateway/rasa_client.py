"""Client for the Rasa server's token-protected gateway channel (see bot/rasa_channel.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


class RasaUnavailable(RuntimeError):
    """Rasa could not be reached or answered with an error."""


@dataclass
class RasaTurn:
    messages: list[dict[str, Any]]
    intent: str | None = None
    confidence: float | None = None
    language: str | None = None
    kb_entry_id: str | None = None
    kb_score: float | None = None
    kb_decision: str | None = None
    handoff_reason: str | None = None
    handoff_summary: dict[str, Any] | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RasaParse:
    intent: str | None
    confidence: float | None
    entities: list[dict[str, Any]] = field(default_factory=list)


class Assistant(Protocol):
    """The bot as the chat path sees it: :class:`RasaClient`, or a test's fake."""

    async def send(
        self, sender: str, text: str, *, metadata: dict[str, Any], message_id: str
    ) -> RasaTurn: ...

    async def parse(self, text: str) -> RasaParse: ...

    async def ready(self, deep: bool = False) -> bool: ...


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self._token = token
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, sender: str, text: str, *, metadata: dict[str, Any], message_id: str) -> RasaTurn:
        try:
            reply = await self._client.post(
                "/webhooks/gateway/webhook",
                json={
                    "sender": sender,
                    "message": text,
                    "metadata": metadata,
                    "message_id": message_id,
                },
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa server unreachable: {exc.__class__.__name__}") from exc
        if reply.status_code != 200:
            raise RasaUnavailable(f"Rasa server answered HTTP {reply.status_code}")
        body = reply.json()
        turn = body.get("turn") or {}
        slots = turn.get("slots") or {}
        return RasaTurn(
            messages=body.get("messages") or [],
            intent=turn.get("intent"),
            confidence=turn.get("confidence"),
            language=slots.get("language"),
            kb_entry_id=slots.get("kb_entry_id"),
            kb_score=slots.get("kb_score"),
            kb_decision=slots.get("kb_decision"),
            handoff_reason=slots.get("handoff_reason"),
            handoff_summary=slots.get("handoff_summary"),
            entities=turn.get("entities") or [],
        )

    async def parse(self, text: str) -> RasaParse:
        """Rasa's NLU alone (HTTP API ``POST /model/parse``, ``RASA_TOKEN``): the tracker does
        not move and no action runs. For messages sent while a person has the chat."""
        try:
            reply = await self._client.post(
                "/model/parse", params={"token": self._token}, json={"text": text}
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa server unreachable: {exc.__class__.__name__}") from exc
        if reply.status_code != 200:
            raise RasaUnavailable(f"Rasa server answered HTTP {reply.status_code}")
        body = reply.json()
        intent = body.get("intent") or {}
        return RasaParse(intent.get("name"), intent.get("confidence"), body.get("entities") or [])

    async def ready(self, deep: bool = False) -> bool:
        """Rasa answers; with ``deep``, its action server is healthy too."""
        try:
            reply = await self._client.get("/webhooks/gateway/", params={"deep": "1"} if deep else None)
        except httpx.HTTPError:
            return False
        return reply.status_code == 200


class RasaTracker:
    """Blocking client of Rasa's HTTP API (``rasa run --enable-api --auth-token``, which
    scripts/services.sh starts with RASA_TOKEN): append events to a conversation's tracker.

    The follow-up worker uses it so that the customer's yes/no to a follow-up it sent reaches
    ``action_follow_up_answer`` (the rules in data/rules/followup.yml need ``flow_stage``).
    """

    def __init__(self, base_url: str, token: str, timeout: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        try:
            reply = httpx.post(
                f"{self._base_url}/conversations/{sender}/tracker/events",
                params={"token": self._token, "include_events": "NONE"},
                json=events,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa server unreachable: {exc.__class__.__name__}") from exc
        if reply.status_code != 200:
            raise RasaUnavailable(f"Rasa server answered HTTP {reply.status_code}")
