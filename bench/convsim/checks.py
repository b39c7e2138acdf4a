"""Each conversation's goal, checked in the CRM (never in the bot's text).

Goal keys (all optional, at least one per conversation):

- ``ticket: {category: product, order: order|order2|none}`` — a ticket of this conversation with
  that CRM category (one of ``crm.orm.base.TICKET_CATEGORIES``, or a list of acceptable ones),
  linked to that order (``none``: to no order), and to the conversation's customer.
  ``ticket: none`` — no ticket was opened.
- ``resolution: refund`` — the resolution agreed on the ticket (its description's
  ``Agreed resolution:`` line, written by ``actions/resolution.py``).
- ``offer: chosen | declined | none`` — ``chosen``: the offer the customer picked is recorded
  as chosen (granted, or waiting for approval with a ``compensation_approval`` handoff) and every
  other shown offer rejected; ``declined``: every offer rejected; ``none``: nothing offered.
  Always, when offers exist: each type is one the policy allows for the category, and no
  replacement is offered as compensation when the agreed resolution is a refund.
- ``handoff: frustration`` (or a list) — the chat waits for / is with an agent for that reason.
- ``kb_entry: returns-policy`` — a bot message answered with that entry (not a clarification).
- ``csat: 4`` — the rating stored for the conversation.
- ``follow_up: kept | not_kept`` — the customer's follow-up was answered with that outcome.
- ``order_status: order`` — a bot message names that order's number (identified customers; the
  CRM has no carrier / expected date to check); ``order_status: faq`` — the how-to-track
  answer (``order-status``) for an anonymous visitor.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.convsim.driver import Outcome
from bench.convsim.loader import Conversation
from bench.convsim.world import Context
from crm.models import CompensationOffer, Feedback, FollowUp, Message, Ticket
from crm.models import Conversation as Chat

ROOT = Path(__file__).resolve().parents[2]
POLICY = yaml.safe_load((ROOT / "compensation_policy.yml").read_text(encoding="utf-8"))
COMPLAINT_OF_TICKET = {}  # CRM ticket category -> policy complaint categories
for name, spec in POLICY["categories"].items():
    COMPLAINT_OF_TICKET.setdefault(spec["ticket_category"], []).append(name)
REPLACEMENT_TYPES = {"expedited_replacement"}


def allowed_offer_types(ticket_category: str) -> set[str]:
    """Every compensation type the policy allows for any complaint mapped to this category."""
    return {
        option
        for complaint in COMPLAINT_OF_TICKET.get(ticket_category, [])
        for table in POLICY["categories"][complaint]["compensation"].values()
        for option in table
    }


def agreed_resolution(ticket: Ticket) -> str | None:
    match = re.search(r"^Agreed resolution: (\w+)", ticket.description or "", re.M)
    return match.group(1) if match else None


def _order_id(ref: str, ctx: Context) -> int | None:
    if ref in (None, "none"):
        return None
    index = 0 if ref == "order" else int(ref[5:]) - 1
    return ctx.orders[index][1]


def check(session: Session, conv: Conversation, ctx: Context, out: Outcome) -> list[str]:
    """The failed checks of one conversation, each a short reason (empty: the goal was met)."""
    chat = session.get(Chat, out.conversation_id) if out.conversation_id else None
    if chat is None:
        return [f"no conversation in the CRM ({out.end})"]
    goal, failures = conv.goal, []
    tickets = list(
        session.scalars(select(Ticket).where(Ticket.conversation_id == chat.id).order_by(Ticket.id))
    )
    ticket = tickets[-1] if tickets else None
    offers = (
        list(
            session.scalars(
                select(CompensationOffer).where(CompensationOffer.ticket_id.in_([t.id for t in tickets]))
            )
        )
        if tickets
        else []
    )

    if "ticket" in goal:
        want = goal["ticket"]
        if want == "none":
            if tickets:
                failures.append(f"ticket: expected none, got #{ticket.id} ({ticket.category})")
        elif ticket is None:
            failures.append("ticket: none opened")
        else:
            cats = want.get("category")
            cats = [cats] if isinstance(cats, str) else cats
            if cats and ticket.category not in cats:
                failures.append(f"ticket: category {ticket.category}, expected {'/'.join(cats)}")
            if "order" in want and ticket.order_id != _order_id(want["order"], ctx):
                failures.append(
                    f"ticket: order_id {ticket.order_id}, expected {_order_id(want['order'], ctx)}"
                )
            if (
                ctx.customer_id is not None
                and ticket.customer_id != ctx.customer_id
                and (conv.identified or want.get("order") not in (None, "none"))
            ):
                failures.append(f"ticket: customer {ticket.customer_id}, expected {ctx.customer_id}")
    if "resolution" in goal:
        got = agreed_resolution(ticket) if ticket else None
        if got != goal["resolution"]:
            failures.append(f"resolution: {got}, expected {goal['resolution']}")
    failures += _offer_checks(goal.get("offer"), ticket, offers, chat, out)
    if "handoff" in goal:
        reasons = goal["handoff"] if isinstance(goal["handoff"], list) else [goal["handoff"]]
        if chat.status not in ("waiting_agent", "agent") or chat.handoff_reason not in reasons:
            failures.append(
                f"handoff: status {chat.status}, reason {chat.handoff_reason}, expected {'/'.join(reasons)}"
            )
    messages = list(
        session.scalars(select(Message).where(Message.conversation_id == chat.id).order_by(Message.id))
    )
    bots = [m for m in messages if m.direction == "bot"]
    if "kb_entry" in goal:
        answered = [m.kb_entry_id for m in bots if m.kb_entry_id and not (m.payload or {}).get("buttons")]
        if goal["kb_entry"] not in answered:
            failures.append(f"kb_entry: answered {answered or 'nothing'}, expected {goal['kb_entry']}")
    if "csat" in goal:
        ratings = [
            f.csat for f in session.scalars(select(Feedback).where(Feedback.conversation_id == chat.id))
        ]
        if ratings != [goal["csat"]]:
            failures.append(f"csat: stored {ratings or 'nothing'}, expected {goal['csat']}")
    if "follow_up" in goal:
        done = (
            [
                f.outcome
                for f in session.scalars(
                    select(FollowUp).where(
                        FollowUp.customer_id == ctx.customer_id,
                        FollowUp.done_at.is_not(None),
                        FollowUp.done_at >= chat.started_at,
                    )
                )
            ]
            if ctx.customer_id
            else []
        )
        if goal["follow_up"] not in done:
            failures.append(f"follow_up: answered {done or 'never asked'}, expected {goal['follow_up']}")
    if "order_status" in goal:
        want = goal["order_status"]
        if want == "faq":
            if "order-status" not in [m.kb_entry_id for m in bots]:
                failures.append("order_status: the how-to-track answer (order-status) was not given")
        else:
            number = ctx.orders[0 if want == "order" else int(want[5:]) - 1][0]
            if not any(number in (m.text or "") for m in bots):
                failures.append(f"order_status: no bot message names {number}")
    return failures


def _offer_checks(
    want: str | None, ticket: Ticket | None, offers: list[CompensationOffer], chat: Chat, out: Outcome
) -> list[str]:
    failures = []
    if ticket is not None and offers:
        allowed = allowed_offer_types(ticket.category)
        odd = sorted({o.type for o in offers} - allowed)
        if odd:
            failures.append(f"offer: {odd} not allowed by the policy for {ticket.category}")
        if agreed_resolution(ticket) == "refund" and any(o.type in REPLACEMENT_TYPES for o in offers):
            failures.append("offer: a replacement offered as compensation after a refund was agreed")
    if want is None:
        return failures
    if want == "none" and offers:
        failures.append(f"offer: expected none, {len(offers)} offered")
    elif want == "declined":
        if not offers:
            failures.append("offer: nothing was offered to decline")
        elif any(o.status != "rejected" for o in offers):
            failures.append("offer: declined, but not every offer is rejected")
    elif want == "chosen":
        kept = [o for o in offers if o.status != "rejected"]
        if not offers:
            failures.append("offer: nothing offered")
        elif len(kept) != 1 or kept[0].type != out.picked_offer:
            failures.append(
                f"offer: customer picked {out.picked_offer}, CRM has "
                f"{[(o.type, o.status) for o in kept] or 'all rejected'}"
            )
        elif kept[0].status != "granted" and not (
            kept[0].status == "chosen" and chat.handoff_reason == "compensation_approval"
        ):
            failures.append(f"offer: {kept[0].type} left {kept[0].status} without an approval handoff")
    return failures
