"""Rasa 3.6 with enable_selective_domain calls most actions without a domain; the action server runs them."""

from __future__ import annotations

import asyncio

from bot.action_server import make_executor

TRACKER = {
    "sender_id": "s",
    "slots": {},
    "latest_message": {"text": "x", "intent": {}, "entities": []},
    "events": [],
    "paused": False,
    "followup_action": None,
    "active_loop": {},
    "latest_action_name": None,
}


def see_domain(dispatcher, tracker, domain):
    """A plain function, not an Action subclass: rasa-sdk registers every live subclass of Action."""
    dispatcher.utter_message(text=f"slots:{sorted(domain.get('slots', {}))}")
    return []


def _run(call: dict) -> list[str]:
    executor = make_executor()
    executor.register_function("action_see_domain", see_domain)
    result = asyncio.run(executor.run(call))
    return (
        [r["text"] for r in result.responses]
        if hasattr(result, "responses")
        else [r["text"] for r in result["responses"]]
    )


def test_an_action_called_without_a_domain_runs_with_an_empty_one():
    call = {"next_action": "action_see_domain", "sender_id": "s", "version": "3.6.21", "tracker": TRACKER}
    assert _run(call) == ["slots:[]"]


def test_an_action_called_with_the_domain_gets_it():
    call = {
        "next_action": "action_see_domain",
        "sender_id": "s",
        "version": "3.6.21",
        "tracker": TRACKER,
        "domain": {"slots": {"language": {}}},
    }
    assert _run(call) == ["slots:['language']"]
