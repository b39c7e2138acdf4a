"""Call-centre routing of escalated chats: which skill a chat needs, which agent fits it, and
the state of the response targets per customer tier. Pure functions over the ``routing`` section
of ``compensation_policy.yml`` (loaded through :func:`recovery.policy.load_policy`); the targets
themselves are the policy's ``service_targets`` (:func:`recovery.policy.service_targets`, also
read by the analytics).

The order in which waiting chats are served is :mod:`recovery.priority`'s (tier included);
this module decides who takes each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypedDict

from common.lang import LANGUAGES
from recovery.policy import PolicyError, load_policy, service_targets

ClockState = Literal["ok", "warning", "breached", "met", "missed"]


@dataclass(frozen=True)
class Routing:
    skills: tuple[str, ...]
    default_skill: str
    default_capacity: int
    max_capacity: int
    skill_by_category: Mapping[str, str]
    skill_by_intent: Mapping[str, str]
    warn_at: float
    targets: Mapping[str, tuple[float, float]]  # tier -> (first response, resolution) minutes


@dataclass(frozen=True)
class Agent:
    """An agent as the router sees them; ``load`` = chats they hold now."""

    id: int
    languages: frozenset[str]
    skills: frozenset[str]
    capacity: int
    available: bool
    load: int


class Clock(TypedDict):
    state: ClockState
    target_min: float
    elapsed_min: float
    due_at: str


class Sla(TypedDict):
    first_response: Clock
    resolution: Clock


def _minutes(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PolicyError(f"compensation policy: routing.{where} must be a positive number of minutes")
    return value


def load_routing() -> Routing:
    """The ``routing`` section, validated (a broken file fails loudly, not a chat)."""
    section = load_policy().get("routing")
    if not isinstance(section, dict):
        raise PolicyError("compensation policy: missing routing section")
    skills = tuple(section.get("skills") or ())
    default = section.get("default_skill")
    if not skills or default not in skills:
        raise PolicyError("compensation policy: routing.skills must list default_skill")
    maps: dict[str, dict[str, str]] = {}
    for key in ("skill_by_category", "skill_by_intent"):
        table = section.get(key) or {}
        bad = sorted(str(v) for v in table.values() if v not in skills)
        if not isinstance(table, dict) or bad:
            raise PolicyError(f"compensation policy: routing.{key}: unknown skills {bad}")
        maps[key] = {str(k): str(v) for k, v in table.items()}
    warn_at = section.get("warn_at")
    if isinstance(warn_at, bool) or not isinstance(warn_at, int | float) or not 0 < warn_at < 1:
        raise PolicyError("compensation policy: routing.warn_at must be between 0 and 1")
    targets = {
        tier: (spec["first_response_minutes"], spec["resolution_hours"] * 60)
        for tier, spec in service_targets().items()
    }
    if "standard" not in targets:
        raise PolicyError("compensation policy: service_targets needs the standard tier")
    max_capacity = _minutes(section.get("max_capacity"), "max_capacity")
    capacity = _minutes(section.get("default_capacity"), "default_capacity")
    if capacity > max_capacity:
        raise PolicyError("compensation policy: routing.default_capacity exceeds max_capacity")
    return Routing(
        skills=skills,
        default_skill=str(default),
        default_capacity=capacity,
        max_capacity=max_capacity,
        skill_by_category=maps["skill_by_category"],
        skill_by_intent=maps["skill_by_intent"],
        warn_at=float(warn_at),
        targets=targets,
    )


def required_skill(category: str | None, intents: Iterable[str] = (), rules: Routing | None = None) -> str:
    """The skill a chat needs: its complaint / ticket category's, else that of the latest
    customer intent that names one, else the default."""
    rules = rules or load_routing()
    if category and category in rules.skill_by_category:
        return rules.skill_by_category[category]
    for intent in reversed(list(intents)):
        if intent in rules.skill_by_intent:
            return rules.skill_by_intent[intent]
    return rules.default_skill


def fits(agent: Agent, language: str | None, skill: str) -> bool:
    """Available, below capacity, speaks the chat's language (any, when it is unknown), has the skill."""
    return (
        agent.available
        and agent.load < agent.capacity
        and (language is None or language in agent.languages)
        and skill in agent.skills
    )


def pick_agent(agents: Iterable[Agent], language: str | None, skill: str) -> Agent | None:
    """The next agent for a chat: of those who fit, the least busy (share of capacity, then
    open chats), then the lowest id, so ties are stable."""
    fitting = [a for a in agents if fits(a, language, skill)]
    return min(fitting, key=lambda a: (a.load / a.capacity, a.load, a.id), default=None)


def plan(waiting: Iterable[tuple[int, str | None, str]], agents: Iterable[Agent]) -> list[tuple[int, int]]:
    """Assignments ``(conversation id, agent id)`` for waiting chats ``(id, language, skill)``
    given in queue order; each assignment counts against the agent's capacity for the next."""
    pool = {a.id: a for a in agents}
    out: list[tuple[int, int]] = []
    for conversation_id, language, skill in waiting:
        chosen = pick_agent(pool.values(), language, skill)
        if chosen is None:
            continue
        out.append((conversation_id, chosen.id))
        pool[chosen.id] = Agent(
            chosen.id, chosen.languages, chosen.skills, chosen.capacity, chosen.available, chosen.load + 1
        )
    return out


class ProfileError(ValueError):
    """Languages, skills or capacity an agent may not have."""


def clean_profile(
    languages: Iterable[str], skills: Iterable[str], capacity: int, rules: Routing | None = None
) -> tuple[list[str], list[str], int]:
    """Validated, de-duplicated languages and skills (in their canonical order) and capacity."""
    rules = rules or load_routing()
    langs, wanted = set(languages), set(skills)
    if langs - set(LANGUAGES):
        raise ProfileError(f"unknown languages {sorted(langs - set(LANGUAGES))}")
    if wanted - set(rules.skills):
        raise ProfileError(f"unknown skills {sorted(wanted - set(rules.skills))}")
    if isinstance(capacity, bool) or not 0 <= capacity <= rules.max_capacity:
        raise ProfileError(f"capacity must be 0 to {rules.max_capacity}")
    return [lang for lang in LANGUAGES if lang in langs], [s for s in rules.skills if s in wanted], capacity


def targets(tier: str | None, rules: Routing | None = None) -> tuple[float, float]:
    """(first response, resolution) targets in minutes for a customer tier (``service_targets``)."""
    rules = rules or load_routing()
    return rules.targets.get(tier or "standard", rules.targets["standard"])


def clock(
    started: datetime, ended: datetime | None, target_min: float, now: datetime, warn_at: float
) -> Clock:
    """One target's state: ``met`` / ``missed`` once ended; else ``ok``, ``warning`` (from
    ``warn_at`` of the target) or ``breached``."""
    stop = ended or now
    elapsed = max(0.0, (stop - started).total_seconds() / 60)
    state: ClockState
    if ended is not None:
        state = "met" if elapsed <= target_min else "missed"
    elif elapsed > target_min:
        state = "breached"
    elif elapsed >= warn_at * target_min:
        state = "warning"
    else:
        state = "ok"
    due = started + timedelta(minutes=target_min)
    return {
        "state": state,
        "target_min": target_min,
        "elapsed_min": round(elapsed, 1),
        "due_at": due.isoformat(),
    }


def sla(
    tier: str | None,
    handoff_at: datetime,
    first_reply_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime,
    rules: Routing | None = None,
) -> Sla:
    """Both clocks of an escalation, counted from the handoff."""
    rules = rules or load_routing()
    first, resolution = targets(tier, rules)
    return {
        "first_response": clock(handoff_at, first_reply_at, first, now, rules.warn_at),
        "resolution": clock(handoff_at, resolved_at, resolution, now, rules.warn_at),
    }
