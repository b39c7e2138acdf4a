"""Service-recovery rules, pure: frustration and severity, compensation policy, labels.

Used by the actions and the consoles alike; imports only the shared leaves (:mod:`common`).
"""
