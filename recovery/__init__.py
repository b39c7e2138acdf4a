"""Service-recovery rules, pure: frustration and severity, compensation policy, labels, queue
priority, approval limits.

Used by the actions and the consoles alike; imports only the shared leaves (:mod:`common`) and
reads ``compensation_policy.yml``. No database, no Rasa, no web.
"""
