"""Write throughput of exchange logging (the gateway's chat path into the CRM store).

One exchange = one customer message + one bot reply, stored through exactly the calls the
gateway makes (``gateway.store.ChatStore.record_customer_message`` then
``record_bot_turn`` with a turn object carrying the NLU fields; 1 turn in 10 is a KB fallback,
which also queues an unanswered question). Each call is its own unit of work (session,
transaction, commit), as in the gateway. Conversations are created beforehand (untimed);
concurrent threads write to different conversations, as the gateway's per-conversation lock
guarantees. Also measured: the durable outbox (``crm.outbox.Outbox.append``, fsync'd), used
when the database is down; the gateway appends one entry per message, so two per exchange.

Usage::

    python bench/exchange_logging.py [--server postgresql+psycopg://postgres@127.0.0.1:55432/postgres]
        [--exchanges 2000] [--threads 1,8] [--appends 2000] [--write-docs]

SQLite runs in a temporary file (WAL, ``synchronous=NORMAL`` as configured by ``crm.db``);
PostgreSQL in a database ``crm_exchlog`` created on ``--server`` and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crm import migrate  # noqa: E402
from crm.db import make_engine, make_session_factory  # noqa: E402
from crm.models import Message, UnansweredQuestion  # noqa: E402
from crm.outbox import Outbox, make_entry  # noqa: E402
from gateway.store import ChatStore  # noqa: E402

TEXTS = [
    ("en", "Where is my order LM00012345? It was due yesterday."),
    ("zh-Hant", "請問我的訂單什麼時候會到？已經等了三天了。"),
    ("zh-Hans", "我想退货，请问流程是怎样的？"),
    ("en", "Can I change the delivery address for my parcel?"),
]


@dataclass
class FakeTurn:
    """What ``record_bot_turn`` reads from a Rasa turn."""

    messages: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "text": "Your order has shipped and should arrive within 2 working days.",
                "buttons": [{"title": "Track parcel", "payload": "/track"}],
            }
        ]
    )
    intent: str = "order_status"
    confidence: float = 0.93
    language: str = "en"
    kb_entry_id: str | None = "order-status"
    kb_score: float | None = 0.81
    kb_decision: str = "answer"
    handoff_reason: str | None = None


def exchange(store: ChatStore, conv, n: int, prefix: str) -> None:
    language, question = TEXTS[n % len(TEXTS)]
    client_id = f"{prefix}-{n}"
    store.record_customer_message(conv, client_id, question, language)
    fallback = n % 10 == 9
    turn = FakeTurn(
        language=language,
        kb_decision="fallback" if fallback else "answer",
        kb_entry_id=None if fallback else "order-status",
        kb_score=0.31 if fallback else 0.81,
    )
    store.record_bot_turn(conv, client_id, turn, 250.0)


def run_threads(store: ChatStore, convs: list, exchanges: int, threads: int, tag: str) -> dict[str, float]:
    """``exchanges`` exchanges spread over ``threads`` threads (disjoint conversations)."""
    per_thread = exchanges // threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def work(t: int) -> None:
        mine = convs[t::threads]
        try:
            barrier.wait()
            for i in range(per_thread):
                t0 = time.perf_counter()
                exchange(store, mine[i % len(mine)], i, f"{tag}-t{t}")
                latencies[t].append(time.perf_counter() - t0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    t0, c0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if errors:
        raise errors[0]
    lat = sorted(x * 1000 for xs in latencies for x in xs)
    done = len(lat)
    return {
        "threads": threads,
        "exchanges": done,
        "wall_s": wall,
        "per_s": done / wall,
        "p50_ms": statistics.median(lat),
        "p95_ms": lat[int(0.95 * (done - 1))],
        "cpu_ms": cpu / done * 1000,
        "load": os.getloadavg()[0],
    }


def bench_db(url: str, label: str, args, outbox_dir: Path) -> list[dict[str, Any]]:
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=max(args.threads_list) + 2)
    store = ChatStore(make_session_factory(engine), Outbox(outbox_dir / f"{label}.jsonl"))
    rows = []
    try:
        n_convs = max(max(args.threads_list) * 4, args.exchanges // 10)
        for threads in args.threads_list:
            convs = [store.create_conversation() for _ in range(n_convs)]
            warm = run_threads(store, convs, min(100, args.exchanges), threads, f"warm{threads}")
            res = run_threads(store, convs, args.exchanges, threads, f"run{threads}")
            res["engine"], res["warm"] = label, warm["exchanges"]
            rows.append(res)
            print(
                f"  {label:<10} {threads} thread(s): {res['per_s']:8.1f} exchanges/s "
                f"({res['exchanges']} in {res['wall_s']:.1f} s; per exchange p50 "
                f"{res['p50_ms']:.2f} ms, p95 {res['p95_ms']:.2f} ms; client CPU "
                f"{res['cpu_ms']:.2f} ms/exchange; load {res['load']:.1f})",
                flush=True,
            )
        with make_session_factory(engine)() as s:  # sanity: everything is there, nothing twice
            n_msgs = s.scalar(select(func.count()).select_from(Message))
            n_unanswered = s.scalar(select(func.count()).select_from(UnansweredQuestion))
        expected = sum(2 * (r["exchanges"] + r["warm"]) for r in rows)
        assert n_msgs == expected, (n_msgs, expected)
        assert n_unanswered > 0 and not store.outbox.has_pending()
    finally:
        engine.dispose()
    return rows


def bench_outbox(path: Path, appends: int, threads: int) -> dict[str, float]:
    outbox = Outbox(path)
    entry = make_entry(
        token="tok-bench",
        messages=[{"client_id": "c-1", "direction": "customer", "text": TEXTS[1][1], "language": "zh-Hant"}],
    )
    outbox.append(entry)  # create the file (and fsync its directory) before timing
    per_thread = appends // threads
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            outbox.append(entry)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    assert len(outbox) == per_thread * threads + 1
    return {"threads": threads, "appends": per_thread * threads, "per_s": per_thread * threads / wall}


def pg_database(server: str, name: str, drop_only: bool = False) -> tuple[str, dict[str, str]]:
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            settings = {
                k: conn.execute(text(f"SHOW {k}")).scalar()
                for k in ("fsync", "synchronous_commit", "server_version")
            }
    finally:
        admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False), settings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", help="PostgreSQL server URL (database --db is created there)")
    ap.add_argument("--db", default="crm_exchlog")
    ap.add_argument("--exchanges", type=int, default=2000, help="timed exchanges per run")
    ap.add_argument("--threads", default="1,8")
    ap.add_argument("--appends", type=int, default=2000, help="timed outbox appends per run")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    args.threads_list = [int(t) for t in args.threads.split(",")]

    rows: list[dict[str, Any]] = []
    outbox_rows: list[dict[str, Any]] = []
    pg_settings: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="exchlog-") as tmp:
        tmpdir = Path(tmp)
        print("exchange logging (customer message + bot reply through ChatStore):")
        if not args.no_sqlite:
            rows += bench_db(f"sqlite:///{tmpdir / 'crm.sqlite3'}", "SQLite", args, tmpdir)
        if args.server:
            url, pg_settings = pg_database(args.server, args.db)
            try:
                rows += bench_db(url, "PostgreSQL", args, tmpdir)
            finally:
                pg_database(args.server, args.db, drop_only=True)
        print("outbox appends (fsync'd):")
        for threads in args.threads_list:
            res = bench_outbox(tmpdir / f"outbox-{threads}.jsonl", args.appends, threads)
            outbox_rows.append(res)
            print(
                f"  {threads} thread(s): {res['per_s']:8.1f} appends/s "
                f"(= {res['per_s'] / 2:.1f} exchanges/s while the database is down)"
            )
    if args.write_docs:
        write_docs(args, rows, outbox_rows, pg_settings)
    return 0


def write_docs(args, rows, outbox_rows, pg_settings) -> None:
    from crm_scale import machine, write_crm_block

    cmd = (
        "python bench/exchange_logging.py"
        + (" --server <url>" if args.server else "")
        + f" --exchanges {args.exchanges} --threads {args.threads} --appends {args.appends} --write-docs"
    )
    lines = [
        "### Exchange logging write throughput",
        "",
        f"`{cmd}` — {machine()}. One exchange = "
        "`ChatStore.record_customer_message` + `record_bot_turn` (2 messages, NLU update of the "
        "question, 1 in 10 also an unanswered question; 2 transactions). SQLite: WAL, "
        "`synchronous=NORMAL`."
        + (
            f" PostgreSQL {pg_settings.get('server_version')}: fsync={pg_settings.get('fsync')}, "
            f"synchronous_commit={pg_settings.get('synchronous_commit')}."
            if pg_settings
            else ""
        ),
        "",
        "| engine | threads | exchanges/s | messages/s | per exchange p50 ms | p95 ms "
        "| client CPU ms/exchange | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['threads']} | {r['per_s']:.0f} | {2 * r['per_s']:.0f} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['cpu_ms']:.1f} | {r['load']:.1f} |"
        )
    lines += [
        "",
        "| outbox (fsync'd JSONL) | threads | appends/s | exchanges/s while DB is down |",
        "|---|---|---|---|",
    ]
    for r in outbox_rows:
        lines.append(f"| `Outbox.append` | {r['threads']} | {r['per_s']:.0f} | {r['per_s'] / 2:.0f} |")
    write_crm_block("exchange-logging", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
