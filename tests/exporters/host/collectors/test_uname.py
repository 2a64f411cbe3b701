import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.uname import UnameCollector
from fleetwatch.exporters.host.snapshot import Snapshot

NAMES = ("ostype", "osrelease", "version", "hostname", "domainname")


def kernel_files() -> dict[str, str]:
    return {f"/proc/sys/kernel/{n}": (FIXTURES / "proc/sys/kernel" / n).read_text() for n in NAMES}


def collect(files: dict[str, str], machine: str | None = "x86_64\n") -> Families:
    out = Families()
    commands = {} if machine is None else {"uname_m": machine}
    UnameCollector().collect(Snapshot(files=files, commands=commands), out, Options())
    return out


def test_real_values() -> None:
    out = collect(kernel_files())
    labels = {
        "sysname": "Linux",
        "release": "6.18.44-fc-v769",
        "version": "#1 SMP PREEMPT_DYNAMIC @0",
        "machine": "x86_64",
        "nodename": "vm",
        "domainname": "(none)",
    }
    assert out.get("node_uname_info", labels) == 1


def test_garbage_and_missing_sources_are_parse_errors() -> None:
    files = kernel_files()
    with pytest.raises(ParseError, match="hostname"):
        collect(files | {"/proc/sys/kernel/hostname": "a\nb\n"})
    with pytest.raises(ParseError, match="ostype"):
        collect({k: v for k, v in files.items() if not k.endswith("ostype")})
    with pytest.raises(ParseError, match="uname -m"):
        collect(files, "")
    with pytest.raises(ParseError, match="uname -m"):
        collect(files, None)
