"""``fleetwatch up`` / ``down``: the local stack from a build: the exporter, the alert inbox,
Alertmanager and Prometheus.

Processes run in their own sessions; their PIDs and URLs go to ``<state_dir>/stack.json`` so
``fleetwatch down`` (or Ctrl-C in ``up``) stops exactly what ``up`` started.  The binaries:
``$FLEETWATCH_PROMETHEUS`` / ``$FLEETWATCH_ALERTMANAGER`` if set, else on PATH.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fleetwatch import layout
from fleetwatch.errors import ToolError
from fleetwatch.inventory import Inventory

_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
STATE_FILE = "stack.json"
START_TIMEOUT = 30.0


@dataclass
class Service:
    name: str
    pid: int
    url: str
    log: str


@dataclass
class StackState:
    services: list[Service] = field(default_factory=list)

    def save(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        data = {"services": [asdict(s) for s in self.services]}
        (state_dir / STATE_FILE).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, state_dir: Path) -> StackState:
        path = state_dir / STATE_FILE
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls([Service(**s) for s in data.get("services", [])])

    def url(self, name: str) -> str | None:
        return next((s.url for s in self.services if s.name == name), None)


def http_ok(url: str, timeout: float = 1.0) -> bool:
    opener = _HTTP
    if url.startswith("https://"):
        import ssl

        # only the readiness of a process `up` just started on this machine (/-/healthy
        # serves no data): its certificate is Prometheus' business (stack.exporter_scrape)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
    try:
        with opener.open(url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def get_json(url: str, timeout: float = 5.0) -> Any:
    with _HTTP.open(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ToolError(f"{what} exited with code {proc.returncode} while starting")
        if check():
            return
        time.sleep(0.1)
    raise ToolError(f"{what} not ready after {timeout:.0f}s")


def _start(argv: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=cwd,
        )  # fmt: skip


def serve(
    name: str,
    what: str,
    argv: list[str],
    listen: str,
    ready: str,
    log: Path,
    scheme: str = "http",
    cwd: Path | None = None,
) -> Service:
    """Start ``argv`` (output to ``log``, in ``cwd``) and wait until GET ``ready`` on
    ``listen`` is 200."""
    proc = _start(argv, log, cwd)
    url = f"{scheme}://{listen}"
    wait_until(lambda: http_ok(f"{url}{ready}"), START_TIMEOUT, what, proc)
    return Service(name, proc.pid, url, str(log))


def _listen(url_or_hostport: str) -> str:
    parts = urlsplit(url_or_hostport if "//" in url_or_hostport else f"//{url_or_hostport}")
    return parts.netloc


def start_exporter(
    inventory_path: str | None,
    inventory: Inventory,
    state_dir: Path,
    web_config_file: str | None = None,
    replica: str | None = None,
) -> Service:
    """The exporter, with the web config (TLS, basic auth) that Prometheus' scrape config
    (from ``stack.exporter_scrape``) expects of it; with ``replica``, that replica of the
    inventory's ``scale.exporters`` (its address, its targets only)."""
    listen = inventory.stack.exporter
    name = "exporter"
    if replica is not None:
        assert inventory.scale is not None
        listen, name = inventory.scale.exporter(replica).address, f"exporter-{replica}"
    scrape = inventory.stack.exporter_scrape
    argv = [sys.executable, "-m", "fleetwatch", "exporter", "--listen", listen]
    if inventory_path:
        argv += ["--inventory", inventory_path]
    if replica is not None:
        argv += ["--replica", replica]
    scheme = "http"
    if web_config_file:
        from fleetwatch.exporters.webconfig import load_web_config

        web = load_web_config(web_config_file)  # a broken one: its error now, not a dead child
        argv += ["--web.config.file", str(Path(web_config_file).resolve())]
        scheme = web.scheme
    if scrape.scheme != scheme:
        raise ToolError(
            f"stack.exporter_scrape says Prometheus scrapes the exporter over {scrape.scheme}, "
            f"but it would serve {scheme}: "
            + ("give `fleetwatch up --web.config.file FILE`" if scheme == "http" else
               "set stack.exporter_scrape.tls (scheme https) in the inventory")
        )  # fmt: skip
    log = state_dir / f"{name}.log"
    return serve(name, f"fleetwatch {name}", argv, listen, "/-/healthy", log, scheme)


def binary(env: str, names: tuple[str, ...], hint: str) -> str:
    """``$env`` if set (it must be executable), else the first of ``names`` on PATH."""
    given = os.environ.get(env)
    if given:
        found = shutil.which(given)
        if found is None:
            raise ToolError(f"${env}={given} is not an executable file")
        return found
    for name in names:
        if found := shutil.which(name):
            return found
    raise ToolError(f"no {names[0]} binary on PATH: {hint}, or give its path in ${env}")


def start_inbox(inventory: Inventory, state_dir: Path) -> Service:
    listen = inventory.stack.inbox
    log = state_dir / "inbox.log"
    store = state_dir / "inbox.jsonl"
    argv = [sys.executable, "-m", "fleetwatch.inbox", "--listen", listen, "--store", str(store)]
    return serve("inbox", "the alert inbox", argv, listen, "/-/healthy", log)


def start_prometheus(inventory: Inventory, build_dir: Path, state_dir: Path) -> Service:
    binary_path = binary(
        "FLEETWATCH_PROMETHEUS",
        ("prometheus",),
        "`apt-get install prometheus` (Debian/Ubuntu; `make run` does it as root), or run "
        "the whole stack with Docker: docker compose -f deploy/docker-compose.yml up",
    )
    listen = _listen(inventory.stack.prometheus_url)
    log = state_dir / "prometheus.log"
    argv = [
        binary_path,
        f"--config.file={layout.prometheus_config(build_dir)}",
        f"--storage.tsdb.path={state_dir / 'prometheus-data'}",
        f"--web.listen-address={listen}",
        "--web.enable-lifecycle",
        "--rules.alert.resend-delay=1s",
    ]
    return serve("prometheus", "Prometheus", argv, listen, "/-/ready", log)


def start_alertmanager(inventory: Inventory, build_dir: Path, state_dir: Path) -> Service:
    binary_path = binary(
        "FLEETWATCH_ALERTMANAGER",
        ("prometheus-alertmanager", "alertmanager"),
        "`apt-get install prometheus-alertmanager` (`make run` does it as root), or use "
        "deploy/docker-compose.yml",
    )
    config = layout.alertmanager_config(build_dir)
    if not config.exists():
        raise ToolError(f"{config} is missing: no alerting.yaml in the content folder")
    listen = _listen(inventory.stack.alertmanager_url)
    log = state_dir / "alertmanager.log"
    argv = [
        binary_path,
        f"--config.file={config}",
        f"--storage.path={state_dir / 'alertmanager-data'}",
        f"--web.listen-address={listen}",
        "--cluster.listen-address=",
    ]
    return serve("alertmanager", "Alertmanager", argv, listen, "/-/ready", log)


def stop(state_dir: Path, grace: float = 5.0) -> list[str]:
    """Stop every service ``up`` recorded; returns their names."""
    state = StackState.load(state_dir)
    stopped = []
    for svc in reversed(state.services):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(svc.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _alive(svc.pid):
                time.sleep(0.05)
            if _alive(svc.pid):
                os.killpg(svc.pid, signal.SIGKILL)
        stopped.append(svc.name)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours counts as gone
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    return True


def targets(prometheus_url: str) -> list[dict[str, str]]:
    data = get_json(f"{prometheus_url}/api/v1/targets?state=active")
    rows = []
    for t in data.get("data", {}).get("activeTargets", []):
        labels = t.get("labels", {})
        rows.append(
            {
                "job": labels.get("job", ""),
                "instance": labels.get("instance", ""),
                "health": t.get("health", ""),
                "error": t.get("lastError", ""),
            }
        )
    return sorted(rows, key=lambda r: (r["job"], r["instance"]))


def wait_for_first_scrapes(prometheus_url: str, timeout: float) -> list[dict[str, str]]:
    """Targets once none is 'unknown' any more (Prometheus waits a few seconds at first)."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            rows = targets(prometheus_url)
            if rows and all(r["health"] != "unknown" for r in rows):
                return rows
        time.sleep(0.25)
    return rows


def columns(cells: list[tuple[str, ...]]) -> list[str]:
    """``cells`` (a header row first) as left-aligned columns two spaces apart."""
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
    return ["  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip() for c in cells]


def status_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "no targets yet"
    header = ("JOB", "INSTANCE", "HEALTH", "LAST ERROR")
    lines = columns(
        [header, *[(r["job"], r["instance"], r["health"], r["error"][:60]) for r in rows]]
    )
    up = sum(r["health"] == "up" for r in rows)
    pending = sum(r["health"] == "unknown" for r in rows)
    waiting = f", {pending} not scraped yet" if pending else ""
    lines.append(f"{up} up, {len(rows) - up - pending} down{waiting}")
    return "\n".join(lines)


def inbox_routed(config: Path, inbox: str) -> bool:
    """True if a webhook receiver of the Alertmanager ``config`` posts to ``inbox``
    (host:port or URL) and some route names that receiver."""
    import yaml

    from fleetwatch.config.yamlpos import load_data

    try:
        data = load_data(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    if not isinstance(data, dict):
        return False
    hooks = {
        str(r.get("name"))
        for r in data.get("receivers") or []
        if isinstance(r, dict)
        and any(
            isinstance(w, dict) and _listen(str(w.get("url", ""))) == _listen(inbox)
            for w in r.get("webhook_configs") or []
        )
    }
    return bool(hooks & _route_receivers(data.get("route")))


def _route_receivers(route: Any) -> set[str]:
    if not isinstance(route, dict):
        return set()
    found = {str(route["receiver"])} if "receiver" in route else set()
    for child in route.get("routes") or []:
        found |= _route_receivers(child)
    return found
