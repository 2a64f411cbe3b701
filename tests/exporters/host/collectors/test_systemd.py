import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.collectors.base import NoData, Options
from fleetwatch.exporters.host.collectors.systemd import (
    KEY,
    SystemdCollector,
    parse_systemctl,
    parse_timestamp,
)
from fleetwatch.exporters.host.snapshot import Snapshot

SHOW = (Path(__file__).parents[3] / "fixtures/cmd/systemctl_show").read_text()


def collect(text: str, opts: Options | None = None) -> Families:
    out = Families()
    SystemdCollector().collect(Snapshot(commands={KEY: text}), out, opts or Options())
    return out


def state_of(out: Families, name: str) -> tuple[str, str]:
    [(labels, _)] = [
        (labels, v)
        for labels, v in out.samples("node_systemd_unit_state")
        if labels["name"] == name and v
    ]
    return labels["state"], labels["type"]


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(SHOW)
    assert state_of(out, "nginx.service") == ("active", "notify")
    assert state_of(out, "backup.service") == ("failed", "oneshot")
    assert state_of(out, "network.target") == ("activating", "")
    names = {labels["name"] for labels, _ in out.samples("node_systemd_unit_state")}
    # not loaded, or excluded by default (.mount, .slice): no unit_state
    assert names == {"nginx.service", "backup.service", "apt-daily.timer", "fstrim.timer",
                     "ssh.socket", "network.target"}  # fmt: skip
    assert len(out.samples("node_systemd_unit_state")) == 6 * 5
    # the summary counts every unit, loaded or not, excluded or not
    assert out.get("node_systemd_units", {"state": "active"}) == 6
    assert out.get("node_systemd_units", {"state": "inactive"}) == 1
    assert out.get("node_systemd_units", {"state": "deactivating"}) == 0
    assert out.get("node_systemd_system_running") == 0  # degraded
    assert out.get("node_systemd_timer_last_trigger_seconds", {"name": "apt-daily.timer"}) == (
        1796105523.25
    )
    assert out.get("node_systemd_timer_last_trigger_seconds", {"name": "fstrim.timer"}) == 0
    assert out.get("node_systemd_socket_accepted_connections_total", {"name": "ssh.socket"}) == 17
    assert out.get("node_systemd_socket_current_connections", {"name": "ssh.socket"}) == 2
    assert out.get("node_systemd_version", {"version": "252.38-1~deb12u1"}) == 252.38


def test_include_exclude_options() -> None:
    out = collect(SHOW, Options(systemd_unit_include=r".+\.service", systemd_unit_exclude=""))
    names = {labels["name"] for labels, _ in out.samples("node_systemd_unit_state")}
    assert names == {"nginx.service", "backup.service"}  # anchored: "ghost" is not loaded
    out = collect(SHOW, Options(systemd_unit_exclude=r".+\.slice"))
    assert state_of(out, "-.mount") == ("active", "ext4")  # a mount's type is its fs type


def test_running_system_and_old_systemd() -> None:
    out = collect(SHOW.replace("SystemState=degraded", "SystemState=running"))
    assert out.get("node_systemd_system_running") == 1
    old = collect(SHOW.replace("Version=252.38-1~deb12u1", "Version=211"))
    assert old.get("node_systemd_system_running") is None  # no SystemState before 212
    assert old.get("node_systemd_timer_last_trigger_seconds", {"name": "apt-daily.timer"}) is None


def test_off_by_default_and_no_systemd_is_no_data() -> None:
    assert "systemd" not in {c.name for c in select()}
    assert "systemd" in {c.name for c in select(enable=["systemd"])}
    with pytest.raises(NoData):
        collect("@@no-systemd\n")
    with pytest.raises(NoData):
        SystemdCollector().collect(Snapshot(), Families(), Options())


@pytest.mark.parametrize(
    "text",
    ["Version=252\n", "Version=252\n@@units\nId=a.service\nnonsense\n",
     "Version=252\n@@units\nLoadState=loaded\n",
     "Version=252\n@@units\nId=a.timer\nLoadState=loaded\nLastTriggerUSec=yesterday\n"],
)  # fmt: skip
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        collect(text)


def test_timestamps() -> None:
    assert parse_timestamp("@1764569523", "t") == 1764569523
    assert parse_timestamp("Mon 2025-12-01 06:12:03 UTC", "t") == 1764569523
    with pytest.raises(ParseError):
        parse_timestamp("Mon 2025-13-45 06:12:03 UTC", "t")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parser_raises_only_parse_errors(text: str) -> None:
    with contextlib.suppress(ParseError, NoData):
        collect(text)
    for part in (text, "@@units\n" + text):
        with contextlib.suppress(ParseError, NoData):
            parse_systemctl(part)
    with contextlib.suppress(ParseError):
        parse_timestamp(text, "t")
