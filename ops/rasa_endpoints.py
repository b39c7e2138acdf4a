"""Write Rasa's endpoints file for this environment: ``python -m ops.rasa_endpoints OUT``.

The checked-in ``endpoints.yml`` names the action server; this adds

- the tracker store (:class:`bot.tracker_store.ResilientSQLTrackerStore`): the CRM's PostgreSQL
  server when ``DATABASE_URL`` is PostgreSQL (database ``<crm database>_rasa``, created on first
  use through the CRM database), else a SQLite file ``<var>/rasa_trackers.sqlite3``;
  ``RASA_TRACKER_STORE=memory`` keeps Rasa's in-memory store (state lost on restart);
- the action server's URL from ``ACTION_SERVER_URL`` when set (containers), else the loopback
  one of ``endpoints.yml``;
- the lock store in Redis when ``REDIS_URL`` is set (needed when more than one Rasa serves the
  same conversations).

The file may hold the database password, so it is written with mode 0600 (under ``var/``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from common.settings import PROJECT_ROOT, Settings, get_settings

TRACKER_CLASS = "bot.tracker_store.ResilientSQLTrackerStore"


def _scalar(value: object) -> str:
    return json.dumps(value)  # a JSON string or number is a valid YAML scalar


def tracker_store(settings: Settings) -> dict[str, object] | None:
    if settings.rasa_tracker_store == "memory":
        return None
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        store: dict[str, object] = {
            "type": TRACKER_CLASS,
            "dialect": "postgresql",
            "db": f"{url.database}_rasa",
            "login_db": url.database,
        }
        for key, value in (
            ("url", url.host or "localhost"),
            ("port", url.port or 5432),
            ("username", url.username),
            ("password", url.password),
        ):
            if value:
                store[key] = value
        return store
    return {"type": TRACKER_CLASS, "dialect": "sqlite", "db": str(settings.var_dir / "rasa_trackers.sqlite3")}


def lock_store(settings: Settings) -> dict[str, object] | None:
    if not settings.redis_url:
        return None
    url = make_url(settings.redis_url)
    store: dict[str, object] = {
        "type": "redis",
        "url": url.host or "localhost",
        "port": url.port or 6379,
        "db": int(url.database or 0),
        "key_prefix": "lumen",
    }
    if url.password:
        store["password"] = url.password
    return store


def render(settings: Settings, base: str) -> str:
    if settings.action_server_url:  # e.g. http://actions:5055/webhook between containers
        base = re.sub(
            r"(?m)^(\s+url:\s*)http://127\.0\.0\.1:\$\{ACTION_SERVER_PORT\}/webhook\s*$",
            lambda m: m.group(1) + _scalar(settings.action_server_url),
            base,
        )
    parts = [base.rstrip("\n"), ""]
    for name, store in (("tracker_store", tracker_store(settings)), ("lock_store", lock_store(settings))):
        if store:
            parts.append(f"{name}:")
            parts += [f"  {key}: {_scalar(value)}" for key, value in store.items()]
    return "\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ops.rasa_endpoints OUT", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render(get_settings(), (PROJECT_ROOT / "endpoints.yml").read_text())
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
