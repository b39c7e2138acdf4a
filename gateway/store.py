"""Units of work of the chat path over the CRM store, with the durable outbox behind them.

Each public method opens one session, calls the CRM repository and commits; the methods block
and are called through ``asyncio.to_thread``. Bot replies are stored with client ids derived
from the customer message they answer (``<client id>:r<n>``), which links each reply to its
question and makes a replayed turn idempotent.

When the database is unreachable, customer and bot messages are appended to the fsync'd outbox
instead (:mod:`crm.outbox`) and the chat goes on; :meth:`ChatStore.replay_outbox` writes them
back in order once the database answers. While anything is queued, new messages queue behind it
so the stored order is the order of the conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.models import Conversation, Message
from crm.orm.base import utcnow
from crm.outbox import DB_DOWN_ERRORS, Outbox, make_entry, replay
from crm.repo import conversations as repo
from crm.repo import waiting as waiting_repo
from crm.repo.customers import find_customer_by_external_ref
from crm.repo.kb import record_unanswered

if TYPE_CHECKING:
    from gateway.rasa_client import RasaTurn

logger = logging.getLogger(__name__)
REPLY_SEPARATOR = ":r"
T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The database is down and the operation cannot be queued (e.g. opening a new chat)."""


@dataclass
class ConversationRef:
    id: int
    token: str
    language: str | None
    status: str


PayloadKey = Literal["buttons", "custom", "notice", "handoff", "button", "times", "agent_name", "upload"]
VIEW_PAYLOAD_KEYS: tuple[PayloadKey, ...] = (
    "buttons",
    "custom",
    "notice",
    "handoff",
    "button",
    "times",
    "agent_name",
    "upload",
)


class MessageView(TypedDict):
    """A stored message as the widget and the consoles see it (JSON). The optional keys are
    copied from the message's payload when set; ``handoff`` marks the agents' summary record."""

    id: int | None
    client_id: str
    direction: str
    text: str
    created_at: str
    buttons: NotRequired[list[dict[str, Any]]]
    custom: NotRequired[dict[str, Any]]
    notice: NotRequired[str]
    handoff: NotRequired[dict[str, Any]]
    button: NotRequired[dict[str, Any]]
    times: NotRequired[list[dict[str, str]]]
    agent_name: NotRequired[str]
    upload: NotRequired[dict[str, Any]]


class NewMessage(TypedDict):
    """A message to store: the keyword arguments of :func:`crm.repo.conversations.add_message`
    (and the fields of an outbox entry's message)."""

    client_id: str
    direction: str
    text: str
    language: NotRequired[str | None]
    intent: NotRequired[str | None]
    confidence: NotRequired[float | None]
    kb_entry_id: NotRequired[str | None]
    kb_score: NotRequired[float | None]
    frustration: NotRequired[float | None]
    latency_ms: NotRequired[int | None]
    payload: NotRequired[dict[str, Any] | None]


class MessageNlu(TypedDict):
    """What Rasa understood of a customer message (:func:`crm.repo.conversations.update_message_nlu`)."""

    language: str | None
    intent: str | None
    confidence: float | None
    kb_entry_id: str | None
    kb_score: float | None


def _ref(conversation: Conversation) -> ConversationRef:
    return ConversationRef(conversation.id, conversation.token, conversation.language, conversation.status)


def _ref_or_none(conversation: Conversation | None) -> ConversationRef | None:
    return None if conversation is None else _ref(conversation)


def _status_or_none(conversation: Conversation | None) -> str | None:
    return None if conversation is None else conversation.status


def message_view(message: Message) -> MessageView:
    """The JSON shape of a stored message as the widget and consoles see it."""
    return _view(
        message.id,
        message.client_id,
        message.direction,
        message.text,
        message.created_at,
        message.payload,
    )


def _view(
    message_id: int | None,
    client_id: str,
    direction: str,
    text: str,
    created_at: datetime,
    payload: dict[str, Any] | None,
) -> MessageView:
    view: MessageView = {
        "id": message_id,
        "client_id": client_id,
        "direction": direction,
        "text": text,
        "created_at": created_at.isoformat(),
    }
    payload = payload or {}
    for key in VIEW_PAYLOAD_KEYS:
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
    def __init__(self, session_factory: sessionmaker[Session], outbox: Outbox) -> None:
        self._factory = session_factory
        self.outbox = outbox

    def _db(self, work: Callable[[Session], T]) -> T:
        with session_scope(self._factory) as session:
            return work(session)

    def run(self, work: Callable[[Session], T]) -> T:
        """One unit of work in the CRM (committed); for the chat's side services (presence)."""
        return self._db(work)

    def _durable(
        self,
        conversation: ConversationRef,
        messages: Sequence[NewMessage],
        work: Callable[[Session], T],
        queued: Callable[[], T],
    ) -> T:
        """Run ``work`` in the database, or queue ``messages`` in the outbox when it is down
        (or when earlier messages are still queued, to keep their order)."""
        if self.outbox.has_pending():
            self.replay_outbox()
        if not self.outbox.has_pending():
            try:
                return self._db(work)
            except DB_DOWN_ERRORS as exc:
                logger.warning(
                    "database unavailable, queueing in the outbox: %s", " ".join(str(exc).split())[:160]
                )
        stamped = [{**m, "created_at": m.get("created_at") or utcnow()} for m in messages]
        self.outbox.append(
            make_entry(token=conversation.token, messages=stamped, language=conversation.language)
        )
        return queued()

    def replay_outbox(self) -> bool:
        """Write queued messages to the database; True when nothing is left queued."""
        if not self.outbox.has_pending():
            return True
        result = replay(self.outbox, self._factory)
        if result.applied:
            logger.info("outbox: replayed %d queued exchange(s)", result.applied)
        return not self.outbox.has_pending()

    def create_conversation(self) -> ConversationRef:
        try:
            return self._db(
                lambda s: _ref(
                    repo.create_conversation(s, token=repo.new_conversation_token(), channel="web")
                )
            )
        except DB_DOWN_ERRORS as exc:
            raise StoreUnavailable("cannot open a new conversation while the database is down") from exc

    def find_conversation(self, token: str) -> ConversationRef | None:
        try:
            return self._db(lambda s: _ref_or_none(repo.get_conversation_by_token(s, token)))
        except DB_DOWN_ERRORS as exc:
            raise StoreUnavailable("cannot look up the conversation while the database is down") from exc

    def history(self, conversation_id: int) -> list[MessageView]:
        try:
            return self._db(
                lambda s: [message_view(m) for m in repo.list_messages(s, conversation_id, limit=1000)]
            )
        except DB_DOWN_ERRORS as exc:
            raise StoreUnavailable("cannot read the history while the database is down") from exc

    def record_customer_message(
        self,
        conversation: ConversationRef,
        client_id: str,
        text: str,
        language: str,
        *,
        button: str | None = None,
        frustration: float | None = None,
    ) -> tuple[MessageView, bool, str]:
        """Store the message; return its view, whether it is new, and the conversation status.
        A button click is stored by its title (``text``) with the ``button`` payload beside it."""
        fields: NewMessage = {
            "client_id": client_id,
            "direction": "customer",
            "text": text,
            "language": language,
            "frustration": frustration,
            "payload": {"button": {"payload": button}} if button else None,
        }

        def work(session: Session) -> tuple[MessageView, bool, str]:
            message, created = repo.add_message(session, conversation_id=conversation.id, **fields)
            if created:
                repo.set_conversation_language(session, conversation.id, language)
            stored = repo.get_conversation(session, conversation.id)
            assert stored is not None  # the message was just added to it
            return message_view(message), created, stored.status

        def queued() -> tuple[MessageView, bool, str]:
            return (
                _view(None, client_id, "customer", text, utcnow(), fields.get("payload")),
                True,
                conversation.status,
            )

        return self._durable(conversation, [fields], work, queued)

    def button_title(self, conversation_id: int, payload: str, title: str | None) -> str | None:
        """The title to show for a click on ``payload``: the widget's ``title`` when the bot
        offered a button with that payload and title in this chat, else the title of the latest
        button offered with that payload; None when the bot offered none (or the store is down)."""
        try:
            offered = self._db(lambda s: repo.offered_buttons(s, conversation_id))
        except DB_DOWN_ERRORS:
            return None
        titles = [
            b.get("title") for b in offered if b["payload"] == payload and isinstance(b.get("title"), str)
        ]
        if title is not None and title in titles:
            return title
        return titles[0] if titles else None

    def record_parse(
        self, conversation_id: int, client_id: str, intent: str | None, confidence: float | None
    ) -> None:
        """The NLU result of a message the bot did not answer (a person has the chat)."""

        def work(session: Session) -> None:
            message = repo.get_message_by_client_id(session, conversation_id, client_id)
            if message is not None:
                repo.update_message_nlu(session, message.id, intent=intent, confidence=confidence)

        try:
            self._db(work)
        except DB_DOWN_ERRORS:
            logger.warning("database unavailable: intent of message %s not stored", client_id)

    def replies_to(self, conversation_id: int, client_id: str) -> list[MessageView]:
        prefix = f"{client_id}{REPLY_SEPARATOR}"
        try:
            return self._db(
                lambda s: [message_view(m) for m in repo.list_replies(s, conversation_id, prefix)]
            )
        except DB_DOWN_ERRORS:
            return []

    def record_bot_turn(
        self,
        conversation: ConversationRef,
        customer_client_id: str,
        turn: RasaTurn,
        latency_ms: float,
        language: str | None = None,
        *,
        keep_language: bool = False,
    ) -> list[MessageView]:
        """Store the bot's replies in the turn's language (else ``language``, the conversation's)
        and the NLU result on the customer's message (its language kept when ``keep_language``:
        a button click takes the conversation's language)."""
        language = turn.language or language
        nlu: MessageNlu = {
            "language": language,
            "intent": turn.intent,
            "confidence": turn.confidence,
            "kb_entry_id": turn.kb_entry_id,
            "kb_score": turn.kb_score,
        }
        question_nlu: MessageNlu = {**nlu, "language": None} if keep_language else nlu
        replies: list[NewMessage] = [
            {
                "client_id": f"{customer_client_id}{REPLY_SEPARATOR}{index}",
                "direction": "bot",
                "text": m.get("text") or "",
                "latency_ms": round(latency_ms),
                "payload": _bot_payload(m),
                "language": nlu["language"],
                "intent": nlu["intent"],
                "confidence": nlu["confidence"],
                "kb_entry_id": nlu["kb_entry_id"],
                "kb_score": nlu["kb_score"],
            }
            for index, m in enumerate(turn.messages)
        ]
        if turn.handoff_reason:
            replies.append(
                {
                    "client_id": f"{customer_client_id}{REPLY_SEPARATOR}handoff",
                    "direction": "system",
                    "text": "",
                    "language": language,
                    "payload": {
                        "handoff": {"reason": turn.handoff_reason, "summary": turn.handoff_summary or {}}
                    },
                }
            )

        def work(session: Session) -> list[MessageView]:
            question = repo.get_message_by_client_id(session, conversation.id, customer_client_id)
            repeated = (
                bool(replies)
                and repo.get_message_by_client_id(session, conversation.id, replies[0]["client_id"])
                is not None
            )
            if question is not None and not repeated:
                repo.update_message_nlu(session, question.id, **question_nlu)
                if turn.kb_decision in ("fallback", "clarify"):
                    record_unanswered(
                        session,
                        text=question.text,
                        language=turn.language or question.language or "en",
                        best_score=turn.kb_score,
                        conversation_id=conversation.id,
                        message_id=question.id,
                    )
            return [
                message_view(repo.add_message(session, conversation_id=conversation.id, **r)[0])
                for r in replies
            ]

        def queued() -> list[MessageView]:
            now = utcnow()
            return [_view(None, r["client_id"], "bot", r["text"], now, r.get("payload")) for r in replies]

        return self._durable(conversation, replies, work, queued)

    def record_wait_reply(
        self, conversation: ConversationRef, client_id: str, language: str, reason: str
    ) -> list[MessageView]:
        """Store and return the "one moment" notice shown while the assistant is down; it also
        marks the customer message as waiting (:mod:`crm.repo.waiting`)."""
        from gateway.notices import one_moment_text

        reply: NewMessage = {
            "client_id": waiting_repo.wait_marker_id(client_id),
            "direction": "system",
            "text": one_moment_text(language),
            "language": language,
            "payload": {"notice": reason},
        }
        return self._durable(
            conversation,
            [reply],
            lambda s: [message_view(repo.add_message(s, conversation_id=conversation.id, **reply)[0])],
            lambda: [
                _view(None, reply["client_id"], "system", reply["text"], utcnow(), reply.get("payload"))
            ],
        )

    def list_waiting(self, since: datetime) -> list[tuple[ConversationRef, str, str, str]]:
        """Messages still waiting for the bot: (conversation, client id, text, language)."""
        return self._db(
            lambda s: [
                (_ref(c), m.client_id, m.text, m.language or c.language or "en")
                for c, m in waiting_repo.list_waiting(s, since=since)
            ]
        )

    def settle_waiting(self, conversation_id: int, client_id: str) -> bool:
        try:
            return self._db(lambda s: waiting_repo.settle(s, conversation_id, client_id))
        except DB_DOWN_ERRORS:
            logger.warning("database unavailable: message %s stays marked waiting", client_id)
            return False

    def conversation_status(self, conversation_id: int) -> str | None:
        try:
            return self._db(lambda s: _status_or_none(repo.get_conversation(s, conversation_id)))
        except DB_DOWN_ERRORS:
            return None

    def record_agent_message(
        self, conversation_id: int, client_id: str, text: str, agent_id: int, agent_name: str | None = None
    ) -> MessageView:
        """Stored with the agent's id and display name as they are now (the name the customer saw)."""
        payload: dict[str, Any] = {"agent_id": agent_id}
        if agent_name:
            payload["agent_name"] = agent_name
        return self._db(
            lambda s: message_view(
                repo.add_message(
                    s,
                    conversation_id=conversation_id,
                    client_id=client_id,
                    direction="agent",
                    text=text,
                    payload=payload,
                )[0]
            )
        )

    def transition(
        self,
        conversation_id: int,
        from_statuses: tuple[str, ...],
        to_status: str,
        *,
        agent_id: int | None = None,
        reason: str | None = None,
    ) -> bool:
        try:
            return self._db(
                lambda s: repo.transition_conversation(
                    s,
                    conversation_id,
                    from_statuses=from_statuses,
                    to_status=to_status,
                    agent_id=agent_id,
                    handoff_reason=reason,
                )
            )
        except DB_DOWN_ERRORS:
            logger.warning("database unavailable: conversation %s stays %s", conversation_id, from_statuses)
            return False

    def attach_customer(self, conversation_id: int, customer_ref: str) -> int | None:
        """Link the conversation to the customer with this external reference, if one exists."""

        def work(session: Session) -> int | None:
            customer = find_customer_by_external_ref(session, customer_ref)
            if customer is None:
                return None
            repo.attach_customer(session, conversation_id, customer.id, customer.preferred_language)
            return customer.id

        try:
            return self._db(work)
        except DB_DOWN_ERRORS:
            logger.warning("database unavailable: identity not linked to conversation %s", conversation_id)
            return None
