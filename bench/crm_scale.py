"""Customer-360 latency on a generated CRM store (default: 100k customers, 10M messages).

Usage::

    # PostgreSQL: creates (and afterwards drops) database crm_scale on that server
    python bench/crm_scale.py --server postgresql+psycopg://postgres@127.0.0.1:55432/postgres
    # quick run on SQLite
    python bench/crm_scale.py --sqlite /tmp/crm_scale.sqlite3 --customers 10000 --messages 1000000

Steps: migrate a fresh database to the base revision (``0001``), fill it server-side
(``INSERT ... SELECT`` over ``generate_series`` on PostgreSQL, a recursive CTE on SQLite; no
per-row Python), ``VACUUM ANALYZE``, then time ``customer_360`` for random customers, warm, one
session per call (as the console does):

* ``baseline``: the query shapes of the original ``customer_360`` (a copy kept below), schema 0001;
* ``code``: the current ``crm.repo.customers.customer_360``, schema 0001;
* ``candidates``: the same plus composite ``(customer_id, <date>, id)`` indexes on orders,
  tickets and feedback, created for the phase and dropped after it (``--no-candidates``: skip);
* ``head``: the current code after ``crm.migrate.upgrade`` to head, if head is not 0001.

Data shape: customers are drawn with a skew (``id = 1 + floor(N * u**2)``), so a few customers
own thousands of conversations; 10% of conversations are anonymous. Per-conversation message
count is ``messages / conversations``. ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of every
statement of one call for the heaviest customer. ``--write-docs`` updates the CRM section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, selectinload  # noqa: E402

from crm import migrate  # noqa: E402
from crm.db import make_engine, make_session_factory  # noqa: E402
from crm.errors import CRMNotFound  # noqa: E402
from crm.models import (  # noqa: E402
    CompensationOffer,
    Conversation,
    Customer,
    Feedback,
    Message,
    Order,
    Ticket,
)
from crm.repo import customers as customers_repo  # noqa: E402
from crm.repo._serialize import columns  # noqa: E402

BASE_REVISION = "0001"
EPOCH = "2024-01-01 00:00:00"
SPAN_S = 730 * 86400  # data spread over two years
MULT = [
    2654435761,
    2246822519,
    3266489917,
    668265263,
    374761393,
    2870177451,
    1597334677,
    3812015801,
    2057760221,
    1103515245,
]


# --------------------------------------------------------------------------------------------
# CRM section of docs/benchmarks.md (shared with bench/exchange_logging.py)
# --------------------------------------------------------------------------------------------
SECTION_START, SECTION_END = "<!-- crm:start -->", "<!-- crm:end -->"


def _replace_block(text_: str, start: str, end: str, block: str) -> str:
    if start in text_ and end in text_:
        before, rest = text_.split(start, 1)
        return before + block + rest.split(end, 1)[1]
    return text_.rstrip() + "\n\n" + block + "\n"


def write_crm_block(name: str, body: str) -> None:
    """Replace (or append) block ``crm-NAME`` inside the CRM section of docs/benchmarks.md.

    Hand-written text inside the section and every other section are left alone.
    """
    from docs_section import DOC, write_section

    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if SECTION_START in doc and SECTION_END in doc:
        section = doc.split(SECTION_START, 1)[1].split(SECTION_END, 1)[0].strip("\n")
    else:
        section = "## CRM store"
    start, end = f"<!-- crm-{name}:start -->", f"<!-- crm-{name}:end -->"
    write_section("crm", _replace_block(section, start, end, f"{start}\n{body.rstrip()}\n{end}"))


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


# --------------------------------------------------------------------------------------------
# Server-side data generation
# --------------------------------------------------------------------------------------------
class Gen:
    """SQL fragments for one dialect (``pg`` or ``sqlite``)."""

    def __init__(self, dialect: str):
        self.pg = dialect == "postgresql"

    def u(self, expr: str, k: int) -> str:
        """Deterministic pseudo-uniform value in [0, 1) from an integer expression."""
        if self.pg:
            return f"(((({expr})::bigint * {MULT[k]}) % 4294967296)::float8 / 4294967296.0)"
        return f"(((({expr}) * {MULT[k]}) % 4294967296) * 1.0 / 4294967296.0)"

    def floor_int(self, expr: str) -> str:
        return f"floor({expr})::bigint" if self.pg else f"CAST({expr} AS INTEGER)"

    def ts(self, seconds: str) -> str:
        if self.pg:
            return f"(TIMESTAMPTZ '{EPOCH}+00' + ({seconds}) * INTERVAL '1 second')"
        return f"datetime('{EPOCH}', '+' || CAST({seconds} AS INTEGER) || ' seconds')"

    def money(self, expr: str) -> str:
        return f"round(({expr})::numeric, 2)" if self.pg else f"round({expr}, 2)"

    def empty_json(self) -> str:
        return "CAST('{}' AS jsonb)" if self.pg else "'{}'"

    def pick(self, expr: str, values: tuple[str, ...]) -> str:
        whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
        return f"CASE ({expr}) % {len(values)} {whens} END"

    def insert(self, table: str, cols: str, select_sql: str, lo: int, hi: int) -> str:
        """``INSERT INTO table (cols) SELECT ... FROM <series i = lo..hi>``."""
        if self.pg:
            return (
                f"INSERT INTO {table} ({cols}) SELECT {select_sql} "
                f"FROM generate_series({lo}::bigint, {hi}::bigint) AS s(i)"
            )
        return (
            f"WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi}) "
            f"INSERT INTO {table} ({cols}) SELECT {select_sql} FROM s"
        )


def conv_customer(g: Gen, c: str, n_customers: int) -> str:
    """Customer of conversation ``c`` (NULL for 10%; skewed towards low ids)."""
    return (
        f"CASE WHEN {g.u(c, 3)} < 0.1 THEN NULL "
        f"ELSE 1 + {g.floor_int(f'{n_customers} * {g.u(c, 4)} * {g.u(c, 4)}')} END"
    )


def skewed_customer(g: Gen, i: str, k: int, n_customers: int) -> str:
    return f"1 + {g.floor_int(f'{n_customers} * {g.u(i, k)} * {g.u(i, k)}')}"


def conv_started(g: Gen, c: str) -> str:
    return f"{g.floor_int(f'{g.u(c, 2)} * {SPAN_S}')}"


def ticket_customer(g: Gen, t: str, n_customers: int) -> str:
    return skewed_customer(g, t, 7, n_customers)


def plan(args) -> dict[str, int]:
    n, m = args.customers, args.messages
    convs = args.conversations or max(1, m // 10)
    per_conv = max(1, m // convs)
    tickets = args.tickets or max(1, n // 2)
    return {
        "customers": n,
        "conversations": convs,
        "per_conv": per_conv,
        "messages": convs * per_conv,
        "orders": args.orders or 3 * n,
        "items_per_order": 2,
        "tickets": tickets,
        "changes_per_ticket": 2,
        "offers": max(1, tickets // 5),
        "feedback": max(1, convs // 5),
    }


def statements(g: Gen, p: dict[str, int], chunk: int):
    """Yield ``(table, rows, sql)`` in FK order; big tables in chunks of ``chunk`` rows."""
    n = p["customers"]
    span = f" * {SPAN_S}"

    def ui(k: int) -> str:
        return g.u("i", k)

    def chunks(table: str, total: int, cols: str, sel: str):
        for lo in range(1, total + 1, chunk):
            hi = min(total, lo + chunk - 1)
            yield table, hi - lo + 1, g.insert(table, cols, sel, lo, hi)

    langs = ("zh-Hant", "zh-Hans", "en")
    yield from chunks(
        "customers",
        n,
        "id, external_ref, name, email, phone, preferred_language, tier, lifetime_value, "
        "preferences, consent_personalisation, consent_personalisation_at, "
        "consent_personalisation_source, consent_marketing, consent_marketing_at, "
        "consent_marketing_source, created_at",
        f"i, 'CUST' || i, 'Customer ' || i, 'customer' || i || '@example.com', "
        f"'+8869' || (10000000 + i), {g.pick('i', langs)}, "
        f"CASE WHEN i % 50 = 0 THEN 'platinum' WHEN i % 10 = 0 THEN 'gold' "
        f"WHEN i % 4 = 0 THEN 'silver' ELSE 'standard' END, {g.money(ui(0) + ' * 20000')}, "
        f"{g.empty_json()}, (i % 2 = 0), {g.ts('i')}, 'signup', (i % 5 = 0), {g.ts('i')}, 'signup', "
        f"{g.ts(ui(1) + ' * 31536000')}",
    )
    yield from chunks(
        "conversations",
        p["conversations"],
        "id, token, customer_id, language, channel, status, started_at, ended_at",
        f"i, 'conv-' || i, {conv_customer(g, 'i', n)}, {g.pick('i', langs)}, 'web', "
        f"CASE WHEN i % 50 = 0 THEN 'bot' ELSE 'closed' END, {g.ts(conv_started(g, 'i'))}, "
        f"CASE WHEN i % 50 = 0 THEN NULL ELSE {g.ts(conv_started(g, 'i') + ' + 900')} END",
    )
    per = p["per_conv"]
    # messages: i -> conversation c = 1 + (i-1)/per, position k = (i-1) % per
    c, k = f"(1 + (i - 1) / {per})", f"((i - 1) % {per})"
    yield from chunks(
        "messages",
        p["messages"],
        "id, conversation_id, client_id, direction, text, language, intent, confidence, "
        "kb_entry_id, kb_score, latency_ms, channel, created_at",
        f"i, {c}, 'm' || {k}, CASE WHEN {k} % 2 = 0 THEN 'customer' ELSE 'bot' END, "
        f"CASE WHEN {k} % 2 = 0 THEN 'Where is my order LM' || i || '?' "
        f"ELSE 'Your order is on its way and should arrive within 2 days.' END, "
        f"{g.pick(c, langs)}, 'order_status', 0.93, "
        f"CASE WHEN {k} % 2 = 1 THEN 'order-status' END, CASE WHEN {k} % 2 = 1 THEN 0.81 END, "
        f"CASE WHEN {k} % 2 = 1 THEN 120 + i % 400 END, 'web', "
        f"{g.ts(f'{conv_started(g, c)} + {k} * 20')}",
    )
    statuses = ("pending", "paid", "shipped", "delivered", "cancelled", "returned", "refunded")
    yield from chunks(
        "orders",
        p["orders"],
        "id, order_number, customer_id, status, placed_at, total, currency",
        f"i, {'''('LM' || lpad(i::text, 8, '0'))''' if g.pg else '''printf('LM%08d', i)'''}, "
        f"{skewed_customer(g, 'i', 5, n)}, {g.pick('i', statuses)}, "
        f"{g.ts(g.floor_int(ui(6) + span))}, {g.money(ui(8) + ' * 3000 + 50')}, "
        f"{g.pick('i', ('TWD', 'HKD', 'CNY'))}",
    )
    ipo = p["items_per_order"]
    yield from chunks(
        "order_items",
        p["orders"] * ipo,
        "id, order_id, sku, name, qty, unit_price",
        f"i, 1 + (i - 1) / {ipo}, 'SKU-' || (i % 5000), 'Product ' || (i % 5000), 1 + i % 3, "
        f"{g.money(ui(9) + ' * 1500 + 20')}",
    )
    t_created = g.floor_int(f"{g.u('i', 8)} * {SPAN_S}")
    yield from chunks(
        "tickets",
        p["tickets"],
        "id, customer_id, category, severity, status, subject, description, created_at, "
        "updated_at, due_at, resolution, resolved_at",
        f"i, {ticket_customer(g, 'i', n)}, "
        f"{g.pick('i', ('delivery', 'refund', 'product', 'payment', 'account', 'complaint', 'other'))}, "
        f"{g.pick('i', ('low', 'medium', 'high', 'critical'))}, "
        f"{g.pick('i', ('open', 'in_progress', 'waiting_customer', 'resolved', 'closed'))}, "
        f"'Ticket ' || i, 'Parcel late, customer asked twice', {g.ts(t_created)}, "
        f"{g.ts(t_created)}, {g.ts(t_created + ' + 172800')}, "
        f"CASE WHEN i % 5 >= 3 THEN 'Refunded shipping fee' END, "
        f"CASE WHEN i % 5 >= 3 THEN {g.ts(t_created + ' + 86400')} END",
    )
    cpt = p["changes_per_ticket"]
    t = f"(1 + (i - 1) / {cpt})"
    step = f" + ((i - 1) % {cpt}) * 3600"
    yield from chunks(
        "ticket_status_changes",
        p["tickets"] * cpt,
        "id, ticket_id, from_status, to_status, changed_by, changed_at",
        f"i, {t}, CASE WHEN (i - 1) % {cpt} = 0 THEN NULL ELSE 'open' END, "
        f"CASE WHEN (i - 1) % {cpt} = 0 THEN 'open' ELSE 'in_progress' END, 'agent1', "
        f"{g.ts(g.floor_int(g.u(t, 8) + span) + step)}",
    )
    yield from chunks(
        "compensation_offers",
        p["offers"],
        "id, customer_id, ticket_id, type, amount, currency, status, offered_at",
        f"i, {ticket_customer(g, '(i * 5)', n)}, i * 5, "
        f"{g.pick('i', ('coupon', 'voucher', 'refund', 'free_shipping', 'gift', 'points'))}, "
        f"{g.money(ui(9) + ' * 200')}, 'TWD', "
        f"{g.pick('i', ('offered', 'chosen', 'approved', 'rejected', 'granted'))}, "
        f"{g.ts(g.floor_int(g.u('(i * 5)', 8) + span) + ' + 7200')}",
    )
    yield from chunks(
        "feedback",
        p["feedback"],
        "id, conversation_id, customer_id, csat, comment, created_at",
        f"i, i * 5, {conv_customer(g, '(i * 5)', n)}, 1 + i % 5, "
        f"CASE WHEN i % 4 = 0 THEN 'Quick and helpful' END, "
        f"{g.ts(conv_started(g, '(i * 5)') + ' + 1000')}",
    )


TABLES = [
    "customers",
    "conversations",
    "messages",
    "orders",
    "order_items",
    "tickets",
    "ticket_status_changes",
    "compensation_offers",
    "feedback",
]


def generate(engine, p: dict[str, int], chunk: int) -> dict[str, float]:
    """Fill the (empty, migrated) database; returns seconds per table."""
    g = Gen(engine.dialect.name)
    raw = engine.raw_connection()
    took: dict[str, float] = {}
    try:
        dbapi = raw.driver_connection
        cur = dbapi.cursor()
        if g.pg:
            dbapi.autocommit = False
            # Bulk load: skip the per-row FK triggers (the generator keeps every reference valid).
            cur.execute("SET session_replication_role = replica")
            cur.execute("SET synchronous_commit = off")
        else:
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-262144")
        for table, rows, sql in statements(g, p, chunk):
            t0 = time.perf_counter()
            if not g.pg:
                cur.execute("BEGIN")
            cur.execute(sql)
            dbapi.commit() if g.pg else cur.execute("COMMIT")
            dt = time.perf_counter() - t0
            took[table] = took.get(table, 0.0) + dt
            print(f"  {table:<22} +{rows:>9,} rows in {dt:6.1f} s ({rows / dt:,.0f} rows/s)", flush=True)
        if g.pg:
            cur.execute("RESET session_replication_role")
            for table in TABLES:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            dbapi.commit()
        cur.close()
    finally:
        raw.close()
    analyze(engine)
    return took


def analyze(engine) -> float:
    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        if engine.dialect.name == "postgresql":
            dbapi.commit()
            dbapi.autocommit = True
            dbapi.execute("VACUUM ANALYZE")
            dbapi.autocommit = False
        else:
            dbapi.execute("ANALYZE")
    finally:
        raw.close()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# The original customer_360 (as first committed), kept as the "before" of this benchmark
# --------------------------------------------------------------------------------------------
def customer_360_baseline(
    session: Session, customer_id: int, *, max_orders: int = 20, max_conversations: int = 10
) -> dict[str, Any]:
    c = customers_repo
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CRMNotFound(f"customer {customer_id} not found")
    profile = columns(customer, c.PROFILE_FIELDS)
    profile["consent"] = c.consent_dict(customer)
    orders = session.scalars(
        select(Order)
        .options(selectinload(Order.items))
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(max_orders)
    ).all()
    counts = (
        select(Message.conversation_id, func.count(Message.id).label("n"))
        .group_by(Message.conversation_id)
        .subquery()
    )
    conv_rows = session.execute(
        select(Conversation, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.conversation_id == Conversation.id)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(max_conversations)
    ).all()
    tickets = session.scalars(
        select(Ticket)
        .options(selectinload(Ticket.history))
        .where(Ticket.customer_id == customer_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    ).all()
    offers = session.scalars(
        select(CompensationOffer)
        .where(CompensationOffer.customer_id == customer_id)
        .order_by(CompensationOffer.offered_at.desc(), CompensationOffer.id.desc())
    ).all()
    feedback = session.scalars(
        select(Feedback)
        .where(Feedback.customer_id == customer_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
    ).all()
    return {
        "profile": profile,
        "orders": [c.order_dict(o) for o in orders],
        "conversations": [
            {**columns(cv, c.CONVERSATION_FIELDS), "message_count": int(n)} for cv, n in conv_rows
        ],
        "tickets": [
            {**columns(t, c.TICKET_FIELDS), "history": [columns(h, c.HISTORY_FIELDS) for h in t.history]}
            for t in tickets
        ],
        "compensation": [columns(o, c.OFFER_FIELDS) for o in offers],
        "csat": {
            "average": round(sum(f.csat for f in feedback) / len(feedback), 2) if feedback else None,
            "count": len(feedback),
            "recent": [
                columns(f, ["conversation_id", "csat", "comment", "created_at"]) for f in feedback[:5]
            ],
        },
    }


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------
def time_calls(factory, fn: Callable, ids: list[int], warmup: int) -> tuple[list[float], list[float]]:
    """Wall-clock and client CPU seconds (``process_time``) of each call."""
    for cid in ids[:warmup]:
        with factory() as s:
            fn(s, cid)
    wall, cpu = [], []
    for cid in ids:
        t0, c0 = time.perf_counter(), time.process_time()
        with factory() as s:
            fn(s, cid)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def summary(times: tuple[list[float], list[float]]) -> dict[str, float]:
    ms = sorted(t * 1000 for t in times[0])
    return {
        "n": len(ms),
        "p50": statistics.median(ms),
        "p95": ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))],
        "max": ms[-1],
        "cpu_p50": statistics.median(t * 1000 for t in times[1]),
    }


@contextmanager
def captured_sql(engine):
    seen: list[tuple[str, Any]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def explain(engine, factory, fn: Callable, customer_id: int) -> str:
    with captured_sql(engine) as seen:
        with factory() as s:
            fn(s, customer_id)
    out = []
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        for statement, params in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            prefix = (
                "EXPLAIN (ANALYZE, BUFFERS) "
                if engine.dialect.name == "postgresql"
                else "EXPLAIN QUERY PLAN "
            )
            cur.execute(prefix + statement, params)
            rows = cur.fetchall()
            plan_lines = [r[0] if len(r) == 1 else " | ".join(str(x) for x in r) for r in rows]
            out.append(" ".join(statement.split())[:160] + " ...\n    " + "\n    ".join(plan_lines))
        raw.driver_connection.rollback() if engine.dialect.name == "postgresql" else None
    finally:
        raw.close()
    return "\n".join(out)


def server_ms(engine, factory, fn: Callable, ids: list[int]) -> float | None:
    """PostgreSQL only: median over ``ids`` of the summed server execution time (EXPLAIN
    ANALYZE) of the statements of one call -- the database's share, free of client overhead."""
    if engine.dialect.name != "postgresql":
        return None
    totals = []
    for cid in ids:
        with captured_sql(engine) as seen:
            with factory() as s:
                fn(s, cid)
        raw = engine.raw_connection()
        try:
            cur = raw.driver_connection.cursor()
            total = 0.0
            for statement, params in seen:
                if statement.lstrip().upper().startswith("SELECT"):
                    cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
                    total += float(cur.fetchone()[0][0]["Execution Time"])
            raw.driver_connection.rollback()
            totals.append(total)
        finally:
            raw.close()
    return statistics.median(totals)


def heaviest_customers(factory) -> tuple[int, int]:
    with factory() as s:
        row = s.execute(
            select(Conversation.customer_id, func.count())
            .where(Conversation.customer_id.is_not(None))
            .group_by(Conversation.customer_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    return int(row[0]), int(row[1])


def distribution(factory, sample: list[int]) -> dict[str, float]:
    """Median / p95 number of conversations of the sampled customers."""
    with factory() as s:
        counts = dict(
            s.execute(
                select(Conversation.customer_id, func.count())
                .where(Conversation.customer_id.in_(sample))
                .group_by(Conversation.customer_id)
            ).all()
        )
    values = sorted(counts.get(cid, 0) for cid in sample)
    return {"median": statistics.median(values), "p95": values[int(0.95 * (len(values) - 1))]}


#: Composite indexes that would let the per-customer "newest first" queries stop early
#: instead of sorting all of a customer's rows. Measured as a phase, then dropped again.
CANDIDATE_INDEXES = {
    "bench_orders_customer_placed": ("orders", "customer_id, placed_at, id"),
    "bench_tickets_customer_created": ("tickets", "customer_id, created_at, id"),
    "bench_feedback_customer_created": ("feedback", "customer_id, created_at, id, csat"),
}


@contextmanager
def candidate_indexes(engine):
    tables = ", ".join(sorted({table for table, _ in CANDIDATE_INDEXES.values()}))
    analyze_sql = f"ANALYZE {tables}" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.begin() as conn:
        for name, (table, cols) in CANDIDATE_INDEXES.items():
            conn.exec_driver_sql(f"CREATE INDEX {name} ON {table} ({cols})")
        conn.exec_driver_sql(analyze_sql)
    try:
        yield
    finally:
        with engine.begin() as conn:
            for name in CANDIDATE_INDEXES:
                conn.exec_driver_sql(f"DROP INDEX {name}")
            conn.exec_driver_sql(analyze_sql)


# --------------------------------------------------------------------------------------------
def prepare_database(args) -> str:
    if args.sqlite:
        path = Path(args.sqlite)
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    server = make_url(args.server)
    if not args.reuse:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{args.db}"'))
        finally:
            admin.dispose()
    return server.set(database=args.db).render_as_string(hide_password=False)


def drop_database(args) -> None:
    if args.sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.sqlite) + suffix).unlink(missing_ok=True)
        return
    admin = create_engine(make_url(args.server), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)'))
    finally:
        admin.dispose()


def db_size(engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar()
        return f"{pages * size / 2**20:.0f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--server", help="PostgreSQL server URL (a database --db is created on it)")
    where.add_argument("--sqlite", help="SQLite file to create (deleted afterwards unless --keep)")
    ap.add_argument("--db", default="crm_scale", help="database name on --server")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--conversations", type=int, default=0, help="default messages/10")
    ap.add_argument("--orders", type=int, default=0, help="default 3 x customers")
    ap.add_argument("--tickets", type=int, default=0, help="default customers/2")
    ap.add_argument("--chunk", type=int, default=1_000_000, help="rows per INSERT ... SELECT")
    ap.add_argument("--calls", type=int, default=200, help="timed calls per phase")
    ap.add_argument(
        "--baseline-calls",
        type=int,
        default=0,
        help="timed calls of the baseline (default: --calls, fewer if one call > 0.5 s)",
    )
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--reuse", action="store_true", help="keep an existing database (skip generation)")
    ap.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    ap.add_argument(
        "--no-candidates", action="store_true", help="skip the phase with candidate composite indexes"
    )
    ap.add_argument("--explain", action="store_true", help="print query plans for the heaviest customer")
    ap.add_argument("--write-docs", action="store_true", help="update the CRM section of docs/benchmarks.md")
    args = ap.parse_args(argv)

    p = plan(args)
    url = prepare_database(args)
    engine_name = "SQLite" if args.sqlite else "PostgreSQL"
    print(
        f"== {engine_name}: {p['customers']:,} customers, {p['conversations']:,} conversations, "
        f"{p['messages']:,} messages, {p['orders']:,} orders, {p['tickets']:,} tickets"
    )
    engine = None
    try:
        gen_s = None
        if not args.reuse or migrate.current(url) == ():
            migrate.upgrade(url, BASE_REVISION)
            engine = make_engine(url)
            t0 = time.perf_counter()
            generate(engine, p, args.chunk)
            gen_s = time.perf_counter() - t0
            print(f"generated + analysed in {gen_s:.0f} s")
        else:
            engine = make_engine(url)
        start_rev = migrate.current(url)
        if start_rev != (BASE_REVISION,):
            print(f"note: database is at {start_rev}; baseline/code phases then run on that schema")
        factory = make_session_factory(engine, read_only=True)
        size = db_size(engine)
        rng = random.Random(42)
        sample = [rng.randint(1, p["customers"]) for _ in range(args.calls)]
        heavy_id, heavy_convs = heaviest_customers(factory)
        dist = distribution(factory, sample)
        print(
            f"database size {size}; sampled customers have median {dist['median']} / p95 "
            f"{dist['p95']} conversations; heaviest customer {heavy_id} has {heavy_convs}"
        )

        results: dict[str, dict[str, Any]] = {}

        def phase(name: str, fn: Callable) -> None:
            t0 = time.perf_counter()
            with factory() as s:
                fn(s, sample[0])
            first = time.perf_counter() - t0
            calls = args.calls
            if name == "baseline":
                calls = args.baseline_calls or (args.calls if first < 0.5 else max(10, int(60 / first)))
            warm = min(args.warmup, calls)
            ids = sample[:calls]
            stats = summary(time_calls(factory, fn, ids, warm))
            heavy = summary(time_calls(factory, fn, [heavy_id] * 5, 1))
            stats["heavy_p50"] = heavy["p50"]
            stats["load"] = os.getloadavg()[0]
            stats["db_ms"] = server_ms(engine, factory, fn, sample[: 2 if name == "baseline" else 20])
            stats["heavy_db_ms"] = server_ms(engine, factory, fn, [heavy_id])
            results[name] = stats
            print(
                f"  {name:<10} {stats['n']:>4} calls: p50 {stats['p50']:8.2f} ms  p95 {stats['p95']:8.2f} ms"
                f"  (client CPU p50 {stats['cpu_p50']:6.2f} ms)"
                f"  max {stats['max']:8.2f} ms | heaviest customer p50 {heavy['p50']:8.2f} ms"
                f" | load {stats['load']:.1f}"
                + (
                    f" | server p50 {stats['db_ms']:.2f} ms, heaviest {stats['heavy_db_ms']:.2f} ms"
                    if stats["db_ms"] is not None
                    else ""
                ),
                flush=True,
            )
            if args.explain:
                print(explain(engine, factory, fn, heavy_id))

        print("customer_360 latency (warm, one session per call):")
        phase("baseline", customer_360_baseline)
        phase("code", customers_repo.customer_360)
        if not args.no_candidates:
            with candidate_indexes(engine):
                phase("candidates", customers_repo.customer_360)
            phase("code-again", customers_repo.customer_360)  # A/B/A: load drift shows up here
        head = migrate.heads()[0]
        if migrate.current(url) != (head,):
            engine.dispose()
            t0 = time.perf_counter()
            migrate.upgrade(url)
            mig_s = time.perf_counter() - t0
            analyze(engine)
            print(f"upgraded to {head} in {mig_s:.1f} s")
            results["migration_s"] = {"s": mig_s}
            phase("head", customers_repo.customer_360)
        final = results.get("head") or results["code"]
        print(
            f"speed-up p50 baseline/final: {results['baseline']['p50'] / final['p50']:.0f}x, "
            f"heaviest customer: {results['baseline']['heavy_p50'] / final['heavy_p50']:.0f}x"
        )
        if args.write_docs:
            write_docs(args, p, engine_name, size, gen_s, dist, heavy_convs, results, head)
    finally:
        if engine is not None:
            engine.dispose()
        if not args.keep:
            drop_database(args)
    return 0


def write_docs(args, p, engine_name, size, gen_s, dist, heavy_convs, results, head) -> None:
    name = f"scale-{'sqlite' if args.sqlite else 'pg'}-{p['messages']}"
    cmd = "python bench/crm_scale.py " + (f"--sqlite {args.sqlite}" if args.sqlite else "--server <url>")
    if args.customers != 100_000 or args.messages != 10_000_000:
        cmd += f" --customers {args.customers} --messages {args.messages}"
    cmd += f" --calls {args.calls}" + (" --reuse" if args.reuse else "") + (" --keep" if args.keep else "")
    cmd += (f" --baseline-calls {args.baseline_calls}" if args.baseline_calls else "") + " --write-docs"
    labels = {
        "baseline": "original `customer_360`, schema 0001",
        "code": "current `customer_360`, schema 0001",
        "candidates": "current `customer_360`, schema 0001 + candidate composite indexes "
        "(measured, not adopted)",
        "code-again": "current `customer_360`, schema 0001 (again, after dropping them)",
        "head": f"current `customer_360`, schema {head}",
    }
    lines = [
        f"### Customer 360 on {engine_name}: {p['customers']:,} customers, {p['messages']:,} messages",
        "",
        f"`{cmd}` — {machine()}; {p['conversations']:,} conversations, {p['orders']:,} orders "
        f"(+{p['orders'] * p['items_per_order']:,} items), {p['tickets']:,} tickets, "
        f"{p['offers']:,} offers, {p['feedback']:,} CSAT rows; database {size}"
        + (f", generated in {gen_s:.0f} s" if gen_s else "")
        + ". "
        f"Sampled customers own median {dist['median']:g} / p95 {dist['p95']:g} conversations; "
        f"the heaviest owns {heavy_convs:,}.",
        "",
        "| variant | calls | p50 ms | p95 ms | max ms | heaviest customer p50 ms | load avg |"
        " client CPU p50 ms |"
        + (" DB server time p50 / heaviest ms |" if engine_name == "PostgreSQL" else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|" if engine_name == "PostgreSQL" else ""),
    ]
    for key in ("baseline", "code", "candidates", "code-again", "head"):
        if key in results:
            r = results[key]
            lines.append(
                f"| {labels[key]} | {r['n']} | {r['p50']:.2f} | {r['p95']:.2f} | "
                f"{r['max']:.2f} | {r['heavy_p50']:.2f} | {r['load']:.1f} | {r['cpu_p50']:.2f} |"
                + (f" {r['db_ms']:.2f} / {r['heavy_db_ms']:.2f} |" if r.get("db_ms") is not None else "")
            )
    final = results.get("head") or results["code"]
    lines += [
        "",
        f"p50 ratio original/current: {results['baseline']['p50'] / final['p50']:.0f}x "
        f"(heaviest customer {results['baseline']['heavy_p50'] / final['heavy_p50']:.0f}x).",
    ]
    if "migration_s" in results:
        lines[-1] += f" Migration to {head} on this data took {results['migration_s']['s']:.1f} s."
    write_crm_block(name, "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
