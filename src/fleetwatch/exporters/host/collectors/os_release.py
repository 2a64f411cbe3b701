"""os: /etc/os-release (or /usr/lib/os-release).

node_os_info{build_id="",id="debian",id_like="",image_id="",image_version="",name="Debian GNU/Linux",pretty_name="Debian GNU/Linux 12 (bookworm)",variant="",variant_id="",version="12 (bookworm)",version_codename="bookworm",version_id="12"} 1
node_os_version{id="debian",id_like="",name="Debian GNU/Linux"} 12
"""  # noqa: E501

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATHS = ("/etc/os-release", "/usr/lib/os-release")
_KEYS = (
    "build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name",
    "variant", "variant_id", "version", "version_codename", "version_id",
)  # fmt: skip
INFO = gauge(
    "node_os_info",
    "A metric with a constant '1' value labeled by " + ", ".join(_KEYS) + ".",
    *_KEYS,
)
VERSION = gauge(
    "node_os_version",
    "Metric containing the major.minor part of the OS version.",
    "id",
    "id_like",
    "name",
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAJOR_MINOR = re.compile(r"^[0-9]+\.?[0-9]*")
# inside double quotes a backslash escapes only these (shell rules, as envparse applies them)
_DQ_ESCAPES = '"\\$`'


def _unquote(raw: str, source: str) -> str:
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "'":
            end = raw.find("'", i + 1)
            if end < 0:
                raise ParseError(source, f"unterminated quote in {raw[:60]!r}")
            out.append(raw[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while i < n and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < n and raw[i + 1] in _DQ_ESCAPES:
                    i += 1
                out.append(raw[i])
                i += 1
            if i >= n:
                raise ParseError(source, f"unterminated quote in {raw[:60]!r}")
            i += 1
        elif ch == "\\" and i + 1 < n:
            out.append(raw[i + 1])
            i += 2
        elif ch.isspace() or ch == "#":
            break  # unquoted whitespace ends the value; the rest is a comment
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_os_release(text: str, source: str = PATHS[0]) -> dict[str, str]:
    """KEY=value pairs of an os-release(5) file, shell quoting removed."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ")
        key, sep, raw = line.partition("=")
        if not sep or not _NAME.fullmatch(key):
            raise ParseError(source, f"not a KEY=value line: {line[:60]!r}")
        values[key] = _unquote(raw, source)
    return values


def os_version(version_id: str) -> float:
    """The major.minor number node_os_version reports (0 when VERSION_ID has none)."""
    m = _MAJOR_MINOR.match(version_id)
    return float(m.group(0)) if m else 0.0


class OsReleaseCollector(Collector):
    name = "os"
    specs = (INFO, VERSION)

    def files(self, opts: Options) -> tuple[str, ...]:
        return PATHS

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return tuple(snap.file(path) for path in PATHS)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        for path in PATHS:
            text = snap.file(path)
            if text is not None:
                break
        else:
            return  # node_exporter: no data
        values = parse_os_release(text, path)
        labels = [values.get(key.upper(), "") for key in _KEYS]
        out.add(INFO, 1, *labels)
        version = os_version(values.get("VERSION_ID", ""))
        if version > 0:
            out.add(VERSION, version, values.get("ID", ""), values.get("ID_LIKE", ""),
                    values.get("NAME", ""))  # fmt: skip


COLLECTORS = [OsReleaseCollector]
