"""The complaint actions' view of the shared frustration and severity scorer (:mod:`bot.frustration`)."""
from bot.frustration import (  # noqa: F401 - re-exported for the actions
    SEVERITY_ORDER, Frustration, estimate_severity, frustration_score, is_shouting,
)
