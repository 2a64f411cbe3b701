"""promtool and amtool: an explicit path, else ``$FLEETWATCH_PROMTOOL`` / ``$FLEETWATCH_AMTOOL``,
else on PATH, else run through Docker when its daemon answers; always with a timeout.

A tool that cannot run at all raises ``ToolUnavailable`` (one line naming the tool and how to
get it, exit 5), never one finding per file.  Paths go to the tool absolute (Docker mounts
their directories read-only at the same place) and come back in findings as given.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Self

from fleetwatch.errors import ToolError, ToolUnavailable
from fleetwatch.validate.findings import Finding

DEFAULT_TIMEOUT = 60.0
#: how long the one ``docker version`` probe may take before Docker counts as unusable
DOCKER_PROBE_TIMEOUT = 5.0
#: ``docker run`` itself failed (125: daemon / image; 126: not runnable; 127: not found)
_DOCKER_FAILED = (125, 126, 127)
_FILE_MSG = re.compile(
    r"^(?:parsing YAML file )?(?P<file>[^\s:']+): (?:(?P<line>\d+):\d+: )?(?P<msg>.+)$"
)
_RULE_LOC = re.compile(r'^group "(?P<g>[^"]*)", rule (?P<r>\d+), "(?P<n>[^"]*)": (?P<msg>.*)$')
_LINE = re.compile(r"\bline (\d+)\b")


class _Tool:
    name: ClassVar[str]
    image: ClassVar[str]
    hint: ClassVar[str]
    env: ClassVar[str]

    def __init__(
        self, executable: str, *, docker: bool = False, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.executable = executable
        self.docker = docker
        self.timeout = timeout

    def __repr__(self) -> str:
        how = f"docker {self.image}" if self.docker else self.executable
        return f"{type(self).__name__}({how})"

    @classmethod
    def how_to_get(cls) -> str:
        return f"install it ({cls.hint}), or give its path with --{cls.name} PATH or ${cls.env}"

    @classmethod
    def find(cls, path: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Self:
        """``path`` (an explicit binary), else ``$env``, else ``name`` on PATH, else Docker when
        its daemon answers, else ToolUnavailable."""
        explicit = path or os.environ.get(cls.env)
        if explicit:
            found = shutil.which(explicit)
            if found is None:
                source = "" if path else f" (${cls.env})"
                raise ToolUnavailable(f"{cls.name} not found or not executable: {explicit}{source}")
            return cls(found, timeout=timeout)
        if found := shutil.which(cls.name):
            return cls(found, timeout=timeout)
        docker = shutil.which("docker")
        why = "docker is not installed" if docker is None else docker_unusable(docker)
        if docker is not None and why is None:
            return cls(docker, docker=True, timeout=timeout)
        raise ToolUnavailable(f"{cls.name} not found on PATH and {why}: {cls.how_to_get()}")

    def run(self, args: Sequence[str], files: Iterable[Path] = ()) -> tuple[int, str]:
        """Exit code and stdout+stderr of ``name args``; ``files`` are mounted for Docker."""
        argv = [self.executable, *args]
        container = f"fleetwatch-{uuid.uuid4().hex[:12]}"
        if self.docker:
            mounts = sorted({str(Path(f).resolve().parent) for f in files})
            volumes = [a for d in mounts for a in ("-v", f"{d}:{d}:ro")]
            argv = [self.executable, "run", "--rm", "--name", container, "--network", "none"]
            argv += [*volumes, "--entrypoint", self.name, self.image, *args]
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            if self.docker:
                subprocess.run([self.executable, "rm", "-f", container], capture_output=True)
            raise ToolError(f"{self.name} timed out after {self.timeout:g}s") from exc
        except OSError as exc:
            raise ToolUnavailable(f"cannot run {self.name} ({self.executable}): {exc}") from exc
        if self.docker and proc.returncode in _DOCKER_FAILED:
            first = next((ln for ln in proc.stderr.splitlines() if ln.strip()), "no output")
            raise ToolUnavailable(
                f"{self.name} through docker ({self.image}) cannot run: {first.strip()}; "
                f"{self.how_to_get()}"
            )
        return proc.returncode, proc.stdout + proc.stderr


@functools.cache
def docker_unusable(docker: str) -> str | None:
    """None if the Docker daemon behind ``docker`` answers, else why not (probed once, with a
    short timeout: a client without a daemon must not cost one failure per file)."""
    try:
        proc = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=DOCKER_PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the Docker daemon did not answer within {DOCKER_PROBE_TIMEOUT:g}s"
    except OSError as exc:
        return f"docker cannot run ({exc.strerror or exc})"
    if proc.returncode != 0 or not proc.stdout.strip():
        return "the Docker daemon does not answer (docker version failed)"
    return None


class Promtool(_Tool):
    name = "promtool"
    image = "prom/prometheus:v2.42.0"
    hint = "apt-get install prometheus"
    env = "FLEETWATCH_PROMTOOL"

    def check_rules_raw(self, paths: Sequence[Path], lint: str = "none") -> tuple[bool, str]:
        """(passed, output) of ``promtool check rules`` on ``paths``."""
        args = ["check", "rules", f"--lint={lint}", *(str(Path(p).resolve()) for p in paths)]
        code, out = self.run(args, paths)
        return code == 0, out

    def check_rules(self, paths: Sequence[Path], rule: str = "promtool-rules") -> list[Finding]:
        if not paths:
            return []
        ok, out = self.check_rules_raw(paths)
        return [] if ok else parse_failures(out, paths, paths[0], rule)

    def check_config(self, path: Path, rule: str = "promtool-config") -> list[Finding]:
        """``promtool check config``: the config, its rule files and file_sd files."""
        code, out = self.run(["check", "config", "--lint=none", str(path.resolve())], [path])
        return [] if code == 0 else parse_failures(out, [path], path, rule)


class Amtool(_Tool):
    name = "amtool"
    image = "prom/alertmanager:v0.25.0"
    hint = "apt-get install prometheus-alertmanager"
    env = "FLEETWATCH_AMTOOL"

    def check_config(self, path: Path, rule: str = "amtool-config") -> list[Finding]:
        code, out = self.run(["check-config", str(path.resolve())], [path])
        if code == 0:
            return []
        messages = [m.strip() for m in re.findall(r"FAILED: (.*)", out)] or [out.strip()]
        return [_finding(str(path), rule, msg) for msg in messages]


def _finding(file: str, rule: str, msg: str, line: int | None = None, loc: str = "") -> Finding:
    if line is None and (m := _LINE.search(msg)):
        line = int(m.group(1))
    return Finding(file, rule, msg, location=loc, line=line)


def _display(token: str, given: dict[str, str], base: Path) -> str:
    """A file name from promtool's output as the user would write it."""
    if token in given:
        return given[token]
    if token in given.values():  # parse_failures already put the name back as given
        return token
    candidate = Path(token) if os.path.isabs(token) else base / token
    try:
        return os.path.relpath(candidate)
    except ValueError:
        return str(candidate)


def parse_failures(out: str, paths: Sequence[Path], default: Path, rule: str) -> list[Finding]:
    """Findings from promtool's ``FAILED`` output (``file: line:col: msg`` and continuations)."""
    given = {str(Path(p).resolve()): str(p) for p in paths}
    base = Path(default).resolve().parent
    for absolute, as_given in sorted(given.items(), key=lambda kv: -len(kv[0])):
        out = out.replace(absolute, as_given)
    findings: list[Finding] = []
    header: tuple[str, str] | None = None  # "file: yaml: unmarshal errors:" awaiting its lines
    headers: dict[tuple[str, str], bool] = {}  # header → had continuation lines
    for raw in out.splitlines():
        text = raw.strip()
        if text.startswith("FAILED:"):
            text = text[len("FAILED:") :].strip()
        if not text or text.startswith(("Checking ", "SUCCESS")):
            continue
        cont = re.match(r"line (\d+): (.*)", text)
        if cont and header is not None:
            findings.append(_finding(header[0], rule, f"{header[1]} {cont[2]}", int(cont[1])))
            headers[header] = True
            continue
        m = _FILE_MSG.match(text)
        if m and (Path(m["file"]).suffix in (".yml", ".yaml", ".json") or m["file"] in given):
            file, msg = _display(m["file"], given, base), m["msg"]
            line = int(m["line"]) if m["line"] else None
            if msg.endswith(":"):
                header = (file, msg)
                headers.setdefault(header, False)
                continue
            loc = ""
            if r := _RULE_LOC.match(msg):
                loc, msg = f'group "{r["g"]}" rule {r["r"]} "{r["n"]}"', r["msg"]
            findings.append(_finding(file, rule, msg, line, loc))
        else:
            findings.append(_finding(str(default), rule, text))
    findings += [_finding(f, rule, msg) for (f, msg), used in headers.items() if not used]
    if not findings:
        findings.append(_finding(str(default), rule, " ".join(out.split()) or "failed"))
    return findings
