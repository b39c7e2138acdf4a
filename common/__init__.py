"""Shared leaves: settings, language and script detection, identity tokens, yes/no reading.

The bottom layer. Imported by the Rasa server (Python 3.10) and the app (3.11) alike, so it
depends only on the standard library, PyYAML and opencc, and imports nothing of the project.
"""
