"""The one place where the project patches a Rasa slow path (Rasa server process only).

**Action-response validation.** Rasa 3.6's ``RemoteAction._validate_action_result`` calls
``jsonschema.validate(result, schema)`` for every action server response. That function first
re-checks the (large, constant) events schema against the JSON-Schema meta-schema and builds a
new validator each time: under load this was 34-51 % of Rasa's CPU (issue 23, py-spy). The shim
keeps Rasa's contract (same schema, same ``ValidationError`` with the same message suffix) but
checks the schema once and reuses one validator.

**Event classes by name.** ``Event.resolve_by_type`` walks every subclass of ``Event`` (with an
``inspect.isabstract`` check each) for each event it deserialises; the tracker store deserialises
every event of a conversation on every message, so this was 13 % of Rasa's CPU after the first fix
and grows with the conversation. The shim remembers the class found for each name; names it has
not found (unknown ones, or the ``default`` fallback) go to Rasa's own lookup every time.

The patch is applied only to the Rasa and jsonschema versions it was written against
(:data:`SUPPORTED`); on any other version it does nothing and logs why, so an upgrade falls back
to Rasa's own code instead of a silently wrong patch. Applied by importing :mod:`bot.nlu` (Rasa
imports it when it loads the model's custom components), so every way of starting Rasa with
this project's model gets it. Standard library, ``rasa`` and ``jsonschema`` only.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

SUPPORTED = {"rasa": ("3.6.",), "jsonschema": ("4.",)}
_applied = False


def _version_ok(rasa_version: str, jsonschema_version: str) -> bool:
    return rasa_version.startswith(SUPPORTED["rasa"]) and jsonschema_version.startswith(
        SUPPORTED["jsonschema"]
    )


def make_validator(schema: dict[str, Any]):
    """A validator for ``schema``, checked against its meta-schema once (as ``jsonschema.validate`` does)."""
    from jsonschema.validators import validator_for

    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _cache_event_types() -> None:
    from rasa.shared.core.events import Event

    lookup = Event.resolve_by_type
    found: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is None:
            cls = lookup(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                found[type_name] = cls
        return cls

    resolve_by_type.__doc__ = "Rasa's lookup, remembered per name (bot/rasa_shims.py)."
    Event.resolve_by_type = staticmethod(resolve_by_type)


def install() -> bool:
    """Patch ``RemoteAction._validate_action_result`` and ``Event.resolve_by_type``; True when applied."""
    global _applied
    if _applied:
        return True
    try:
        from importlib.metadata import version

        import rasa
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.constants import DOCS_BASE_URL
    except ImportError:
        return False
    found = (rasa.__version__, version("jsonschema"))
    if not _version_ok(*found):
        log.warning(
            "bot.rasa_shims: rasa %s / jsonschema %s not in %s; Rasa's own validation is used",
            *found,
            SUPPORTED,
        )
        return False
    from jsonschema.exceptions import best_match

    validator = make_validator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        e = best_match(validator.iter_errors(result))  # what jsonschema.validate raises
        if e is None:
            return True
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e

    _validate_action_result.__doc__ = "Rasa's check with one cached validator (bot/rasa_shims.py)."
    RemoteAction._validate_action_result = _validate_action_result
    _cache_event_types()
    _applied = True
    return True
