"""ORM models (package ``crm.orm``); importing it registers every table on ``Base.metadata``."""

from crm.orm.admin import AuditLog, ConsoleSession, User
from crm.orm.attachment import Attachment
from crm.orm.base import Base
from crm.orm.conversation import Conversation, Feedback, Message, UnansweredQuestion
from crm.orm.customer import Customer, Order, OrderItem
from crm.orm.desk import CannedReply, ConversationLabel, ConversationNote
from crm.orm.kb import KBEntry, KBEntryVersion
from crm.orm.kb_jobs import KBRebuildJob
from crm.orm.ticket import CompensationOffer, FollowUp, Ticket, TicketStatusChange

__all__ = [
    "Attachment",
    "AuditLog",
    "Base",
    "CannedReply",
    "CompensationOffer",
    "ConsoleSession",
    "Conversation",
    "ConversationLabel",
    "ConversationNote",
    "Customer",
    "Feedback",
    "FollowUp",
    "KBEntry",
    "KBEntryVersion",
    "KBRebuildJob",
    "Message",
    "Order",
    "OrderItem",
    "Ticket",
    "TicketStatusChange",
    "UnansweredQuestion",
    "User",
]
