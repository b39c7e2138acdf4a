"""Conversations as data: ``bench/conversations/{dev,locked}/*.yml``.

Each file holds a list of conversations. A conversation:

```yaml
id: en-damaged-01              # unique across all files
language: en                   # en | zh-Hans | zh-Hant | yue (Cantonese) | mixed (Chinese-English)
tags: [all_in_first, identified]
customer:                      # omitted: an anonymous visitor with no CRM record
  identified: true             # the widget passes a signed identity (as /?customer=REF does)
  tier: standard               # bench customer created for this conversation (BENCH-<id>)
  consent: true
  orders: [{status: delivered, total: 3200, currency: HKD}]     # {order}, {order2} in texts
  past_ticket: {category: delivery, days_overdue: 2, follow_up: true}
  demo: DEMO-0002              # instead of a bench customer: a seeded demo customer
opening: ["My earbuds from {order} arrived broken, I want a refund"]
facts: {...}                   # how this customer answers what the bot asks (driver.FACT_KEYS)
goal: {...}                    # what must be in the CRM at the end (checks.GOAL_KEYS)
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONVERSATIONS_DIR = ROOT / "bench" / "conversations"
SETS = ("dev", "locked", "locked2")
# "all" is the first split (dev + locked); locked2 is a later locked set, reported on its own.
ALL = ("dev", "locked")
LANGUAGES = ("en", "zh-Hans", "zh-Hant", "yue", "mixed")
FACT_KEYS = {
    "description",
    "category",
    "category_words",
    "order",
    "order_text",
    "wrong_order",
    "no_order",
    "outcome",
    "outcome_words",
    "yes_words",
    "no_words",
    "accept",
    "compensation",
    "compensation_words",
    "more",
    "rating",
    "rating_words",
    "comment",
    "follow_up",
    "follow_up_words",
    "closing",
    "interject",
    "clicks",
    "correction_words",
}
GOAL_KEYS = {"ticket", "resolution", "offer", "handoff", "kb_entry", "csat", "follow_up", "order_status"}
CUSTOMER_KEYS = {"identified", "tier", "consent", "orders", "past_ticket", "demo"}


class ConversationError(ValueError):
    """A conversation file is malformed; the message names the file and the conversation."""


@dataclass
class Conversation:
    id: str
    language: str
    tags: list[str]
    opening: list[str]
    facts: dict[str, Any] = field(default_factory=dict)
    goal: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] | None = None
    source: str = ""

    @property
    def identified(self) -> bool:
        return bool(self.customer and self.customer.get("identified"))

    @property
    def stratum(self) -> str:
        return f"{self.language}/{self.tags[0]}"


def _check(raw: Any, where: str) -> Conversation:
    if not isinstance(raw, dict):
        raise ConversationError(f"{where}: each conversation is a mapping")
    missing = {"id", "language", "tags", "opening", "goal"} - raw.keys()
    if missing:
        raise ConversationError(f"{where}: missing {sorted(missing)}")
    where = f"{where} ({raw['id']})"
    if raw["language"] not in LANGUAGES:
        raise ConversationError(f"{where}: language must be one of {LANGUAGES}")
    if not raw["tags"] or not all(isinstance(t, str) for t in raw["tags"]):
        raise ConversationError(f"{where}: tags must be a non-empty list of words")
    opening = raw["opening"]
    if isinstance(opening, str):
        opening = [opening]
    if not opening or not all(isinstance(t, str) and t.strip() for t in opening):
        raise ConversationError(f"{where}: opening must be one or more messages")
    facts, goal, customer = raw.get("facts") or {}, raw["goal"] or {}, raw.get("customer")
    for name, value, allowed in (
        ("facts", facts, FACT_KEYS),
        ("goal", goal, GOAL_KEYS),
        ("customer", customer or {}, CUSTOMER_KEYS),
    ):
        unknown = set(value) - allowed
        if unknown:
            raise ConversationError(f"{where}: unknown {name} keys {sorted(unknown)}")
    if not goal:
        raise ConversationError(f"{where}: a conversation states at least one goal")
    return Conversation(
        id=str(raw["id"]),
        language=raw["language"],
        tags=list(raw["tags"]),
        opening=list(opening),
        facts=dict(facts),
        goal=dict(goal),
        customer=dict(customer) if customer else None,
        source=where,
    )


def load_file(path: Path) -> list[Conversation]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ConversationError(f"{path}: a file holds a list of conversations")
    return [_check(raw, f"{path.name}[{i}]") for i, raw in enumerate(data)]


def load_set(name: str, root: Path = CONVERSATIONS_DIR) -> list[Conversation]:
    """``dev``, ``locked``, ``locked2`` or ``all``; ids must be unique across the whole set."""
    names = ALL if name == "all" else (name,)
    if any(n not in SETS for n in names):
        raise ConversationError(f"unknown set {name!r}: dev, locked, locked2 or all")
    conversations = [c for n in names for path in sorted((root / n).glob("*.yml")) for c in load_file(path)]
    seen: set[str] = set()
    for conversation in conversations:
        if conversation.id in seen:
            raise ConversationError(f"duplicate conversation id {conversation.id!r}")
        seen.add(conversation.id)
    return conversations
