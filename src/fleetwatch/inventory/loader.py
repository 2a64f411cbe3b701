"""Load and validate a ``fleet.yaml`` (v1) into an ``Inventory``.

Pipeline: read the file -> parse YAML with positions (``yamlpos``) -> find every problem
(non-string keys, inline secrets, JSON Schema violations, semantic checks) -> raise
``ConfigErrors`` with all of them sorted by line, or build the model with defaults merged
(built-in < ``defaults:`` < deployment < host).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

from fleetwatch.config.durations import parse_duration
from fleetwatch.config.findings import Findings, short, string_keys
from fleetwatch.config.inputs import read_input
from fleetwatch.config.schema import schema_messages
from fleetwatch.config.secrets import check_secrets, secret_key
from fleetwatch.config.yamlpos import JsonPath, format_path, load_yaml
from fleetwatch.inventory.collector_options import Options
from fleetwatch.inventory.graph import cycles
from fleetwatch.inventory.model import (
    DEFAULT_SCRAPE_INTERVAL,
    NO_ENVIRONMENT,
    App,
    AppAuth,
    AppTLS,
    Defaults,
    Deployment,
    ExporterScrape,
    Host,
    Interpreter,
    Inventory,
    KnownHosts,
    Resources,
    Service,
    SSHSettings,
    Stack,
    Thresholds,
)
from fleetwatch.inventory.scale import build_scale, check_scale, scale_schema

EMBEDDED = "<embedded>"

DEFAULT_INVENTORY_TEXT = f"""\
version: 1
defaults:
  scrape_interval: {DEFAULT_SCRAPE_INTERVAL}
deployments:
  - name: local
    provider: local
    hosts:
      - name: localhost
        address: localhost
        modules: [local]
"""

MAX_INTERVAL_SECONDS = 3600.0
SECRET_KEYS = frozenset({"password", "passphrase", "secret", "token", "api_key"})
RESERVED_LABELS = frozenset({"instance", "job", "deployment", "provider"})
#: a target label set per deployment (``environment:``, or the deployment's label of that name)
ENVIRONMENT_LABEL = "environment"
FILE_KEYS = ("identity_file", "passphrase_file", "known_hosts_file")
APP_TLS_FILES = ("ca_file", "cert_file", "key_file")
#: service params naming files the exporter reads (a mapping's values for headers_file)
SERVICE_FILE_KEYS = frozenset(
    {"password_file", "bearer_token_file", "headers_file", "ca_file", "ssh_config"}
)
REGEX_OPTIONS = (
    "mount_points_exclude",
    "fs_types_exclude",
    "diskstats_device_exclude",
    "netstat_fields",
    "vmstat_fields",
    "netdev_device_exclude",
)
TEXTFILE_DIRECTORY = re.compile(r"^/[A-Za-z0-9_./-]+$")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    **{u: 1000**i for i, u in enumerate(("k", "m", "g", "t", "p"), 1)},
    **{f"{u}b": 1000**i for i, u in enumerate(("k", "m", "g", "t", "p"), 1)},
    **{f"{u}i": 1024**i for i, u in enumerate(("k", "m", "g", "t", "p"), 1)},
    **{f"{u}ib": 1024**i for i, u in enumerate(("k", "m", "g", "t", "p"), 1)},
}


# --------------------------------------------------------------------------- public API


def load_inventory(path: str | os.PathLike[str], *, check_files: bool = True) -> Inventory:
    """Read and validate the inventory at ``path``.

    Raises ``ConfigError`` if the file cannot be read or is not YAML, ``ConfigErrors`` with
    every problem found otherwise.  ``check_files=False`` skips the existence checks of the
    referenced key / passphrase / known_hosts files (to check a file meant for another machine).
    """
    name = os.fspath(path)
    text = read_input(name, "inventory file")
    return inventory_from_text(text, name, check_files=check_files)


def inventory_from_text(
    text: str, path: str = "<string>", *, check_files: bool = True
) -> Inventory:
    """Validate and build an inventory from YAML ``text``; ``path`` names it in messages.

    Relative paths inside resolve against the directory of ``path`` (the current directory
    when ``path`` is not a file name, like ``<embedded>``).
    """
    doc = load_yaml(text, path)
    findings = Findings(path, doc)
    if doc.data is None:
        findings.add((), "the inventory is empty; expected 'version: 1' and 'deployments:'")
        raise findings.error()
    data = string_keys(doc.data, (), findings)
    base_dir = Path.cwd() if path.startswith("<") else Path(path).parent
    check_secrets(data, (), findings, _is_secret, _INSTEAD)
    _check_schema(data, findings)
    _Semantics(findings, base_dir, check_files).check(data)
    if isinstance(data, dict) and "scale" in data:
        check_scale(data["scale"], _target_paths(data), findings)
    if findings:
        raise findings.error()
    return _Builder(base_dir).inventory(path, data)


def default_inventory() -> Inventory:
    """The built-in inventory: this machine, monitored by the ``local`` module."""
    return inventory_from_text(DEFAULT_INVENTORY_TEXT, EMBEDDED)


# --------------------------------------------------------------------------- values


def parse_size(value: int | str) -> int:
    """Bytes of ``value``: an integer, or a string like ``64GiB`` / ``2TB``; ValueError if bad."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"size must not be negative, got {value}")
        return value
    m = _SIZE.match(value)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _SIZE_UNITS:
        raise ValueError(
            f"invalid size {value!r}; use bytes or a number with a unit such as 512MiB, 64GiB, 2TB"
        )
    return int(float(m.group(1)) * _SIZE_UNITS[unit])


def resolve_path(value: str, base_dir: Path) -> Path:
    """``~`` expanded; relative paths taken from ``base_dir`` (the inventory's directory)."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else base_dir / p


# --------------------------------------------------------------------------- findings


_is_secret = secret_key(SECRET_KEYS)
_INSTEAD = (
    "secrets must be given by a *_env or *_file reference (e.g. ssh.passphrase_env or "
    "ssh.passphrase_file)"
)


# --------------------------------------------------------------------------- JSON Schema


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of fleet.yaml v1."""
    text = resources.files("fleetwatch.inventory").joinpath("schema.json").read_text("utf-8")
    out = cast(dict[str, Any], json.loads(text))
    out["properties"]["scale"] = scale_schema()  # its own file: see inventory/scale.py
    return out


@cache
def _validator() -> Any:
    return Draft202012Validator(schema())


def _check_schema(data: Any, findings: Findings) -> None:
    for error in _validator().iter_errors(data):
        for path, message in schema_messages(error, skip_key=_is_secret):
            findings.add(path, message)


# --------------------------------------------------------------------------- semantic checks


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _target_paths(data: Any) -> dict[str, JsonPath]:
    """Every host's and service's name -> where it is defined."""
    out: dict[str, JsonPath] = {}
    for d, dep in enumerate(_list(_dict(data).get("deployments"))):
        for kind in ("hosts", "services"):
            for i, item in enumerate(_list(_dict(dep).get(kind))):
                name = _dict(item).get("name")
                if isinstance(name, str):
                    out.setdefault(name, ("deployments", d, kind, i))
    return out


_MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@cache
def module_params_schema(module: str) -> dict[str, Any] | None:
    """The JSON Schema of a service module's params, read as data from
    ``exporters/services/<module>.params.json`` (no exporter code is imported); None if the
    module has none."""
    if not _MODULE_NAME.match(module):
        return None
    path = resources.files("fleetwatch").joinpath("exporters", "services", f"{module}.params.json")
    try:
        return cast(dict[str, Any], json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        return None


@cache
def _known_collectors() -> list[str] | None:
    """Valid collector names, read as data from ``exporters/host/collectors/collectors.json``
    (name → enabled by default; a test keeps it equal to the registry), no exporter code
    imported; None if the file is missing."""
    path = resources.files("fleetwatch").joinpath("exporters", "host", "collectors")
    try:
        data = json.loads(path.joinpath("collectors.json").read_text("utf-8"))
    except FileNotFoundError:
        return None
    return sorted(data) if isinstance(data, dict) else None


class _Semantics:
    """Checks JSON Schema cannot express; tolerant of data the schema already rejected."""

    def __init__(self, findings: Findings, base_dir: Path, check_files: bool) -> None:
        self.findings = findings
        self.base_dir = base_dir
        self.check_files = check_files
        self._collectors: list[str] | None = None
        self._collectors_loaded = False

    def add(self, path: JsonPath, message: str) -> None:
        self.findings.add(path, message)

    def check(self, data: Any) -> None:
        root = _dict(data)
        if "defaults" in root:
            self.scope(_dict(root["defaults"]), ("defaults",))
        deployment_lines: dict[str, JsonPath] = {}
        host_lines: dict[str, JsonPath] = {}
        for d_index, dep in enumerate(_list(root.get("deployments"))):
            d_path: JsonPath = ("deployments", d_index)
            dep = _dict(dep)
            self.unique(dep.get("name"), (*d_path, "name"), deployment_lines, "deployment")
            self.scope(dep, d_path)
            self.labels(dep.get("labels"), (*d_path, "labels"))
            self.environment(dep, d_path)
            self.resources(_dict(dep.get("resources")), (*d_path, "resources"))
            for h_index, host in enumerate(_list(dep.get("hosts"))):
                h_path: JsonPath = (*d_path, "hosts", h_index)
                host = _dict(host)
                self.unique(host.get("name"), (*h_path, "name"), host_lines, "host")
                self.scope(host, h_path)
                self.labels(host.get("labels"), (*h_path, "labels"), per_target=True)
            for s_index, svc in enumerate(_list(dep.get("services"))):
                s_path: JsonPath = (*d_path, "services", s_index)
                svc = _dict(svc)
                self.unique(svc.get("name"), (*s_path, "name"), host_lines, "target")
                if isinstance(svc.get("scrape_interval"), str):
                    self.interval(svc["scrape_interval"], (*s_path, "scrape_interval"))
                self.labels(svc.get("labels"), (*s_path, "labels"), per_target=True)
                self.service_params(svc, s_path)
            for a_index, app in enumerate(_list(dep.get("apps"))):
                a_path: JsonPath = (*d_path, "apps", a_index)
                app = _dict(app)
                self.unique(app.get("name"), (*a_path, "name"), host_lines, "target")
                if isinstance(app.get("scrape_interval"), str):
                    self.interval(app["scrape_interval"], (*a_path, "scrape_interval"))
                self.labels(app.get("labels"), (*a_path, "labels"), per_target=True)
                if isinstance(app.get("url"), str):
                    self.app_url(app["url"], (*a_path, "url"))
                self.app_files(app, a_path)
        self.dependencies(root, host_lines)

    def app_url(self, url: str, path: JsonPath) -> None:
        """scheme://host:port/path; credentials are refused without echoing the URL."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is not None and "@" in parts.netloc:
            self.add(path, "credentials in the URL are not allowed: give auth.basic.password_file")
        elif (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or any(c.isspace() for c in url)
        ):
            self.add(
                path,
                f"url {short(url)} must be http(s)://host:port/path (no query or fragment)",
            )
        elif port == 0:
            self.add(path, f"url {short(url)}: port 0")

    def app_files(self, app: dict[str, Any], path: JsonPath) -> None:
        """The catalog (always: build reads it) and, when checked, the secret / TLS files."""
        catalog = app.get("catalog")
        if isinstance(catalog, str) and catalog:
            self.file(catalog, (*path, "catalog"), "catalog")
        if not self.check_files:
            return
        auth = _dict(app.get("auth"))
        refs = [
            (
                (*path, "auth", "basic", "password_file"),
                _dict(auth.get("basic")).get("password_file"),
            ),
            ((*path, "auth", "bearer_token_file"), auth.get("bearer_token_file")),
            *(((*path, "tls", k), _dict(app.get("tls")).get(k)) for k in APP_TLS_FILES),
        ]
        for where, value in refs:
            if isinstance(value, str) and value:
                self.file(value, where, str(where[-1]))

    def dependencies(self, root: dict[str, Any], names: dict[str, JsonPath]) -> None:
        """``depends_on``: every name a target of the inventory, no target its own dependency
        (directly or through others)."""
        graph: dict[str, list[str]] = {}
        for d_index, dep in enumerate(_list(root.get("deployments"))):
            for kind in ("hosts", "services", "apps"):
                for index, item in enumerate(_list(_dict(dep).get(kind))):
                    item = _dict(item)
                    name, needs = item.get("name"), item.get("depends_on")
                    if not isinstance(name, str) or not isinstance(needs, list):
                        continue
                    path: JsonPath = ("deployments", d_index, kind, index, "depends_on")
                    graph.setdefault(name, [])
                    for i, other in enumerate(needs):
                        if not isinstance(other, str):
                            continue
                        if other == name:
                            self.add((*path, i), f"{name!r} cannot depend on itself")
                        elif other not in names:
                            close = difflib.get_close_matches(other, list(names), n=1)
                            hint = f"; did you mean {close[0]!r}?" if close else ""
                            self.add((*path, i), f"depends_on: unknown target {other!r}{hint}")
                        else:
                            graph[name].append(other)
        for cycle in cycles(graph):
            first = names[cycle[0]]
            self.add(
                (*first[:-1], "depends_on"),
                "depends_on cycle: " + " -> ".join([*cycle, cycle[0]]),
            )

    def service_params(self, svc: dict[str, Any], path: JsonPath) -> None:
        """A service's params against its module's own PARAMS_SCHEMA."""
        module = svc.get("module")
        schema = module_params_schema(module) if isinstance(module, str) else None
        if schema is None:
            return  # a module without a params schema accepts any params
        import jsonschema

        validator = jsonschema.Draft202012Validator(schema)
        params = svc.get("params", {})
        errors = sorted(validator.iter_errors(params), key=str)
        for error in errors:
            where = (*path, "params", *error.absolute_path)
            self.add(where, f"{module} params: {error.message}")
        if errors or not isinstance(params, dict):
            return
        for key, value in params.items():
            secret = key[: -len("_file")] if key.endswith("_file") else None
            if secret and f"{secret}_env" in params:
                self.add((*path, "params", key), f"give {secret}_env or {key}, not both")
            if not (self.check_files and key in SERVICE_FILE_KEYS):
                continue
            files = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, item in files:
                if isinstance(item, str) and item:
                    where = (*path, "params", key, *([sub] if sub else []))
                    self.file(item, where, key)

    def unique(self, name: Any, path: JsonPath, seen: dict[str, JsonPath], what: str) -> None:
        if not isinstance(name, str):
            return
        if name in seen:
            first = self.findings.doc.line(seen[name])
            where = format_path(seen[name][:-1])
            self.add(path, f"duplicate {what} name {name!r} (first used by {where}, line {first})")
        else:
            seen[name] = path

    def scope(self, block: dict[str, Any], path: JsonPath) -> None:
        """The keys shared by defaults, deployments and hosts."""
        interval = block.get("scrape_interval")
        if isinstance(interval, str):
            self.interval(interval, (*path, "scrape_interval"))
        modules = block.get("modules")
        if isinstance(modules, list) and "ssh" in modules and "local" in modules:
            self.add(
                (*path, "modules"),
                "modules 'ssh' and 'local' both collect host metrics; choose one",
            )
        self.ssh(_dict(block.get("ssh")), (*path, "ssh"))
        self.collectors(_dict(block.get("collectors")), (*path, "collectors"))

    def interval(self, text: str, path: JsonPath) -> None:
        try:
            seconds = parse_duration(text)
        except ValueError as exc:
            self.add(path, str(exc))
            return
        if seconds <= 0:
            self.add(path, f"interval {text!r} must be greater than 0")
        elif seconds > MAX_INTERVAL_SECONDS:
            self.add(path, f"interval {text!r} is too long; at most 1h")

    def ssh(self, ssh: dict[str, Any], path: JsonPath) -> None:
        if "passphrase_env" in ssh and "passphrase_file" in ssh:
            self.add((*path, "passphrase_file"), "give passphrase_env or passphrase_file, not both")
        self.timeout(ssh.get("connect_timeout"), (*path, "connect_timeout"))
        if self.check_files:
            for key in FILE_KEYS:
                value = ssh.get(key)
                if isinstance(value, str) and value:
                    self.file(value, (*path, key), key)

    def timeout(self, value: Any, path: JsonPath) -> None:
        seconds: float
        if isinstance(value, str):
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                self.add(path, str(exc))
                return
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value
        else:
            return
        if not 0 < seconds <= MAX_INTERVAL_SECONDS:
            self.add(path, f"timeout {short(value)} must be greater than 0 and at most 1h")

    def file(self, value: str, path: JsonPath, key: str) -> None:
        resolved = resolve_path(value, self.base_dir)
        shown = f"{value!r}" if str(resolved) == value else f"{value!r} ({resolved})"
        if not resolved.exists():
            self.add(path, f"{key} {shown}: file not found")
        elif not resolved.is_file():
            self.add(path, f"{key} {shown}: not a regular file")
        elif not os.access(resolved, os.R_OK):
            self.add(path, f"{key} {shown}: file not readable")

    def collectors(self, block: dict[str, Any], path: JsonPath) -> None:
        enable = [n for n in _list(block.get("enable")) if isinstance(n, str)]
        disable = [n for n in _list(block.get("disable")) if isinstance(n, str)]
        known = self.known_collectors() if enable or disable else None
        for key in ("enable", "disable"):
            for i, name in enumerate(_list(block.get(key))):
                if not isinstance(name, str):
                    continue
                if known is not None and name not in known:
                    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    self.add((*path, key, i), f"unknown collector {name!r}{hint}")
                if key == "disable" and name in enable:
                    self.add((*path, key, i), f"collector {name!r} is both enabled and disabled")
        options = _dict(block.get("options"))
        for key in REGEX_OPTIONS:
            value = options.get(key)
            if isinstance(value, str):
                try:
                    re.compile(value)
                except re.error as exc:
                    self.add((*path, "options", key), f"invalid regular expression: {exc}")
        textfile = options.get("textfile_directory")
        if isinstance(textfile, str) and textfile and not TEXTFILE_DIRECTORY.match(textfile):
            self.add(
                (*path, "options", "textfile_directory"),
                f"invalid directory {short(textfile)}: must be an absolute path of letters, "
                "digits, '_', '.', '/' and '-'",
            )

    def known_collectors(self) -> list[str] | None:
        if not self._collectors_loaded:
            self._collectors = _known_collectors()
            self._collectors_loaded = True
        return self._collectors

    def labels(self, labels: Any, path: JsonPath, per_target: bool = False) -> None:
        for name in _dict(labels):
            if name.startswith("__") or name in RESERVED_LABELS:
                self.add((*path, name), f"label name {name!r} is reserved")
            elif per_target and name == ENVIRONMENT_LABEL:
                self.add(
                    (*path, name),
                    "the environment is set per deployment: 'environment:' on the deployment",
                )

    def environment(self, dep: dict[str, Any], path: JsonPath) -> None:
        """``environment:`` and a deployment label of that name may not disagree."""
        label = _dict(dep.get("labels")).get(ENVIRONMENT_LABEL)
        given = dep.get(ENVIRONMENT_LABEL)
        if isinstance(label, str) and isinstance(given, str) and label != given:
            self.add(
                (*path, "labels", ENVIRONMENT_LABEL),
                f"label environment={label!r} contradicts environment: {given!r} "
                "(give one of them)",
            )

    def resources(self, block: dict[str, Any], path: JsonPath) -> None:
        for key in ("memory", "storage"):
            value = block.get(key)
            if isinstance(value, int | str) and not isinstance(value, bool):
                try:
                    parse_size(value)
                except ValueError as exc:
                    self.add((*path, key), str(exc))


# --------------------------------------------------------------------------- model building


@dataclass(frozen=True)
class _Layer:
    """Settings accumulated down defaults -> deployment -> host (raw, validated values)."""

    scrape_interval: str = DEFAULT_SCRAPE_INTERVAL
    modules: tuple[str, ...] = ("ssh",)
    ssh: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def over(self, block: dict[str, Any]) -> _Layer:
        """This layer with ``block``'s settings on top."""
        ssh = dict(self.ssh)
        new_ssh = _dict(block.get("ssh"))
        if "passphrase_env" in new_ssh:
            ssh.pop("passphrase_file", None)
        if "passphrase_file" in new_ssh:
            ssh.pop("passphrase_env", None)
        ssh.update(new_ssh)
        collectors = _dict(block.get("collectors"))
        enable, disable = list(self.enable), list(self.disable)
        for name in _list(collectors.get("enable")):
            disable = [n for n in disable if n != name]
            enable += [] if name in enable else [name]
        for name in _list(collectors.get("disable")):
            enable = [n for n in enable if n != name]
            disable += [] if name in disable else [name]
        return _Layer(
            scrape_interval=block.get("scrape_interval", self.scrape_interval),
            modules=tuple(block.get("modules", self.modules)),
            ssh=ssh,
            thresholds={**self.thresholds, **_dict(block.get("thresholds"))},
            enable=tuple(enable),
            disable=tuple(disable),
            options={**self.options, **_dict(collectors.get("options"))},
        )


def _node_exporter(value: Any, address: str) -> str | None:
    """``node_exporter: 9100`` → ``<address>:9100``; ``HOST:PORT`` as given; None if unset."""
    if value is None:
        return None
    if isinstance(value, int):
        return f"[{address}]:{value}" if ":" in address else f"{address}:{value}"
    return str(value)


def _thresholds(layer: _Layer) -> Thresholds:
    return Thresholds(**{k: float(v) for k, v in layer.thresholds.items()})


class _Builder:
    """Turns validated data into the frozen model."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    def inventory(self, path: str, data: dict[str, Any]) -> Inventory:
        top = _Layer().over(_dict(data.get("defaults")))
        defaults = Defaults(
            scrape_interval=top.scrape_interval,
            scrape_interval_seconds=parse_duration(top.scrape_interval),
            ssh=self.ssh(top.ssh),
            thresholds=_thresholds(top),
            modules=top.modules,
            collectors_enable=top.enable,
            collectors_disable=top.disable,
            options=Options(**top.options),
        )
        deployments = tuple(self.deployment(top, d) for d in data["deployments"])
        raw_stack = dict(_dict(data.get("stack")))
        scrape = _dict(raw_stack.pop("exporter_scrape", None))
        tls, auth = _dict(scrape.get("tls")), _dict(scrape.get("basic_auth"))
        stack = Stack(
            **raw_stack,
            exporter_scrape=ExporterScrape(
                scheme=scrape.get("scheme", "https" if tls else "http"),
                **{k: tls[k] for k in ("ca_file", "cert_file", "key_file", "server_name",
                                       "insecure_skip_verify") if k in tls},
                **{k: auth[k] for k in ("username", "password_file") if k in auth},
            ),
        )  # fmt: skip
        raw_scale = data.get("scale")
        scale = build_scale(raw_scale, defaults.scrape_interval) if raw_scale else None
        return Inventory(
            path=path, deployments=deployments, defaults=defaults, stack=stack, scale=scale
        )

    def deployment(self, top: _Layer, dep: dict[str, Any]) -> Deployment:
        layer = top.over(dep)
        labels = dict(_dict(dep.get("labels")))
        # a target label of its own (every job has it), not one of the free labels
        label = labels.pop(ENVIRONMENT_LABEL, NO_ENVIRONMENT)
        environment = str(dep.get(ENVIRONMENT_LABEL, label))
        hosts = tuple(
            self.host(layer.over(h), h, dep["name"], dep["provider"], labels, environment)
            for h in dep.get("hosts", [])
        )
        res = dep.get("resources")
        resources = None
        if isinstance(res, dict):
            resources = Resources(
                cpu_cores=float(res["cpu_cores"]) if "cpu_cores" in res else None,
                memory_bytes=parse_size(res["memory"]) if "memory" in res else None,
                storage_bytes=parse_size(res["storage"]) if "storage" in res else None,
            )
        services = tuple(
            self.service(layer, s, dep["name"], dep["provider"], labels, environment)
            for s in dep.get("services", [])
        )
        apps = tuple(
            self.app(layer, a, dep["name"], dep["provider"], labels, environment)
            for a in dep.get("apps", [])
        )
        return Deployment(
            name=dep["name"],
            provider=dep["provider"],
            labels=MappingProxyType(labels),
            resources=resources,
            hosts=hosts,
            services=services,
            apps=apps,
            environment=environment,
        )

    def app(
        self,
        layer: _Layer,
        app: dict[str, Any],
        deployment: str,
        provider: str,
        labels: dict[str, str],
        environment: str = NO_ENVIRONMENT,
    ) -> App:
        interval = app.get("scrape_interval", layer.scrape_interval)
        auth, tls = _dict(app.get("auth")), _dict(app.get("tls"))
        basic = _dict(auth.get("basic"))

        def path(value: Any) -> str | None:
            # absolute: Prometheus reads them relative to its config, not to the inventory
            return str(resolve_path(value, self.base_dir).absolute()) if value else None

        return App(
            name=app["name"],
            url=app["url"],
            deployment=deployment,
            provider=provider,
            labels=MappingProxyType({**labels, **_dict(app.get("labels"))}),
            scrape_interval_seconds=parse_duration(interval),
            scrape_interval=interval,
            maintenance=bool(app.get("maintenance", False)),
            environment=environment,
            catalog=path(app.get("catalog")),
            depends_on=tuple(app.get("depends_on", ())),
            auth=AppAuth(
                username=basic.get("username"),
                password_file=path(basic.get("password_file")),
                bearer_token_file=path(auth.get("bearer_token_file")),
            ),
            tls=AppTLS(
                **{k: path(tls.get(k)) for k in APP_TLS_FILES},
                server_name=tls.get("server_name"),
                insecure_skip_verify=bool(tls.get("insecure_skip_verify", False)),
            ),
        )

    def service(
        self,
        layer: _Layer,
        svc: dict[str, Any],
        deployment: str,
        provider: str,
        labels: dict[str, str],
        environment: str = NO_ENVIRONMENT,
    ) -> Service:
        interval = svc.get("scrape_interval", layer.scrape_interval)
        return Service(
            name=svc["name"],
            module=svc["module"],
            address=svc["address"],
            deployment=deployment,
            provider=provider,
            labels=MappingProxyType({**labels, **_dict(svc.get("labels"))}),
            scrape_interval_seconds=parse_duration(interval),
            scrape_interval=interval,
            maintenance=bool(svc.get("maintenance", False)),
            environment=environment,
            params=MappingProxyType(self.service_paths(_dict(svc.get("params")))),
            depends_on=tuple(svc.get("depends_on", ())),
        )

    def service_paths(self, params: dict[str, Any]) -> dict[str, Any]:
        """Params with their file references resolved as the ssh ones are (``~``, relative
        to the inventory's directory): the exporter may run from anywhere."""

        def resolve(value: Any) -> Any:
            if isinstance(value, str) and value:
                return str(resolve_path(value, self.base_dir))
            if isinstance(value, dict):
                return {k: resolve(v) for k, v in value.items()}
            return value

        return {k: resolve(v) if k in SERVICE_FILE_KEYS else v for k, v in params.items()}

    def host(
        self,
        layer: _Layer,
        host: dict[str, Any],
        deployment: str,
        provider: str,
        labels: dict[str, str],
        environment: str = NO_ENVIRONMENT,
    ) -> Host:
        return Host(
            name=host["name"],
            address=host.get("address", host["name"]),
            deployment=deployment,
            provider=provider,
            labels=MappingProxyType({**labels, **_dict(host.get("labels"))}),
            ssh=self.ssh(layer.ssh),
            scrape_interval_seconds=parse_duration(layer.scrape_interval),
            scrape_interval=layer.scrape_interval,
            maintenance=bool(host.get("maintenance", False)),
            environment=environment,
            thresholds=_thresholds(layer),
            modules=layer.modules,
            collectors_enable=layer.enable,
            collectors_disable=layer.disable,
            options=Options(**layer.options),
            node_exporter=_node_exporter(
                host.get("node_exporter"), host.get("address", host["name"])
            ),
            depends_on=tuple(host.get("depends_on", ())),
        )

    def ssh(self, raw: Mapping[str, Any]) -> SSHSettings:
        def path(key: str) -> str | None:
            value = raw.get(key)
            return str(resolve_path(value, self.base_dir)) if value else None

        timeout = raw.get("connect_timeout", 5.0)
        return SSHSettings(
            user=raw.get("user"),
            port=int(raw.get("port", 22)),
            identity_file=path("identity_file"),
            passphrase_env=raw.get("passphrase_env"),
            passphrase_file=path("passphrase_file"),
            use_agent=bool(raw.get("use_agent", False)),
            allow_sha1=bool(raw.get("allow_sha1", False)),
            known_hosts=cast(KnownHosts, raw.get("known_hosts", "strict")),
            known_hosts_file=path("known_hosts_file"),
            connect_timeout_seconds=(
                parse_duration(timeout) if isinstance(timeout, str) else float(timeout)
            ),
            interpreter=cast(Interpreter, raw.get("interpreter", "auto")),
            restricted=bool(raw.get("restricted", False)),
        )
