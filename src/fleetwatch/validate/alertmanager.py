"""Prove an alertmanager.yml: ``amtool check-config``, severity routes, declared routes.

* ``amtool-config``: ``amtool check-config`` accepts the file.
* ``severity-route``: every severity (critical, warning, info) is matched by some route below
  the root (a lint on the file itself, so it also applies to hand-written configs).
* ``amtool-routes``: for every (severity, override labels) pair ``alerting.yaml`` declares,
  ``amtool config routes test --verify.receivers=...`` resolves to the declared receivers.
* ``receiver-file`` (warning): a key, token or password file a receiver names is missing or
  unreadable on this machine (Alertmanager reads it only when it sends, so every notification
  to that receiver would fail in its log and nowhere else), or an Opsgenie key file ends in a
  newline (Opsgenie then rejects every alert).  CI machines often lack production secrets: a
  warning, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetwatch.config.yamlpos import load_yaml
from fleetwatch.errors import ConfigError, ConfigErrors
from fleetwatch.validate.findings import Finding, Rule
from fleetwatch.validate.promtool import Amtool

SEVERITIES = ("critical", "warning", "info")
RULES: dict[str, Rule] = {
    "amtool-config": Rule("`amtool check-config` accepts the Alertmanager config"),
    "severity-route": Rule(
        "every severity (critical, warning, info) has a route below the root", style=True
    ),
    "amtool-routes": Rule(
        "`amtool config routes test` routes each declared (severity, team / deployment) pair "
        "to the receivers alerting.yaml names"
    ),
    "alerting-config": Rule("alerting.yaml itself is valid (schema, receivers, no inline secrets)"),
    "receiver-file": Rule(
        "the key / token / password files receivers name exist and are readable here", "warning"
    ),
}
_MATCHER = re.compile(
    r'^\s*"?(?P<name>[A-Za-z_][A-Za-z0-9_]*)"?\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*$'
)


def check_alertmanager(config: Path, alerting_yaml: Path | None, amtool: Amtool) -> list[Finding]:
    """Every finding for ``config`` (and the routes ``alerting_yaml`` declares, if given)."""
    findings = amtool.check_config(config)
    if findings:
        return findings  # the other checks need a loadable config
    findings += severity_routes(config)
    findings += [
        Finding(str(config), "receiver-file", m.message, m.location, "warning", m.line)
        for m in missing_secret_files(config)
    ]
    if alerting_yaml is not None:
        findings += routes_test(config, alerting_yaml, amtool)
    return findings


def routes_test(config: Path, alerting_yaml: Path, amtool: Amtool) -> list[Finding]:
    """``amtool config routes test`` for each declared (labels → receivers) expectation."""
    from fleetwatch.provisioning.alertmanager import matcher, route_expectations

    try:
        expectations = route_expectations(alerting_yaml)
    except ConfigErrors as exc:
        return [_config_finding(e) for e in exc.errors]
    except ConfigError as exc:
        return [_config_finding(exc)]
    findings = []
    for e in expectations:
        labels = [matcher(k, v) for k, v in e.labels.items()]
        want = ",".join(e.receivers)
        args = ["config", "routes", "test", f"--config.file={config.resolve()}"]
        code, out = amtool.run([*args, f"--verify.receivers={want}", *labels], [config])
        if code == 0:
            continue
        got = _receivers(out)
        shown = " ".join(labels)
        message = (
            f"an alert {{{shown}}} is routed to {got or '?'}, but {e.key} declares {want}"
            if got
            else f"amtool config routes test failed for {{{shown}}}: {' '.join(out.split())}"
        )
        findings.append(
            Finding(str(alerting_yaml), "amtool-routes", message, location=e.key, line=e.line)
        )
    return findings


def _receivers(out: str) -> str:
    """The resolved receivers line of amtool's output (not its warnings)."""
    lines = [
        line.strip()
        for line in out.splitlines()
        if line.strip() and not line.lower().startswith(("warning", "error"))
    ]
    return lines[0] if lines else ""


def _config_finding(e: ConfigError) -> Finding:
    message = e.message.split(": ", 1)[1] if ": " in e.message else e.message
    return Finding(e.file, "alerting-config", message, location=e.key, line=e.line)


# --------------------------------------------------------------------------- severity-route


def severity_routes(config: Path) -> list[Finding]:
    """A ``severity-route`` error for each severity no route below the root matches."""
    try:
        doc = load_yaml(config.read_text(encoding="utf-8"), str(config))
    except (OSError, UnicodeDecodeError, ConfigError) as exc:
        return [Finding(str(config), "severity-route", f"cannot read the config: {exc}")]
    route = doc.data.get("route") if isinstance(doc.data, dict) else None
    if not isinstance(route, dict):
        return [Finding(str(config), "severity-route", "no route: section", line=1)]
    covered = {s for s in SEVERITIES if any(_matches(r, s) for r in _children(route))}
    line = doc.line(("route",))
    return [
        Finding(
            str(config),
            "severity-route",
            f"no route matches severity={severity!r}: such alerts fall to the root receiver "
            f"{route.get('receiver')!r} (route them explicitly, to a null receiver if unwanted)",
            location="route",
            line=line,
        )
        for severity in SEVERITIES
        if severity not in covered
    ]


def _children(route: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for child in route.get("routes") or []:
        if isinstance(child, dict):
            yield child
            yield from _children(child)


def _matches(route: Mapping[str, Any], severity: str) -> bool:
    """True if ``route`` has a severity matcher that ``severity`` satisfies."""
    ops: list[tuple[str, str]] = []
    for raw in route.get("matchers") or []:
        m = _MATCHER.match(str(raw))
        if m and m["name"] == "severity":
            ops.append((m["op"], _unquote(m["value"])))
    match = route.get("match") or {}
    if isinstance(match, dict) and "severity" in match:
        ops.append(("=", str(match["severity"])))
    match_re = route.get("match_re") or {}
    if isinstance(match_re, dict) and "severity" in match_re:
        ops.append(("=~", str(match_re["severity"])))
    if not ops:
        return False
    return all(_holds(op, value, severity) for op, value in ops) and any(
        op in ("=", "=~") for op, _ in ops
    )


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def _holds(op: str, value: str, severity: str) -> bool:
    if op in ("=", "!="):
        return (severity == value) == (op == "=")
    try:
        found = re.fullmatch(value, severity) is not None
    except re.error:
        return False
    return found == (op == "=~")


# --------------------------------------------------------------------------- receiver-file


@dataclass(frozen=True)
class SecretFileProblem:
    """A ``*_file`` a receiver reads at send time that will not work on this machine."""

    receiver: str
    integration: str  # pagerduty, opsgenie, webhook, email, ...
    key: str  # routing_key_file, http_config.basic_auth.password_file, ...
    path: str
    problem: str  # "is missing", "is not readable", ...
    line: int | None

    @property
    def location(self) -> str:
        return f"receivers[{self.receiver}].{self.integration}.{self.key}"

    @property
    def message(self) -> str:
        return (
            f"receiver {self.receiver!r}: {self.integration} {self.key} {self.path} "
            f"{self.problem}: every notification to it fails (Alertmanager reads it when it sends)"
        )


def missing_secret_files(config: Path) -> list[SecretFileProblem]:
    """Every receiver ``*_file`` of an Alertmanager config that is absent, unreadable, or (an
    Opsgenie key) ends in a newline.  Relative paths are taken from the config's folder, as
    Alertmanager does.  A file's content is never shown."""
    try:
        doc = load_yaml(config.read_text(encoding="utf-8"), str(config))
    except (OSError, UnicodeDecodeError, ConfigError):
        return []  # amtool-config reports an unreadable config
    receivers = doc.data.get("receivers") if isinstance(doc.data, dict) else None
    out: list[SecretFileProblem] = []
    for r_index, receiver in enumerate(receivers if isinstance(receivers, list) else []):
        if not isinstance(receiver, dict):
            continue
        name = str(receiver.get("name", r_index))
        for kind, configs in receiver.items():
            if not (isinstance(kind, str) and kind.endswith("_configs")):
                continue
            for c_index, cfg in enumerate(configs if isinstance(configs, list) else []):
                base = ("receivers", r_index, kind, c_index)
                for key_path, value in _file_keys(cfg, ()):
                    problem = _file_problem(config.parent, value, kind, key_path)
                    if problem:
                        line = doc.line((*base, *key_path))
                        integration = kind.removesuffix("_configs")
                        key = ".".join(str(k) for k in key_path)
                        out.append(SecretFileProblem(name, integration, key, value, problem, line))
    return out


def _file_keys(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.endswith("_file") and isinstance(item, str) and item:
                yield (*path, key), item
            elif isinstance(key, str):
                yield from _file_keys(item, (*path, key))


def _file_problem(base: Path, value: str, kind: str, key_path: tuple[str, ...]) -> str | None:
    path = Path(value) if Path(value).is_absolute() else base / value
    try:
        with path.open("rb") as fh:
            if kind == "opsgenie_configs" and key_path == ("api_key_file",):
                fh.seek(0, 2)
                size = fh.tell()
                if size:
                    fh.seek(size - 1)
                    if fh.read(1) in (b"\n", b"\r"):
                        return "ends with a newline (Opsgenie rejects it; write it with printf %s)"
    except FileNotFoundError:
        return "is missing on this machine"
    except IsADirectoryError:
        return "is a directory"
    except PermissionError:
        return "is not readable"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None
