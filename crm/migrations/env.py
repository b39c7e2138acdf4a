"""Alembic environment for the CRM schema.

The URL comes, in order, from ``config.attributes["connection"]`` (an open connection passed by
:mod:`crm.migrate`), ``config.attributes["url"]``, or ``common.settings`` (``DATABASE_URL``).
No credentials live in the repository.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from crm.models import Base
from crm.orm.base import UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate plain ``sa.DateTime(timezone=True)`` so migrations never import models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        render_as_batch=True,  # SQLite needs batch mode for ALTERs in later migrations
        **kwargs,
    )


def run_migrations_offline() -> None:
    from crm.db import parse_url

    url = config.attributes.get("url") or parse_url(None)
    _configure(url=str(url), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from crm.db import make_engine

    engine = make_engine(config.attributes.get("url"))
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
