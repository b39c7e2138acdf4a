"""Custom Rasa NLU components. Imported only by the Rasa server (Python 3.10 environment)."""

from bot import rasa_shims as _rasa_shims

_rasa_shims.install()
