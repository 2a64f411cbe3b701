"""Reading input files that may be hostile: bounded size, text checked, JSON depth bounded.

Every loader reads its file through ``read_input``: a file over ``MAX_BYTES``, a NUL byte or
bytes that are not UTF-8 are one ``ConfigError`` naming the file and the line (and column),
in bounded time and memory, before any parser sees the text. ``load_json`` turns JSON nested
past what the parser can hold into the same kind of error instead of a RecursionError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fleetwatch.errors import ConfigError

#: the largest input file read (a 10,000-host inventory is about 2 MiB)
MAX_BYTES = 64 * 1024 * 1024


def read_input(path: Path | str, what: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """The text of ``path``; ConfigError if missing, too large, not UTF-8 or with a NUL byte."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(name, f"{what} not found") from None
    except IsADirectoryError:
        raise ConfigError(name, f"is a directory, expected a {what}") from None
    except OSError as exc:
        raise ConfigError(name, f"cannot read {what}: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise ConfigError(name, f"is larger than {max_bytes // (1024 * 1024)} MiB: not read")
    return decode_text(raw, name)


def decode_text(raw: bytes, file: str) -> str:
    """UTF-8 text (a BOM dropped); a bad byte or a NUL is named with its line and column."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _position(raw, exc.start)
        raise ConfigError(
            file, f"is not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {col}", line
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        col = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise ConfigError(file, f"contains a NUL byte at column {col}", line)
    return text


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    return line, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1


def load_json(text: str, file: str) -> Any:
    """``json.loads``; ConfigError (with the line) for invalid or too deeply nested JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(file, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise ConfigError(file, "invalid JSON: nested too deeply") from None
