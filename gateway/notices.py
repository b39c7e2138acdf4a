"""Gateway-generated texts shown to customers; the words are in the text catalogue
(``common/texts.yml``, keys ``notice.*`` and ``follow_up.*``)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from common.texts import all_languages, has, language_of, text


def one_moment_text(language: str | None) -> str:
    """Shown while Rasa or the action server is down; the gateway answers the message itself as
    soon as they are back (gateway/waiting.py), so the customer need not send it again."""
    return text("notice.one_moment", language)


def chosen_option_text(language: str | None) -> str:
    """Shown for a button click whose payload matches no button the bot offered in this chat."""
    return text("notice.chosen_option", language)


def queue_busy_text(language: str | None) -> str:
    """Why a chat was not put in the agents' queue (the address's hand-over limit)."""
    return text("notice.queue_busy", language)


def status_notice(status: str) -> dict[str, str] | None:
    """The notice shown in the widget when a chat changes hands (``agent``, ``bot``), in every language."""
    key = f"notice.status_{status}"
    return all_languages(key) if has(key) else None


def follow_up_language(language: str | None) -> str:
    return language_of(language)


def follow_up_text(
    language: str | None,
    *,
    ticket_id: int,
    resolution: str | None,
    category: str | None,
    deadline_at: datetime | None,
) -> dict[str, Any]:
    """The follow-up message in the customer's language: ``text`` (names the ticket and what was
    promised, asks whether the issue is resolved), an e-mail ``subject``, yes/no ``buttons``
    whose payloads the bot understands (``/affirm``, ``/deny``), and ``times``: where the text
    shows the deadline, with the instant, so the widget can show it in the reader's own time zone.
    ``resolution`` and ``category`` are what was promised (``FollowUp.promised_resolution``,
    ``FollowUp.complaint_category``)."""
    from recovery.labels import category_label, deadline, resolution_label

    language = follow_up_language(language)
    values = {
        "ticket": ticket_id,
        "problem": category_label(category, language),
        "resolution": resolution_label(resolution, language),
    }
    times: list[dict[str, str]] = []
    if deadline_at is not None:
        shown = deadline(deadline_at, language)
        message = text("follow_up.deadline", language, deadline=shown, **values)
        at = deadline_at if deadline_at.tzinfo else deadline_at.replace(tzinfo=timezone.utc)
        times.append({"text": shown, "at": at.isoformat()})
    else:
        message = text("follow_up.plain", language, **values)
    return {
        "language": language,
        "text": message,
        "subject": text("follow_up.subject", language, ticket=ticket_id),
        "times": times,
        "buttons": [
            {"title": text("button.yes", language), "payload": "/affirm"},
            {"title": text("button.no", language), "payload": "/deny"},
        ],
    }
