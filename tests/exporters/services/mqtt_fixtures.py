"""Mosquitto for the mqtt tests: a real broker on a free loopback port, and stand-ins for peers
that are not brokers.

``Mosquitto(users=...)`` turns anonymous access off and writes a ``password_file`` with
``mosquitto_passwd -b`` plus an ``acl_file``.  Stand-ins are asyncio servers run in the test's
own loop: ``peer(handler)`` starts one on a free port and closes it (and its connections)
afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any

from fleetwatch.inventory import Service
from servers import LoopbackServer, Server, wait_until
from service_servers import service_target

MOSQUITTO = "mosquitto"
CLIENT_TIMEOUT = 10


class Mosquitto(LoopbackServer):
    """``mosquitto -c CONF`` on 127.0.0.1 with ``sys_interval 1`` and no persistence."""

    name = "mosquitto"
    start_timeout = 20.0

    def __init__(
        self, users: Mapping[str, str] | None = None, acl: str = "", name: str | None = None
    ) -> None:
        super().__init__(name)
        os.chmod(self.workdir, 0o755)  # mosquitto drops root for its own user before reading
        self.users = dict(users or {})
        self.acl = acl
        self.config_path = self.workdir / "mosquitto.conf"

    def prepare(self) -> None:
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "sys_interval 1"]
        if not self.users:
            lines.append("allow_anonymous true")
        else:
            lines.append("allow_anonymous false")
            passwd = self.workdir / "passwd"
            for i, (user, password) in enumerate(self.users.items()):
                create = ["-c"] if i == 0 else []
                argv = ["mosquitto_passwd", "-b", *create, str(passwd), user, password]
                subprocess.run(argv, check=True, capture_output=True, timeout=CLIENT_TIMEOUT)
            passwd.chmod(0o644)
            lines.append(f"password_file {passwd}")
            if self.acl:
                acl = self.workdir / "acl"
                acl.write_text(self.acl)
                acl.chmod(0o644)
                lines.append(f"acl_file {acl}")
        self.config_path.write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [MOSQUITTO, "-c", str(self.config_path)]

    def auth(self) -> list[str]:
        """``-u USER -P PASSWORD`` for the command-line clients (the first user)."""
        for user, password in self.users.items():
            return ["-u", user, "-P", password]
        return []

    def is_ready(self) -> bool:
        argv = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), *self.auth()]
        done = subprocess.run(
            [*argv, "-t", "$SYS/broker/version", "-C", "1", "-W", "2"],
            capture_output=True,
            timeout=CLIENT_TIMEOUT,
            check=False,
        )
        return done.returncode == 0

    def pub(self, topic: str, message: str, *extra: str) -> None:
        """One ``mosquitto_pub`` (QoS 0 unless ``extra`` says otherwise)."""
        argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), *self.auth()]
        argv += ["-t", topic, "-m", message, *extra]
        subprocess.run(argv, check=True, capture_output=True, timeout=CLIENT_TIMEOUT)

    @contextlib.contextmanager
    def subscriber(self, topic: str) -> Iterator[Server]:
        """A ``mosquitto_sub`` kept connected (its own process group, stopped by PID)."""
        client = Server("mosquitto_sub")
        argv = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), *self.auth()]
        try:
            client.start([*argv, "-t", topic, "-v"], timeout=5)
            yield client
        finally:
            client.close()


def service(address: str, name: str = "broker", **params: Any) -> Service:
    return service_target("mqtt", address, name, **params)


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """``servers.wait_until`` with a pace for $SYS (published once a second here)."""
    wait_until(predicate, timeout, what, interval=0.2)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def peer(handler: Handler) -> AsyncIterator[str]:
    """A TCP server on a free loopback port running ``handler`` per connection; yields its
    address.  On exit the server and every connection it accepted are closed."""
    writers: list[asyncio.StreamWriter] = []
    tasks: list[asyncio.Task[Any]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        task = asyncio.current_task()
        if task is not None:
            tasks.append(task)
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await handler(reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for writer in writers:
            writer.transport.abort()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server.close()
        await server.wait_closed()


async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and never answer (read until the client goes away)."""
    while await reader.read(4096):
        pass
