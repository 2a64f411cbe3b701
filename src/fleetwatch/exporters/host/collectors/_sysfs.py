"""Helpers shared by the /sys and command based collectors.

Values follow prometheus/procfs as node_exporter uses it: sysfs attributes are whitespace
trimmed, integers are parsed like Go's ``strconv.ParseInt(s, 0, 64)`` (so ``0x1003`` is 4099),
and option regexes are searched, not anchored, as Go's ``MatchString`` does.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.snapshot import Snapshot

_GO_INT = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|[1-9][0-9]*|0)")
_UINT = re.compile(r"[0-9]+")
_INT64 = 1 << 63
_UINT64 = 1 << 64


def sysfs_value(text: str | None) -> str | None:
    """An attribute's trimmed value; None when it could not be read.

    ``head`` prints an empty body for a file whose read() fails (``speed`` of a link that is
    down gives EINVAL), which procfs reports as an absent attribute.
    """
    if text is None:
        return None
    value = text.strip()
    return value or None


def _go_number(value: str, source: str) -> int:
    if not _GO_INT.fullmatch(value):
        raise ParseError(source, f"not an integer: {value[:40]!r}")
    body = value.lstrip("+-")
    prefix = body[:2].lower()
    if prefix == "0x":
        n = int(body[2:], 16)
    elif prefix == "0b":
        n = int(body[2:], 2)
    elif prefix == "0o":
        n = int(body[2:], 8)
    elif len(body) > 1 and body[0] == "0":
        n = int(body[1:], 8)
    else:
        n = int(body)
    return -n if value.startswith("-") else n


def go_int(value: str, source: str) -> int:
    """``strconv.ParseInt(value, 0, 64)``: decimal, 0x hex, 0o / leading-0 octal, 0b binary."""
    n = _go_number(value, source)
    if not -_INT64 <= n < _INT64:
        raise ParseError(source, f"integer out of range: {value[:40]!r}")
    return n


def go_uint(value: str, source: str) -> int:
    """``strconv.ParseUint(value, 0, 64)``: as go_int, unsigned (procfs's ValueParser.PUInt64)."""
    if value[:1] in ("+", "-"):
        raise ParseError(source, f"not an unsigned integer: {value[:40]!r}")
    n = _go_number(value, source)
    if n >= _UINT64:
        raise ParseError(source, f"integer out of range: {value[:40]!r}")
    return n


def uint(value: str, source: str) -> int:
    """A decimal unsigned 64-bit integer (``strconv.ParseUint(value, 10, 64)``)."""
    if not _UINT.fullmatch(value) or int(value) >= 1 << 64:
        raise ParseError(source, f"not an unsigned integer: {value[:40]!r}")
    return int(value)


def uints(fields: list[str]) -> list[int] | None:
    """The fields as unsigned 64-bit integers when every one is plain ASCII digits (one C-level
    check for a whole line of counters); None otherwise: ``uint`` then says which is wrong."""
    joined = "".join(fields)
    if not (joined.isdigit() and joined.isascii()):
        return None
    numbers = list(map(int, fields))
    return numbers if not numbers or max(numbers) < _UINT64 else None


@functools.lru_cache(maxsize=64)
def option_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ParseError("options", f"invalid regex {pattern!r}: {exc}") from None


@functools.lru_cache(maxsize=8192)
def selected(pattern: str, name: str) -> bool:
    """Whether a field filter option (a regex searched in the name) keeps ``name``; the same
    few hundred names recur on every probe of a fleet."""
    return option_regex(pattern).search(name) is not None


def int_text(text: str) -> bool:
    """An optionally negative run of ASCII digits (what int() accepts and more: no "+", "_",
    spaces or other scripts' digits)."""
    digits = text[1:] if text[:1] == "-" else text
    return digits.isascii() and digits.isdigit()


def attributes(
    snap: Snapshot, parent: str, names: Iterable[str], entry: str = "*"
) -> dict[str, dict[str, str]]:
    """``{entry: {attribute: text}}`` of the files read at ``parent/<entry>/<attribute>``.

    ``entry`` is a shell pattern for one path component; attribute names may contain ``/``.
    """
    wanted = set(names)
    out: dict[str, dict[str, str]] = {}
    for rest, text in snap.under(parent.rstrip("/") + "/"):
        ent, _, attr = rest.partition("/")
        if attr in wanted and (entry == "*" or fnmatch.fnmatchcase(ent, entry)):
            out.setdefault(ent, {})[attr] = text
    return dict(sorted(out.items()))


def sh_quote(text: str) -> str:
    """``text`` as one single-quoted shell word."""
    return "'" + text.replace("'", "'\\''") + "'"
