"""Custom actions served by the Rasa SDK action server (Python 3.11 environment).

Modules here stay cheap to import: the knowledge base and the CRM store are loaded on first
use by :mod:`actions.services`.
"""
