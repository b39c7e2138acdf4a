"""Public import point for the ORM models: ``from crm.models import Customer, Message, ...``.

The classes live in the :mod:`crm.orm` package (one module per aggregate). This module exists
so that the name ``crm.models`` stays stable (a ``models/`` directory would be caught by the
repository's ignore rule for trained Rasa models).
"""

from crm.orm import *  # noqa: F401,F403
from crm.orm import __all__  # noqa: F401
