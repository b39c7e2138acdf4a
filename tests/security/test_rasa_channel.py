"""The Rasa-side gateway channel, like the action server, takes only authorised JSON calls.
Runs in the Rasa environment (Python 3.10) through a subprocess."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r"""
import json
from sanic import Sanic
from bot.rasa_channel import GatewayInput

async def on_new_message(message):
    raise AssertionError("no message may reach Rasa")

channel = GatewayInput("tok-123")
app = Sanic("channel_test")
app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/gateway")
body = json.dumps({"sender": "s", "message": "hi"})
results = {}


async def main():
    import asyncio
    import socket

    import aiohttp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        async with aiohttp.ClientSession() as http:
            for name, headers in {
                "no_token": {"Content-Type": "application/json"},
                "wrong_token": {"Content-Type": "application/json", "Authorization": "Bearer nope"},
                "text_plain": {"Content-Type": "text/plain", "Authorization": "Bearer tok-123"},
                "form": {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer tok-123"},
            }.items():
                async with http.post(f"http://127.0.0.1:{port}/webhooks/gateway/webhook", data=body,
                                     headers=headers) as reply:
                    results[name] = reply.status
    finally:
        server.close()
        await server.wait_closed()


import asyncio
asyncio.run(main())
print("RESULT", json.dumps(results))
"""


def test_gateway_channel_refuses_unauthorised_and_non_json_calls():
    rasa_python = ROOT / ".venv-rasa" / "bin" / "python"
    if not rasa_python.exists():
        pytest.skip("Rasa environment not installed")
    out = subprocess.run(
        [str(rasa_python), "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    assert line, out.stderr[-3000:]
    import json

    assert json.loads(line[7:]) == {"no_token": 401, "wrong_token": 401, "text_plain": 415, "form": 415}
