"""Rasa-side plugins: NLU components, the gateway channel, the tracker store and the launchers.

Loaded by the Rasa server on Python 3.10, so nothing here imports ``crm/`` or ``kb/`` (the app's
SQLAlchemy-2 and torch code) or ``actions/``; only the shared leaves in :mod:`common`.
"""
