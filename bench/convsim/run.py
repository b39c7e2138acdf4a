"""Run conversations against a fresh stack: build the CRM, drive each customer, check the goals."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench.convsim import world
from bench.convsim.checks import check
from bench.convsim.driver import Driver, Outcome
from bench.convsim.loader import Conversation
from bench.convsim.report import Result
from tests.e2e.stack import ROOT, Stack, StackError, running_stack

# The follow-up worker would message chats on its own clock; the benchmark's follow-ups are the
# greeting's question, so the worker is off for reproducible runs.
STACK_ENV = {"FOLLOWUP_INTERVAL_S": "0", "RATE_LIMITS": "off"}  # 100+ customers from one address


@contextmanager
def bench_stack(var_dir: Path | None = None) -> Iterator[Stack]:
    """A fresh stack on a fresh SQLite CRM in a temporary directory (or ``var_dir``)."""
    index = Path(os.environ.get("KB_INDEX_DIR") or ROOT / "var" / "kb")
    if not (index / "CURRENT").exists():
        raise StackError(f"no knowledge-base index in {index}: run `make index` (or set KB_INDEX_DIR)")
    with tempfile.TemporaryDirectory(prefix="convbench-") as tmp:
        directory = Path(var_dir or tmp)
        directory.mkdir(parents=True, exist_ok=True)
        with running_stack(directory, f"sqlite:///{directory / 'crm.sqlite3'}", STACK_ENV) as stack:
            yield stack


def run_conversations(
    stack: Stack,
    conversations: list[Conversation],
    concurrency: int = 4,
    progress=None,
    *,
    seed_demo: bool = True,
) -> list[Result]:
    """Drive every conversation (``concurrency`` at a time) and check each goal in the CRM.

    The demo data and each conversation's customer are added to the stack's CRM first, so the
    stack must be fresh (an empty, migrated database), unless ``seed_demo`` is False."""
    contexts = world.build(stack.database_url, conversations, seed_demo=seed_demo)
    driver = Driver(stack)
    try:

        def one(conv: Conversation) -> Outcome:
            outcome = driver.run(conv, contexts[conv.id])
            if progress:
                progress(conv, outcome)
            return outcome

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            outcomes = list(pool.map(one, conversations))
    finally:
        driver.close()
    if any(o.end.startswith("error") for o in outcomes) and not stack_alive(stack):
        raise StackError(
            "a service of the stack died during the run; its logs are in "
            f"{stack.log_dir} (use --var-dir to keep them); no figure recorded"
        )
    engine = create_engine(stack.database_url)
    results = []
    try:
        with Session(engine) as session:
            for conv, outcome in zip(conversations, outcomes):
                failures = check(session, conv, contexts[conv.id], outcome)
                if outcome.end.startswith("error"):
                    failures.append(outcome.end)
                results.append(
                    Result(
                        conv.id,
                        conv.language,
                        conv.tags,
                        conv.goal,
                        failures,
                        outcome.end,
                        outcome.turns,
                        outcome.seconds,
                    )
                )
    finally:
        engine.dispose()
    return results


def stack_alive(stack: Stack) -> bool:
    """The gateway answers and reports Rasa up (the action server is checked by Rasa's turns)."""
    try:
        health = httpx.get(f"{stack.base_url}/healthz", timeout=5).json()
        actions = httpx.get(
            stack.rasa_url.rsplit(":", 1)[0] + ":" + stack.actions_port + "/health", timeout=5
        )
        return health.get("rasa") == "ok" and actions.status_code == 200
    except (httpx.HTTPError, ValueError):
        return False
