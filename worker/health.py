"""The worker's health endpoint: ``GET /healthz`` answers 200 while the loop reaches the CRM.

The worker serves no other HTTP; the endpoint exists for supervision (``ops/runner.py`` checks
that the port belongs to the worker's process group, containers probe it). It answers 503 when
the worker has not reached the CRM (a poll or a running job's heartbeat) for ``max_age_s``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from worker.loop import Liveness


def serve_health(host: str, port: int, liveness: Liveness, max_age_s: float) -> ThreadingHTTPServer:
    """Start the endpoint in a daemon thread; ``shutdown()`` the returned server to stop it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] not in ("/healthz", "/health"):
                self._reply(404, {"error": "not_found"})
                return
            age = liveness.age_s()
            ok = age <= max_age_s
            self._reply(200 if ok else 503, {"ok": ok, "last_contact_s": round(age, 1), "job": liveness.job})

        def _reply(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # probes every few seconds: quiet
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-health", daemon=True).start()
    return server
