"""bench/load_drive.py: closed-loop customers and their figures; bench/load.py's report."""

from __future__ import annotations

import time

from bench.load import report
from bench.load_drive import closed_loop, long_conversation


class FakeClient:
    """Answers after ``delay`` seconds; records what it was sent and each new conversation."""

    log: list[tuple[str, str]] = []

    def __init__(self, delay: float = 0.01) -> None:
        self.delay = delay
        self.restart()

    def restart(self) -> None:
        self.log.append(("restart", ""))

    def send(self, text: str) -> bool:
        time.sleep(self.delay)
        self.log.append(("send", text))
        return text != "fail"

    def close(self) -> None:
        pass


def test_closed_loop_waits_for_each_reply_and_starts_a_new_conversation_after_the_script():
    FakeClient.log = []
    script = [("greet", "hi"), ("kb", "q"), ("handoff", "human")]
    level = closed_loop(FakeClient, [script], users=1, seconds=0.5, max_messages=1000, warmup_s=0.0)
    sends = [t for kind, t in FakeClient.log if kind == "send"]
    assert sends[:6] == ["hi", "q", "human", "hi", "q", "human"]
    assert FakeClient.log[4] == ("restart", "")  # after "human": a new conversation
    # one customer, 10 ms per reply: about 100 msg/s at most, never more (closed loop)
    assert 20 < level.throughput <= 100
    assert level.errors == 0 and 10 <= level.median_ms("kb") < 100


def test_failed_replies_are_errors_and_not_throughput():
    level = closed_loop(FakeClient, [[("x", "fail")]], users=2, seconds=0.2, max_messages=1000, warmup_s=0.0)
    assert level.errors == len(level.samples) > 0 and level.throughput == 0


def test_long_conversation_rates_per_block():
    rates = long_conversation(FakeClient(0.005), [("kb", "q")], turns=40, block=10)
    assert len(rates) == 4 and all(50 < r <= 200 for r in rates)


def test_report_gives_project_over_vanilla_ratios():
    level = {
        "messages": 10,
        "errors": 0,
        "throughput": 20.0,
        "median_ms": 50.0,
        "p95_ms": 90.0,
        "by_kind_median_ms": {"kb": 40.0},
    }
    vanilla = {
        "ready_s": 40.0,
        "idle_rss_mb": 1200,
        "u1": {**level, "by_kind_median_ms": {"chat": 30.0}},
        "u10": {**level, "throughput": 10.0},
        "u50": level,
        "long": [5.0, 4.0],
        "load_before": "x",
        "load_after": "y",
        "startup": [],
    }
    project = {
        **vanilla,
        "ready_s": 20.0,
        "u1": level,
        "u10": {**level, "throughput": 30.0},
        "startup": ["rasa up in 3 s"],
    }
    text = report({"when": "now", "cpus": 2, "seconds": 1, "vanilla": vanilla, "project": project})
    assert "| 10 customers, throughput (msg/s) | 10.0 | 30.0 | 3.00× |" in text
    assert "| ready after start (s) | 40.0 | 20.0 | 0.50× |" in text
    assert "| 1 customer, KB answer median (ms) | – | 40.0 |  |" in text
