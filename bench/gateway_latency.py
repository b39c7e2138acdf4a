"""Single-message latency through the gateway and resident memory of each service.

Run against a running stack (`make run`, or any GATEWAY URL):
    .venv/bin/python -m bench.gateway_latency [--url http://127.0.0.1:8000] [--rounds 30]
Each round opens one WebSocket conversation and asks a knowledge-base question (rotating over
the three languages) and a greeting, timing from send to reply frame. A greeting is answered
by a Rasa rule alone, so it is the baseline that isolates the knowledge-base action's cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import uuid

from websockets.sync.client import connect

from bench.docs_section import write_section

KB_QUESTIONS = ["退貨要幾天內申請？", "退货期限是多久", "How long do I have to return an item?"]
GREETINGS = ["你好", "你好呀", "hello"]
SERVICES = {
    "Rasa server": "rasa run",
    "action server": "rasa_sdk",
    "gateway": "gateway",
}


def ask(ws, text: str) -> float:
    started = time.perf_counter()
    ws.send(json.dumps({"type": "message", "id": uuid.uuid4().hex[:16], "text": text}))
    while True:
        frame = json.loads(ws.recv(timeout=60))
        if frame["type"] in ("reply", "error"):
            return (time.perf_counter() - started) * 1000


def rss_mb() -> dict[str, float]:
    """Resident memory per service, summed over its processes (from ps)."""
    out = subprocess.run(["ps", "-eo", "rss=,args="], capture_output=True, text=True).stdout
    totals = {name: 0.0 for name in SERVICES}
    for line in out.splitlines():
        rss, _, args = line.strip().partition(" ")
        for name, marker in SERVICES.items():
            if marker in args and "ps -eo" not in args:
                totals[name] += int(rss) / 1024
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    ws_url = args.url.replace("http", "ws", 1) + "/ws"
    kb, greet = [], []
    for index in range(args.rounds):
        with connect(ws_url) as ws:
            ws.recv(), ws.recv()
            kb.append(ask(ws, KB_QUESTIONS[index % 3]))
            greet.append(ask(ws, GREETINGS[index % 3]))
    memory = rss_mb()
    kb_med, greet_med = statistics.median(kb), statistics.median(greet)
    body = "\n".join(
        [
            "## Gateway round trip (bench/gateway_latency.py)",
            "",
            f"{args.rounds} conversations over the WebSocket against a running `make run` stack on this",
            "2-core machine; time from send to the reply frame, CRM writes included.",
            "",
            "| message | median ms | p95 ms |",
            "|---|---|---|",
            f"| knowledge-base answer | {kb_med:.0f} | {sorted(kb)[int(0.95 * (len(kb) - 1))]:.0f} |",
            f"| greeting (rule only, baseline) | {greet_med:.0f} | {sorted(greet)[int(0.95 * (len(greet) - 1))]:.0f} |",
            "",
            f"Knowledge-base answer / greeting median ratio: {kb_med / greet_med:.1f}x.",
            "",
            "Resident memory at idle after the run (ps RSS, MB): "
            + ", ".join(f"{name} {mb:.0f}" for name, mb in memory.items())
            + ".",
        ]
    )
    print(body)
    write_section("gateway-latency", body)


if __name__ == "__main__":
    main()
