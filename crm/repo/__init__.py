"""Repository functions, grouped by aggregate. They take a ``Session`` and never commit;
the caller owns the unit of work (see :func:`crm.db.session_scope`)."""
