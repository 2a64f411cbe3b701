"""promtool and amtool: found on PATH, else run through Docker, always with a timeout.

Paths go to the tool absolute (Docker mounts their directories read-only at the same place)
and come back in findings as the caller gave them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Self

from fleetwatch.errors import ToolError
from fleetwatch.validate.findings import Finding

DEFAULT_TIMEOUT = 60.0
_FILE_MSG = re.compile(
    r"^(?:parsing YAML file )?(?P<file>[^\s:']+): (?:(?P<line>\d+):\d+: )?(?P<msg>.+)$"
)
_RULE_LOC = re.compile(r'^group "(?P<g>[^"]*)", rule (?P<r>\d+), "(?P<n>[^"]*)": (?P<msg>.*)$')
_LINE = re.compile(r"\bline (\d+)\b")


class _Tool:
    name: ClassVar[str]
    image: ClassVar[str]
    hint: ClassVar[str]

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
    def find(cls, path: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Self:
        """``path`` (an explicit binary), else ``name`` on PATH, else Docker, else ToolError."""
        if path:
            found = shutil.which(path)
            if found is None:
                raise ToolError(f"{cls.name} not found or not executable: {path}")
            return cls(found, timeout=timeout)
        if found := shutil.which(cls.name):
            return cls(found, timeout=timeout)
        if docker := shutil.which("docker"):
            return cls(docker, docker=True, timeout=timeout)
        raise ToolError(
            f"{cls.name} not found on PATH and docker is not available: install it "
            f"({cls.hint}), or pass its path with --{cls.name} PATH"
        )

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
            raise ToolError(f"cannot run {self.name} ({self.executable}): {exc}") from exc
        return proc.returncode, proc.stdout + proc.stderr


class Promtool(_Tool):
    name = "promtool"
    image = "prom/prometheus:v2.42.0"
    hint = "apt install prometheus"

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
    hint = "apt install prometheus-alertmanager"

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
