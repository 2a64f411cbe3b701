"""``fleetwatch up`` with the inventory's ``scale:``: the scaled-out topology on this machine.

Every engine runs from the flags and configs ``fleetwatch build`` wrote in ``build/scale/``
(cwd: the build folder, as docs/scale-out.md says): each exporter replica (``--replica``),
each scraper replica (Prometheus in agent mode or vmagent), VictoriaMetrics single node with
dedup, vmalert, the Alertmanager peers clustered, and the alert inbox.  Only what can run here
runs: a VictoriaMetrics cluster, Mimir or Thanos are for ``deploy/scale/``.

The addresses are the inventory's (exporters, store, peers and their gossip ports, inbox).
The scrapers' and vmalert's own web ports are not in the inventory (nothing reaches them): a
free loopback port each.  Everything is checked before the first process starts, so a missing
binary or a taken port is one clear error and nothing to clean up.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleetwatch import stack
from fleetwatch.errors import ToolError
from fleetwatch.inventory import Inventory
from fleetwatch.inventory.assign import assignment
from fleetwatch.inventory.scale import EXPORTER_LABEL, Scale
from fleetwatch.layout import ARGS_SUFFIX, SCALE, replica_dir

#: an engine's binary: (env variable, names on PATH, how to get it)
BinarySpec = tuple[str, tuple[str, ...], str]

PROMETHEUS: BinarySpec = ("FLEETWATCH_PROMETHEUS", ("prometheus",), "`apt-get install prometheus`")
ALERTMANAGER: BinarySpec = (
    "FLEETWATCH_ALERTMANAGER",
    ("prometheus-alertmanager", "alertmanager"),
    "`apt-get install prometheus-alertmanager`",
)
_VM_HINT = "`apt-get install victoria-metrics` (single node, vmagent, vmalert)"
VICTORIA_METRICS: BinarySpec = (
    "FLEETWATCH_VICTORIA_METRICS",
    ("victoria-metrics", "victoria-metrics-prod"),
    _VM_HINT,
)
VMAGENT: BinarySpec = ("FLEETWATCH_VMAGENT", ("vmagent", "vmagent-prod"), _VM_HINT)
VMALERT: BinarySpec = ("FLEETWATCH_VMALERT", ("vmalert", "vmalert-prod"), _VM_HINT)

#: the store hides samples newer than this from queries near "now"; its 30 s default is for
#: writers that lag, here the agents write within a second and the status table waits on it
LATENCY_OFFSET = "1s"


def check_runnable(scale: Scale) -> None:
    """What ``up`` can run on one machine: VictoriaMetrics single node with vmalert."""
    if scale.storage.kind != "victoriametrics":
        raise ToolError(
            f"fleetwatch up runs scale.storage.kind victoriametrics (single node) only, not "
            f"{scale.storage.kind}: see deploy/scale/ for compose and Kubernetes manifests"
        )
    if scale.rules.evaluator != "vmalert":
        raise ToolError("fleetwatch up runs scale.rules.evaluator vmalert only")


def binaries(scale: Scale) -> dict[str, str]:
    """engine -> its binary's path; a ToolError naming the first missing one."""
    needed: dict[str, BinarySpec] = {"victoria-metrics": VICTORIA_METRICS, "vmalert": VMALERT}
    needed["scraper"] = PROMETHEUS if scale.scraper.engine == "prometheus-agent" else VMAGENT
    if scale.alertmanager is not None:
        needed["alertmanager"] = ALERTMANAGER
    return {name: stack.binary(*spec) for name, spec in needed.items()}


def fixed_addresses(inventory: Inventory) -> list[tuple[str, str]]:
    """(host:port, what it is in the inventory) of every listener the inventory names."""
    scale = inventory.scale
    assert scale is not None
    out = [(e.address, f"scale.exporters[{e.id}]") for e in scale.exporters]
    out.append((urllib.parse.urlsplit(scale.storage.query_url).netloc, "scale.storage.url"))
    if scale.alertmanager is not None:
        for i, peer in enumerate(scale.alertmanager.peers):
            out.append((peer, f"scale.alertmanager.peers[{i}]"))
            out.append(
                (scale.alertmanager.gossip(peer), f"gossip of scale.alertmanager.peers[{i}]")
            )
    out.append((inventory.stack.inbox, "stack.inbox"))
    return out


def check_ports(addresses: list[tuple[str, str]]) -> None:
    """A ToolError naming the first address something else already listens on."""
    for address, what in addresses:
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                # as the servers bind: a port in TIME_WAIT is free to them
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, int(port)))
        except OSError as exc:
            reason = "taken" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise ToolError(
                f"{address} ({what}) is {reason}: stop what listens there (`fleetwatch down` "
                "if it is an earlier `up`) or change the address in the inventory"
            ) from exc


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _args(path: Path) -> list[str]:
    if not path.exists():
        raise ToolError(f"{path} is missing: rebuild (`fleetwatch build`) with scale:")
    return path.read_text(encoding="utf-8").splitlines()


def start(
    inventory_path: str,
    inventory: Inventory,
    build_dir: Path,
    state_dir: Path,
    record: Callable[[stack.Service], None],
    web_config_file: str | None = None,
) -> None:
    """Start the whole topology; each process goes to ``record`` as soon as it is ready (the
    caller saves the state, so a failure midway still leaves every PID to stop)."""
    scale = inventory.scale
    assert scale is not None
    check_runnable(scale)
    paths = binaries(scale)
    check_ports(fixed_addresses(inventory))
    build_dir, state_dir = build_dir.resolve(), state_dir.resolve()
    inventory_file = str(Path(inventory_path).resolve())
    scale_dir = build_dir / SCALE

    def run(name: str, what: str, argv: list[str], listen: str, ready: str) -> None:
        log = state_dir / f"{name}.log"
        record(stack.serve(name, what, argv, listen, ready, log, cwd=build_dir))

    store = urllib.parse.urlsplit(scale.storage.query_url).netloc
    vm_argv = [
        paths["victoria-metrics"],
        *_args(scale_dir / "storage" / f"victoria-metrics{ARGS_SUFFIX}"),
        f"-storageDataPath={state_dir / 'victoria-metrics-data'}",
        f"-search.latencyOffset={LATENCY_OFFSET}",
    ]
    run("victoria-metrics", "VictoriaMetrics", vm_argv, store, "/health")
    for e in sorted(scale.exporters, key=lambda e: e.id):
        record(stack.start_exporter(inventory_file, inventory, state_dir, web_config_file, e.id))
    record(stack.start_inbox(inventory, state_dir))
    if scale.alertmanager is not None:
        for i, peer in enumerate(scale.alertmanager.peers):
            argv = [
                paths["alertmanager"],
                *_args(scale_dir / "alertmanager" / f"peer-{i}{ARGS_SUFFIX}"),
                f"--storage.path={state_dir / f'alertmanager-{i}-data'}",
            ]
            run(f"alertmanager-{i}", f"Alertmanager peer {i}", argv, peer, "/-/ready")
    port = free_port()
    argv = [
        paths["vmalert"],
        *_args(scale_dir / "rules" / f"vmalert{ARGS_SUFFIX}"),
        f"-httpListenAddr=127.0.0.1:{port}",
    ]
    run("vmalert", "vmalert", argv, f"127.0.0.1:{port}", "/health")
    for shard in range(scale.scraper.shards):
        for replica in range(scale.scraper.replicas):
            name = f"scraper-{shard}-{replica}"
            port = free_port()
            rdir = replica_dir(build_dir, shard, replica)
            data = state_dir / f"{name}-data"
            if scale.scraper.engine == "prometheus-agent":
                argv = [
                    paths["scraper"],
                    "--enable-feature=agent",
                    f"--config.file={rdir / 'prometheus.yml'}",
                    f"--storage.agent.path={data}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ]
                ready, what = "/-/ready", f"Prometheus agent {shard}-{replica}"
            else:
                argv = [
                    paths["scraper"],
                    *_args(rdir / f"vmagent{ARGS_SUFFIX}"),
                    f"-remoteWrite.tmpDataPath={data}",
                    f"-httpListenAddr=127.0.0.1:{port}",
                ]
                ready, what = "/health", f"vmagent {shard}-{replica}"
            run(name, what, argv, f"127.0.0.1:{port}", ready)


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class Row:
    target: str
    job: str
    exporter: str
    shard: str
    #: "1" / "0" as the store has it; "" if the store has no ``up`` series of it yet
    up: str


def store_rows(query_url: str) -> list[Row]:
    """Every ``up`` series in the store: one a target and job, after dedup."""
    query = urllib.parse.urlencode({"query": "up"})
    data = stack.get_json(f"{query_url}/api/v1/query?{query}")
    rows = []
    for r in data.get("data", {}).get("result", []):
        m = r.get("metric", {})
        rows.append(
            Row(
                m.get("instance", ""),
                m.get("job", ""),
                m.get(EXPORTER_LABEL, ""),
                m.get("shard", ""),
                str(r.get("value", [0, ""])[1]),
            )
        )
    return sorted(rows, key=lambda r: (r.target, r.job))


def expected_rows(inventory: Inventory) -> list[Row]:
    """What the table must show: every target at its assigned exporter, and every exporter's
    own /metrics (job ``fleetwatch``)."""
    scale = inventory.scale
    assert scale is not None
    rows = [
        Row(e.address, "fleetwatch", e.id, f"shard-{scale.shard_of(e.id)}", "")
        for e in scale.exporters
    ]
    rows += [
        Row(t, "", e, f"shard-{scale.shard_of(e)}", "") for t, e in assignment(inventory).items()
    ]
    return rows


def merge(expected: list[Row], seen: list[Row]) -> list[Row]:
    """Every expected row, with its job and up from the store (its exporter too: a row whose
    exporter differs from the assignment shows the store's); then any unexpected series."""
    by_target: dict[str, list[Row]] = {}
    for r in seen:
        by_target.setdefault(r.target, []).append(r)
    out: list[Row] = []
    for want in expected:
        got = by_target.pop(want.target, [])
        out += got or [want]
    for rest in by_target.values():
        out += rest
    return sorted(out, key=lambda r: (r.job != "fleetwatch", r.target, r.job))


def wait_for_store(inventory: Inventory, timeout: float, settle: float) -> list[Row]:
    """The table once every expected target is up in the store; one still down is given
    ``settle`` seconds after every target has a series (a first probe can fail while the
    machine is busy starting everything), and ``timeout`` bounds it all."""
    scale = inventory.scale
    assert scale is not None
    expected = expected_rows(inventory)
    deadline = time.monotonic() + timeout
    rows = merge(expected, [])
    complete_at: float | None = None
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            rows = merge(expected, store_rows(scale.storage.query_url))
            if all(r.up == "1" for r in rows):
                return rows
            if all(r.up for r in rows):
                complete_at = complete_at or time.monotonic()
                if time.monotonic() - complete_at >= settle:
                    return rows
        time.sleep(0.5)
    return rows


def status_table(rows: list[Row], assigned: dict[str, str]) -> str:
    header = ("TARGET", "JOB", "EXPORTER", "SHARD", "UP")
    cells: list[tuple[str, ...]] = [header]
    for r in rows:
        up = {"1": "up", "": "not in the store yet"}.get(r.up, "down")
        exporter = r.exporter
        if r.target in assigned and r.exporter != assigned[r.target]:
            exporter += f" (assigned {assigned[r.target]})"
        cells.append((r.target, r.job, exporter, r.shard, up))
    lines = stack.columns(cells)
    n_up = sum(r.up == "1" for r in rows)
    missing = sum(r.up == "" for r in rows)
    waiting = f", {missing} not in the store yet" if missing else ""
    lines.append(f"{n_up} up, {len(rows) - n_up - missing} down{waiting}")
    return "\n".join(lines)
