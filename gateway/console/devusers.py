"""``python -m gateway.console.devusers``: ensure the development console users exist and
print their credentials (called by ``make run``).

The passwords are generated once and kept in ``var/secrets/dev_users.json`` (mode 0600), so they
stay the same across runs. Accounts named there (and the ``demo-*`` users of ``python -m crm
seed``) are development accounts: the console refuses them when ``CSA_ENV=production``, and this
command refuses to run in production.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from common.settings import Settings
from crm.db import session_scope
from crm.repo import admin
from crm.seed import DEV_USERNAMES

FILE_NAME = "dev_users.json"
#: What customers see on a development user's messages ("Mei Chan (agent)"); each user can
#: change it in the console.
DEV_DISPLAY_NAMES = {"agent": "Mei Chan", "manager": "Alex Wong", "trainer": "Sam Lee", "admin": "Jo Lau"}


def credentials_path(settings: Settings) -> Path:
    return Path(settings.var_dir) / "secrets" / FILE_NAME


def load_or_create(path: Path) -> dict[str, dict[str, str]]:
    """``{role: {"username", "password"}}``, created once with random passwords."""
    if path.exists():
        stored: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
        if all(role in stored for role in DEV_USERNAMES):
            return stored
    data = {
        role: {"username": name, "password": secrets.token_urlsafe(12)}
        for role, name in DEV_USERNAMES.items()
    }
    from common.settings import private_dir

    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
    os.chmod(path, 0o600)
    return data


def dev_usernames(settings: Settings) -> set[str]:
    names = set(DEV_USERNAMES.values())
    path = credentials_path(settings)
    try:
        names |= {v["username"] for v in json.loads(path.read_text(encoding="utf-8")).values()}
    except (OSError, ValueError, TypeError, KeyError):
        pass
    return names


def ensure_dev_users(factory: sessionmaker[Session], creds: dict[str, dict[str, str]]) -> list[str]:
    """Create the users, or reset a password / role that differs; return what changed."""
    changed = []
    with session_scope(factory) as session:
        for role, cred in creds.items():
            user = admin.get_user_by_username(session, cred["username"])
            if user is None:
                admin.create_user(
                    session,
                    username=cred["username"],
                    password=cred["password"],
                    role=role,
                    display_name=DEV_DISPLAY_NAMES.get(role, f"Demo {role}"),
                )
                changed.append(f"created {cred['username']}")
            elif (
                not admin.verify_password(user.password_hash, cred["password"])
                or user.role != role
                or not user.active
            ):
                user.password_hash = admin.hash_password(cred["password"])
                user.role, user.active = role, True
                admin.revoke_user_console_sessions(session, user.id)  # old sign-ins end
                changed.append(f"reset {cred['username']}")
            if user is not None and user.display_name in (None, "", f"Demo {role}"):
                user.display_name = DEV_DISPLAY_NAMES.get(role, user.display_name)
        _seed_routing(session, [c["username"] for c in creds.values()])
        session.flush()
    return changed


def _seed_routing(session: Session, usernames: list[str]) -> None:
    """Development agents and managers take chats in every language and skill (until someone
    edits their routing profile in the console)."""
    from common.lang import LANGUAGES
    from recovery.routing import load_routing

    skills = list(load_routing().skills)
    for name in usernames:
        user = admin.get_user_by_username(session, name)
        if user is not None and user.role in ("agent", "manager") and user.languages is None:
            user.languages, user.skills = list(LANGUAGES), skills


def main(argv: list[str] | None = None) -> int:
    from common.settings import get_settings
    from crm import migrate
    from crm.db import make_engine, make_session_factory
    from crm.errors import CRMError

    settings = get_settings()
    if settings.is_production:
        print("error: development users are refused in production (CSA_ENV=production)", file=sys.stderr)
        return 2
    try:
        migrate.check(settings.database_url)
        engine = make_engine(settings.database_url)
        creds = load_or_create(credentials_path(settings))
        ensure_dev_users(make_session_factory(engine), creds)
        engine.dispose()
    except CRMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    base = f"http://{settings.gateway_host}:{settings.gateway_port}"
    pages = {"agent": "/agent", "trainer": "/trainer", "manager": "/analytics", "admin": "/agent"}
    print(
        "==> [console] development logins (refused when CSA_ENV=production; "
        f"kept in {credentials_path(settings)}):"
    )
    for role, cred in creds.items():
        print(f"    {role:<8} {cred['username']:<14} {cred['password']:<18} {base}{pages[role]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
