"""The scripted customer: what it says next, from its facts and what the bot is asking.

Openings first; then an answer to the question named by :func:`bench.convsim.driver.asked_from`
(one method per name, e.g. ``_form_order_number`` for ``form:order_number``). Answers are typed
in words unless the facts say ``clicks: true``; a click sends the button's payload, as the
widget does. Facts a conversation does not give fall back to the language's usual words
(:mod:`bench.convsim.words`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bench.convsim.loader import Conversation
from bench.convsim.words import word
from bench.convsim.world import Context

FACT_WORDS = {"yes": "yes_words", "no": "no_words"}  # YAML reads a bare yes / no key as a boolean


def _fill(template: str, ctx: Context) -> str:
    return template.format_map({**ctx.values()}) if "{" in template else template


def _payload_value(payload: str, key: str) -> str | None:
    match = re.search(r"\{.*\}", payload or "")
    if not match:
        return None
    try:
        return json.loads(match.group(0)).get(key)
    except ValueError:
        return None


class Customer:
    """Decides the next message from the facts and what the bot is asking."""

    def __init__(self, conv: Conversation, ctx: Context) -> None:
        self.conv, self.ctx, self.facts = conv, ctx, conv.facts
        self.pending = [_fill(t, ctx) for t in conv.opening]
        self.used_wrong = not self.facts.get("wrong_order")
        self.closed = False
        self.corrections = 0
        self.correcting: list[str] = []
        self.interjected: set[int] = set()
        self.picked_offer: str | None = None

    def w(self, key: str) -> str:
        """The facts' words for ``key`` (``yes`` -> ``yes_words``), else the language's usual ones."""
        value = self.facts.get(FACT_WORDS.get(key, key))
        return _fill(str(value), self.ctx) if value not in (None, "") else word(self.conv.language, key)

    def click(self, buttons: list[dict], test) -> str | None:
        return next((b["payload"] for b in buttons if test(b.get("payload") or "")), None)

    def yes_no(self, yes: bool, buttons: list[dict], words_key: str) -> str:
        if self.facts.get("clicks"):
            found = self.click(buttons, lambda p: p == ("/affirm" if yes else "/deny"))
            if found:
                return found
        return self.w(words_key)

    def next_message(self, asked: str | None, slots: dict[str, Any], buttons: list[dict]) -> str | None:
        if self.pending:
            return self.pending.pop(0)
        interjects = self.facts.get("interject") or []
        for i, item in enumerate(interjects if isinstance(interjects, list) else [interjects]):
            if i not in self.interjected and item.get("at") == asked:
                self.interjected.add(i)
                return _fill(item["text"], self.ctx)
        if asked is None:
            if self.closed or slots.get("csat_done"):
                return None
            self.closed = True
            return self.w("closing")
        handler = getattr(self, "_" + asked.replace(":", "_"), None)
        return handler(slots, buttons) if handler else None

    # --- complaint form
    def _form_complaint_description(self, slots, buttons):
        """The facts' description, else the customer's longest opening message, said again."""
        return _fill(self.facts.get("description") or max(self.conv.opening, key=len), self.ctx)

    def _form_complaint_category(self, slots, buttons):
        if self.facts.get("category_words"):
            return self.w("category_words")
        wanted = self.facts.get("category", "other")
        return self.click(
            buttons, lambda p: _payload_value(p, "complaint_category") == wanted
        ) or wanted.replace("_", " ")

    def order_number(self) -> str | None:
        which = self.facts.get("order", "order" if self.ctx.orders else "none")
        if which == "none":
            return None
        index = 0 if which == "order" else int(str(which)[5:] or 1) - 1
        return self.ctx.orders[index][0]

    def _form_order_number(self, slots, buttons):
        if not self.used_wrong:
            self.used_wrong = True
            return _fill(str(self.facts["wrong_order"]), self.ctx)
        number = self.order_number()
        if number is None:
            if self.facts.get("clicks"):
                found = self.click(buttons, lambda p: p == "/deny")
                if found:
                    return found
            return self.w("no_order")
        template = self.facts.get("order_text") or "{number}"
        return template.replace("{number}", number).replace("{digits}", number[2:])

    def _form_order_verified(self, slots, buttons):
        """An anonymous visitor shows the order is theirs: the e-mail on it (in their words),
        or says they cannot when the facts say ``proof: none``."""
        if self.facts.get("proof") == "none" or not self.ctx.email:
            return self.w("no_proof")
        return self.w("proof").replace("{email}", self.ctx.email)

    def _form_desired_outcome(self, slots, buttons):
        if self.facts.get("outcome_words"):
            return self.w("outcome_words")
        wanted = self.facts.get("outcome")
        return (
            self.click(buttons, lambda p: _payload_value(p, "desired_outcome") == wanted)
            or self.click(buttons, lambda p: "desired_outcome" in p)
            or ""
        )

    def wrong_fields(self, slots: dict[str, Any]) -> list[str]:
        wrong = []
        if self.facts.get("category") and slots.get("complaint_category") != self.facts["category"]:
            wrong.append("complaint_category")
        number = self.order_number()
        if (slots.get("order_number") or "none") != (number or "none"):
            wrong.append("order_number")
        if self.facts.get("outcome") and slots.get("desired_outcome") != self.facts["outcome"]:
            wrong.append("desired_outcome")
        return wrong

    def _form_complaint_confirmed(self, slots, buttons):
        self.correcting = self.wrong_fields(slots) if self.corrections < 2 else []
        if self.correcting:
            self.corrections += 1
        return self.yes_no(not self.correcting, buttons, "no" if self.correcting else "yes")

    def _form_correction_field(self, slots, buttons):
        field_name = (self.correcting or ["complaint_description"])[0]
        if self.facts.get("clicks"):
            found = self.click(buttons, lambda p: _payload_value(p, "correction_field") == field_name)
            if found:
                return found
        return word(self.conv.language, field_name)

    # --- resolution, compensation, wrap-up
    def _stage_resolution_proposed(self, slots, buttons):
        wanted = self.facts.get("outcome")
        ok = self.facts.get("accept", wanted is None or slots.get("resolution") == wanted)
        return self.yes_no(bool(ok), buttons, "accept" if ok else "reject")

    def _stage_resolution_alternatives(self, slots, buttons):
        wanted = self.facts.get("outcome")
        return (
            self.click(buttons, lambda p: _payload_value(p, "resolution_choice") == wanted)
            or self.click(buttons, lambda p: "resolution_choice" in p)
            or self.w("reject")
        )

    def _stage_compensation_offered(self, slots, buttons):
        wanted = self.facts.get("compensation")
        if wanted == "none":
            self.picked_offer = "none"
            return (
                self.yes_no(False, buttons, "decline")
                if self.facts.get("clicks")
                else self.w("compensation_words" if self.facts.get("compensation_words") else "decline")
            )
        offered = [_payload_value(b.get("payload"), "compensation_choice") for b in buttons]
        offered = [o for o in offered if o]
        if self.facts.get("compensation_words") and (wanted in offered or not offered):
            self.picked_offer = wanted
            return self.w("compensation_words")
        pick = wanted if wanted in offered else (offered[0] if offered else None)
        self.picked_offer = pick
        return self.click(buttons, lambda p: _payload_value(p, "compensation_choice") == pick) or self.w(
            "decline"
        )

    def _stage_wrapped_up(self, slots, buttons):
        return self.w("more")

    def _stage_follow_up_asked(self, slots, buttons):
        kept = self.facts.get("follow_up", "kept") == "kept"
        if self.facts.get("follow_up_words"):
            return self.w("follow_up_words")
        return self.yes_no(kept, buttons, "kept" if kept else "not_kept")

    # --- CSAT and knowledge base
    def _csat_csat_score(self, slots, buttons):
        if self.facts.get("rating_words"):
            return self.w("rating_words")
        rating = str(self.facts.get("rating", 4))
        return self.click(buttons, lambda p: _payload_value(p, "csat_score") == rating) or rating

    def _csat_csat_comment(self, slots, buttons):
        if self.facts.get("comment"):
            return self.w("comment")
        return self.click(buttons, lambda p: p == "/deny") or self.w("decline")

    def _kb_clarify(self, slots, buttons):
        wanted = self.conv.goal.get("kb_entry")
        return self.click(buttons, lambda p: _payload_value(p, "kb_entry_id") == wanted) or self.click(
            buttons, lambda p: p.startswith("/inquiry")
        )
