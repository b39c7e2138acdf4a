"""Two requests for the same message id arriving together (a gateway retrying after a timeout,
possibly through another Rasa server) make one turn, not two: the channel checks the id again
under the conversation's lock. Runs in the Rasa environment (Python 3.10) through a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r"""
import asyncio, json, socket
import aiohttp
from sanic import Sanic
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from bot.rasa_channel import GatewayInput


class Processor:
    def __init__(self, store):
        self.store, self.turns = store, 0

    async def handle_message(self, message):
        self.turns += 1
        await asyncio.sleep(0.5)  # a slow turn: the second request arrives meanwhile
        tracker = await self.store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, message_id=message.message_id))
        tracker.update(BotUttered(f"answer {self.turns}"))
        await self.store.save(tracker)
        await message.output_channel.send_text_message(message.sender_id, f"answer {self.turns}")


class Agent:
    def __init__(self):
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()
        self.processor = Processor(self.tracker_store)
        self.action_endpoint = None


agent = Agent()


async def handle_message(message):  # what Rasa's Agent.handle_message does
    async with agent.lock_store.lock(message.sender_id):
        await agent.processor.handle_message(message)


app = Sanic("once_test")
app.blueprint(GatewayInput("tok").blueprint(handle_message), url_prefix="/webhooks/gateway")
app.ctx.agent = agent


async def main():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    body = json.dumps({"sender": "c1", "message": "hello", "message_id": "m1"})
    headers = {"Content-Type": "application/json", "Authorization": "Bearer tok"}
    try:
        async with aiohttp.ClientSession() as http:
            async def send():
                async with http.post(f"http://127.0.0.1:{port}/webhooks/gateway/webhook", data=body,
                                     headers=headers) as reply:
                    return await reply.json()
            replies = await asyncio.gather(send(), send())
    finally:
        server.close()
        await server.wait_closed()
    print("RESULT", json.dumps({"turns": agent.processor.turns, "replies": replies}))


asyncio.run(main())
"""


def test_the_same_message_sent_twice_at_once_makes_one_turn() -> None:
    out = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", SCRIPT],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, out.stderr[-3000:]
    result = json.loads(line.removeprefix("RESULT "))
    assert result["turns"] == 1
    texts = sorted(m["text"] for reply in result["replies"] for m in reply["messages"])
    assert texts == ["answer 1", "answer 1"]  # the second request gets the stored answer
    assert sorted(bool(reply.get("repeated")) for reply in result["replies"]) == [False, True]
