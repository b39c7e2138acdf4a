"""Units of work behind the agent desk: search, private notes, labels, canned replies and a
customer's earlier conversations (blocking; routes call them via ``asyncio.to_thread``).

Notes and labels are staff-only: they are stored apart from the transcript and only returned
by the console's APIs, never sent to the widget or its socket.
"""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.errors import CRMNotFound
from crm.models import Conversation
from crm.repo import canned, desk
from crm.repo.admin import audit
from gateway.console.auth import ConsoleUser
from gateway.console.errors import ConsoleError

Factory = sessionmaker[Session]


class DeskView(TypedDict):
    conversation_id: int
    notes: list[desk.NoteView]
    labels: list[str]
    history: list[desk.ConversationHit]


class FilledReply(TypedDict):
    id: int
    shortcut: str
    language: str
    text: str


def _missing(what: str) -> ConsoleError:
    return ConsoleError(404, "not_found", f"No such {what}.")


def _invalid(code: str, exc: ValueError) -> ConsoleError:
    return ConsoleError(422, code, str(exc))


def search(factory: Factory, query: str, label: str | None) -> list[desk.ConversationHit]:
    if not query.strip() and not label:
        raise ConsoleError(422, "empty_search", "Type a name, e-mail, order number or text, or pick a label.")
    with session_scope(factory) as session:
        try:
            return desk.search(session, query, label=label or None)
        except ValueError as exc:
            raise _invalid("invalid_label", exc) from None


def desk_view(factory: Factory, conversation_id: int) -> DeskView:
    """The notes, labels and the customer's other conversations beside one chat."""
    with session_scope(factory) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise _missing("conversation")
        history = (
            desk.customer_history(session, conversation.customer_id, exclude=conversation_id)
            if conversation.customer_id
            else []
        )
        return {
            "conversation_id": conversation_id,
            "notes": desk.notes(session, conversation_id),
            "labels": desk.labels_of(session, [conversation_id]).get(conversation_id, []),
            "history": history,
        }


def add_note(factory: Factory, conversation_id: int, body: str, user: ConsoleUser) -> desk.NoteView:
    with session_scope(factory) as session:
        try:
            note = desk.add_note(session, conversation_id, author_id=user.id, author=user.label, body=body)
        except CRMNotFound:
            raise _missing("conversation") from None
        except ValueError as exc:
            raise _invalid("invalid_note", exc) from None
        audit(session, actor=user.username, action="note.added", target=f"conversation:{conversation_id}")
        return note


def change_label(
    factory: Factory, conversation_id: int, label: str, user: ConsoleUser, *, add: bool
) -> list[str]:
    with session_scope(factory) as session:
        try:
            if add:
                labels = desk.add_label(session, conversation_id, label, added_by=user.username)
            else:
                labels = desk.remove_label(session, conversation_id, label)
        except CRMNotFound:
            raise _missing("conversation") from None
        except ValueError as exc:
            raise _invalid("invalid_label", exc) from None
        audit(
            session,
            actor=user.username,
            action="label.added" if add else "label.removed",
            target=f"conversation:{conversation_id}",
            details={"label": desk.normalise_label(label)},
        )
        return labels


def label_counts(factory: Factory) -> list[desk.LabelCount]:
    with session_scope(factory) as session:
        return desk.label_counts(session)


def canned_replies(factory: Factory) -> list[canned.CannedView]:
    with session_scope(factory) as session:
        return canned.list_replies(session)


def save_canned(
    factory: Factory, fields: canned.CannedFields, user: ConsoleUser, reply_id: int | None = None
) -> canned.CannedView:
    with session_scope(factory) as session:
        try:
            saved = canned.save_reply(session, fields, actor=user.username, reply_id=reply_id)
        except CRMNotFound:
            raise _missing("canned reply") from None
        except ValueError as exc:
            raise _invalid("invalid_canned_reply", exc) from None
        action = "canned.created" if reply_id is None else "canned.updated"
        audit(session, actor=user.username, action=action, target=f"canned_reply:{saved['id']}")
        return saved


def delete_canned(factory: Factory, reply_id: int, user: ConsoleUser) -> None:
    with session_scope(factory) as session:
        try:
            canned.delete_reply(session, reply_id)
        except CRMNotFound:
            raise _missing("canned reply") from None
        audit(session, actor=user.username, action="canned.deleted", target=f"canned_reply:{reply_id}")


def fill_canned(factory: Factory, conversation_id: int, reply_id: int, user: ConsoleUser) -> FilledReply:
    """The reply in the conversation's language with its variables filled, for the reply box."""
    with session_scope(factory) as session:
        try:
            reply = canned.view(canned.get_reply(session, reply_id))
        except CRMNotFound:
            raise _missing("canned reply") from None
        try:
            context = canned.fill_context(session, conversation_id, user.label)
        except CRMNotFound:
            raise _missing("conversation") from None
    text = canned.fill(reply["bodies"][context["language"]], context["values"])
    return {"id": reply_id, "shortcut": reply["shortcut"], "language": context["language"], "text": text}
