"""Files a customer sends in a chat (a photo of the damaged item): the metadata row. The bytes
live outside the web root under a random name (``storage_name``, see gateway/attachments.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.orm.base import Base, one_of, utcnow

ATTACHMENT_TYPES = ("image/png", "image/jpeg", "image/webp")


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (one_of("content_type", ATTACHMENT_TYPES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
