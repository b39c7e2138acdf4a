"""Custom Rasa NLU components. Imported only by the Rasa server (Python 3.10 environment)."""
