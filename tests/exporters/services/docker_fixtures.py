"""A real dockerd for the docker module's tests, its busybox containers, and stand-in servers.

``Dockerd`` runs ``dockerd`` on a private unix socket with its own data and exec roots, no
bridge and no iptables (services.md).  No registry is reachable: ``import_busybox`` builds an
image from busybox-static.  Containers run with ``--network none``; a busybox ``sh`` as PID 1
ignores SIGTERM, so ``remove_all`` removes them with force before dockerd is stopped by PID.

``engine_get`` asks the Engine directly (http.client over the socket): the reference the
module's figures are compared with, independent of the Docker SDK the module uses.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from servers import Server

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "docker"
IMAGE = "fwtest-busybox:1"
BUSYBOX = "/bin/busybox"
MIB = 1024 * 1024
COMPOSE = {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"}


def load(name: str) -> Any:
    """A fixture JSON document from tests/fixtures/docker."""
    return json.loads((FIXTURES / name).read_text())


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


def engine_get(sock: str | Path, url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """GET ``url`` from the Engine on unix socket ``sock``: (status, body)."""
    conn = _UnixHTTPConnection(str(sock), timeout)
    try:
        conn.request("GET", url)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def engine_json(sock: str | Path, url: str) -> Any:
    status, body = engine_get(sock, url)
    assert status == 200, (url, status, body[:200])
    return json.loads(body)


class Dockerd(Server):
    """dockerd on ``<workdir>/docker.sock`` (short: a unix socket path has 108 bytes at most).

    ``group`` owns the socket (dockerd ``--group``): the ssh test forwards it as that user.
    """

    name = "dockerd"
    start_timeout = 60.0

    def __init__(self, group: str | None = None) -> None:
        super().__init__(workdir=tempfile.mkdtemp(prefix="fw-dockerd-"))
        self._own_workdir = True
        os.chmod(self.workdir, 0o755)  # the ssh test's user reaches the socket through it
        self.socket = self.workdir / "docker.sock"
        self.group = group

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"

    def command(self) -> list[str]:
        argv = ["dockerd", "--host", self.address, "--data-root", str(self.workdir / "data")]
        argv += ["--exec-root", str(self.workdir / "exec"), "--pidfile", str(self.workdir / "pid")]
        argv += ["--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false"]
        return argv + (["--group", self.group] if self.group else [])

    def is_ready(self) -> bool:
        return self.socket.exists() and engine_get(self.socket, "/_ping", timeout=2)[1] == b"OK"

    def cli(self, *args: str, input: bytes | None = None, timeout: float = 60) -> str:
        """The docker CLI of the same package (``/usr/bin/docker``) against this daemon."""
        done = subprocess.run(
            [docker_cli(), "-H", self.address, *args],
            input=input,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {done.stderr.decode()[-500:]}")
        return done.stdout.decode().strip()

    def run(self, name: str, *args: str) -> str:
        """``docker run -d --network none --name NAME ARGS...``; returns the full id."""
        return self.cli("run", "-d", "--network", "none", "--name", name, *args)

    def remove_all(self) -> None:
        ids = self.cli("ps", "-aq").split()
        if ids:
            self.cli("rm", "-f", *ids)

    def close(self) -> None:
        if self.alive:
            with contextlib.suppress(Exception):
                self.remove_all()
            # a user-defined network is a host bridge (br-<id>) that outlives dockerd
            with contextlib.suppress(Exception):
                self.cli("network", "prune", "-f")
        self.stop(grace=20.0)  # dockerd stops its containerd; give it time
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def docker_cli() -> str:
    """Debian's docker.io CLI (matches its dockerd) before any other ``docker`` on PATH."""
    return "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else shutil.which("docker") or ""


def import_busybox(dockerd: Dockerd, image: str = IMAGE) -> None:
    """An image whose /bin holds busybox and a link per applet (sh, sleep, head, ...)."""
    applets = subprocess.run(
        [BUSYBOX, "--list"], capture_output=True, text=True, check=True, timeout=10
    ).stdout.split()
    with tempfile.TemporaryDirectory(prefix="fw-rootfs-") as tmp:
        root = Path(tmp)
        for folder in ("bin", "tmp", "dev", "proc", "sys"):
            (root / folder).mkdir()
        shutil.copy2(BUSYBOX, root / "bin" / "busybox")
        for applet in applets:
            if applet != "busybox":
                (root / "bin" / applet).symlink_to("busybox")
        tar = root.with_suffix(".tar")
        with tarfile.open(tar, "w") as archive:
            archive.add(root, arcname=".")
        try:
            dockerd.cli("import", "-", image, input=tar.read_bytes())
        finally:
            tar.unlink()


class StubSocket:
    """A unix socket server answering every connection with ``reply`` (None: never answers).

    Stands in for an endpoint that is not a Docker Engine: an HTML page, bytes that are not
    HTTP, a server that accepts and stays silent.  ``mode`` is applied to the socket file.
    """

    def __init__(self, reply: bytes | None, mode: int | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fw-stub-"))
        self.path = self.dir / "s"
        self.reply = reply
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(self.path))
        if mode is not None:
            os.chmod(self.path, mode)
        self._sock.listen(16)
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"unix://{self.path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self.reply is None:
                self._held.append(conn)  # keep it open, say nothing
                continue
            with conn, contextlib.suppress(OSError):
                conn.settimeout(2)
                conn.recv(65536)
                conn.sendall(self.reply)

    def close(self) -> None:
        self._sock.close()
        for conn in self._held:
            conn.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> StubSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_HTML = b"<html><body><h1>It works!</h1></body></html>"
HTML_PAGE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_HTML), _HTML)
)
NOT_HTTP = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"


@contextlib.contextmanager
def stale_socket() -> Iterator[str]:
    """A socket file nobody listens on (a daemon that died): connecting is refused."""
    folder = Path(tempfile.mkdtemp(prefix="fw-stale-"))
    path = folder / "s"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    try:
        yield f"unix://{path}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
