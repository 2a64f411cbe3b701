"""Real servers for end-to-end tests: start on free loopback ports, wait until ready, stop by PID.

A plain module (not a conftest) so any test package can build session fixtures from it::

    from servers import NodeExporter, Prometheus, Sshd, require

    @pytest.fixture(scope="session")
    def sshd() -> Iterator[Sshd]:
        require("/usr/sbin/sshd", "ssh", "ssh-keygen", users=["fwtest"], root=True)
        with Sshd(aliases=["web-01", "db-01"]) as server:
            yield server

Every wait is bounded and polls in short steps; a timeout names what was awaited and shows the tail
of the server's log. Each server runs in its own process group, which ``stop()`` terminates
(SIGTERM, then SIGKILL after a grace period), so no child is left behind.

Prerequisites are installed by ``scripts/install-system-deps.sh``. Outside CI a missing binary
skips the test; in CI (``CI=true``) it fails it, so a broken install step cannot pass silently.

Only a test marked ``e2e`` may start one (``make unit`` deselects them and so starts no server):
``start()`` of a test without the mark fails (tests/conftest.py tells it the running test).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

POLL_INTERVAL = 0.05
"""Seconds between two readiness checks."""
STOP_GRACE = 5.0
"""Seconds a server gets to exit after SIGTERM before its process group is killed."""
DEFAULT_START_TIMEOUT = 30.0
LOG_TAIL_LINES = 30
SSHD = "/usr/sbin/sshd"
TEST_USER = "fwtest"

# Loopback only: never send test traffic through a proxy from the environment.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))

#: the mark a test needs to start a real server (pyproject: markers; Makefile: unit)
SERVER_MARK = "e2e"
#: the test being set up, run or torn down (tests/conftest.py sets it), None outside tests
current_test: pytest.Item | None = None


def check_may_start(what: str) -> None:
    """Fail a test that would start the real server ``what`` without the ``e2e`` mark."""
    item = current_test
    if item is not None and item.get_closest_marker(SERVER_MARK) is None:
        raise RuntimeError(
            f"{item.nodeid} starts {what}, a real server, but is not marked {SERVER_MARK}: "
            "`make unit` must start none"
        )


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET ``url`` (no proxy); returns (status, body). HTTP errors are returned, not raised."""
    try:
        with _HTTP.open(url, timeout=timeout) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return int(err.code), bytes(err.read())


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when GET ``url`` answers 200; connection errors count as False."""
    try:
        return http_get(url, timeout)[0] == 200
    except OSError:
        return False


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    *,
    server: Server | None = None,
    interval: float = POLL_INTERVAL,
) -> None:
    """Poll ``predicate`` every ``interval`` seconds until it returns True, for at most ``timeout``.

    An ``OSError`` raised by the predicate (connection refused, reset, ...) counts as "not yet".
    Raises ``TimeoutError`` naming ``what`` (with the server's log tail when ``server`` is given),
    or ``RuntimeError`` at once if ``server`` exits while we wait.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            if predicate():
                return
        except OSError as err:
            last_error = err
        if server is not None and not server.alive:
            raise RuntimeError(
                f"{server.name} exited with code {server.returncode} while waiting for {what}"
                f"{_tail_block(server)}"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            detail = f" (last error: {last_error!r})" if last_error is not None else ""
            raise TimeoutError(
                f"timed out after {timeout:.1f} s waiting for {what}{detail}{_tail_block(server)}"
            )
        time.sleep(min(interval, remaining))


def _tail_block(server: Server | None) -> str:
    if server is None:
        return ""
    return f"\n--- last lines of {server.log_path} ---\n{server.log_tail()}"


def in_ci() -> bool:
    """True in CI (``CI=true``, as ``.ci/run`` is started)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _have_binary(binary: str) -> bool:
    if os.sep in binary:
        return os.path.isfile(binary) and os.access(binary, os.X_OK)
    return shutil.which(binary) is not None


def _have_user(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def missing_prerequisites(
    binaries: Iterable[str] = (), *, users: Iterable[str] = (), root: bool = False
) -> list[str]:
    """Human-readable list of what is missing among binaries, users and root rights."""
    missing = [f"binary {b!r}" for b in binaries if not _have_binary(b)]
    missing += [f"user {u!r}" for u in users if not _have_user(u)]
    if root and os.geteuid() != 0:
        missing.append("root rights")
    return missing


def skip_unless(*binaries: str, users: Iterable[str] = (), root: bool = False) -> str | None:
    """A pytest skip reason when a prerequisite is missing, else None.

    Only outside CI: in CI this always returns None, so the test runs and fails on the missing
    piece instead of being skipped (use ``require`` in fixtures to fail with a clear message).
    Suitable for ``pytest.mark.skipif(skip_unless("x") is not None, reason=...)``; ``needs()``
    builds that mark.
    """
    missing = missing_prerequisites(binaries, users=users, root=root)
    if not missing or in_ci():
        return None
    return f"missing {', '.join(missing)}: run scripts/install-system-deps.sh as root"


def needs(*binaries: str, users: Iterable[str] = (), root: bool = False) -> pytest.MarkDecorator:
    """``@needs("prometheus")``: skip outside CI when a prerequisite is missing (never in CI)."""
    reason = skip_unless(*binaries, users=users, root=root)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def require(*binaries: str, users: Iterable[str] = (), root: bool = False) -> None:
    """In a fixture: skip (outside CI) or fail (in CI) when a prerequisite is missing."""
    missing = missing_prerequisites(binaries, users=users, root=root)
    if not missing:
        return
    message = f"missing {', '.join(missing)}: run scripts/install-system-deps.sh as root"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing prerequisite fails instead of skipping)")
    pytest.skip(message)


# --------------------------------------------------------------------------------------------
# Server base
# --------------------------------------------------------------------------------------------


class Server:
    """One server process in its own process group, logging to a file, stopped by PID.

    Use directly with an explicit argv (``Server("x").start(["x", "--flag"], log_path=...)``) or
    through a subclass that provides ``command()`` and ``is_ready()``. ``start()`` may be called
    again after ``stop()``; a subclass keeps its port, keys and data across restarts.
    """

    name: str = "server"
    start_timeout: float = DEFAULT_START_TIMEOUT
    """Seconds ``start()`` waits for ``is_ready()``."""

    def __init__(self, name: str | None = None, workdir: Path | str | None = None) -> None:
        if name is not None:
            self.name = name
        self._own_workdir = workdir is None
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix=f"fleetwatch-{self.name}-")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path: Path = self.workdir / f"{self.name}.log"
        self.started_in: float | None = None
        """Seconds the last ``start()`` took until the server was ready."""
        self._proc: subprocess.Popen[bytes] | None = None

    # -- subclass hooks ----------------------------------------------------------------------

    def command(self) -> list[str]:
        """The argv that ``start()`` runs when none is given."""
        raise NotImplementedError(f"{type(self).__name__} needs an argv")

    def is_ready(self) -> bool:
        """True once the server answers; the base class only checks that it is alive."""
        return self.alive

    def prepare(self) -> None:
        """Called before each start (write configs, create directories)."""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(
        self,
        argv: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        log_path: Path | str | None = None,
        cwd: Path | str | None = None,
        user: str | None = None,
        *,
        timeout: float | None = None,
        ready: Callable[[], bool] | None = None,
    ) -> Self:
        """Start ``argv`` (default ``self.command()``) and wait until ``is_ready()``.

        ``ready`` replaces ``is_ready`` for this start (handy with a plain ``Server``, whose
        ``is_ready`` only checks that the process is alive). If the process exits before it is
        ready, ``RuntimeError`` is raised with the log tail.

        ``env`` is added to a copy of the current environment. Output goes to ``log_path``
        (default ``<workdir>/<name>.log``, appended to across restarts). ``user`` runs the
        process as that user (needs root).
        """
        if self.alive:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        check_may_start(self.name)
        self.prepare()
        args = list(argv) if argv is not None else self.command()
        if log_path is not None:
            self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        if user is not None:
            entry = pwd.getpwnam(user)
            full_env.update(HOME=entry.pw_dir, USER=user, LOGNAME=user)
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} start: {' '.join(args)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd if cwd is not None else self.workdir,
                env=full_env,
                user=user,
                start_new_session=True,  # own session, so own process group: stop() kills it all
            )
        try:
            wait_until(
                ready if ready is not None else self.is_ready,
                timeout if timeout is not None else self.start_timeout,
                f"{self.name} to become ready",
                server=self,
            )
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        return self

    def stop(self, grace: float = STOP_GRACE) -> int | None:
        """SIGTERM the process group, wait up to ``grace`` s, then SIGKILL it. Returns the code."""
        proc = self._proc
        if proc is None:
            return None
        pgid = proc.pid  # start_new_session: the leader's pid is the group id
        if proc.poll() is None:
            _killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
        # Also reach children that outlived the leader (e.g. sshd's per-connection processes).
        _killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        return proc.returncode

    def close(self) -> None:
        """Stop the server and remove its working directory if this object created it."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        if not self.alive:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- state -------------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the log (empty string when there is none yet)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 64 * 1024))
                data = f.read()
        except OSError:
            return ""
        return "\n".join(data.decode(errors="replace").splitlines()[-lines:])

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.alive else "stopped"
        return f"<{type(self).__name__} {self.name} {state}>"


def descendants(root: int) -> list[int]:
    """PIDs of every live descendant of ``root`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class LoopbackServer(Server):
    """A server on 127.0.0.1 at a port of its own (a free one unless ``port`` is given).

    ``url`` is ``http://127.0.0.1:PORT`` + ``url_path``; with a ``ready_path`` the server is
    ready once GET of that path answers 200 (without one, a subclass's ``is_ready`` decides).
    """

    host = "127.0.0.1"
    url_path = ""
    ready_path: str | None = None

    def __init__(
        self, name: str | None = None, *, port: int | None = None, workdir: Path | str | None = None
    ) -> None:
        super().__init__(name, workdir)
        self.port = port if port is not None else free_port()

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as a Prometheus static target or an inventory address."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}{self.url_path}"

    def is_ready(self) -> bool:
        if self.ready_path is None:
            return super().is_ready()
        return http_ok(f"http://{self.address}{self.ready_path}")


# --------------------------------------------------------------------------------------------
# sshd
# --------------------------------------------------------------------------------------------


class Sshd(LoopbackServer):
    """A private OpenSSH server on 127.0.0.1 for key login as ``user`` (default ``fwtest``).

    Creates its own ed25519 host key and client key pair, a known_hosts file for
    ``[127.0.0.1]:PORT`` and every alias in ``aliases`` (the same server addressed under many
    names), and an ssh_config mapping each alias to it. Needs root (sshd switches to ``user``).
    The working directory is world-traversable so that sshd, reading as ``user``, can open
    ``authorized_keys``; keys stay mode 0600.
    """

    name = "sshd"
    start_timeout = 20.0

    def __init__(
        self,
        *,
        user: str = TEST_USER,
        aliases: Iterable[str] = (),
        port: int | None = None,
        workdir: Path | str | None = None,
        extra_config: str = "",
    ) -> None:
        super().__init__(port=port, workdir=workdir)
        os.chmod(self.workdir, 0o755)
        self.user = user
        self.aliases: list[str] = list(aliases)
        self.extra_config = extra_config
        self.host_key = self.workdir / "ssh_host_ed25519_key"
        self.client_key = self.workdir / "id_ed25519"
        self.authorized_keys = self.workdir / "authorized_keys"
        self.known_hosts = self.workdir / "known_hosts"
        self.ssh_config = self.workdir / "ssh_config"
        self.config_path = self.workdir / "sshd_config"
        self.pid_file = self.workdir / "sshd.pid"
        self._generate_keys()
        self.write_known_hosts()

    def _generate_keys(self) -> None:
        for key, comment in ((self.host_key, "fleetwatch-test-host"), (self.client_key, "fwtest")):
            if not key.exists():
                subprocess.run(
                    ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)],
                    check=True,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=30,
                )
        pub = self.client_key.with_suffix(".pub").read_text()
        self.authorized_keys.write_text(pub)
        os.chmod(self.authorized_keys, 0o644)

    @property
    def host_public_key(self) -> str:
        """The host key as ``ssh-ed25519 AAAA...`` (no comment)."""
        kind, blob = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"{kind} {blob}"

    def known_host_name(self, name: str) -> str:
        """How OpenSSH and asyncssh name ``name`` in known_hosts for this server's port."""
        return name if self.port == 22 else f"[{name}]:{self.port}"

    def write_known_hosts(self, aliases: Iterable[str] | None = None) -> Path:
        """(Re)write known_hosts and ssh_config for 127.0.0.1 and the aliases (adds new ones)."""
        if aliases is not None:
            self.aliases.extend(a for a in aliases if a not in self.aliases)
        names = [self.host, *self.aliases]
        key = self.host_public_key
        self.known_hosts.write_text("".join(f"{self.known_host_name(n)} {key}\n" for n in names))
        common = (
            f"  HostName {self.host}\n  Port {self.port}\n  User {self.user}\n"
            f"  IdentityFile {self.client_key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n  GlobalKnownHostsFile /dev/null\n"
            f"  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n"
        )
        self.ssh_config.write_text(f"Host {' '.join(names)}\n{common}")
        return self.known_hosts

    def prepare(self) -> None:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege-separation directory
        self.config_path.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    f"ListenAddress {self.host}",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.pid_file}",
                    f"AuthorizedKeysFile {self.authorized_keys}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin no",
                    f"AllowUsers {self.user}",
                    "MaxSessions 64",
                    "MaxStartups 200:30:400",
                    "UseDNS no",
                    "PrintMotd no",
                    "X11Forwarding no",
                    "Subsystem sftp internal-sftp",
                    "LogLevel ERROR",
                    self.extra_config,
                ]
            )
            + "\n"
        )

    def command(self) -> list[str]:
        return [SSHD, "-D", "-e", "-f", str(self.config_path)]

    def stop(self, grace: float = STOP_GRACE) -> int | None:
        """Stop sshd AND its per-connection processes, as when the host goes down.

        sshd's session children call setsid(), so the process group does not reach them; a
        plain ``systemctl stop ssh`` would leave them (and pooled connections) alive.
        """
        sessions = descendants(self.pid) if self.alive and self.pid else []
        code = super().stop(grace)
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return code

    def ssh_argv(self, *command: str, host: str | None = None) -> list[str]:
        """argv of an ``ssh`` client call running ``command`` on this server as ``user``.

        ``host`` may be 127.0.0.1 (default) or an alias: aliases resolve through ``ssh_config``.
        """
        return ["ssh", "-F", str(self.ssh_config), host or self.host, "--", *command]

    def run(
        self, *command: str, host: str | None = None, timeout: float = 15.0
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` over ssh with the ssh client; output captured as text, not checked."""
        return subprocess.run(
            self.ssh_argv(*command, host=host),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )

    def is_ready(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        try:
            return self.run("true", timeout=10).returncode == 0
        except subprocess.TimeoutExpired:
            return False


# --------------------------------------------------------------------------------------------
# HTTP servers: node_exporter, Prometheus
# --------------------------------------------------------------------------------------------


class NodeExporter(LoopbackServer):
    """Debian's ``prometheus-node-exporter`` on 127.0.0.1 (systemd collector off); ``url`` is
    its metrics URL."""

    name = "node_exporter"
    binary = "prometheus-node-exporter"
    start_timeout = 20.0
    url_path = ready_path = "/metrics"

    def __init__(
        self,
        *,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        workdir: Path | str | None = None,
    ) -> None:
        super().__init__(port=port, workdir=workdir)
        self.extra_args = list(extra_args)

    def command(self) -> list[str]:
        return [
            self.binary,
            f"--web.listen-address={self.address}",
            "--no-collector.systemd",
            *self.extra_args,
        ]

    def metrics(self) -> str:
        """The current exposition text."""
        status, body = http_get(self.url, timeout=10)
        if status != 200:
            raise RuntimeError(f"GET {self.url} answered {status}")
        return body.decode()


class Prometheus(LoopbackServer):
    """Prometheus on 127.0.0.1 with the given config text and rule files.

    ``rule_files`` maps file names to YAML text; they are written beside ``prometheus.yml``, so
    the config can list them by bare name (relative paths resolve from the config's folder).
    The TSDB lives in the working directory and survives restarts.

    Timing: Prometheus 2.42 applies discovered targets at most every 5 s, so the first scrape
    (``up`` = 1) comes about 5-6 s after ready even with ``scrape_interval: 1s``; give waits on
    scraped data at least 15 s.
    """

    name = "prometheus"
    binary = "prometheus"
    ready_path = "/-/ready"

    def __init__(
        self,
        config: str,
        rule_files: Mapping[str, str] | None = None,
        *,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        workdir: Path | str | None = None,
    ) -> None:
        super().__init__(port=port, workdir=workdir)
        self.config = config
        self.rule_files: dict[str, str] = dict(rule_files or {})
        self.extra_args = list(extra_args)
        self.config_path = self.workdir / "prometheus.yml"
        self.data_dir = self.workdir / "data"

    def write_config(self) -> None:
        """Write the config and rule files (call ``reload()`` after changing them live)."""
        for name, text in self.rule_files.items():
            (self.workdir / name).write_text(text)
        self.config_path.write_text(self.config)

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.write_config()

    def command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--web.listen-address={self.address}",
            "--rules.alert.resend-delay=1s",
            "--web.enable-lifecycle",
            *self.extra_args,
        ]

    def reload(self) -> None:
        """Rewrite config and rules, then POST /-/reload."""
        self.write_config()
        req = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        with _HTTP.open(req, timeout=10) as resp:
            if resp.status != 200:
                raise RuntimeError(f"reload answered {resp.status}")

    def api(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET ``/api/v1/<path>`` and return its ``data`` (raises on a non-success answer)."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        url = f"{self.url}/api/v1/{path}{query}"
        status, body = http_get(url, timeout=10)
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise RuntimeError(f"GET {url} answered {status}: {body[:500]!r}")
        return doc["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query: the ``result`` list of ``{"metric": {...}, "value": [ts, "v"]}``."""
        data = self.api("query", {"query": expr})
        result: list[dict[str, Any]] = data["result"]
        return result

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets (``health`` is ``up``, ``down`` or ``unknown``)."""
        active: list[dict[str, Any]] = self.api("targets", {"state": "active"})["activeTargets"]
        return active

    def rules(self) -> list[dict[str, Any]]:
        """The loaded rule groups."""
        groups: list[dict[str, Any]] = self.api("rules")["groups"]
        return groups

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts."""
        alerts: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return alerts

    def wait_for(
        self,
        expr: str,
        predicate: Callable[[list[dict[str, Any]]], bool] = bool,
        timeout: float = 30.0,
    ) -> list[dict[str, Any]]:
        """Poll ``query(expr)`` until ``predicate(result)`` holds; return that result.

        Default predicate: a non-empty result.
        """
        last: list[dict[str, Any]] = []

        def check() -> bool:
            nonlocal last
            last = self.query(expr)
            return predicate(last)

        try:
            wait_until(check, timeout, f"Prometheus query {expr!r} to match", server=self)
        except TimeoutError as err:
            raise TimeoutError(f"{err}\n--- last result ---\n{last!r}") from None
        return last


def sample_values(result: Iterable[Mapping[str, Any]]) -> list[float]:
    """The float values of an instant-query result."""
    return [float(sample["value"][1]) for sample in result]


# --------------------------------------------------------------------------------------------
# fleetwatch's own exporter, as a separate process (as users run it)
# --------------------------------------------------------------------------------------------


class FleetwatchExporter(LoopbackServer):
    """``fleetwatch exporter --inventory FILE`` on a free loopback port."""

    name = "fleetwatch-exporter"
    ready_path = "/-/healthy"

    def __init__(
        self, inventory_yaml: str, *, port: int | None = None, workdir: Path | str | None = None
    ) -> None:
        super().__init__(port=port, workdir=workdir)
        self.inventory_path = self.workdir / "fleet.yaml"
        self.inventory_path.write_text(inventory_yaml)

    def command(self) -> list[str]:
        import sys

        return [
            sys.executable,
            "-m",
            "fleetwatch",
            "exporter",
            "--inventory",
            str(self.inventory_path),
            "--listen",
            self.address,
        ]


# --------------------------------------------------------------------------------------------
# Alertmanager
# --------------------------------------------------------------------------------------------


ALERTMANAGER = "prometheus-alertmanager"

#: a config that notifies nobody: the client tests are about state, not delivery
NULL_CONFIG = """\
route:
  receiver: "null"
  group_by: [alertname, instance]
inhibit_rules:
  - source_matchers: ['alertname="HostDown"']
    target_matchers: ['alertname!="HostDown"']
    equal: [instance]
receivers:
  - name: "null"
"""


class AlertmanagerServer(LoopbackServer):
    """Debian's Alertmanager 0.25 on 127.0.0.1 with ``config`` (text), clustering off."""

    name = "alertmanager"
    binary = ALERTMANAGER
    start_timeout = 20.0
    ready_path = "/-/ready"

    def __init__(
        self,
        config: str = NULL_CONFIG,
        *,
        config_file: Path | None = None,
        port: int | None = None,
        workdir: Path | str | None = None,
    ) -> None:
        super().__init__(port=port, workdir=workdir)
        self.config = config
        self.config_path = config_file or self.workdir / "alertmanager.yml"
        self.data_dir = self.workdir / "data"

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            self.config_path.write_text(self.config)

    def command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.path={self.data_dir}",
            f"--web.listen-address={self.address}",
            "--cluster.listen-address=",
        ]


class StandInApp(LoopbackServer):
    """A stand-in program of tests/apps/ (for a user's own application) on a free port:
    ``python SCRIPT --port PORT ARGS``; ready once it accepts connections."""

    def __init__(self, script: str, *args: str, name: str | None = None) -> None:
        super().__init__(name or script.removesuffix(".py"))
        self.script = Path(__file__).resolve().parent / "apps" / script
        self.args = list(args)

    def command(self) -> list[str]:
        return [sys.executable, str(self.script), "--port", str(self.port), *self.args]

    def is_ready(self) -> bool:
        return port_open(self.host, self.port)


class DemoApp(StandInApp):
    """tests/apps/demo_app.py (a user's prometheus_client application) on a free port."""

    name = "demo-app"

    def __init__(self, *args: str, name: str = "demo-app") -> None:
        super().__init__("demo_app.py", *args, name=name)
