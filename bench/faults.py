"""Fault injection under closed-loop customer load (issue 19): what one fault costs customers.

    .venv/bin/python -m bench.faults [--customers 3] [--pg-url postgresql+psycopg://…] [--write-docs]

Starts the real stack (scripts/services.sh under supervisord) on free loopback ports — on the
PostgreSQL server of ``--pg-url`` (a fresh database; the CRM and Rasa's trackers) or on SQLite —
runs ``--customers`` WebSocket customers asking knowledge-base questions in a closed loop, and
injects one fault at a time, with a quiet period between them:

- ``actions-kill9``: ``kill -9`` on the action server's main process;
- ``rasa-restart``: ``supervisorctl restart rasa``;
- ``db-stop-30s``: the PostgreSQL server stopped for 30 s (``--pg-url`` only).

With ``--cluster`` (and ``--pg-url``) it starts the loopback cluster instead (``scripts/cluster.sh``:
HAProxy in front of 2 gateways, 2 Rasa servers, 2 action servers; Redis) and the customers connect
through the balancer; its faults:

- ``gateway-kill9``: ``kill -9`` on the first gateway's main process;
- ``redis-stop-10s``: Redis stopped for 10 s, then started again on the same port.

A customer whose connection drops reconnects (through the balancer) and re-sends the unanswered
message with the same id, as the widget does; such a message counts as "dropped" once, and as lost
only if it never reaches the CRM.

For each fault (counting the messages in flight at the fault and those sent after it): customer
messages sent, lost (not stored), stored twice, replies missing (no bot answer stored 4 minutes
after the fault, or a turn Rasa processed twice), time to recover (fault until the first message
sent after the last "one moment" / error / drop gets the bot's answer directly again, or until the
last dropped customer's re-sent message is answered, if later), and what customers saw (error
frames, dropped connections, "one moment" notices).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.e2e.chat_client import ChatClient
from tests.e2e.conftest import ROOT, running_stack

QUESTIONS = ["How long do I have to return an item?", "退货期限是多久", "退貨要幾天內申請？"]
ONE_MOMENT = ("One moment", "请稍候", "請稍候")
SETTLE_S = 240.0
FAULTS = ("actions-kill9", "rasa-restart", "db-stop-30s")
CLUSTER_FAULTS = ("gateway-kill9", "redis-stop-10s")


@dataclass
class Exchange:
    client_id: str
    token: str
    sent_at: float
    text: str = ""
    kind: str = ""  # answer | one_moment | error ("" while unanswered)
    drops: int = 0  # connections lost while it waited for its reply (then re-sent)
    answered_at: float = 0.0


@dataclass
class Load:
    """Closed-loop customers. Each starts a new conversation every ``per_conversation`` messages
    (asking the same thing over and over would rightly be handed to an agent) and reconnects to
    the same conversation after a dropped connection."""

    ws_url: str
    customers: int
    think_s: float = 0.3
    per_conversation: int = 3
    exchanges: list[Exchange] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.threads = [
            threading.Thread(target=self._customer, args=(n,), daemon=True) for n in range(self.customers)
        ]
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _customer(self, number: int) -> None:
        token: str | None = None
        asked, pending = 0, None
        while not self.stop.is_set():
            try:
                with ChatClient(self.ws_url, token=token, timeout=60) as client:
                    token = client.token
                    while not self.stop.is_set() and (pending or asked < self.per_conversation):
                        if pending is None:
                            asked += 1
                            pending = Exchange(f"f{number}-{uuid.uuid4().hex[:10]}", token, time.monotonic())
                            with self.lock:
                                self.exchanges.append(pending)
                                pending.text = QUESTIONS[len(self.exchanges) % 3]
                        reply = client.ask(pending.text, client_id=pending.client_id)
                        pending.answered_at = time.monotonic()
                        if reply["type"] == "error":
                            pending.kind = "error"
                        elif reply["messages"] and reply["messages"][0]["text"].startswith(ONE_MOMENT):
                            pending.kind = "one_moment"
                        else:
                            pending.kind = "answer"
                        pending = None
                        time.sleep(self.think_s)
                    token, asked = None, 0  # the next conversation
            except Exception:
                if pending is not None:
                    pending.drops += 1  # re-sent with the same id after reconnecting
                time.sleep(1)


def stored_rows(database_url: str, tokens: set[str]) -> list[tuple[str, str, str]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.token, m.client_id, m.direction FROM messages m JOIN conversations c"
                    " ON c.id = m.conversation_id"
                )
            )
            return [tuple(r) for r in rows if r[0] in tokens]
    finally:
        engine.dispose()


def tracker_user_ids(stack, database_url: str, tokens: set[str]) -> Counter:
    """How often Rasa processed each message id (rewound turns not counted)."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id, token FROM conversations")) if r[1] in tokens]
    engine.dispose()
    counts: Counter = Counter()
    for conversation_id in ids:
        processed: list[str] = []
        for event in stack.tracker_events(conversation_id):
            if event["event"] == "user":
                processed.append(event.get("message_id"))
            elif (
                event["event"] == "rewind"
                and (event.get("metadata") or {}).get("reason") == "custom action failed"
            ):
                processed.pop()
        counts.update(processed)
    return counts


def measure(stack, database_url: str, load: Load, fault_at: float, window: list[Exchange]) -> dict:
    tokens = {e.token for e in window}
    ids = {e.client_id for e in window}
    deadline = time.monotonic() + SETTLE_S
    while True:
        rows = [r for r in stored_rows(database_url, tokens) if r[1].split(":")[0] in ids]
        answered = {cid.split(":")[0] for _, cid, d in rows if d == "bot" and cid.endswith(":r0")}
        if answered >= {e.client_id for e in window if e.kind} or time.monotonic() > deadline:
            break
        time.sleep(2)
    customer = Counter(cid for _, cid, d in rows if d == "customer")
    processed = tracker_user_ids(stack, database_url, tokens)
    outage = [e.sent_at for e in window if e.kind in ("one_moment", "error") or e.drops]
    after = max([*outage, fault_at])
    recovered = [e.sent_at for e in window if e.sent_at > after and e.kind == "answer"]
    # a dropped customer is back when its re-sent message is answered
    back = [e.answered_at for e in window if e.drops and e.answered_at]
    kinds = Counter(e.kind or "unanswered" for e in window)
    return {
        "sent": len(window),
        "lost": sum(1 for e in window if e.kind and customer[e.client_id] == 0),
        "stored_twice": sum(1 for n in customer.values() if n > 1),
        "replies_missing": sum(1 for e in window if e.kind and e.client_id not in answered),
        "processed_twice": sum(1 for e in window if processed[e.client_id] > 1),
        "recovery_s": round(max([min(recovered), *back]) - fault_at, 1) if recovered else None,
        "one_moment": kinds["one_moment"],
        "errors": kinds["error"],
        "dropped": sum(1 for e in window if e.drops),
        "unanswered": kinds["unanswered"],
    }


def pg(command: str, url: str) -> None:
    port = str(make_url(url).port or 5432)
    subprocess.run(
        [str(ROOT / "crm" / "devtools" / "pg_server.sh"), command, "", port], check=True, capture_output=True
    )


def inject(name: str, stack, pg_url: str | None) -> None:
    if name == "gateway-kill9":
        os.kill(stack.service("gateway1")["pid"], signal.SIGKILL)
    elif name == "redis-stop-10s":
        stack.redis("stop")
        threading.Timer(10, stack.redis, args=("start",)).start()
    elif name == "actions-kill9":
        os.kill(stack.service("actions")["pid"], signal.SIGKILL)
    elif name == "rasa-restart":
        threading.Thread(target=stack.ctl, args=("restart", "rasa"), daemon=True).start()
    elif name == "db-stop-30s":
        pg("stop", pg_url)
        threading.Timer(30, pg, args=("start", pg_url)).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get("TEST_POSTGRES_URL", ""))
    parser.add_argument("--before-s", type=float, default=8)
    parser.add_argument("--after-s", type=float, default=45)
    parser.add_argument("--faults", nargs="+", choices=FAULTS + CLUSTER_FAULTS, default=None)
    parser.add_argument("--cluster", action="store_true", help="the loopback cluster (needs --pg-url)")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.cluster and not args.pg_url:
        parser.error("--cluster needs --pg-url (the Rasa servers share their trackers in PostgreSQL)")
    faults = args.faults or (
        list(CLUSTER_FAULTS) if args.cluster else [f for f in FAULTS if args.pg_url or f != "db-stop-30s"]
    )
    var_dir = Path(tempfile.mkdtemp(prefix="lumen-faults-"))
    database_url, database = f"sqlite:///{var_dir / 'crm.sqlite3'}", None
    if args.pg_url:
        database = f"faults_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        database_url = make_url(args.pg_url).set(database=database).render_as_string(hide_password=False)
    results = {}
    if args.cluster:
        from tests.e2e.cluster import running_cluster

        starting = running_cluster(var_dir, database_url)
    else:
        starting = running_stack(var_dir, database_url)
    with starting as stack:
        load = Load(stack.ws_url, args.customers)
        load.start()
        for name in faults:
            time.sleep(args.before_s)
            with load.lock:  # the window starts with the messages in flight at the fault
                start_index = next(
                    (i for i, e in enumerate(load.exchanges) if not e.kind), len(load.exchanges)
                )
            fault_at = time.monotonic()
            print(f"==> {name}", flush=True)
            inject(name, stack, args.pg_url)
            time.sleep(args.after_s)
            window = load.exchanges[start_index:]
            results[name] = measure(stack, database_url, load, fault_at, window)
            print(f"    {results[name]}", flush=True)
        load.finish()
    if database:
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in (database, f"{database}_rasa"):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    table = render(results, args.customers)
    print(table)
    if args.write_docs:
        from bench.docs_section import write_section

        write_section("cluster-faults" if args.cluster else "faults", table, ROOT / "docs" / "reliability.md")
    return 0


def render(results: dict, customers: int) -> str:
    lines = [
        f"`python -m bench.faults` — {customers} customers in a closed loop (0.3 s think time), "
        "one fault at a time; counts are of the customer messages in flight at the fault or sent in the 45 s after it.",
        "",
        "| fault | sent | lost | stored twice | replies missing | processed twice by Rasa | recovery (s) "
        '| "one moment" | error frames | dropped (re-sent) | unanswered by the customer\'s socket |',
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['sent']} | {r['lost']} | {r['stored_twice']} | {r['replies_missing']} "
            f"| {r['processed_twice']} | {r['recovery_s']} | {r['one_moment']} | {r['errors']} | {r['dropped']} "
            f"| {r['unanswered']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
