"""Session reads answers off a byte stream however the bytes are chunked (no SSH needed)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.script import Plan, parse_output
from fleetwatch.exporters.host.session import Session, SessionGone


class _Stream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)

    async def read(self, n: int) -> bytes:
        await asyncio.sleep(0)
        return self.chunks.pop(0) if self.chunks else b""


class _Stdin:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)


class _Process:
    def __init__(self, chunks: list[bytes]) -> None:
        self.stdout = _Stream(chunks)
        self.stdin = _Stdin()
        self.closed = False

    def close(self) -> None:
        self.closed = True


class _Conn:
    def __init__(self, process: _Process) -> None:
        self.process = process
        self.command = ""

    async def create_process(self, command: str, **_: Any) -> _Process:
        self.command = command
        return self.process


PLAN = Plan(("/proc/loadavg",), {}, Options(), key="k1")


def _answer(nonce: str, body: str) -> bytes:
    return f"\n@@FW@@{nonce}@@files\n==> /proc/loadavg <==\n{body}\n@@FW@@{nonce}@@end\n".encode()


def _chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 3, 7, 64, 4096])
async def test_noise_ready_line_and_answers_in_any_chunking(size: int) -> None:
    stream = (
        b"Welcome to host!\nLast login: never\n"  # what rc files print before the session
        + b"\n@@FW@@ready perl\n"
        + _answer("aaa", "0.10 0.20 0.30 1/100 42")
        + _answer("bbb", "0.40 0.50 0.60 2/100 43")
    )
    process = _Process(_chunked(stream, size))
    session = await Session.open(_Conn(process), "auto", "h")
    assert session.kind == "perl"
    first = parse_output(await session.collect(PLAN, "aaa"), "aaa")
    second = parse_output(await session.collect(PLAN, "bbb"), "bbb")
    assert first.files["/proc/loadavg"].startswith("0.10")
    assert second.files["/proc/loadavg"].startswith("0.40")
    # the plan went with the first request only; the second names it
    assert b"S k1\n" in process.stdin.sent[0] and b"F /proc/loadavg\n" in process.stdin.sent[0]
    assert process.stdin.sent[1] == b"bbb\nP k1\nE\n"


async def test_a_session_that_ends_is_gone_or_truncated() -> None:
    silent = _Process([b"\n@@FW@@ready sh\n"])
    session = await Session.open(_Conn(silent), "sh", "h")
    with pytest.raises(SessionGone):  # nothing at all: the caller may reopen once
        await session.collect(PLAN, "n1")
    cut = _Process([b"\n@@FW@@ready sh\n", _answer("n2", "0.1")[:30]])
    session = await Session.open(_Conn(cut), "sh", "h")
    with pytest.raises(ProbeError, match="truncated"):
        await session.collect(PLAN, "n2")
    garbage = _Process([b"\x00\xff not a shell\n"])
    with pytest.raises(ProbeError, match="no start marker"):
        await Session.open(_Conn(garbage), "auto", "h")
    assert garbage.closed
    odd = _Process([b"\n@@FW@@ready csh\n"])
    with pytest.raises(ProbeError, match="unknown session kind"):
        await Session.open(_Conn(odd), "auto", "h")
