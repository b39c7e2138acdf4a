"""All runtime configuration, read from environment variables in one place.

Every process (gateway, action server, `kb` CLI, CRM tools) calls :func:`get_settings`; nothing
else reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    kb_source: Path
    kb_index_root: Path
    kb_encoder: str
    rasa_url: str
    rasa_token: str
    action_server_port: int
    gateway_host: str
    gateway_port: int
    max_message_chars: int
    identity_secret: str = ""
    session_secret: str = ""
    environment: str = "development"
    # Shared secret Rasa sends to the action server (header ``X-Lumen-Action-Token``,
    # endpoints.yml); bot/action_server.py refuses calls without it.
    action_token: str = ""
    # Rate limits on the customer endpoints (gateway/ratelimit.py); RATE_LIMITS=off turns them
    # off for load benchmarks from one address, and is refused in production.
    rate_limits: bool = True
    # Follow-ups (gateway/followups.py): the gateway's worker sends due follow-ups every
    # `followup_interval_s` seconds (0: off) through the `followup_notifier` ("local": a bot
    # message in the customer's latest chat; "webhook": JSON POSTed to `followup_webhook_url`,
    # signed with `followup_webhook_secret` when set).
    followup_interval_s: float = 60.0
    # The agent router (gateway/console/routes_routing.py) also runs every `routing_interval_s`
    # seconds (0: only when a console reads the queue), so a chat finds an agent who became free.
    routing_interval_s: float = 10.0
    followup_notifier: str = "local"
    followup_webhook_url: str = ""
    followup_webhook_secret: str = ""
    # Rasa's dialogue state (ops/rasa_endpoints.py): "sql" (the CRM's PostgreSQL, or a SQLite
    # file in var/) or "memory"; Redis (REDIS_URL) for Rasa's lock store and the gateways' hub.
    rasa_tracker_store: str = "sql"
    redis_url: str = ""
    # Where Rasa finds the action server when it is not on the same machine (containers).
    action_server_url: str = ""
    # The KB worker (`python -m worker`): its health endpoint (supervision and container probes).
    worker_host: str = "127.0.0.1"
    worker_port: int = 5070

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ValueError(
                f"environment must be one of {', '.join(ENVIRONMENTS)}, got {self.environment!r}"
            )
        if self.is_production and not self.rate_limits:
            raise ValueError("RATE_LIMITS=off is refused with CSA_ENV=production")
        if self.is_production:
            short = [
                name
                for name in SECRET_FIELDS
                if len(getattr(self, name).encode()) < MIN_PRODUCTION_SECRET_BYTES
            ]
            if short:
                raise ValueError(
                    f"CSA_ENV=production needs secrets of at least {MIN_PRODUCTION_SECRET_BYTES} "
                    f"bytes; too short: {', '.join(short)}"
                )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


ENVIRONMENTS = ("development", "production")
MIN_PRODUCTION_SECRET_BYTES = 32
SECRET_FIELDS = ("rasa_token", "identity_secret", "session_secret", "action_token")


def _environment() -> str:
    """``CSA_ENV``, case-insensitive; anything but a known value refuses to start (fail closed)."""
    raw = os.environ.get("CSA_ENV")
    value = (raw if raw is not None else "development").strip().lower()
    if value not in ENVIRONMENTS:
        raise ValueError(f"CSA_ENV must be one of {', '.join(ENVIRONMENTS)}, got {raw!r}")
    return value


def _switch(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw in ("", "on", "1", "true", "yes"):
        return default if raw == "" else True
    if raw in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"{name} must be on or off, got {raw!r}")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def _secret(var_dir: Path, name: str) -> str:
    """Return a per-install random secret kept under ``var/secrets`` (0700; files 0600; never in
    the repo). A new file is created owner-only from the start, not chmod-ed after writing."""
    import secrets

    folder = private_dir(var_dir / "secrets")
    path = folder / name
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


FOLLOWUP_NOTIFIERS = ("local", "webhook")
TRACKER_STORES = ("sql", "memory")


def _tracker_store() -> str:
    value = (os.environ.get("RASA_TRACKER_STORE") or "sql").strip().lower()
    if value not in TRACKER_STORES:
        raise ValueError(f"RASA_TRACKER_STORE must be one of {', '.join(TRACKER_STORES)}, got {value!r}")
    return value


def _interval(name: str, default: float) -> float:
    interval = _float(name, default)
    if interval < 0:
        raise ValueError(f"{name} must be 0 (off) or positive, got {interval!r}")
    return interval


def _followup_notifier() -> tuple[str, str]:
    """(notifier, webhook URL); the webhook notifier needs an http(s) URL."""
    notifier = (os.environ.get("FOLLOWUP_NOTIFIER") or "local").strip().lower()
    if notifier not in FOLLOWUP_NOTIFIERS:
        raise ValueError(
            f"FOLLOWUP_NOTIFIER must be one of {', '.join(FOLLOWUP_NOTIFIERS)}, got {notifier!r}"
        )
    url = (os.environ.get("FOLLOWUP_WEBHOOK_URL") or "").strip()
    if notifier == "webhook" and not url.startswith(("http://", "https://")):
        raise ValueError("FOLLOWUP_NOTIFIER=webhook needs FOLLOWUP_WEBHOOK_URL (http:// or https://)")
    return notifier, url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = _path("CSA_VAR_DIR", PROJECT_ROOT / "var")
    var_dir.mkdir(parents=True, exist_ok=True)
    followup_notifier, followup_webhook_url = _followup_notifier()
    return Settings(
        var_dir=var_dir,
        database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'crm.sqlite3'}",
        kb_source=_path("KB_SOURCE", PROJECT_ROOT / "kb" / "data" / "reference_faq.yml"),
        kb_index_root=_path("KB_INDEX_DIR", var_dir / "kb"),
        kb_encoder=os.environ.get("KB_ENCODER", "use-multilingual-v3"),
        rasa_url=os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        rasa_token=os.environ.get("RASA_TOKEN") or _secret(var_dir, "rasa_token"),
        action_server_port=_int("ACTION_SERVER_PORT", 5055),
        gateway_host=os.environ.get("GATEWAY_HOST", "127.0.0.1"),
        gateway_port=_int("GATEWAY_PORT", 8000),
        max_message_chars=_int("MAX_MESSAGE_CHARS", 2000),
        identity_secret=os.environ.get("IDENTITY_SECRET") or _secret(var_dir, "identity_secret"),
        session_secret=os.environ.get("SESSION_SECRET") or _secret(var_dir, "session_secret"),
        environment=_environment(),
        action_token=os.environ.get("ACTION_SERVER_TOKEN") or _secret(var_dir, "action_token"),
        rate_limits=_switch("RATE_LIMITS", True),
        followup_interval_s=_interval("FOLLOWUP_INTERVAL_S", 60.0),
        routing_interval_s=_interval("ROUTING_INTERVAL_S", 10.0),
        followup_notifier=followup_notifier,
        followup_webhook_url=followup_webhook_url,
        followup_webhook_secret=os.environ.get("FOLLOWUP_WEBHOOK_SECRET", ""),
        rasa_tracker_store=_tracker_store(),
        redis_url=os.environ.get("REDIS_URL", "").strip(),
        action_server_url=os.environ.get("ACTION_SERVER_URL", "").strip(),
        worker_host=os.environ.get("WORKER_HOST", "127.0.0.1"),
        worker_port=_int("WORKER_PORT", 5070),
    )


def redis_password() -> str:
    """The password of the loopback Redis that ``scripts/redis_server.sh`` starts (``REDIS_PASSWORD``,
    else a per-install secret in ``var/secrets``); the services get it inside ``REDIS_URL``."""
    return os.environ.get("REDIS_PASSWORD") or _secret(get_settings().var_dir, "redis_password")
