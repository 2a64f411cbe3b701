"""A user's application for the tests: prometheus_client metrics on /metrics, optionally
behind basic auth or a bearer token (secrets read from files), or serving garbage.

    python tests/apps/demo_app.py --port P [--user U --password-file F | --token-file F]
                                           [--garbage]
"""

from __future__ import annotations

import argparse
import base64
import hmac
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()
REQUESTS = Counter("demo_requests", "Requests served by the demo app", ["route"], registry=REGISTRY)
QUEUE = Gauge("demo_queue_depth", "Tasks waiting in the demo app's queue", registry=REGISTRY)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user")
    parser.add_argument("--password-file")
    parser.add_argument("--token-file")
    parser.add_argument("--garbage", action="store_true")
    args = parser.parse_args()
    expected: str | None = None
    if args.user and args.password_file:
        pw = Path(args.password_file).read_text().rstrip("\n")
        expected = "Basic " + base64.b64encode(f"{args.user}:{pw}".encode()).decode()
    elif args.token_file:
        expected = "Bearer " + Path(args.token_file).read_text().rstrip("\n")
    QUEUE.set(3)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            given = self.headers.get("Authorization", "")
            if expected is not None and not hmac.compare_digest(given, expected):
                self.send_response(401)
                self.end_headers()
                return
            if self.path.split("?")[0] != "/metrics":
                self.send_response(404)
                self.end_headers()
                return
            REQUESTS.labels(route="/metrics").inc()
            body = b"this is {not the text format\n" if args.garbage else generate_latest(REGISTRY)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if args.garbage else CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
