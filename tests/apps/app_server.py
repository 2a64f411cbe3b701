"""The HTTP side shared by the stand-in applications (ingest_app.py, http_service_app.py):
``/metrics`` from their registry, ``/mode/healthy`` and ``/mode/failing`` to switch how the
traffic they simulate behaves, and a daemon thread that calls ``tick(mode)`` ten times a second
so the counters move between scrapes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

MODES = ("healthy", "failing")
TICK = 0.1
"""Seconds between two simulated batches of traffic."""


def serve(port: int, registry: CollectorRegistry, tick: Callable[[str], None]) -> None:
    state = {"mode": "healthy"}

    def traffic() -> None:
        while True:
            tick(state["mode"])
            time.sleep(TICK)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path.startswith("/mode/") and path.removeprefix("/mode/") in MODES:
                state["mode"] = path.removeprefix("/mode/")
                self._send(200, f"mode {state['mode']}\n".encode(), "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: scrapes every second would flood the test output."""

    tick("healthy")  # every series exists before the first scrape
    threading.Thread(target=traffic, daemon=True).start()
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
