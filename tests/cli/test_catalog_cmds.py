"""``fleetwatch catalog save | list``: a saved /metrics page (file or live URL) becomes a catalog
file that reads back the same; errors name the file or URL, without a traceback."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetwatch.catalog import load_catalog
from fleetwatch.cli.main import cli

PAGE = """\
# HELP shop_orders_total Orders.
# TYPE shop_orders_total counter
shop_orders_total{status="ok"} 3
# TYPE shop_checkout_seconds histogram
shop_checkout_seconds_bucket{le="1"} 1
shop_checkout_seconds_bucket{le="+Inf"} 1
shop_checkout_seconds_sum 0.5
shop_checkout_seconds_count 1
shop_raw 1
"""


def test_save_from_a_file_reads_back_the_same(tmp_path: Path) -> None:
    page = tmp_path / "shop.prom"
    page.write_text(PAGE)
    out = tmp_path / "out" / "shop.yaml"
    result = CliRunner().invoke(cli, ["catalog", "save", str(page), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 metric families" in result.output
    first = out.read_text()
    cat = load_catalog(out)
    assert cat.names() == ["shop_checkout_seconds", "shop_orders_total", "shop_raw"]
    assert cat.sample_type("shop_checkout_seconds_bucket") == "counter"
    assert cat.lookup("shop_orders_total").labels == {"status"}  # type: ignore[union-attr]
    assert cat.sample_type("shop_raw") == "untyped"
    # deterministic: the same page gives the same bytes
    CliRunner().invoke(cli, ["catalog", "save", str(page), "-o", str(out)])
    assert out.read_text() == first


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode() if self.path == "/metrics" else b"nope"
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_save_from_a_url(tmp_path: Path, app: str) -> None:
    out = tmp_path / "app.yaml"
    result = CliRunner().invoke(cli, ["catalog", "save", f"{app}/metrics", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_catalog(out).names() == ["shop_checkout_seconds", "shop_orders_total", "shop_raw"]
    bad = CliRunner().invoke(cli, ["catalog", "save", f"{app}/other", "-o", str(out)])
    assert bad.exit_code == 4
    assert f"{app}/other: HTTP 404" in bad.output
    assert "Traceback" not in bad.output


def test_save_of_a_malformed_page_names_its_line(tmp_path: Path) -> None:
    page = tmp_path / "bad.prom"
    page.write_text("# TYPE a gauge\na 1\na{b=1} 2\n")
    result = CliRunner().invoke(cli, ["catalog", "save", str(page), "-o", str(tmp_path / "o.yaml")])
    assert result.exit_code == 3
    assert f"{page}:3: malformed label set" in result.output


def test_list_filters_by_glob(tmp_path: Path) -> None:
    page = tmp_path / "shop.prom"
    page.write_text(PAGE)
    result = CliRunner().invoke(cli, ["catalog", "list", "--catalog", str(page), "shop_o*"])
    assert result.exit_code == 0, result.output
    assert result.output == "shop_orders_total\tcounter\tshop.prom\n"
    result = CliRunner().invoke(cli, ["catalog", "list", "node_cpu_seconds_total"])
    assert result.output == "node_cpu_seconds_total\tcounter\tnode_exporter\n"
