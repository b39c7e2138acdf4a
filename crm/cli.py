"""``python -m crm migrate | check | seed | export-customer ID | forget-customer ID``.

Every failure is reported as a single ``error: ...`` line on stderr with exit status 2.
The database URL comes from ``common.settings`` unless ``--url`` is given.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Callable, Sequence

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from crm import migrate
from crm.db import describe_db_error, make_engine, make_session_factory, session_scope
from crm.errors import CRMError, one_line, redact_url


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m crm", description="CRM store maintenance")
    p.add_argument("--url", help="database URL (default: DATABASE_URL via common.settings)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the schema to the latest revision")
    sub.add_parser("check", help="verify the schema matches this code")
    seed = sub.add_parser("seed", help="load demo data into an empty database")
    seed.add_argument("--no-users", action="store_true", help="do not create demo users")
    exp = sub.add_parser("export-customer", help="print all data held about a customer as JSON")
    exp.add_argument("customer_id", type=int)
    exp.add_argument("--output", "-o", help="write to this file instead of stdout")
    forget = sub.add_parser("forget-customer", help="anonymise a customer (irreversible)")
    forget.add_argument("customer_id", type=int)
    forget.add_argument("--yes", action="store_true", help="confirm the irreversible erasure")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CRMError as exc:
        return _fail(str(exc))
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        return _fail(describe_db_error(exc, redact_url(args.url) if args.url else None))
    except sa_exc.SQLAlchemyError as exc:
        return _fail(f"database error: {one_line(exc)}")
    except KeyboardInterrupt:
        return _fail("interrupted", status=130)


def _fail(message: str, status: int = 2) -> int:
    print(f"error: {one_line(message)}", file=sys.stderr)
    return status


def _cmd_migrate(args: argparse.Namespace) -> int:
    print(f"database at revision {migrate.upgrade(args.url)}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    print(f"database schema OK (revision {migrate.check(args.url)})")
    return 0


def _factory(args: argparse.Namespace) -> sessionmaker[Session]:
    migrate.check(args.url)  # refuse to touch a missing/older/newer schema
    return make_session_factory(make_engine(args.url))


def _cmd_seed(args: argparse.Namespace) -> int:
    from common.settings import get_settings
    from crm.seed import DEV_USERNAMES, seed

    if get_settings().is_production:
        return _fail("refusing to load demo data in production (CSA_ENV=production)")
    factory = _factory(args)
    passwords = {} if args.no_users else {r: secrets.token_urlsafe(12) for r in DEV_USERNAMES}
    with session_scope(factory) as session:
        result = seed(session, user_passwords=passwords)
    if result.skipped:
        print("database is not empty: demo data not loaded")
    else:
        print(
            f"loaded {result.customers} customers, {result.orders} orders, "
            f"{result.tickets} tickets, {result.conversations} conversations"
        )
    if result.users:
        print("demo users (passwords are shown only once):")
        for role, username in DEV_USERNAMES.items():
            if username in result.users:
                print(f"  {username:14} {role:8} {passwords[role]}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from crm.repo.privacy import export_customer

    with session_scope(_factory(args)) as session:
        data = export_customer(session, args.customer_id)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


def _cmd_forget(args: argparse.Namespace) -> int:
    from crm.repo.privacy import forget_customer

    if not args.yes:
        return _fail(f"refusing to anonymise customer {args.customer_id} without --yes")
    with session_scope(_factory(args)) as session:
        counts = forget_customer(session, args.customer_id)
    detail = ", ".join(f"{n} {k}" for k, n in counts.items())
    print(f"customer {args.customer_id} anonymised ({detail} redacted)")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "migrate": _cmd_migrate,
    "check": _cmd_check,
    "seed": _cmd_seed,
    "export-customer": _cmd_export,
    "forget-customer": _cmd_forget,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
