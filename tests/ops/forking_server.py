"""A stand-in service for the runner tests: answers 200 on every path and, like Sanic's worker
manager, forks a worker that shares the listening socket (so it outlives a ``kill -9`` parent)."""

from __future__ import annotations

import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = str(os.getpid()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
if os.fork() == 0:
    server.serve_forever()
else:
    server.serve_forever()
