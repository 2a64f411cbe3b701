"""The HTTP side shared by the stand-in applications: ``serve`` (ingest_app.py,
http_service_app.py): ``/metrics`` from their registry, ``/mode/healthy`` and ``/mode/failing``
to switch how the traffic they simulate behaves, and a daemon thread that calls ``tick(mode)``
ten times a second so the counters move between scrapes; ``serve_faults`` (product_app.py,
cometbft_node.py): ``/metrics`` and named faults, ``POST /-/fault?name=N`` on, ``DELETE`` off."""

from __future__ import annotations

import threading
import time
import urllib.parse
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


def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve_faults(
    port: int, metrics: Callable[[], bytes], switch: Callable[[str, bool], str | None]
) -> None:
    """``GET /metrics`` answers ``metrics()``; ``POST /-/fault?name=N`` calls ``switch(N, True)``
    and ``DELETE`` ``switch(N, False)``, which returns why N is no fault here, or None."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                _answer(self, 404, b"not found\n", "text/plain")
                return
            _answer(self, 200, metrics(), CONTENT_TYPE_LATEST)

        def _fault(self, on: bool) -> None:
            url = urllib.parse.urlsplit(self.path)
            name = urllib.parse.parse_qs(url.query).get("name", [""])[0]
            refused = "not a fault request" if url.path != "/-/fault" else switch(name, on)
            if refused is not None:
                _answer(self, 400, f"{refused}\n".encode(), "text/plain")
                return
            _answer(self, 200, f"{name} {'on' if on else 'off'}\n".encode(), "text/plain")

        def do_POST(self) -> None:
            self._fault(True)

        def do_DELETE(self) -> None:
            self._fault(False)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: scrapes every second would flood the test output."""

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
