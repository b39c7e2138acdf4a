"""Closed-loop virtual customers for bench/load.py: each sends its next message only after the reply.

A customer follows a script of ``(kind, text)`` steps; ``kind`` is what the message exercises
(``kb``, ``greet``, ``complaint``, ``handoff`` for the project, ``chat`` for the vanilla bot). After
its script's last step the customer starts a new conversation (the project hands the first one
over to an agent, so the bot no longer answers it).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Step = tuple[str, str]

# The project: the widget's protocol over the gateway WebSocket; each script is one conversation.
PROJECT_SCRIPTS: list[list[Step]] = [
    [
        ("greet", "你好"),
        ("kb", "退貨要幾天內申請？"),
        ("kb", "訂單送出後還可以改收件地址嗎？"),
        ("complaint", "我收到的耳機是壞的，我要退款"),
        ("complaint", "訂單號碼是LM20260001"),
        ("complaint", "退款"),
        ("kb", "請問要去哪裡查訂單進度"),
        ("handoff", "我要找真人客服"),
    ],
    [
        ("greet", "hello"),
        ("kb", "How do I cancel my order?"),
        ("kb", "How long do I have to return an item?"),
        ("complaint", "My parcel never arrived and I want a refund"),
        ("complaint", "the order number is LM20260002"),
        ("complaint", "refund please"),
        ("kb", "where's my order"),
        ("handoff", "I want to talk to a human agent"),
    ],
    [
        ("greet", "你好呀"),
        ("kb", "退货期限是多久"),
        ("kb", "怎么取消订单？"),
        ("complaint", "订单扣了我两次款，请把多扣的钱退给我"),
        ("complaint", "订单号是LM20260003"),
        ("complaint", "退款"),
        ("kb", "下单之后在哪看物流进度"),
        ("handoff", "转人工客服"),
    ],
]
# One long conversation (no form, no handoff): greetings and knowledge-base questions in turn.
PROJECT_LONG: list[Step] = [
    ("kb", "退貨要幾天內申請？"),
    ("greet", "你好"),
    ("kb", "How do I cancel my order?"),
    ("greet", "hello"),
    ("kb", "怎么取消订单？"),
    ("greet", "你好呀"),
]
# The vanilla rasa init bot: its own intents (greet, mood, affirm/deny, bot challenge, goodbye).
VANILLA_SCRIPTS: list[list[Step]] = [
    [
        ("chat", "hello"),
        ("chat", "I am sad"),
        ("chat", "yes"),
        ("chat", "are you a bot?"),
        ("chat", "great, thanks"),
        ("chat", "no"),
        ("chat", "I am feeling very good"),
        ("chat", "goodbye"),
    ],
    [
        ("chat", "hi"),
        ("chat", "not good"),
        ("chat", "no"),
        ("chat", "am I talking to a human?"),
        ("chat", "perfect"),
        ("chat", "of course"),
        ("chat", "very sad"),
        ("chat", "bye"),
    ],
]
VANILLA_LONG: list[Step] = [
    ("chat", "hello"),
    ("chat", "I am sad"),
    ("chat", "yes"),
    ("chat", "are you a bot?"),
]


class ProjectClient:
    """One customer's WebSocket to the gateway (a new conversation on each :meth:`restart`)."""

    def __init__(self, url: str, timeout: float = 60) -> None:
        self.url, self.timeout, self.ws = url, timeout, None
        self.restart()

    def restart(self) -> None:
        from websockets.sync.client import connect

        self.close()
        self.ws = connect(self.url, open_timeout=self.timeout)
        self.ws.recv(timeout=self.timeout), self.ws.recv(timeout=self.timeout)  # session, history

    def send(self, text: str) -> bool:
        self.ws.send(json.dumps({"type": "message", "id": uuid.uuid4().hex[:16], "text": text}))
        while True:
            frame = json.loads(self.ws.recv(timeout=self.timeout))
            if frame["type"] in ("reply", "error"):
                return frame["type"] == "reply"

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None


class VanillaClient:
    """One customer of the vanilla bot's REST channel (a new sender id on each :meth:`restart`)."""

    def __init__(self, url: str, timeout: float = 60) -> None:
        import httpx

        self.http = httpx.Client(base_url=url, timeout=timeout)
        self.restart()

    def restart(self) -> None:
        self.sender = uuid.uuid4().hex

    def send(self, text: str) -> bool:
        r = self.http.post("/webhooks/rest/webhook", json={"sender": self.sender, "message": text})
        r.json()
        return r.status_code == 200  # some turns of the rasa init bot have no reply: still answered

    def close(self) -> None:
        self.http.close()


@dataclass
class Sample:
    kind: str
    started: float
    seconds: float
    ok: bool


@dataclass
class Level:
    users: int
    samples: list[Sample] = field(default_factory=list)
    window_s: float = 0.0

    def latencies(self, kind: str | None = None) -> list[float]:
        return sorted(s.seconds for s in self.samples if s.ok and (kind is None or s.kind == kind))

    def median_ms(self, kind: str | None = None) -> float:
        values = self.latencies(kind)
        return statistics.median(values) * 1000 if values else float("nan")

    def p95_ms(self, kind: str | None = None) -> float:
        values = self.latencies(kind)
        return values[min(len(values) - 1, int(0.95 * len(values)))] * 1000 if values else float("nan")

    @property
    def throughput(self) -> float:
        return sum(1 for s in self.samples if s.ok) / self.window_s if self.window_s else 0.0

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if not s.ok)


def closed_loop(
    make_client: Callable[[], object],
    scripts: Sequence[list[Step]],
    users: int,
    seconds: float,
    max_messages: int,
    warmup_s: float = 2.0,
) -> Level:
    """``users`` customers for ``warmup_s + seconds`` (or until ``max_messages`` are counted).

    Only messages sent after the warm-up count; the window ends when the last counted one is answered."""
    level = Level(users)
    lock = threading.Lock()
    begin = time.monotonic()
    measure_from, stop_at = begin + warmup_s, begin + warmup_s + seconds

    def customer(index: int) -> None:
        client = make_client()
        script = scripts[index % len(scripts)]
        step = index % len(script)  # customers start at different points of the mix
        try:
            while time.monotonic() < stop_at:
                with lock:
                    if len(level.samples) >= max_messages:
                        return
                kind, text = script[step]
                started = time.monotonic()
                try:
                    ok = client.send(text)
                except Exception:  # a timeout or a dropped socket counts as an error
                    ok = False
                    client.restart()
                if started >= measure_from:
                    with lock:
                        level.samples.append(Sample(kind, started, time.monotonic() - started, ok))
                step += 1
                if step == len(script):
                    step = 0
                    client.restart()
        finally:
            client.close()

    threads = [threading.Thread(target=customer, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=warmup_s + seconds + 120)
    ends = [s.started + s.seconds for s in level.samples]
    level.window_s = (max(ends) - measure_from) if ends else 0.0
    return level


def long_conversation(client, script: list[Step], turns: int, block: int) -> list[float]:
    """Messages per second of one conversation in consecutive blocks of ``block`` turns."""
    rates, count, started = [], 0, time.monotonic()
    try:
        for turn in range(turns):
            client.send(script[turn % len(script)][1])
            count += 1
            if count == block:
                now = time.monotonic()
                rates.append(block / (now - started))
                count, started = 0, now
    finally:
        client.close()
    return rates
