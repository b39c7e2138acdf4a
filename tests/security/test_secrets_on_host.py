"""Defect 6: no credentials in the gateway's log or on the process list; private files."""

from __future__ import annotations

import io
import logging
import stat
import subprocess
from pathlib import Path

import pytest

from common.identity import sign_identity
from common.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway_log(monkeypatch):
    """Log records as ``python -m gateway`` writes them: uvicorn's formatters, our redaction."""
    from uvicorn.logging import AccessFormatter, DefaultFormatter

    from gateway import logredact

    previous = logging.getLogRecordFactory()
    logredact._installed = False
    logredact.install()
    out = io.StringIO()
    handlers = []
    for name, formatter in (
        ("uvicorn.access", AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')),
        ("uvicorn.error", DefaultFormatter("%(message)s")),
    ):
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
        handlers.append((name, handler))
    yield out
    for name, handler in handlers:
        logging.getLogger(name).removeHandler(handler)
    logging.setLogRecordFactory(previous)
    logredact._installed = False


def test_gateway_log_lines_hold_no_conversation_or_identity_tokens(gateway_log):
    conversation = "Zr3kq0x9cN2b7yTq5s1uWfA4gH8jL6mP"
    identity = sign_identity("identity-secret-for-tests-0123456789abcdef", "DEMO-0001")
    access = logging.getLogger("uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        f"/api/conversations/{conversation}/messages",
        "1.1",
        200,
    )
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "POST",
        f"/api/conversations/{conversation}/csat?x=1",
        "1.1",
        200,
    )
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:5001", f"/ws?token={conversation}&identity={identity}"
    )
    logging.getLogger("uvicorn.error").info(
        "HTTP Request: POST http://127.0.0.1:5005/conversations/7/"
        "tracker/events?token=rasa-secret-123&include_events=NONE"
    )
    text = gateway_log.getvalue()
    assert conversation not in text and identity not in text and identity.split(".")[0] not in text
    assert "rasa-secret-123" not in text
    assert text.count("***") == 5 and "GET /api/conversations/***/messages HTTP/1.1" in text
    assert "include_events=NONE" in text  # only credentials are removed


def test_services_never_put_a_token_on_the_command_line():
    code = [
        line
        for line in (ROOT / "scripts" / "services.sh").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    services = "\n".join(code)
    assert "--auth-token" not in services and "-m bot.rasa_launch run" in services
    assert "TOKEN" not in services.split("-m bot.rasa_launch run")[1].split("\n")[0]
    from bot.rasa_launch import argv_with_token

    assert argv_with_token(["run", "--enable-api"], "tok")[-1] == "--auth-token=tok"
    with pytest.raises(SystemExit):
        argv_with_token(["run", "--auth-token=leak"], "tok")


def test_secrets_folder_and_files_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("CSA_VAR_DIR", str(tmp_path / "var"))
    for name in ("RASA_TOKEN", "IDENTITY_SECRET", "SESSION_SECRET", "ACTION_SERVER_TOKEN", "CSA_ENV"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        get_settings()
    finally:
        get_settings.cache_clear()
    secrets = tmp_path / "var" / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    files = sorted(p.name for p in secrets.iterdir())
    assert files == ["action_token", "identity_secret", "rasa_token", "session_secret"]
    for path in secrets.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_an_existing_world_readable_secrets_folder_is_tightened(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o755)
    (secrets / "rasa_token").write_text("x" * 40)
    (secrets / "rasa_token").chmod(0o644)
    monkeypatch.setenv("CSA_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        assert get_settings().rasa_token == "x" * 40
    finally:
        get_settings.cache_clear()
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert stat.S_IMODE((secrets / "rasa_token").stat().st_mode) == 0o600


def test_the_crm_sqlite_file_is_private(tmp_path):
    from crm import migrate
    from crm.db import make_engine

    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
        for path in tmp_path.glob("crm.sqlite3*"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    engine.dispose()
    loose = tmp_path / "old.sqlite3"
    loose.touch(mode=0o644)
    loose.chmod(0o644)
    make_engine(f"sqlite:///{loose}").dispose()
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


@pytest.mark.parametrize("token", ["-starts-with-a-dash", "plain_Token-123"])
def test_rasa_reads_any_generated_token_even_one_starting_with_a_dash(token):
    """``secrets.token_urlsafe`` begins with "-" once in 64 tokens; Rasa's own argument parser
    must still take it as the token (as two arguments it stopped Rasa: "expected one argument")."""
    from bot.rasa_launch import argv_with_token

    rasa_python = ROOT / ".venv-rasa" / "bin" / "python"
    if not rasa_python.exists():
        pytest.skip("the Rasa environment is not installed (make install)")
    argv = argv_with_token(["run", "--enable-api"], token)[1:]
    code = (
        "import sys\n"
        "from rasa.__main__ import create_argument_parser\n"
        "print(create_argument_parser().parse_args(sys.argv[1:]).auth_token)\n"
    )
    out = subprocess.run(
        [str(rasa_python), "-c", code, *argv], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == token
