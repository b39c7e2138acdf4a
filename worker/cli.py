"""``python -m worker [run | once | request | import-if-empty | export FILE]``.

* ``run`` (the default): the KB worker process. Runs queued rebuild requests one at a time and
  serves ``/healthz`` on ``WORKER_HOST:WORKER_PORT``; SIGTERM/SIGINT stop it (a running job goes
  back to the queue).
* ``once``: run the queued requests now, then exit (scripts, tests).
* ``request``: queue a rebuild, as the trainer console's button does.
* ``import-if-empty [--source FILE]``: copy the default KB (``KB_SOURCE``) into a CRM that holds
  no KB entries yet (``make db``).
* ``export FILE``: write the CRM's published entries as KB YAML (``scripts/build_index.sh``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from sqlalchemy.orm import Session, sessionmaker

from common.settings import Settings, get_settings
from crm import migrate
from crm.db import make_engine, make_session_factory, session_scope
from crm.errors import CRMError
from crm.repo import kb_jobs
from worker.kbsync import crm_knowledge_base, export_yaml, import_if_empty
from worker.loop import KBWorker, Liveness, Shutdown

HEALTH_MAX_AGE_S = 60.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m worker", description="The KB worker.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run queued rebuild requests until stopped (default)")
    sub.add_parser("once", help="run the queued rebuild requests, then exit")
    req = sub.add_parser("request", help="queue a rebuild of the KB index")
    req.add_argument("--by", default="cli", help="who asks (recorded on the job and in the audit log)")
    imp = sub.add_parser("import-if-empty", help="copy the default KB into an empty CRM")
    imp.add_argument("--source", type=Path, help="KB file (default: KB_SOURCE)")
    exp = sub.add_parser("export", help="write the CRM's published entries as KB YAML")
    exp.add_argument("output", type=Path)
    return parser


def serve(settings: Settings, factory: sessionmaker[Session]) -> int:
    """The worker process: the loop in the main thread, the health endpoint beside it."""
    from worker.health import serve_health

    stop = threading.Event()
    liveness = Liveness()
    kb_worker = KBWorker(factory, settings.kb_encoder, settings.kb_index_root, liveness=liveness)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        if kb_worker.busy:
            raise Shutdown(signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    server = serve_health(settings.worker_host, settings.worker_port, liveness, HEALTH_MAX_AGE_S)
    print(
        f"==> [worker] KB worker {kb_worker.identity} waiting for rebuild requests "
        f"(health: http://{settings.worker_host}:{settings.worker_port}/healthz)",
        flush=True,
    )
    try:
        kb_worker.run_forever(stop)
    except Shutdown:
        pass
    finally:
        server.shutdown()
    print("==> [worker] stopped", flush=True)
    return 0


def run_queued(settings: Settings, factory: sessionmaker[Session]) -> int:
    kb_worker = KBWorker(factory, settings.kb_encoder, settings.kb_index_root)
    count = 0
    while kb_worker.run_once() is not None:
        count += 1
    print(f"==> [worker] ran {count} rebuild request(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command in ("run", "once"):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for noisy in ("alembic", "faiss", "torch", "sentence_transformers"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = get_settings()
    try:
        migrate.check(settings.database_url)
        engine = make_engine(settings.database_url)
        factory = make_session_factory(engine)
        try:
            if command == "run":
                return serve(settings, factory)
            if command == "once":
                return run_queued(settings, factory)
            if command == "request":
                with session_scope(factory) as session:
                    job = kb_jobs.request_rebuild(session, args.by)
                print(f"==> [worker] rebuild request {job.id} queued")
            elif command == "import-if-empty":
                source = args.source or settings.kb_source
                count = import_if_empty(factory, source)
                print(
                    f"==> [kb] imported {count} entries from {source} into the CRM"
                    if count
                    else "==> [kb] the CRM already holds the knowledge base; nothing imported"
                )
            else:
                export_yaml(crm_knowledge_base(factory), args.output)
                print(f"wrote {args.output}")
        finally:
            engine.dispose()
    except (CRMError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
