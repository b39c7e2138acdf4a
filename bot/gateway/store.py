"""Units of work of the chat path over the CRM store.

Each public method opens one session, calls the CRM repository and commits. The methods are
blocking and are called through ``asyncio.to_thread``. Bot replies are stored with client ids
derived from the customer message they answer (``<client id>:r<n>``), which links each reply to
its question and makes a replayed turn idempotent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.models import Message
from crm.repo import conversations as repo
from crm.repo.customers import find_customer_by_external_ref
from crm.repo.kb import record_unanswered

REPLY_SEPARATOR = ":r"


@dataclass
class ConversationRef:
    id: int
    token: str
    language: str | None
    status: str


def _ref(conversation: Any) -> ConversationRef:
    return ConversationRef(
        conversation.id, conversation.token, conversation.language, conversation.status
    )


def message_view(message: Message) -> dict[str, Any]:
    """The JSON shape of a stored message as the widget and consoles see it."""
    payload = message.payload or {}
    view: dict[str, Any] = {
        "id": message.id,
        "client_id": message.client_id,
        "direction": message.direction,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
    }
    for key in ("buttons", "custom", "notice"):
        if payload.get(key):
            view[key] = payload[key]
    return view


def _bot_payload(rasa_message: dict[str, Any]) -> dict[str, Any] | None:
    payload = {
        key: rasa_message[key]
        for key in ("buttons", "custom", "image", "attachment")
        if rasa_message.get(key)
    }
    return payload or None


class ChatStore:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def create_conversation(self) -> ConversationRef:
        with session_scope(self._factory) as session:
            conversation = repo.create_conversation(
                session, token=repo.new_conversation_token(), channel="web"
            )
            return _ref(conversation)

    def find_conversation(self, token: str) -> ConversationRef | None:
        with session_scope(self._factory) as session:
            conversation = repo.get_conversation_by_token(session, token)
            return _ref(conversation) if conversation else None

    def history(self, conversation_id: int) -> list[dict[str, Any]]:
        with session_scope(self._factory) as session:
            return [message_view(m) for m in repo.list_messages(session, conversation_id, limit=1000)]

    def record_customer_message(
        self, conversation_id: int, client_id: str, text: str, language: str
    ) -> tuple[dict[str, Any], bool, str]:
        """Store the message; return its view, whether it is new, and the conversation status."""
        with session_scope(self._factory) as session:
            message, created = repo.add_message(
                session,
                conversation_id=conversation_id,
                client_id=client_id,
                direction="customer",
                text=text,
                language=language,
            )
            if created:
                repo.set_conversation_language(session, conversation_id, language)
            status = repo.get_conversation(session, conversation_id).status
            return message_view(message), created, status

    def record_agent_message(
        self, conversation_id: int, client_id: str, text: str, agent_id: int
    ) -> dict[str, Any]:
        with session_scope(self._factory) as session:
            message, _ = repo.add_message(
                session,
                conversation_id=conversation_id,
                client_id=client_id,
                direction="agent",
                text=text,
                payload={"agent_id": agent_id},
            )
            return message_view(message)

    def transition(
        self,
        conversation_id: int,
        from_statuses: tuple[str, ...],
        to_status: str,
        *,
        agent_id: int | None = None,
        reason: str | None = None,
    ) -> bool:
        with session_scope(self._factory) as session:
            return repo.transition_conversation(
                session,
                conversation_id,
                from_statuses=from_statuses,
                to_status=to_status,
                agent_id=agent_id,
                handoff_reason=reason,
            )

    def attach_customer(self, conversation_id: int, customer_ref: str) -> int | None:
        """Link the conversation to the customer with this external reference, if one exists."""
        with session_scope(self._factory) as session:
            customer = find_customer_by_external_ref(session, customer_ref)
            if customer is None:
                return None
            repo.attach_customer(session, conversation_id, customer.id)
            return customer.id

    def replies_to(self, conversation_id: int, client_id: str) -> list[dict[str, Any]]:
        prefix = f"{client_id}{REPLY_SEPARATOR}"
        with session_scope(self._factory) as session:
            return [
                message_view(m)
                for m in repo.list_messages(session, conversation_id, limit=1000)
                if m.client_id.startswith(prefix)
            ]

    def record_bot_turn(
        self,
        conversation_id: int,
        customer_message_id: int,
        client_id: str,
        turn: Any,
        latency_ms: float,
    ) -> list[dict[str, Any]]:
        with session_scope(self._factory) as session:
            question = repo.update_message_nlu(
                session,
                customer_message_id,
                intent=turn.intent,
                confidence=turn.confidence,
                language=turn.language,
                kb_entry_id=turn.kb_entry_id,
                kb_score=turn.kb_score,
            )
            if turn.kb_decision == "fallback":
                record_unanswered(
                    session,
                    text=question.text,
                    language=turn.language or question.language or "en",
                    best_score=turn.kb_score,
                    conversation_id=conversation_id,
                    message_id=customer_message_id,
                )
            views = []
            for index, rasa_message in enumerate(turn.messages):
                message, _ = repo.add_message(
                    session,
                    conversation_id=conversation_id,
                    client_id=f"{client_id}{REPLY_SEPARATOR}{index}",
                    direction="bot",
                    text=rasa_message.get("text") or "",
                    language=turn.language,
                    intent=turn.intent,
                    confidence=turn.confidence,
                    kb_entry_id=turn.kb_entry_id,
                    kb_score=turn.kb_score,
                    latency_ms=round(latency_ms),
                    payload=_bot_payload(rasa_message),
                )
                views.append(message_view(message))
            return views

    def record_system_reply(
        self, conversation_id: int, client_id: str, language: str, reason: str
    ) -> list[dict[str, Any]]:
        """Store and return the apology shown when the assistant cannot answer right now."""
        from bot.gateway.notices import unavailable_text

        with session_scope(self._factory) as session:
            message, _ = repo.add_message(
                session,
                conversation_id=conversation_id,
                client_id=f"{client_id}{REPLY_SEPARATOR}0",
                direction="system",
                text=unavailable_text(language),
                language=language,
                payload={"notice": reason},
            )
            return [message_view(message)]
