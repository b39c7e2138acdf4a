"""CRM store: customers, orders, conversations, tickets, KB history and audit data.

Nothing here opens a database at import time. Typical use::

    from crm.db import make_engine, make_session_factory, session_scope
    from crm.repo import conversations

    factory = make_session_factory(make_engine())          # URL from common.settings
    with session_scope(factory) as session:
        conv = conversations.get_conversation_by_token(session, token)

Schema changes go through Alembic (``python -m crm migrate``); production code never calls
``create_all``.
"""

from crm.errors import CRMConfigError, CRMError, CRMNotFound, CRMSchemaError

__all__ = ["CRMError", "CRMConfigError", "CRMSchemaError", "CRMNotFound"]
