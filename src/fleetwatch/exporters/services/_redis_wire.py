"""RESP (protocol version 2) over asyncio streams: the little of a Redis client the module needs.

``RespConnection.call`` sends one command and reads its reply; an ``-ERR`` reply raises
``RedisReplyError``, anything that is not RESP ``ProtocolError``.  Replies are bounded in size
and nesting depth.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Union

DEFAULT_PORT = 6379
MAX_BULK = 64 * 1024 * 1024
"""Largest bulk reply accepted (INFO is a few kB; a hostile server must not exhaust memory)."""
MAX_DEPTH = 8

RespValue = Union[str, int, None, list["RespValue"]]  # noqa: UP007 (recursive alias)


class RedisReplyError(Exception):
    """The server answered ``-ERR ...``."""


class ProtocolError(Exception):
    """The peer does not speak RESP."""


def encode_command(*args: str | int | bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def read_reply(reader: asyncio.StreamReader, depth: int = 0) -> RespValue:
    """Read one RESP2 reply; ``-ERR`` raises ``RedisReplyError``."""
    line = await reader.readuntil(b"\r\n")
    kind, body = line[:1], line[1:-2].decode("utf-8", "replace")
    if kind == b"+":
        return body
    if kind == b"-":
        raise RedisReplyError(body)
    try:
        if kind == b":":
            return int(body)
        if kind == b"$":
            size = int(body)
            if size < 0:
                return None
            if size > MAX_BULK:
                raise ProtocolError(f"bulk reply of {size} bytes")
            data = await reader.readexactly(size + 2)
            return data[:-2].decode("utf-8", "replace")
        if kind == b"*":
            count = int(body)
            if count < 0:
                return None
            if depth >= MAX_DEPTH:
                raise ProtocolError("nested too deep")
            return [await read_reply(reader, depth + 1) for _ in range(count)]
    except ValueError:
        raise ProtocolError(f"bad length in {line[:40]!r}") from None
    raise ProtocolError(f"not a RESP reply: {line[:40]!r}")


class RespConnection:
    """One connection; ``call`` sends a command and reads its reply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, address: str) -> RespConnection:
        host, port, path = split_address(address)
        if path is not None:
            reader, writer = await asyncio.open_unix_connection(path)
        else:
            reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def call(self, *args: str | int) -> RespValue:
        self.writer.write(encode_command(*args))
        await self.writer.drain()
        return await read_reply(self.reader)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await self.writer.wait_closed()


def split_address(address: str) -> tuple[str, int, str | None]:
    """``host:port`` / ``host`` / ``[v6]:port`` / ``/path.sock`` / ``unix:///path`` →
    (host, port, unix path or None)."""
    addr = address.strip()
    for scheme in ("unix://", "redis://"):
        if addr.startswith(scheme):
            addr = addr[len(scheme) :]
            if scheme == "unix://":
                return "", 0, addr
    if addr.startswith("/"):
        return "", 0, addr
    if addr.startswith("["):
        host, _, rest = addr[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port else DEFAULT_PORT, None
    host, sep, port = addr.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port), None
    return addr, DEFAULT_PORT, None
