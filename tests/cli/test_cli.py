"""The command line: exit codes, clear errors, and a fast --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from fleetwatch.cli.main import cli


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from fleetwatch.cli.main import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('asyncssh', 'aiohttp', 'prometheus_client', 'jsonschema', 'yaml',"
        " 'docker', 'psycopg', 'uvloop', 'grafanalib')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout


def test_probe_localhost_with_the_embedded_inventory() -> None:
    result = CliRunner().invoke(cli, ["probe", "localhost"])
    assert result.exit_code == 0, result.output
    assert 'node_cpu_seconds_total{cpu="0",mode="idle"}' in result.output
    assert "node_uname_info{" in result.output


def test_unknown_target_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["probe", "nosuchhost"])
    assert result.exit_code == 2
    assert "unknown target 'nosuchhost'" in result.output


def test_modules_lists_the_catalog() -> None:
    result = CliRunner().invoke(cli, ["modules", "--metrics"])
    assert result.exit_code == 0
    assert "node_cpu_seconds_total counter {cpu,mode}" in result.output
    assert "node_filesystem_avail_bytes gauge {device,fstype,mountpoint}" in result.output


def test_inventory_check_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.yaml"
    bad.write_text(
        "version: 1\ndeployments:\n  - name: a\n    provider: x\n    hosts:\n"
        "      - {name: h, address: h, port: 22}\n"
    )
    result = CliRunner().invoke(cli, ["inventory", "check", str(bad)])
    assert result.exit_code == 3
    assert f"{bad}:6:" in result.output


def test_inventory_check_ok_on_the_shipped_local_example() -> None:
    example = Path(__file__).parents[2] / "exporters" / "fleet.local.yaml"
    result = CliRunner().invoke(cli, ["inventory", "check", str(example)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_bad_listen_address() -> None:
    result = CliRunner().invoke(cli, ["exporter", "--listen", "nonsense"])
    assert result.exit_code == 2
    assert "HOST:PORT" in result.output


def test_every_command_names_the_inventory_file_inventory() -> None:
    """``--inventory FILE`` everywhere; exporter and probe still take their former --config."""
    for command in ("build", "up", "notifications"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert "--inventory FILE" in result.output, (command, result.output)
    for command in ("exporter", "probe"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert "--inventory, --config FILE" in result.output, result.output


def test_config_is_an_alias_of_inventory(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    for name in ("--inventory", "--config"):
        result = CliRunner().invoke(cli, ["probe", "localhost", name, str(missing)])
        assert result.exit_code != 0
        assert str(missing) in result.output, result.output
