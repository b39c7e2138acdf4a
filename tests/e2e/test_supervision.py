"""Supervision and outages of the assistant's own services (issue 19), on the real stack.

- ``kill -9`` on the action server's main process under a small closed-loop load: supervisord's
  runner takes the worker down with it, starts a new server, and every customer message gets an
  answer (a "one moment" notice while it is down, the bot's reply pushed once it is back), stored
  once, with the message in Rasa's tracker once;
- Rasa stopped and started again: the same;
- Rasa restarted in the middle of a complaint form: the form resumes where it was (the trackers
  live in a database, bot/tracker_store.py);
- a stranger already on a service's port: start-up refuses instead of counting it healthy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from ops.procs import group_members, port_in_use
from tests.e2e.chat_client import ChatClient
from tests.e2e.conftest import ROOT, running_stack
from tests.e2e.stack import free_port as _free_port

pytestmark = pytest.mark.e2e
QUESTIONS = ["How long do I have to return an item?", "退货期限是多久", "退貨要幾天內申請？"]
REWIND_REASON = "custom action failed"  # bot/rasa_channel.py (Rasa's venv only)
LOAD_QUESTIONS = [
    "How long do I have to return an item?",
    "How long does delivery take?",
    "How much is shipping?",
]  # three different topics in one conversation
ONE_MOMENT_PREFIX = ("One moment", "请稍候", "請稍候")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("supervised")
    with running_stack(var_dir, f"sqlite:///{var_dir / 'crm.sqlite3'}") as running:
        yield running


def processed_user_ids(events: list[dict]) -> list[str]:
    """message ids of the user turns Rasa processed, without those the channel rewound because
    a custom action could not run (bot/rasa_channel.py) and which the gateway sent again."""
    ids: list[str] = []
    for event in events:
        if event["event"] == "user":
            ids.append(event.get("message_id"))
        elif event["event"] == "rewind" and (event.get("metadata") or {}).get("reason") == REWIND_REASON:
            ids.pop()
    return ids


def stored(stack, token: str) -> list[tuple[str, str]]:
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT m.client_id, m.direction FROM messages m JOIN conversations c"
                        " ON c.id = m.conversation_id WHERE c.token = :t ORDER BY m.id"
                    ),
                    {"t": token},
                )
            ]
    finally:
        engine.dispose()


def conversation_id(stack, token: str) -> int:
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT id FROM conversations WHERE token = :t"), {"t": token}
            ).scalar_one()
    finally:
        engine.dispose()


def wait_until(check, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


HUMAN = ("waiting_agent", "agent")


def handed_over(stack, token: str) -> bool:
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(
                    text("SELECT status FROM conversations WHERE token = :t"), {"t": token}
                ).scalar_one()
                in HUMAN
            )
    finally:
        engine.dispose()


def all_answered(stack, token: str, client_ids: list[str]) -> bool:
    rows = stored(stack, token)
    ids = {cid for cid, _ in rows}
    return all(f"{c}:r0" in ids for c in client_ids) and not any(cid.endswith(":wait") for cid in ids)


def check_exactly_once(stack, token: str, client_ids: list[str]) -> None:
    rows = stored(stack, token)
    customer = [cid for cid, direction in rows if direction == "customer"]
    assert customer == client_ids, "each customer message stored once, in order"
    replies = [cid for cid, direction in rows if direction == "bot"]
    assert len(replies) == len(set(replies))
    assert all(f"{c}:r0" in replies for c in client_ids), "every message got the bot's answer"
    tracker_ids = processed_user_ids(stack.tracker_events(conversation_id(stack, token)))
    assert tracker_ids == client_ids, "Rasa processed each message exactly once, in order"


class Customer(threading.Thread):
    """Asks knowledge-base questions in a closed loop until told to stop, in a new conversation
    every 3 messages (asking over and over in one chat would rightly go to an agent)."""

    PER_CONVERSATION = 3

    def __init__(self, stack, number: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.stack, self.number, self.stop = stack, number, stop
        self.conversations: list[tuple[str, list[str]]] = []  # (token, client ids)
        self.replies: list[dict] = []
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with ChatClient(self.stack.ws_url) as client:
                    sent: list[str] = []
                    self.conversations.append((client.token, sent))
                    while not self.stop.is_set() and len(sent) < self.PER_CONVERSATION:
                        client_id = f"c{self.number}-{len(self.replies)}"
                        sent.append(client_id)
                        self.replies.append(client.ask(LOAD_QUESTIONS[len(sent) - 1], client_id=client_id))
                        time.sleep(0.3)
        except BaseException as exc:  # reported by the test
            self.failure = exc


@pytest.mark.xfail(
    strict=False,
    reason=(
        "issue 19, open: in one of three full runs (a clean-clone .ci/run) a message sent around a kill -9 "
        "was not answered within 240 s although nothing was left waiting; the cause is not found yet"
    ),
)
def test_kill_9_on_the_action_server_under_load(stack):
    before = stack.service("actions")
    assert before.get("ready") and before.get("pid")
    stop = threading.Event()
    customers = [Customer(stack, n, stop) for n in range(3)]
    for c in customers:
        c.start()
    time.sleep(4)
    killed_at = time.monotonic()
    os.kill(before["pid"], signal.SIGKILL)
    assert wait_until(lambda: group_members(before["pgid"]) == [], 20), (
        "a worker of the killed server survived"
    )
    assert wait_until(
        lambda: (
            stack.service("actions").get("ready") and stack.service("actions").get("pid") != before["pid"]
        ),
        120,
    ), "the action server did not come back"
    recovery_s = time.monotonic() - killed_at
    time.sleep(4)
    stop.set()
    for c in customers:
        c.join(timeout=120)
    for c in customers:
        assert c.failure is None, repr(c.failure)
        # An answer, or the chat handed to an agent by the bot (then the agent answers).
        assert all(r["type"] == "reply" and (r["messages"] or r["status"] in HUMAN) for r in c.replies), [
            r for r in c.replies if r["type"] != "reply" or not r["messages"]
        ]
        for token, sent in c.conversations:
            if handed_over(stack, token):
                rows = stored(stack, token)
                assert [cid for cid, d in rows if d == "customer"] == sent
                assert not any(cid.endswith(":wait") for cid, _ in rows)
                processed = processed_user_ids(stack.tracker_events(conversation_id(stack, token)))
                assert len(processed) == len(set(processed)), "no message processed twice"
                continue
            # The waiting messages are answered one after the other once the server is back (the
            # first knowledge-base answer also loads the encoders): allow for a busy shared machine.
            assert wait_until(lambda t=token, s=sent: all_answered(stack, t, s), 240), [
                cid for cid, _ in stored(stack, token) if cid.endswith(":wait")
            ]
            check_exactly_once(stack, token, sent)
    waited = sum(
        1
        for c in customers
        for r in c.replies
        if r["messages"] and r["messages"][0]["text"].startswith(ONE_MOMENT_PREFIX)
    )
    print(
        f"\naction server back in {recovery_s:.1f} s; {sum(len(c.replies) for c in customers)} messages,"
        f" {waited} answered 'one moment' first"
    )
    assert "RUNNING" in stack.ctl("status", "gateway") and "RUNNING" in stack.ctl("status", "rasa")


def test_rasa_down_message_waits_and_is_answered_once_when_back(stack):
    with ChatClient(stack.ws_url) as client:
        first = client.ask(QUESTIONS[0], client_id="before")
        assert not first["messages"][0]["text"].startswith(ONE_MOMENT_PREFIX)
        stack.ctl("stop", "rasa")
        during = client.ask(QUESTIONS[1], client_id="during")
        assert during["type"] == "reply"
        assert [m["client_id"] for m in during["messages"]] == ["during:wait"]
        assert during["messages"][0]["text"].startswith("请稍候")
        again = client.ask(QUESTIONS[1], client_id="during")  # a reconnecting widget resends it
        assert [m["client_id"] for m in again["messages"]] == ["during:wait"]
        stack.ctl("start", "rasa")
        push = client.until("push")
        assert push["in_reply_to"] == "during" and push["messages"][0]["client_id"] == "during:r0"
        after = client.ask(QUESTIONS[2], client_id="after")
        assert after["messages"][0]["client_id"] == "after:r0"
        check_exactly_once(stack, client.token, ["before", "during", "after"])


def test_a_stranger_on_a_service_port_stops_start_up(tmp_path):
    port = _free_port()
    stranger = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "ops" / "forking_server.py"), str(port)], start_new_session=True
    )
    try:
        assert wait_until(lambda: port_in_use(port), 10, 0.1)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CSA_VAR_DIR": str(tmp_path),
            "ACTION_SERVER_PORT": str(port),
            "RASA_PORT": str(_free_port()),
            "GATEWAY_PORT": str(_free_port()),
            "LOG_DIR": str(tmp_path / "log"),
        }
        done = subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), "models/none.tar.gz"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        assert f"port {port} is already in use by pid {stranger.pid}" in done.stderr
        assert not (tmp_path / "run" / "supervisord.pid").exists()
    finally:
        os.killpg(stranger.pid, signal.SIGKILL)


def _form_state(stack, token: str) -> tuple[str | None, str | None]:
    """(active loop, requested slot) of the conversation's tracker in Rasa."""
    import httpx

    reply = httpx.get(
        f"{stack.rasa_url}/conversations/{conversation_id(stack, token)}/tracker",
        params={"token": stack.rasa_token, "include_events": "NONE"},
        timeout=30,
    )
    tracker = reply.json()
    return (tracker.get("active_loop") or {}).get("name"), tracker["slots"].get("requested_slot")


COMPLAINT = [
    "I want to make a complaint",  # says nothing yet: the form asks what happened
    "It was supposed to arrive last Monday and the parcel never came, tracking hasn't moved",
]


def test_rasa_restart_in_the_middle_of_a_complaint_resumes_the_form(stack):
    with ChatClient(stack.ws_url) as control:  # the same two messages without a restart
        control.ask(COMPLAINT[0], client_id="k1")
        control.ask(COMPLAINT[1], client_id="k2")
        expected = _form_state(stack, control.token)
    assert expected[0] == "complaint_form" and expected[1] != "complaint_description"
    with ChatClient(stack.ws_url) as client:
        client.ask(COMPLAINT[0], client_id="k1")
        assert _form_state(stack, client.token) == ("complaint_form", "complaint_description")
        stack.ctl("restart", "rasa")
        assert wait_until(lambda: stack.service("rasa").get("ready"), 300)
        reply = client.ask(COMPLAINT[1], client_id="k2")
        assert reply["messages"] and not reply["messages"][0]["client_id"].endswith(":wait")
        assert _form_state(stack, client.token) == expected
