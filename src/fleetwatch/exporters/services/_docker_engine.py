"""The docker module's connection layer: the Engine client, the ssh tunnel, failure reasons.

Transport: the Docker SDK (``docker`` 7.1), imported on first use (``Engine.open``), never at
import.  Its calls are synchronous: ``docker.py`` runs them in its own bounded thread pool with
the probe's timeout as socket timeout, and keeps one ``Engine`` per address across probes.
``ssh://`` does not use the SDK's ssh support (SDK 7.1 imports paramiko for it even with
``use_ssh_client=True``, and its ssh pipe has no read timeout): ``SshTunnel`` keeps one
``ssh -N -L <local socket>:<remote socket>`` process per address (the OpenSSH client,
``BatchMode``: keys and known_hosts from the exporter user's ssh config, or
``params.ssh_config``) and the client talks to the forwarded socket.

``classify`` turns an exception of the SDK, urllib3, the socket or the tunnel into a
``ServiceDown`` (``timeout``, ``permission``, ``connect``, ``ssh``, ``not_docker``, ``not_http``,
``bad_response``, ``api_error``, ``sdk``, ``config``); anything else is a bug (None).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

from fleetwatch.errors import ParseError
from fleetwatch.exporters.services import _cadvisor as cad
from fleetwatch.exporters.services.base import ServiceDown

#: packages whose exceptions are the Engine's or its transport's, whatever their type
_CLIENT_PACKAGES = frozenset({"docker", "requests", "urllib3"})


class EngineError(ServiceDown):
    """The Engine endpoint failed in a way we name ourselves (``reason: detail``)."""


@dataclass(frozen=True)
class Endpoint:
    kind: str  # unix, ssh, tcp
    base_url: str
    ssh: urllib.parse.SplitResult | None = None


def parse_address(address: str) -> Endpoint:
    """``unix:///p``, ``/p``, ``ssh://[user@]host[:port]``, ``tcp://host:port``."""
    addr = address.strip()
    if addr.startswith("/"):
        return Endpoint("unix", f"unix://{addr}")
    url = urllib.parse.urlsplit(addr)
    if url.scheme == "unix" and url.path.startswith("/"):
        return Endpoint("unix", f"unix://{url.path}")
    if url.scheme == "ssh" and url.hostname:
        return Endpoint("ssh", "", url)
    if url.scheme in {"tcp", "http"} and url.hostname:
        return Endpoint("tcp", f"tcp://{url.netloc}")
    raise EngineError(
        "config", f"not a Docker Engine address: {address!r} (unix://, ssh:// or tcp://)"
    )


def check_socket(endpoint: Endpoint, timeout: float) -> None:
    """Connect once with a socket we close.  The SDK's unix transport leaks its socket (a
    ResourceWarning) when ``connect()`` fails: a dead or forbidden socket must fail here."""
    if endpoint.kind == "unix":
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(endpoint.base_url[len("unix://") :])


class SshTunnel:
    """``ssh -N -L socket:remote`` in its own session; ready once the local socket exists."""

    def __init__(self, url: urllib.parse.SplitResult, remote: str, config: str | None) -> None:
        self.url, self.remote, self.config = url, remote, config
        self.dir = Path(tempfile.mkdtemp(prefix="fw-docker-"))  # 0700: only we reach the socket
        self.socket = self.dir / "s"
        self.log = self.dir / "ssh.log"
        self.target = f"{url.username + '@' if url.username else ''}{url.hostname}"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, timeout: float) -> list[str]:
        argv = ["ssh", "-N", "-T", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"]
        argv += ["-o", "StreamLocalBindUnlink=yes", "-o", "ServerAliveInterval=15"]
        argv += ["-o", f"ConnectTimeout={max(1, math.ceil(timeout))}"]
        argv += ["-F", self.config] if self.config else []
        argv += ["-p", str(self.url.port)] if self.url.port else []
        argv += ["-l", self.url.username] if self.url.username else []
        return [*argv, "-L", f"{self.socket}:{self.remote}", "--", str(self.url.hostname)]

    def open(self, timeout: float) -> None:
        try:
            with open(self.log, "wb") as log:
                self.proc = subprocess.Popen(
                    self.command(timeout),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,  # a terminal's ^C must not reach it
                )
        except FileNotFoundError:
            raise EngineError("ssh", "the ssh client (OpenSSH) is not installed") from None
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.proc.poll() is not None:
                detail = self.last_error() or f"ssh exited with status {self.proc.returncode}"
                raise EngineError("ssh", f"{self.target}: {detail}")
            if time.monotonic() > deadline:
                raise EngineError("timeout", f"ssh to {self.target}: no session in {timeout:g}s")
            time.sleep(0.02)

    def last_error(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.log.read_text(errors="replace").strip().splitlines()
            return lines[-1][:200] if lines else ""
        return ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=2)
        shutil.rmtree(self.dir, ignore_errors=True)


@functools.lru_cache(maxsize=256)
def local_device_name(major: int, minor: int) -> str:
    """``/dev/<name>`` of a block device of this machine (cAdvisor's naming), else ``M:m``."""
    with contextlib.suppress(OSError):
        for line in Path(f"/sys/dev/block/{major}:{minor}/uevent").read_text().splitlines():
            if line.startswith("DEVNAME="):
                return f"/dev/{line[len('DEVNAME=') :]}"
    return cad.major_minor(major, minor)


class Engine:
    """One Engine connection: an SDK ``APIClient`` (and the ssh tunnel it goes through)."""

    def __init__(
        self, endpoint: Endpoint, ssh_config: str | None, remote: str, pool: int = 10
    ) -> None:
        self.endpoint = endpoint
        self.pool = pool  # idle connections kept: one per concurrent stats call
        self.tunnel = (
            SshTunnel(endpoint.ssh, remote, ssh_config) if endpoint.ssh is not None else None
        )
        self.api: Any = None
        self.layout = cad.CgroupLayout()
        self.device_name: cad.DeviceNamer = (
            local_device_name if endpoint.kind == "unix" else cad.major_minor
        )

    def open(self, timeout: float) -> None:
        import docker  # the SDK is imported on first use only

        base_url = self.endpoint.base_url
        try:
            if self.tunnel is not None:
                self.tunnel.open(timeout)
                base_url = f"unix://{self.tunnel.socket}"
            # The SDK's version="auto" asks in its constructor and leaks the socket when that
            # fails: ask with a client we hold (and close), then pin the server's version.
            self.api = self._client(docker, base_url, timeout, "1.24")
            answer = cad.as_object(self.api.version(api_version=False), "version")
            version = answer.get("ApiVersion")
            if not isinstance(version, str):
                raise ParseError("version", "no ApiVersion: not a Docker Engine")
            self.api.close()
            self.api = self._client(docker, base_url, timeout, version)
            self.layout = cad.CgroupLayout.from_info(self.api.info())
        except Exception as exc:
            tunnel, said = self.tunnel, ""
            if tunnel is not None and tunnel.alive:
                time.sleep(0.1)  # ssh logs a failed channel just after the reset
                said = tunnel.last_error()
            self.close()
            if tunnel is not None and said:  # "channel 1: open failed: connect failed: ..."
                raise EngineError("ssh", f"{tunnel.target}: {said}") from exc
            raise
        except BaseException:
            self.close()
            raise

    def _client(self, docker: Any, base_url: str, timeout: float, version: str) -> Any:
        api = docker.APIClient(
            base_url=base_url, timeout=timeout, version=version, max_pool_size=self.pool
        )
        api.trust_env = False  # as the other modules: no proxy from the environment
        return api

    @property
    def usable(self) -> bool:
        return self.api is not None and (self.tunnel is None or self.tunnel.alive)

    def one_shot(self) -> bool:
        from docker.utils import version_gte

        return bool(version_gte(self.api.api_version, "1.41"))

    def close(self) -> None:
        if self.api is not None:
            with contextlib.suppress(Exception):
                self.api.close()
        if self.tunnel is not None:
            self.tunnel.close()


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and contexts, and exceptions carried in ``args`` (urllib3)."""
    out: list[BaseException] = []
    todo = [exc]
    while todo and len(out) < 20:
        item = todo.pop(0)
        if any(item is seen for seen in out):
            continue
        out.append(item)
        todo += [a for a in item.args if isinstance(a, BaseException)]
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
    return out


def sdk_error(item: BaseException, name: str) -> bool:
    """``item`` is ``docker.errors.<name>`` (no SDK import: unimported, it raised nothing)."""
    errors = sys.modules.get("docker.errors")
    cls = getattr(errors, name, None) if errors is not None else None
    return isinstance(cls, type) and isinstance(item, cls)


def classify(exc: BaseException, where: str = "") -> ServiceDown | None:
    """What an exception says of the Engine; None when it is none of the Engine's (a bug)."""
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, ServiceDown):
            return item
    for item in chain:
        if isinstance(item, TimeoutError) or type(item).__name__ in {"ReadTimeout", "Timeout"}:
            return ServiceDown("timeout", "no complete answer within the probe deadline")
    at = f" {where}" if where else ""
    for item in chain:
        if isinstance(item, PermissionError):
            detail = f"access to{at} denied (the exporter's user needs the docker group)"
            return ServiceDown("permission", detail)
        if isinstance(item, FileNotFoundError):
            return ServiceDown("connect", f"no Engine socket at{at} (is dockerd running?)")
        if isinstance(item, ConnectionRefusedError):
            return ServiceDown("connect", f"connection refused by{at}")
        if isinstance(item, json.JSONDecodeError):
            return ServiceDown("not_docker", "the endpoint answers HTTP but not Engine API JSON")
        if isinstance(item, HTTPException):
            return ServiceDown(
                "not_http", f"the endpoint does not speak HTTP ({type(item).__name__})"
            )
        if isinstance(item, ParseError):
            return ServiceDown("bad_response", str(item)[:186])
        if sdk_error(item, "APIError"):
            status = getattr(item, "status_code", None)
            detail = getattr(item, "explanation", None) or str(item)
            return ServiceDown("api_error", f"HTTP {status}: {detail}"[:189])
    for item in chain:
        if isinstance(item, OSError) and item.strerror:
            return ServiceDown("connect", item.strerror)
    for item in chain:
        if type(item).__module__.partition(".")[0] in _CLIENT_PACKAGES:
            return ServiceDown("sdk", f"{type(item).__name__}: {item}"[:195])
    return None
