"""docker: Engine JSON → cAdvisor series (fixtures), then a real dockerd started by the suite.

The real-Engine tests compare the probe with the Engine's own answers (read without the Docker
SDK) and with the cgroup files the ``id`` label names, as cAdvisor would read them.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from exporters.services.docker_fixtures import (
    HTML_PAGE,
    IMAGE,
    MIB,
    NOT_HTTP,
    Dockerd,
    StubSocket,
    engine_json,
    import_busybox,
    load,
    stale_socket,
)
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.module import ProbeResult
from fleetwatch.exporters.server import Exporter
from fleetwatch.exporters.services import _cadvisor as cad
from fleetwatch.exporters.services.docker import (
    DockerModule,
    EngineError,
    classify,
    parse_address,
)
from fleetwatch.inventory import Service, inventory_from_text
from servers import Sshd, require, wait_until
from service_servers import probe_once, service_target

WEB_ID = "394f8241c3a73686fe32b5d917e5aabd1dcf3c68c3b9aec4587312a52d7f9701"
DB_ID = "7c1e5b0a9d3f4e2b8a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"
PROJECT, SERVICE = cad.BASE[3], cad.BASE[4]
COMPOSE_SERVICE = "com.docker.compose.service"


def labels(
    cid: str, name: str, image: str = IMAGE, project: str = "", service: str = "", **extra: str
) -> dict[str, str]:
    return {"id": cid, "name": name, "image": image, PROJECT: project, SERVICE: service, **extra}


WEB = labels(f"/docker/{WEB_ID}", "burner", project="shop", service="web")


def families(inspect: str, stats: str | None, layout: cad.CgroupLayout) -> Families:
    """The families of one fixture container, as the module builds them."""
    fams = Families()
    entries = {e["Id"]: e for e in load("v1_list.json")}
    doc = load(inspect)
    lab = cad.container_labels(entries.get(doc["Id"], {"Id": doc["Id"]}), doc, layout)
    cad.add_state(fams, lab, entries.get(doc["Id"], {}), doc, now=1795968000.7)
    quota = cad.add_spec(fams, lab, doc)
    if stats is not None:
        cad.add_usage(fams, lab, load(stats), has_quota=quota)
    return fams


# --- the pure layer: fixture JSON --------------------------------------------------------------


def test_v1_capture_of_a_cpu_burner() -> None:
    fams = families("v1_inspect_web.json", "v1_stats_web.json", cad.CgroupLayout())
    stats = load("v1_stats_web.json")
    cpu = stats["cpu_stats"]
    assert fams.get("container_cpu_usage_seconds_total", {**WEB, "cpu": "total"}) == (
        cpu["cpu_usage"]["total_usage"] / 1e9
    )
    assert fams.get("container_cpu_user_seconds_total", WEB) == 115.72
    assert fams.get("container_cpu_system_seconds_total", WEB) == 0.04
    assert fams.get("container_cpu_cfs_periods_total", WEB) == cpu["throttling_data"]["periods"]
    assert fams.get("container_cpu_cfs_throttled_periods_total", WEB) == 2247
    assert fams.get("container_cpu_cfs_throttled_seconds_total", WEB) == 107.672309851
    mem = stats["memory_stats"]
    assert fams.get("container_memory_usage_bytes", WEB) == mem["usage"]
    assert fams.get("container_memory_working_set_bytes", WEB) == mem["usage"]  # no page cache
    assert fams.get("container_memory_rss", WEB) == mem["stats"]["total_rss"]
    assert fams.get("container_memory_cache", WEB) == 0
    assert fams.get("container_memory_max_usage_bytes", WEB) == mem["max_usage"]
    assert fams.get("container_memory_failcnt", WEB) == 0  # omitted by the Engine when 0
    assert fams.get("container_memory_swap", WEB) is None  # no swap accounting there
    assert fams.get("container_spec_memory_limit_bytes", WEB) == 64 * MIB
    assert fams.get("container_spec_memory_swap_limit_bytes", WEB) == 128 * MIB
    assert fams.get("container_spec_memory_reservation_limit_bytes", WEB) == 0
    assert fams.get("container_spec_cpu_quota", WEB) == 50000  # --cpus 0.5
    assert fams.get("container_spec_cpu_period", WEB) == 100000
    assert fams.get("container_spec_cpu_shares", WEB) == 1024
    assert fams.get("container_start_time_seconds", WEB) == 1795967390  # Created, whole seconds
    assert fams.get("fleetwatch_container_last_start_time_seconds", WEB) == pytest.approx(
        1795967390.319615173
    )
    assert fams.get("container_last_seen", WEB) == 1795968000
    assert fams.get("fleetwatch_container_restarts_total", WEB) == 0
    assert fams.get("fleetwatch_container_state", {**WEB, "state": "running"}) == 1
    assert fams.get("fleetwatch_container_state", {**WEB, "state": "exited"}) == 0
    assert fams.get("fleetwatch_container_oom_killed", WEB) == 0
    assert not fams.samples("container_network_receive_bytes_total")  # --network none
    assert not fams.samples("container_fs_reads_bytes_total")


def test_a_container_without_stats_is_still_seen() -> None:
    # stats failed or timed out for it (restarting, OOM-killed): cAdvisor still reports
    # container_last_seen for every container it lists, and so do we
    fams = families("v1_inspect_web.json", None, cad.CgroupLayout())
    assert fams.get("container_last_seen", WEB) == 1795968000
    assert fams.get("container_cpu_usage_seconds_total", {**WEB, "cpu": "total"}) is None


def test_v1_page_cache_swap_network_and_block_io() -> None:
    fams = families("v1_inspect_web.json", "v1_stats_io.json", cad.CgroupLayout())
    assert fams.get("container_memory_usage_bytes", WEB) == 50 * MIB
    assert fams.get("container_memory_working_set_bytes", WEB) == 30 * MIB  # minus inactive_file
    assert fams.get("container_memory_cache", WEB) == 24 * MIB
    assert fams.get("container_memory_mapped_file", WEB) == 1 * MIB
    assert fams.get("container_memory_swap", WEB) == 4096
    assert fams.get("container_memory_failcnt", WEB) == 3
    eth0 = {**WEB, "interface": "eth0"}
    for name, value in (
        ("receive_bytes", 5338), ("receive_packets", 36), ("receive_errors", 1),
        ("receive_packets_dropped", 2), ("transmit_bytes", 648), ("transmit_packets", 8),
        ("transmit_errors", 3), ("transmit_packets_dropped", 4),
    ):  # fmt: skip
        assert fams.get(f"container_network_{name}_total", eth0) == value, name
    assert fams.get("container_network_transmit_bytes_total", {**WEB, "interface": "eth1"}) == 200
    sda = {**WEB, "device": "8:0"}  # only Read / Write count, not Sync / Async / Total
    assert fams.get("container_fs_reads_bytes_total", sda) == 1 * MIB
    assert fams.get("container_fs_writes_bytes_total", sda) == 8 * MIB
    assert fams.get("container_fs_reads_total", sda) == 16
    assert fams.get("container_fs_writes_total", sda) == 128
    assert fams.get("container_fs_reads_bytes_total", {**WEB, "device": "253:1"}) == 4096


def test_device_names_come_from_the_resolver() -> None:
    fams = Families()
    lab = tuple(WEB[k] for k in cad.BASE)
    names = {(8, 0): "/dev/sda", (253, 1): "/dev/dm-1"}
    cad.add_usage(
        fams, lab, load("v1_stats_io.json"), has_quota=False,
        device_name=lambda a, b: names[(a, b)],
    )  # fmt: skip
    assert {s[0]["device"] for s in fams.samples("container_fs_reads_bytes_total")} == set(
        names.values()
    )
    assert not fams.samples("container_cpu_cfs_periods_total")  # no quota: no CFS counters


def test_v2_systemd_engine() -> None:
    fams = families("v2_inspect_db.json", "v2_stats_db.json", cad.CgroupLayout("systemd"))
    db = labels(f"/system.slice/docker-{DB_ID}.scope", "shop-db-1", "postgres:16", "shop", "db")
    assert fams.get("container_memory_usage_bytes", db) == 6651904
    assert fams.get("container_memory_working_set_bytes", db) == 6651904 - 3112960
    assert fams.get("container_memory_rss", db) == 1806336  # anon
    assert fams.get("container_memory_cache", db) == 4476928  # file
    assert fams.get("container_memory_mapped_file", db) == 2027520
    for absent in ("failcnt", "max_usage_bytes", "swap"):  # not in v2 stats
        assert fams.get(f"container_memory_{absent}", db) is None, absent
    assert fams.get("container_fs_reads_bytes_total", {**db, "device": "259:0"}) == 2162688
    assert not fams.samples("container_fs_reads_total")  # io_serviced_recursive: null
    assert fams.get("container_spec_cpu_quota", db) == 150000
    assert fams.get("container_spec_cpu_period", db) == 50000
    assert fams.get("container_spec_cpu_shares", db) == 512
    assert fams.get("container_spec_memory_swap_limit_bytes", db) == 0  # -1: unlimited
    assert fams.get("container_spec_memory_reservation_limit_bytes", db) == 128 * MIB
    assert fams.get("container_cpu_cfs_throttled_seconds_total", db) == 0.812345678
    assert fams.get("fleetwatch_container_restarts_total", db) == 2
    assert fams.get("fleetwatch_container_oom_killed", db) == 1
    assert fams.get("container_start_time_seconds", db) == 1795968001


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ({"NanoCpus": 1_500_000_000}, (100000, 150000, 1024)),
        ({"CpuQuota": 20000, "CpuPeriod": 50000, "CpuShares": 256}, (50000, 20000, 256)),
        ({"CpuQuota": -1}, (100000, 0, 1024)),
        ({}, (100000, 0, 1024)),
    ],
)
def test_cpu_limits(host: dict[str, Any], expected: tuple[float, float, float]) -> None:
    assert cad.cpu_limits(host) == expected


def test_labels_ids_and_sanitising() -> None:
    assert cad.sanitize_label_name("com.docker.compose.service") == "com_docker_compose_service"
    assert cad.sanitize_label_name("org.opencontainers/image-ref") == "org_opencontainers_image_ref"
    assert cad.BASE[3:] == (
        "container_label_com_docker_compose_project",
        "container_label_com_docker_compose_service",
    )
    assert cad.CgroupLayout().container_id("abc") == "/docker/abc"
    assert cad.CgroupLayout().container_id("abc", "/ci/") == "/ci/abc"
    assert (
        cad.CgroupLayout("systemd").container_id("abc", "ci.slice") == "/ci.slice/docker-abc.scope"
    )
    assert cad.CgroupLayout.from_info({"CgroupDriver": "systemd"}).driver == "systemd"
    # a list entry alone (inspect without Name/Config) still names the container
    entry = {"Id": "abc", "Names": ["/x"], "Image": "img:1", "Labels": {COMPOSE_SERVICE: "s"}}
    assert cad.container_labels(entry, {}, cad.CgroupLayout()) == (
        "/docker/abc",
        "x",
        "img:1",
        "",
        "s",
    )


def test_times() -> None:
    assert cad.parse_time("2026-11-29T15:49:50.047331263Z") == pytest.approx(1795967390.047331263)
    assert cad.parse_time("2026-11-29T16:49:50+01:00") == 1795967390
    assert cad.parse_time("0001-01-01T00:00:00Z") is None
    assert cad.parse_time("") is None
    with pytest.raises(ParseError):
        cad.parse_time("yesterday")


@pytest.mark.parametrize(
    "stats",
    [
        {"memory_stats": {"usage": "lots"}},
        {"memory_stats": []},
        {"cpu_stats": {"cpu_usage": {"total_usage": True}}},
        {"networks": {"eth0": {"rx_bytes": "1"}}},
        {"blkio_stats": {"io_service_bytes_recursive": {"op": "Read"}}},
        {"blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 1}]}},
    ],
)
def test_garbage_is_a_parse_error(stats: dict[str, Any]) -> None:
    with pytest.raises(ParseError):
        cad.add_usage(Families(), tuple(WEB.values()), stats, has_quota=True)


def test_unlimited_memory_is_zero_as_cadvisor() -> None:
    fams = Families()
    huge = {"HostConfig": {"Memory": 0, "MemorySwap": 2**63 - 1, "MemoryReservation": None}}
    cad.add_spec(fams, tuple(WEB.values()), huge)
    for name in ("limit", "swap_limit", "reservation_limit"):
        assert fams.get(f"container_spec_memory_{name}_bytes", WEB) == 0
    assert fams.get("container_spec_cpu_quota", WEB) is None  # only when set


def test_catalog_names_types_and_exposition() -> None:
    specs = DockerModule().specs()
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    for spec in specs:
        if spec.type == "counter" and spec.name != "container_memory_failcnt":
            assert spec.name.endswith("_total"), spec.name
        if spec.name.startswith("container_"):
            assert spec.labels[:5] == cad.BASE, spec.name
    fams = families("v1_inspect_web.json", "v1_stats_io.json", cad.CgroupLayout())
    assert fams.names() <= set(names)
    text = fams.render().decode()
    assert "# TYPE container_cpu_usage_seconds_total counter\n" in text
    assert "# TYPE container_memory_failcnt counter\n" in text
    assert "\ncontainer_memory_failcnt{" in text
    assert (
        'container_cpu_usage_seconds_total{container_label_com_docker_compose_project="shop",'
        in text
    )
    assert "_total_total" not in text
    # no sample timestamps: every sample line is "name{labels} value"
    assert all(
        len(line.rsplit("} ", 1)[1].split()) == 1 for line in text.splitlines() if "{" in line
    )


@pytest.mark.parametrize(
    ("address", "kind", "base"),
    [
        ("unix:///var/run/docker.sock", "unix", "unix:///var/run/docker.sock"),
        ("/run/user/1000/docker.sock", "unix", "unix:///run/user/1000/docker.sock"),
        ("tcp://10.0.0.5:2375", "tcp", "tcp://10.0.0.5:2375"),
        ("ssh://deploy@box-1:2222", "ssh", ""),
    ],
)
def test_addresses(address: str, kind: str, base: str) -> None:
    endpoint = parse_address(address)
    assert (endpoint.kind, endpoint.base_url) == (kind, base)


@pytest.mark.parametrize("address", ["docker.example:2375", "https://x:2376", "unix://relative"])
def test_bad_address_is_a_config_failure(address: str) -> None:
    with pytest.raises(EngineError, match=r"^config: "):
        parse_address(address)


def test_failure_reasons() -> None:
    assert str(classify(TimeoutError())).startswith("timeout: ")
    wrapped = RuntimeError("Connection aborted.", PermissionError(13, "Permission denied"))
    assert str(classify(wrapped, "unix:///s")).startswith("permission: access to unix:///s")
    # not the Engine's: a bug, which the exporter answers with 503 reason="internal"
    assert classify(ValueError("x")) is None
    assert str(classify(ParseError("containers", "expected a list"))).startswith("bad_response")


def test_params_schema_through_the_inventory() -> None:
    good = inventory_from_text(
        _inventory("unix:///var/run/docker.sock", "{all: true, concurrency: 8}"), "<t>"
    )
    assert good.targets()["ctr"].modules == ("docker",)
    with pytest.raises(Exception, match="docker params"):
        inventory_from_text(_inventory("unix:///s", "{concurrency: 0, tls: true}"), "<t>")


def _inventory(address: str, params: str = "{}", extra: str = "") -> str:
    return (
        "version: 1\ndeployments:\n  - name: platform\n    provider: loopback\n    services:\n"
        f'      - {{name: ctr, module: docker, address: "{address}", params: {params}}}\n' + extra
    )


def test_the_sdk_is_imported_on_first_probe_only() -> None:
    code = (
        "import sys\n"
        "from fleetwatch.cli.main import cli\n"
        "from fleetwatch.exporters import registry\n"
        "from fleetwatch.catalog import module_specs\n"
        "module_specs()\n"
        "registry.create('docker').specs()\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('SDK', 'docker' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "SDK False" in out.stdout, out.stdout + out.stderr


# --- endpoints that are not a working Engine ---------------------------------------------------


def service(address: str, **params: Any) -> Service:
    return service_target("docker", address, "ctr-host", **params)


async def probe(address: str, timeout: float = 5.0, **params: Any) -> ProbeResult:
    return await probe_once(DockerModule(), service(address, **params), timeout)


async def failed(address: str, timeout: float = 3.0, **params: Any) -> str:
    """The reason of a probe that must fail, within its timeout."""
    began = time.monotonic()
    result = await probe(address, timeout, **params)
    assert time.monotonic() - began < timeout + 0.5
    assert result.families.get("probe_success") == 0
    assert result.families.get("probe_duration_seconds") is not None
    assert len(result.families) == 2
    return result.errors["docker"]


async def test_absent_socket(tmp_path: Path) -> None:
    reason = await failed(f"unix://{tmp_path}/docker.sock")
    assert (
        reason
        == f"connect: no Engine socket at unix://{tmp_path}/docker.sock (is dockerd running?)"
    )


async def test_socket_of_a_dead_daemon() -> None:
    with stale_socket() as address:
        assert (await failed(address)).startswith("connect: connection refused by unix://")


async def test_html_and_non_http_servers() -> None:
    with StubSocket(HTML_PAGE) as html, StubSocket(NOT_HTTP) as ssh_banner:
        assert (await failed(html.address)).startswith("not_docker: ")
        assert (await failed(ssh_banner.address)).startswith("not_http: ")


async def test_silent_server_is_bounded_by_the_timeout() -> None:
    with StubSocket(None) as silent:
        assert (await failed(silent.address, timeout=1.0)).startswith("timeout: ")


async def test_bad_address_and_params() -> None:
    assert (await failed("docker.example:2375")).startswith("config: not a Docker Engine address")
    assert (await failed("unix:///x.sock", timeout_seconds=0.2)).startswith("connect: ")


def test_socket_without_permission() -> None:
    """EACCES on the socket.  As root, connect() ignores the mode: the probe then runs in a
    child without CAP_DAC_OVERRIDE (setpriv), so the kernel's check applies to it too."""
    with StubSocket(HTML_PAGE, mode=0o000) as locked:
        code = (
            "import asyncio, json, sys\n"
            "from fleetwatch.exporters.services.docker import DockerModule\n"
            "from fleetwatch.inventory import Service\n"
            f"svc = Service('h', 'docker', {locked.address!r}, 'd', 'p', {{}}, 15.0, '15s')\n"
            "r = asyncio.run(DockerModule().probe(svc, 3.0))\n"
            "print(json.dumps([r.families.get('probe_success'), r.errors]))\n"
        )
        argv = [sys.executable, "-c", code]
        if os.geteuid() == 0:
            require("setpriv")
            caps = "-dac_override,-dac_read_search"
            argv = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    success, errors = json.loads(done.stdout)
    assert success == 0
    assert errors["docker"].startswith(f"permission: access to {locked.address} denied")


async def test_unreachable_ssh_hosts() -> None:
    require("ssh")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    reason = await failed(f"ssh://nobody@127.0.0.1:{port}")
    assert (
        reason
        == f"ssh: nobody@127.0.0.1: ssh: connect to host 127.0.0.1 port {port}: Connection refused"
    )
    reason = await failed("ssh://deploy@docker-host.invalid")
    assert reason.startswith("ssh: deploy@docker-host.invalid: ssh: Could not resolve hostname")


# --- a real dockerd ----------------------------------------------------------------------------


class Engine:
    """The suite's dockerd and its containers (name → full id)."""

    def __init__(self, dockerd: Dockerd) -> None:
        self.dockerd = dockerd
        self.ids: dict[str, str] = {}

    def run(self, name: str, *args: str) -> None:
        self.ids[name] = self.dockerd.run(name, *args)

    def get(self, path: str) -> Any:
        return engine_json(self.dockerd.socket, path)

    def stats(self, name: str) -> Any:
        return self.get(f"/containers/{self.ids[name]}/stats?stream=0&one-shot=1")

    def inspect(self, name: str) -> Any:
        return self.get(f"/containers/{self.ids[name]}/json")


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    require("dockerd", "/usr/bin/docker", "runc", "/bin/busybox", root=True)
    group = "fwtest" if _have_group("fwtest") else None
    dockerd = Dockerd(group=group)
    try:
        dockerd.start()
        import_busybox(dockerd)
        eng = Engine(dockerd)
        shop = ["--label", "com.docker.compose.project=shop"]
        eng.run(
            "web",
            "--cpus",
            "0.5",
            "--memory",
            "64m",
            *shop,
            "--label",
            "com.docker.compose.service=web",
            IMAGE,
            "sh",
            "-c",
            "while :; do :; done",
        )
        eng.run(
            "mem",
            "--cpu-period",
            "50000",
            "--cpu-quota",
            "20000",
            "--memory",
            "96m",
            *shop,
            "--label",
            "com.docker.compose.service=worker",
            IMAGE,
            "sh",
            "-c",
            "head -c 25165824 /dev/zero > /dev/shm/blob; while :; do sleep 1; done",
        )
        eng.run("plain", "--cpu-shares", "512", IMAGE, "sleep", "100000")
        eng.run("crashy", "--restart", "always", IMAGE, "sh", "-c", "sleep 0.2; exit 3")
        eng.run("done", IMAGE, "true")
        wait_until(lambda: eng.inspect("crashy")["RestartCount"] >= 2, 20, "crashy to restart")
        wait_until(lambda: eng.inspect("done")["State"]["Status"] == "exited", 20, "done to exit")
        wait_until(
            lambda: eng.stats("mem")["memory_stats"]["usage"] >= 24 * MIB, 20, "mem to allocate"
        )
        yield eng
    finally:
        dockerd.close()


def _have_group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _labels(eng: Engine, name: str, **extra: str) -> dict[str, str]:
    compose = {"web": ("shop", "web"), "mem": ("shop", "worker")}.get(name, ("", ""))
    return labels(f"/docker/{eng.ids[name]}", name, IMAGE, *compose, **extra)


@pytest.fixture
async def module() -> AsyncIterator[DockerModule]:
    mod = DockerModule()
    yield mod
    await mod.close()


@pytest.mark.e2e
async def test_probe_agrees_with_the_engine_and_the_cgroups(
    engine: Engine, module: DockerModule
) -> None:
    result = await module.probe(service(engine.dockerd.address), 10.0)
    fams = result.families
    assert fams.get("probe_success") == 1
    # crashy may die between its listing and its stats call: only its own series may fail
    assert all("web" not in v and "mem" not in v for v in result.errors.values()), result.errors
    web = _labels(engine, "web")
    after = engine.stats("web")  # the Engine's own figure, right after the probe
    cpu = fams.get("container_cpu_usage_seconds_total", {**web, "cpu": "total"})
    assert cpu is not None and 0.0 < cpu <= after["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
    assert (
        after["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9 - cpu < 1.5
    )  # 0.5 CPU for about 2 s at most
    assert fams.get("container_spec_memory_limit_bytes", web) == 64 * MIB
    assert fams.get("container_spec_cpu_quota", web) == 50000
    assert fams.get("container_spec_cpu_period", web) == 100000
    mem = _labels(engine, "mem")
    assert fams.get("container_spec_cpu_quota", mem) == 20000
    assert fams.get("container_spec_cpu_period", mem) == 50000
    plain = _labels(engine, "plain")
    assert fams.get("container_spec_cpu_shares", plain) == 512
    assert fams.get("container_spec_cpu_quota", plain) is None
    assert fams.get("container_spec_memory_limit_bytes", plain) == 0
    # the id label is the container's cgroup: the limits are what cAdvisor would read there
    for name, lab in (("web", web), ("mem", mem), ("plain", plain)):
        cgroup = Path("/sys/fs/cgroup/cpu") / lab["id"].lstrip("/")
        if not cgroup.is_dir():
            pytest.skip(f"no cgroup v1 cpu hierarchy at {cgroup}")
        quota = int((cgroup / "cpu.cfs_quota_us").read_text())
        assert fams.get("container_spec_cpu_quota", lab) == (quota if quota > 0 else None), name
        period = int((cgroup / "cpu.cfs_period_us").read_text())
        assert fams.get("container_spec_cpu_period", lab) == period, name
        assert fams.get("container_spec_cpu_shares", lab) == int(
            (cgroup / "cpu.shares").read_text()
        )
    limit = Path("/sys/fs/cgroup/memory") / web["id"].lstrip("/") / "memory.limit_in_bytes"
    assert fams.get("container_spec_memory_limit_bytes", web) == int(limit.read_text())
    # 24 MiB in /dev/shm: page cache the working set keeps (shmem is not inactive_file)
    usage = fams.get("container_memory_usage_bytes", mem)
    assert usage is not None and usage >= 24 * MIB
    assert abs(engine.stats("mem")["memory_stats"]["usage"] - usage) < 4 * MIB
    working = fams.get("container_memory_working_set_bytes", mem)
    assert working is not None and 24 * MIB <= working <= usage
    assert fams.get("container_memory_cache", mem) >= 24 * MIB  # type: ignore[operator]
    # labels exactly as cAdvisor's, the Compose ones included
    (sample,) = [s for s, _ in fams.samples("container_memory_usage_bytes") if s["name"] == "web"]
    assert sample == web
    created = engine.inspect("web")["Created"]
    assert fams.get("container_start_time_seconds", web) == int(cad.parse_time(created) or 0)
    assert fams.get("container_last_seen", web) == pytest.approx(time.time(), abs=15)
    restarts = fams.get("fleetwatch_container_restarts_total", _labels(engine, "crashy"))
    assert restarts is not None and 2 <= restarts <= engine.inspect("crashy")["RestartCount"]
    assert fams.get("fleetwatch_container_state", {**web, "state": "running"}) == 1
    assert not any(s["name"] == "done" for s, _ in fams.samples("fleetwatch_container_state"))
    assert fams.names() <= {s.name for s in module.specs()}
    assert module.pool_size() == 1


@pytest.mark.e2e
async def test_cpu_counter_moves_between_probes(engine: Engine, module: DockerModule) -> None:
    web = {**_labels(engine, "web"), "cpu": "total"}
    first = (await module.probe(service(engine.dockerd.address), 10.0)).families
    await asyncio.sleep(1.0)
    second = (await module.probe(service(engine.dockerd.address), 10.0)).families
    one, two = (f.get("container_cpu_usage_seconds_total", web) for f in (first, second))
    assert one is not None and two is not None and two > one + 0.05  # 0.5 CPU for 2 s
    periods = [
        f.get("container_cpu_cfs_periods_total", _labels(engine, "web")) for f in (first, second)
    ]
    assert periods[0] is not None and periods[1] is not None and periods[1] > periods[0]
    assert module.pool_size() == 1  # one client for the address, kept across probes


@pytest.mark.e2e
async def test_all_lists_stopped_containers(engine: Engine, module: DockerModule) -> None:
    fams = (await module.probe(service(engine.dockerd.address, all=True), 10.0)).families
    done = _labels(engine, "done")
    assert fams.get("fleetwatch_container_state", {**done, "state": "exited"}) == 1
    assert fams.get("fleetwatch_container_state", {**done, "state": "running"}) == 0
    assert fams.get("container_memory_usage_bytes", done) is None  # no cgroup: no usage
    assert fams.get("container_spec_memory_limit_bytes", done) == 0


@pytest.mark.e2e
async def test_one_failing_container_does_not_fail_the_probe(
    engine: Engine, module: DockerModule
) -> None:
    address = engine.dockerd.address
    await module.probe(service(address), 10.0)
    (pooled,) = module._engines.values()
    real_stats = pooled.api.stats
    web_id = engine.ids["web"]

    def stats(ident: str, **kwargs: Any) -> Any:
        if ident == web_id:
            time.sleep(3)  # past this probe's deadline (and no request after the test)
            raise TimeoutError("too late")
        return real_stats(ident, **kwargs)

    pooled.api.stats = stats
    began = time.monotonic()
    result = await module.probe(service(address), 2.0)
    assert time.monotonic() - began < 2.0 + 0.5
    fams = result.families
    assert fams.get("probe_success") == 1
    assert "web: timeout" in result.errors["stats"]
    web, mem = _labels(engine, "web"), _labels(engine, "mem")
    assert fams.get("container_cpu_usage_seconds_total", {**web, "cpu": "total"}) is None
    assert fams.get("container_memory_usage_bytes", mem) is not None


@pytest.mark.e2e
async def test_through_ssh(engine: Engine, sshd: Sshd, module: DockerModule) -> None:
    """ssh://: the module's own ``ssh -L`` tunnel to the Engine socket, as the test user."""
    if not _have_group("fwtest"):
        pytest.skip("no fwtest group to own the Engine socket")
    params = {"ssh_config": str(sshd.ssh_config), "remote_socket": str(engine.dockerd.socket)}
    result = await module.probe(service("ssh://127.0.0.1", **params), 10.0)
    assert result.families.get("probe_success") == 1, result.errors
    (pooled,) = module._engines.values()
    assert pooled.tunnel is not None and pooled.tunnel.socket.is_socket()
    web = _labels(engine, "web")
    assert result.families.get("container_spec_memory_limit_bytes", web) == 64 * MIB
    assert result.families.get("container_fs_reads_total", web) is None  # none here
    params["remote_socket"] = "/nonexistent/docker.sock"
    result = await module.probe(service("ssh://127.0.0.1", **params), 5.0)
    assert result.errors["docker"].startswith("ssh: 127.0.0.1: channel"), result.errors
    assert module.pool_size() == 1
    await module.close()
    assert module.pool_size() == 0
    assert not pooled.tunnel.alive and not pooled.tunnel.dir.exists()


@pytest.mark.e2e
async def test_via_exporter(engine: Engine, tmp_path: Path) -> None:
    extra = f'      - {{name: gone, module: docker, address: "unix://{tmp_path}/none.sock"}}\n'
    inv = inventory_from_text(_inventory(engine.dockerd.address, extra=extra), "<test>")
    async with TestClient(TestServer(Exporter(inv).app())) as client:
        resp = await client.get("/probe", params={"target": "ctr", "module": "docker"})
        assert resp.status == 200
        text = await resp.text()
        assert "probe_success 1.0" in text
        assert f'cpu="total",id="/docker/{engine.ids["web"]}",image="{IMAGE}",name="web"}}' in text
        gone = await client.get("/probe", params={"target": "gone"})
        assert gone.status == 200  # blackbox-style: the answer says probe_success 0
        assert "probe_success 0.0" in await gone.text()
        metrics = await (await client.get("/metrics")).text()
        labels = 'collector="docker",module="docker",target="gone"'
        line = f"fleetwatch_collector_errors_total{{{labels}}} 1.0"
        assert line in metrics.splitlines()
