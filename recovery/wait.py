"""The wait announced to a customer in the agents' queue: one rule, used by the gateway's
acknowledgement of messages sent while waiting.

With recent first-response times (seconds from escalation to an agent taking the chat), the
estimate is their median times the chat's queue position, divided by nothing cleverer: agents
take chats one by one in the order of the queue. Without that history it falls back to the
policy's announced wait (:func:`recovery.policy.handoff_wait_minutes`). Minutes, at least 1 and
at most the policy's maximum.
"""

from __future__ import annotations

import math
from statistics import median

from recovery.policy import handoff_wait_minutes, load_policy

#: Fewer recent first responses than this say too little; the policy's rule is used instead.
MIN_SAMPLES = 3


def estimate_wait_minutes(position: int, recent_first_responses: list[float]) -> int:
    cap = int(load_policy()["handoff_wait_minutes"]["max"])
    position = max(1, position)
    if len(recent_first_responses) < MIN_SAMPLES:
        return max(1, handoff_wait_minutes(position - 1))
    minutes = math.ceil(median(recent_first_responses) * position / 60)
    return min(cap, max(1, minutes))
