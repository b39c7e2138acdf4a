"""Image attachments of a chat: the customer's message that carries the image and the
:class:`~crm.models.Attachment` row (the file itself is the gateway's business)."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy.orm import Session

from crm.models import Attachment, Conversation, Message
from crm.repo.conversations import add_message


class StoredFile(TypedDict):
    """What the gateway checked and wrote: the file's random name, type, size and pixels."""

    storage_name: str
    content_type: str
    size: int
    width: int
    height: int


def add_image_message(
    session: Session,
    conversation_id: int,
    client_id: str,
    text: str,
    language: str | None,
    stored: StoredFile,
) -> tuple[Message, Attachment]:
    """The customer's message showing the image (``payload.upload``) and its attachment row."""
    attachment = Attachment(conversation_id=conversation_id, **stored)
    session.add(attachment)
    session.flush()
    upload = {
        "id": attachment.id,
        "content_type": stored["content_type"],
        "width": stored["width"],
        "height": stored["height"],
    }
    message, _ = add_message(
        session,
        conversation_id=conversation_id,
        client_id=client_id,
        direction="customer",
        text=text,
        language=language,
        payload={"upload": upload},
    )
    attachment.message_id = message.id
    session.flush()
    return message, attachment


def get_attachment(session: Session, attachment_id: int) -> tuple[Attachment, Conversation] | None:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        return None
    conversation = session.get(Conversation, attachment.conversation_id)
    return None if conversation is None else (attachment, conversation)
