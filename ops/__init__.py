"""Operations: process supervision of the three services (see docs/reliability.md).

Standard library only (plus ``supervisor`` for :mod:`ops.supervise`); nothing here imports the
gateway, the CRM or the knowledge base.
"""
