import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import NoData, Options
from fleetwatch.exporters.host.collectors.mdadm import MdadmCollector, parse_mdstat
from fleetwatch.exporters.host.snapshot import Snapshot

MDSTAT = (FIXTURES / "proc/mdstat").read_text()


def collect(files: dict[str, str]) -> Families:
    out = Families()
    MdadmCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_values_as_node_exporter_emits_them() -> None:
    out = collect({"/proc/mdstat": MDSTAT})

    def state(dev: str) -> str:
        [(labels, _)] = [s for s in out.samples("node_md_state") if s[0]["device"] == dev and s[1]]
        return labels["state"]

    assert [state(d) for d in ("md127", "md0", "md1", "md2", "md3", "md4")] == [
        "active", "recovering", "active", "inactive", "check", "resync",
    ]  # fmt: skip
    assert out.get("node_md_disks", {"device": "md0", "state": "active"}) == 2
    assert out.get("node_md_disks", {"device": "md0", "state": "failed"}) == 1
    assert out.get("node_md_disks", {"device": "md0", "state": "spare"}) == 1
    assert out.get("node_md_disks_required", {"device": "md0"}) == 3
    assert out.get("node_md_disks_required", {"device": "md1"}) == 2  # raid0: members
    assert out.get("node_md_disks_required", {"device": "md2"}) == 0  # inactive
    assert out.get("node_md_blocks", {"device": "md0"}) == 5860270080
    assert out.get("node_md_blocks_synced", {"device": "md0"}) == 249458688
    assert out.get("node_md_blocks_synced", {"device": "md3"}) == 240345088
    assert out.get("node_md_blocks_synced", {"device": "md4"}) == 0  # resync=DELAYED
    assert out.get("node_md_blocks_synced", {"device": "md127"}) == 1953382464
    assert len(out) == 6 * 11


def test_no_mdstat_is_no_data() -> None:
    with pytest.raises(NoData):  # success 0 without an error, as node_exporter's ErrNoData
        collect({})
    assert parse_mdstat("Personalities : \nunused devices: <none>\n") == []


@pytest.mark.parametrize(
    "text",
    [
        "md0 : active\n",
        "md0 : active raid1 sda1[0]\n",
        "md0 : active raid1 sda1[0]\n      x blocks\n\n\n",
        "md0 : active raid1 sda1[0]\n      100 blocks super 1.2\n\n\n",
        "md0 : active raid1 sda1[0]\n      100 blocks [2/2] [UU]\n  recovery = 1%\n\n",
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/mdstat"):
        parse_mdstat(text)
