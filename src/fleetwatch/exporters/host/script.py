"""The one remote command of a collection, and the parser of its output.

The script is POSIX sh run as ``exec /bin/sh -c '...'`` so that whatever login shell the user has
(bash sourcing rc files, fish, csh) only starts it.  Output layout::

    <anything the rc files printed>
    @@FW@@<nonce>@@files
    ==> /dev/null <==
    ==> /proc/stat <==            (head's own headers, one head process for every file)
    ...
    @@FW@@<nonce>@@cmd@@<key>     (one section per collector snippet)
    ...
    @@FW@@<nonce>@@end

Files are read by one ``head`` call (POSIX; it prints a header per file when given several;
``/dev/null`` goes first so that there are always several).  A missing file prints nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.paths import to_host
from fleetwatch.exporters.host.script_vars import ARCH_VAR
from fleetwatch.exporters.host.snapshot import Snapshot

_SAFE_PATH = re.compile(r"^/[A-Za-z0-9_.:@+*?\[\]/-]*$")
# head -n with a line count no /proc or /sys file reaches
_MAX_LINES = 10_000_000


def new_nonce() -> str:
    return secrets.token_hex(6)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class Plan:
    """What one collection reads: file patterns, and command snippets by key."""

    files: tuple[str, ...]
    commands: dict[str, str]
    opts: Options
    #: identifies the plan's content: a session that has it stored runs it by this key
    key: str = ""


def make_plan(collectors: Iterable[Collector], opts: Options) -> Plan:
    files: list[str] = []
    commands: dict[str, str] = {}
    for c in collectors:
        for std_pattern in c.files(opts):
            pattern = to_host(std_pattern, opts)
            if not _SAFE_PATH.match(pattern):
                raise ValueError(f"collector {c.name}: unsafe file pattern {pattern!r}")
            if pattern not in files:
                files.append(pattern)
        for key, snippet in c.commands(opts).items():
            if key in commands:
                raise ValueError(f"collector {c.name}: command key {key!r} used twice")
            commands[key] = snippet
    digest = hashlib.sha256(repr((files, sorted(commands.items()), opts)).encode()).hexdigest()
    return Plan(tuple(files), commands, opts, digest[:16])


def marker(nonce: str) -> str:
    return f"@@FW@@{nonce}@@"


def preamble() -> list[str]:
    return [
        "LC_ALL=C; export LC_ALL",
        # the machine name, without a fork where the kernel offers it (Linux >= 6.1)
        f"{ARCH_VAR}=; read {ARCH_VAR} 2>/dev/null </proc/sys/kernel/arch"
        f" || {ARCH_VAR}=$(uname -m)",
    ]


def command_section(mark: str, key: str, snippet: str) -> str:
    """One snippet with its section marker; it reads no stdin and its stderr is kept."""
    return f"printf '\\n%s\\n' '{mark}cmd@@{key}'\n{{ {snippet.strip()}\n}} </dev/null 2>&1"


def plan_script(plan: Plan, nonce: str) -> str:
    """The POSIX sh script (not yet wrapped for the login shell) of one collection."""
    mark = marker(nonce)
    lines = [
        *preamble(),
        f"printf '\\n%s\\n' '{mark}files'",
        f"head -n {_MAX_LINES} /dev/null {' '.join(plan.files)} 2>/dev/null",
    ]
    lines += [command_section(mark, key, snippet) for key, snippet in plan.commands.items()]
    lines.append(f"printf '\\n%s\\n' '{mark}end'")
    return "\n".join(lines) + "\n"


def build_script(collectors: Iterable[Collector], opts: Options, nonce: str) -> str:
    """The shell script (not yet wrapped for the login shell) for these collectors."""
    return plan_script(make_plan(collectors, opts), nonce)


def wrap_for_login_shell(script: str) -> str:
    """The exec command line: any login shell hands the script to /bin/sh."""
    return "exec /bin/sh -c " + _quote(script)


def split_files(text: str) -> dict[str, str]:
    """Path -> content of head's output: ``==> /path <==`` lines, each after a newline (or at
    the very start), separate the files; the newline before a header is not content.

    The same as splitting on ``(?:^|\n)==> (/[^\n]*?) <==\n``, with str.split instead of a
    regex scan of the whole answer (that scan was a quarter of a probe's parse time).
    """
    files: dict[str, str] = {}
    chunks = ("\n" + text if text.startswith("==> ") else text).split("\n==> ")
    last = len(chunks) - 1
    path = None
    pieces: list[str] = []
    i = 1
    while i <= last:
        chunk = chunks[i]
        i += 1
        cut = chunk.find(" <==\n")
        glued = False
        if cut < 0 and i <= last and chunk.endswith(" <==") and "\n" not in chunk:
            # the header's newline is the one the next separator starts with
            cut, glued = len(chunk) - 4, True
        if cut > 0 and chunk[0] == "/" and "\n" not in chunk[:cut]:
            if path is not None:
                files[path] = "\n==> ".join(pieces)
            path = chunk[:cut]
            if glued:  # so the next chunk is content, after the "==> " the separator took
                pieces = ["==> " + chunks[i]]
                i += 1
            else:
                pieces = [chunk[cut + 5 :]]
        else:  # not a header: part of the file before (or of the text before any header)
            pieces.append(chunk)
    if path is not None:
        files[path] = "\n==> ".join(pieces)
    return files


def parse_output(raw: str, nonce: str) -> Snapshot:
    """Split the script's output into a Snapshot.  Raises ParseError when it is incomplete."""
    mark = f"@@FW@@{nonce}@@"
    start = raw.find(f"\n{mark}files\n")
    if start < 0:
        raise ParseError("remote script", "no start marker in the output (not a POSIX shell?)")
    end = raw.find(f"\n{mark}end\n", start)
    if end < 0:
        raise ParseError("remote script", "output ended before the end marker (truncated)")
    body = raw[start + len(mark) + 7 : end]
    sections = body.split(f"\n{mark}cmd@@")
    snap = Snapshot()
    snap.files = split_files(sections[0])
    snap.files.pop("/dev/null", None)
    for section in sections[1:]:
        key, _, text = section.partition("\n")
        snap.commands[key] = text
    return snap
