"""The local alert inbox: a webhook receiver that `fleetwatch up` runs beside Alertmanager.

Alertmanager's generic webhook (payload version 4) posts notifications to ``POST /alerts``;
the inbox keeps the last ``KEEP`` of them in memory and in a JSON-lines file (so a restart of
the stack keeps them), and serves them at ``GET /api/notifications`` for
``fleetwatch notifications``.  Bounded under any input: a request body over ``MAX_BODY`` is
refused with 413, a slow client is cut after ``TIMEOUT`` seconds, the file is compacted to the
last ``KEEP`` entries once it holds twice as many.

Run: ``python -m fleetwatch.inbox --listen 127.0.0.1:9719 --store FILE``.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

KEEP = 1000
MAX_BODY = 4 * 1024 * 1024
TIMEOUT = 10.0
ALERT_KEYS = ("status", "labels", "annotations", "startsAt", "endsAt", "fingerprint")


class Inbox:
    """The notifications received, newest last; thread-safe."""

    def __init__(self, store: Path | None, keep: int = KEEP) -> None:
        self.store = store
        self.keep = keep
        self._items: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lines = 0
        self._lock = threading.Lock()
        if store is not None and store.is_file():
            for line in store.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    item = json.loads(line)
                except ValueError:
                    continue  # a line cut by a crash
                if isinstance(item, dict):
                    self._items.append(item)
                    self._lines += 1

    def add(self, payload: Any) -> dict[str, Any]:
        """Record one webhook payload; ValueError if it is not Alertmanager's shape."""
        if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
            raise ValueError("expected Alertmanager's webhook JSON with an alerts list")
        alerts = [
            {k: a[k] for k in ALERT_KEYS if k in a}
            for a in payload["alerts"]
            if isinstance(a, dict)
        ]
        item = {
            "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "receiver": str(payload.get("receiver", "")),
            "status": str(payload.get("status", "")),
            "group_key": str(payload.get("groupKey", "")),
            "alerts": alerts,
        }
        with self._lock:
            self._items.append(item)
            self._append(item)
        return item

    def items(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._items)
        return items if limit is None else items[-limit:] if limit > 0 else []

    def _append(self, item: dict[str, Any]) -> None:
        if self.store is None:
            return
        self._lines += 1
        if self._lines > 2 * self.keep:  # compact: the file keeps what memory keeps
            tmp = self.store.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(i) + "\n" for i in self._items), encoding="utf-8")
            tmp.replace(self.store)
            self._lines = len(self._items)
            return
        with self.store.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(item) + "\n")


def make_server(host: str, port: int, inbox: Inbox) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        timeout = TIMEOUT  # a client that stalls mid-request is dropped

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/alerts":
                return self._reply(404, {"error": "POST to /alerts"})
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return self._reply(411, {"error": "Content-Length required"})
            if length < 0 or length > MAX_BODY:
                return self._reply(413, {"error": f"body over {MAX_BODY} bytes"})
            raw = self.rfile.read(length)
            try:
                inbox.add(json.loads(raw))
            except ValueError as exc:
                return self._reply(400, {"error": str(exc)})
            self._reply(200, {"status": "ok"})

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path in ("/-/healthy", "/-/ready"):
                return self._reply(200, {"status": "ok"})
            if url.path != "/api/notifications":
                return self._reply(404, {"error": "GET /api/notifications"})
            raw = parse_qs(url.query).get("limit", [""])[0]
            limit = int(raw) if raw.isdigit() else None
            self._reply(200, inbox.items(limit))

        def _reply(self, code: int, body: Any) -> None:
            data = (json.dumps(body) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None  # Alertmanager retries; its own log says what failed

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fleetwatch.inbox", description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:9719", help="HOST:PORT")
    parser.add_argument("--store", type=Path, default=None, help="JSON-lines file")
    args = parser.parse_args(argv)
    host, _, port = str(args.listen).rpartition(":")
    inbox = Inbox(args.store)
    server = make_server(host.strip("[]") or "127.0.0.1", int(port), inbox)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
