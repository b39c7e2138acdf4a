"""Issue 18 on the real stack: Rasa reaches the action server with its token (the answer below
comes from a custom action), no secret is on the process list, the gateway log holds no
conversation token."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.chat_client import ChatClient

pytestmark = pytest.mark.e2e


def _command_lines() -> list[bytes]:
    lines = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                lines.append((proc / "cmdline").read_bytes())
            except OSError:
                pass
    return lines


def test_no_secret_on_the_process_list_and_none_in_the_gateway_log(stack):
    with ChatClient(stack.ws_url) as client:
        reply = client.ask("How long do I have to return an item?", client_id="sec-1")
        token = client.token
    assert reply["type"] == "reply" and reply["messages"]  # answered by action_answer_from_kb
    secrets = {
        "rasa_token": stack.rasa_token,  # given in the environment, or generated in var/secrets
        "action_token": (stack.log_dir.parent / "secrets" / "action_token").read_text().strip(),
    }
    assert all(len(value) >= 20 for value in secrets.values())
    commands = _command_lines()
    assert any(b"bot.rasa_launch" in c for c in commands) and any(b"bot.action_server" in c for c in commands)
    for name, value in secrets.items():
        assert not any(value.encode() in c for c in commands), name
    log = (stack.log_dir / "gateway.log").read_text()
    assert "WebSocket /ws" in log and token not in log
    actions_log = (stack.log_dir / "actions.log").read_text()
    assert "refused" not in actions_log  # every action call carried the token
