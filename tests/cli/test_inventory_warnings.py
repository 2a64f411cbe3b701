"""`fleetwatch inventory check` says what weakens a host's SSH security; the safe defaults."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fleetwatch.cli.main import cli
from fleetwatch.inventory import inventory_from_text

FLEET = """version: 1
deployments:
  - name: d
    provider: p
    hosts:
      - {name: open, address: 10.0.0.1, ssh: {known_hosts: "off"}}
      - {name: old, address: 10.0.0.2, ssh: {allow_sha1: true}}
      - {name: fine, address: 10.0.0.3}
"""


def test_check_warns_per_host_and_still_passes(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    result = CliRunner().invoke(cli, ["inventory", "check", str(path)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if ": warning: " in line]
    assert [w.split("host ")[1].split(":")[0] for w in warnings] == ["open", "old"]
    assert "known_hosts: off accepts any host key" in warnings[0]
    assert result.output.splitlines()[-1].endswith("OK (1 deployments, 3 hosts)")


def test_the_agent_and_sha1_are_off_unless_asked() -> None:
    hosts = {h.name: h for h in inventory_from_text(FLEET, "<t>").hosts()}
    assert not hosts["fine"].ssh.use_agent and not hosts["fine"].ssh.allow_sha1
    assert hosts["fine"].ssh.known_hosts == "strict"
    assert hosts["fine"].ssh.warnings() == []
